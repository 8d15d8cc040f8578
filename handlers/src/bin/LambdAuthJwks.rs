//! `LambdAuthJwks` (`GET /.well-known/openid-configuration`, `GET /.well-known/jwks.json`):
//! wiring only.

use lambdauth_handlers::config::JwksConfig;
use lambdauth_handlers::tokens::KmsKeys;
use lambdauth_handlers::{Function, bootstrap, sessions};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    bootstrap::init_tracing();
    let config = JwksConfig::from_env()?;
    let aws = bootstrap::aws_config().await;
    let keys = KmsKeys::new(aws_sdk_kms::Client::new(&aws), config.keys);
    // The key set is public and static: not limited.
    bootstrap::serve(Function::Jwks, None, |request| {
        sessions::jwks(&keys, request)
    })
    .await
}
