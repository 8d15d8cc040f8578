//! `LambdAuthLogin` (`POST /login`): wiring only.

use lambdauth_handlers::config::LoginConfig;
use lambdauth_handlers::identity::IdentityIssuer;
use lambdauth_handlers::shared::Core;
use lambdauth_handlers::store::UserStore;
use lambdauth_handlers::{Function, bootstrap, endpoints};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    bootstrap::init_tracing();
    let config = LoginConfig::from_env()?;
    let aws = bootstrap::aws_config().await;
    let store = UserStore::new(aws_sdk_dynamodb::Client::new(&aws), &config.core.table_name);
    let core = Core::new(&config.core, store)?;
    let identity = IdentityIssuer::new(aws_sdk_cognitoidentity::Client::new(&aws), config.identity);
    bootstrap::serve(Function::Login.name(), |request| {
        endpoints::login(&core, &identity, request)
    })
    .await
}
