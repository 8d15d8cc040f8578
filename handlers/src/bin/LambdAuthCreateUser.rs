//! `LambdAuthCreateUser` (`POST /users`): wiring only.

use lambdauth_handlers::config::CreateUserConfig;
use lambdauth_handlers::sealer::TokenSealer;
use lambdauth_handlers::service::Core;
use lambdauth_handlers::store::UserStore;
use lambdauth_handlers::{Function, operations, runtime};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    runtime::init_tracing();
    let config = CreateUserConfig::from_env()?;
    let aws = runtime::aws_config().await;
    let store = UserStore::new(aws_sdk_dynamodb::Client::new(&aws), &config.core.table_name);
    let core = Core::new(&config.core, store)?;
    let sealer = TokenSealer::new(aws_sdk_kms::Client::new(&aws), config.mailing.kms_key_id);
    runtime::serve(Function::CreateUser.name(), |request| {
        operations::create_user(&core, &sealer, request)
    })
    .await
}
