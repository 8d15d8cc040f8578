//! `LambdAuthResetPassword` (`POST /password/reset`): wiring only.

use lambdauth_handlers::config::ResetPasswordConfig;
use lambdauth_handlers::service::Core;
use lambdauth_handlers::store::UserStore;
use lambdauth_handlers::{Function, operations, runtime};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    runtime::init_tracing();
    let config = ResetPasswordConfig::from_env()?;
    let aws = runtime::aws_config().await;
    let store = UserStore::new(aws_sdk_dynamodb::Client::new(&aws), &config.core.table_name);
    let core = Core::new(&config.core, store)?;
    runtime::serve(Function::ResetPassword.name(), |request| {
        operations::reset_password(&core, request)
    })
    .await
}
