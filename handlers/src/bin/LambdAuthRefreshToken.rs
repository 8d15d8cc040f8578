//! `LambdAuthRefreshToken` (`POST /token/refresh`): wiring only.

use lambdauth_handlers::config::RefreshTokenConfig;
use lambdauth_handlers::identity::IdentityIssuer;
use lambdauth_handlers::limits::Limiter;
use lambdauth_handlers::sessions::{self, SessionIssuer};
use lambdauth_handlers::store::UserStore;
use lambdauth_handlers::tokens::AccessTokenSigner;
use lambdauth_handlers::{Function, bootstrap};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    bootstrap::init_tracing();
    let config = RefreshTokenConfig::from_env()?;
    let aws = bootstrap::aws_config().await;
    let issuer = SessionIssuer {
        store: UserStore::new(
            aws_sdk_dynamodb::Client::new(&aws),
            &config.table.table_name,
        ),
        signer: AccessTokenSigner::new(aws_sdk_kms::Client::new(&aws), config.tokens),
        policy: config.sessions.policy,
    };
    let identity = IdentityIssuer::new(aws_sdk_cognitoidentity::Client::new(&aws), config.identity);
    let limiter = Limiter::for_store(&issuer.store, config.limits);
    bootstrap::serve(Function::RefreshToken, Some(&limiter), |request| {
        sessions::refresh_token(&issuer, &identity, request)
    })
    .await
}
