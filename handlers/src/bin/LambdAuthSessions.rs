//! `LambdAuthSessions` (`GET /sessions`, `DELETE /sessions/{id}`): wiring only.

use lambdauth_handlers::config::SessionsConfig;
use lambdauth_handlers::sessions::{self, SessionsAccess};
use lambdauth_handlers::store::UserStore;
use lambdauth_handlers::tokens::{AccessTokenVerifier, KmsKeys};
use lambdauth_handlers::{Function, bootstrap};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    bootstrap::init_tracing();
    let config = SessionsConfig::from_env()?;
    let aws = bootstrap::aws_config().await;
    let access = SessionsAccess {
        store: UserStore::new(
            aws_sdk_dynamodb::Client::new(&aws),
            &config.table.table_name,
        ),
        verifier: AccessTokenVerifier::new(&config.tokens.keys.issuer, &config.tokens.audience),
        keys: KmsKeys::new(aws_sdk_kms::Client::new(&aws), config.tokens.keys),
        policy: config.sessions.policy,
    };
    // Not limited per source: the authorizer admits only holders of an access token, and
    // ending a session must never be refused because a stranger spent the allowance.
    bootstrap::serve(Function::Sessions, None, |request| {
        sessions::sessions(&access, request)
    })
    .await
}
