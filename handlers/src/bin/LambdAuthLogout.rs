//! `LambdAuthLogout` (`POST /logout`): wiring only.

use lambdauth_handlers::config::LogoutConfig;
use lambdauth_handlers::store::UserStore;
use lambdauth_handlers::{Function, bootstrap, sessions};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    bootstrap::init_tracing();
    let config = LogoutConfig::from_env()?;
    let aws = bootstrap::aws_config().await;
    let store = UserStore::new(
        aws_sdk_dynamodb::Client::new(&aws),
        &config.table.table_name,
    );
    let policy = config.sessions.policy;
    // Not limited per source: ending a session must never be refused because a stranger behind
    // the same address spent the allowance.
    bootstrap::serve(Function::Logout, None, |request| {
        sessions::logout(&store, &policy, request)
    })
    .await
}
