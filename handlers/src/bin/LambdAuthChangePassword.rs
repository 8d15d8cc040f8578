//! `LambdAuthChangePassword` (`POST /password/change`): wiring only.

use lambdauth_handlers::config::ChangePasswordConfig;
use lambdauth_handlers::limits::Limiter;
use lambdauth_handlers::shared::Core;
use lambdauth_handlers::store::UserStore;
use lambdauth_handlers::{Function, bootstrap, endpoints};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    bootstrap::init_tracing();
    let config = ChangePasswordConfig::from_env()?;
    let aws = bootstrap::aws_config().await;
    let store = UserStore::new(aws_sdk_dynamodb::Client::new(&aws), &config.core.table_name)
        .with_outbox(&config.outbox.table_name);
    let limiter = Limiter::for_store(&store, config.limits);
    let core = Core::new(&config.core, store)?;
    bootstrap::serve(Function::ChangePassword, Some(&limiter), |request| {
        endpoints::change_password(&core, request)
    })
    .await
}
