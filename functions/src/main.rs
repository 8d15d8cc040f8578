//! The one Lambda binary: whichever function its handler names (`_HANDLER`), wiring only.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambdauth_runtime::bootstrap::run(lambdauth_functions::ALL).await
}
