//! `LambdAuthLogin` (`POST /login`): wiring only.

use lambdauth_handlers::config::LoginConfig;
use lambdauth_handlers::identity::IdentityIssuer;
use lambdauth_handlers::limits::Limiter;
use lambdauth_handlers::sessions::SessionIssuer;
use lambdauth_handlers::shared::Core;
use lambdauth_handlers::store::UserStore;
use lambdauth_handlers::tokens::AccessTokenSigner;
use lambdauth_handlers::{Function, bootstrap, endpoints};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    bootstrap::init_tracing();
    let config = LoginConfig::from_env()?;
    let aws = bootstrap::aws_config().await;
    let store = UserStore::new(aws_sdk_dynamodb::Client::new(&aws), &config.core.table_name);
    let limiter = Limiter::for_store(&store, config.limits);
    let core = Core::new(&config.core, store.clone())?;
    let identity = IdentityIssuer::new(aws_sdk_cognitoidentity::Client::new(&aws), config.identity);
    let sessions = SessionIssuer {
        store,
        signer: AccessTokenSigner::new(aws_sdk_kms::Client::new(&aws), config.tokens),
        policy: config.sessions.policy,
    };
    bootstrap::serve(Function::Login, Some(&limiter), |request| {
        endpoints::login(&core, &identity, &sessions, request)
    })
    .await
}
