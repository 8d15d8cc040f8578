//! `LambdAuthJwks` (`GET /.well-known/openid-configuration`, `GET /.well-known/jwks.json`): the
//! issuer's OpenID configuration and public keys. Public and static: not limited per source.

use lambdauth_domain::RouteClass;
use lambdauth_runtime::api::{ApiError, ApiResponse, Outcome, Request, parse_body};
use lambdauth_runtime::function::{
    Context, Function, HttpFunction, JWKS_PATH, OPENID_CONFIGURATION_PATH, Route, StartError,
};
use serde::Deserialize;

use crate::config::JwksConfig;
use crate::tokens::{KmsKeys, openid_configuration};

/// How long the key set and the OpenID configuration may be cached by clients and authorizers:
/// an hour, shorter than the two hours a key is published before it signs (README, "Signing key
/// rotation"), so a cached key set always holds the key that signs.
const KEY_SET_CACHE_CONTROL: &str = "public, max-age=3600";

/// The direct invoke of `LambdAuthJwks`: `{}` for the key set, `{"document":
/// "openid-configuration"}` for the configuration.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct JwksBody {
    #[serde(default)]
    document: Option<String>,
}

/// `LambdAuthJwks`.
#[derive(Debug, Clone)]
pub struct Jwks {
    keys: KmsKeys,
}

impl Function for Jwks {
    const NAME: &'static str = "LambdAuthJwks";
    type Config = JwksConfig;

    fn build(config: JwksConfig, context: &Context) -> Result<Self, StartError> {
        Ok(Self {
            keys: KmsKeys::new(aws_sdk_kms::Client::new(&context.aws), config.keys),
        })
    }
}

impl HttpFunction for Jwks {
    const ROUTES: &'static [Route] =
        &[Route::get(OPENID_CONFIGURATION_PATH), Route::get(JWKS_PATH)];
    const LIMIT: Option<RouteClass> = None;

    async fn handle(&self, request: Request) -> Outcome {
        let configuration = if let Some(http) = &request.http {
            http.path.ends_with(OPENID_CONFIGURATION_PATH)
        } else {
            let body: JwksBody = if request.body.is_empty() {
                JwksBody { document: None }
            } else {
                parse_body(&request.body)?
            };
            match body.document.as_deref() {
                None | Some("jwks") => false,
                Some("openid-configuration") => true,
                Some(_) => {
                    return Err(ApiError::bad_request(
                        "InvalidDocument",
                        "document is `jwks` or `openid-configuration`",
                    )
                    .into());
                }
            }
        };
        let body = if configuration {
            openid_configuration(self.keys.issuer())
        } else {
            self.keys.key_set().await?.to_json()
        };
        Ok(ApiResponse::ok(&body).with_header("Cache-Control", KEY_SET_CACHE_CONTROL.to_owned()))
    }
}
