//! `LambdAuthLogin` (`POST /login`): wiring only.

use lambdauth_handlers::config::LoginConfig;
use lambdauth_handlers::identity::IdentityIssuer;
use lambdauth_handlers::service::Core;
use lambdauth_handlers::store::UserStore;
use lambdauth_handlers::{Function, operations, runtime};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    runtime::init_tracing();
    let config = LoginConfig::from_env()?;
    let aws = runtime::aws_config().await;
    let store = UserStore::new(aws_sdk_dynamodb::Client::new(&aws), &config.core.table_name);
    let core = Core::new(&config.core, store)?;
    let identity = IdentityIssuer::new(aws_sdk_cognitoidentity::Client::new(&aws), config.identity);
    runtime::serve(Function::Login.name(), |request| {
        operations::login(&core, &identity, request)
    })
    .await
}
