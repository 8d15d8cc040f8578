//! `LambdAuthCreateUser` (`POST /users`): wiring only.

use lambdauth_handlers::config::CreateUserConfig;
use lambdauth_handlers::limits::Limiter;
use lambdauth_handlers::sealer::TokenSealer;
use lambdauth_handlers::shared::Core;
use lambdauth_handlers::store::UserStore;
use lambdauth_handlers::{Function, bootstrap, endpoints};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    bootstrap::init_tracing();
    let config = CreateUserConfig::from_env()?;
    let aws = bootstrap::aws_config().await;
    let store = UserStore::new(aws_sdk_dynamodb::Client::new(&aws), &config.core.table_name)
        .with_outbox(&config.outbox.table_name);
    let limiter = Limiter::for_store(&store, config.limits);
    let core = Core::new(&config.core, store)?;
    let sealer = TokenSealer::new(aws_sdk_kms::Client::new(&aws), config.mailing.kms_key_id);
    bootstrap::serve(Function::CreateUser, Some(&limiter), |request| {
        endpoints::create_user(&core, &sealer, request)
    })
    .await
}
