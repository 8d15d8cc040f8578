//! All the HTTP functions together over one set of clients, and the API Gateway event that
//! reaches them: what the local runtime serves and the integration tests call, so that both run
//! the Lambdas' own event handling.

use aws_config::SdkConfig;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use lambdauth_handlers::Function;
use lambdauth_handlers::api::envelope;
use lambdauth_handlers::config::{
    AccessTokenConfig, ConfigError, CoreConfig, IdentityConfig, MailingConfig, OutboxConfig,
    RateLimitConfig, SessionConfig, Source,
};
use lambdauth_handlers::endpoints::{self, Outcome, Request};
use lambdauth_handlers::error::HandlerError;
use lambdauth_handlers::identity::IdentityIssuer;
use lambdauth_handlers::limits::Limiter;
use lambdauth_handlers::sealer::TokenSealer;
use lambdauth_handlers::sessions::{self, SessionIssuer, SessionsAccess};
use lambdauth_handlers::shared::Core;
use lambdauth_handlers::store::UserStore;
use lambdauth_handlers::tokens::{AccessTokenSigner, AccessTokenVerifier, KmsKeys};
use serde_json::Value;

/// Why the functions could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// A variable is missing or malformed.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The hashing settings were refused.
    #[error(transparent)]
    Core(#[from] HandlerError),
}

/// All the functions over one set of clients.
#[derive(Debug, Clone)]
pub struct Functions {
    /// The shared part.
    pub core: Core,
    /// KMS, for the mails with links.
    pub sealer: TokenSealer,
    /// Cognito, for login and refresh.
    pub identity: IdentityIssuer,
    /// Starts and continues sessions (login, refresh, logout).
    pub sessions: SessionIssuer,
    /// Checks the callers of `/sessions`.
    pub access: SessionsAccess,
    /// The issuer's public keys (the key set, and the local authorizer's keys).
    pub keys: KmsKeys,
    /// The abuse limits every HTTP request goes through, as on Lambda.
    pub limiter: Limiter,
}

impl Functions {
    /// All of them over clients built from `aws`, configured from `source` with the variables
    /// the Lambdas read (one process stands in for all of them).
    pub fn from_source(aws: &SdkConfig, source: &impl Source) -> Result<Self, StartError> {
        let core = CoreConfig::from_source(source)?;
        let store = UserStore::new(aws_sdk_dynamodb::Client::new(aws), &core.table_name)
            .with_outbox(OutboxConfig::from_source(source)?.table_name);
        let tokens = AccessTokenConfig::from_source(source)?;
        let policy = SessionConfig::from_source(source)?.policy;
        let kms = aws_sdk_kms::Client::new(aws);
        let keys = KmsKeys::new(kms.clone(), tokens.keys.clone());
        let limiter = Limiter::for_store(&store, RateLimitConfig::from_source(source)?);
        Ok(Self {
            limiter,
            sessions: SessionIssuer {
                store: store.clone(),
                signer: AccessTokenSigner::new(kms.clone(), tokens.clone()),
                policy,
            },
            access: SessionsAccess {
                store: store.clone(),
                keys: keys.clone(),
                verifier: AccessTokenVerifier::new(&tokens.keys.issuer, &tokens.audience),
                policy,
            },
            keys,
            core: Core::new(&core, store)?,
            sealer: TokenSealer::new(
                aws_sdk_kms::Client::new(aws),
                MailingConfig::from_source(source)?.kms_key_id,
            ),
            identity: IdentityIssuer::new(
                aws_sdk_cognitoidentity::Client::new(aws),
                IdentityConfig::from_source(source)?,
            ),
        })
    }

    /// Runs `function` on `request`, as its Lambda would.
    pub async fn call(&self, function: Function, request: Request) -> Outcome {
        match function {
            Function::CreateUser => endpoints::create_user(&self.core, &self.sealer, request).await,
            Function::VerifyUser => endpoints::verify_user(&self.core, request).await,
            Function::Login => {
                endpoints::login(&self.core, &self.identity, &self.sessions, request).await
            }
            Function::ChangePassword => endpoints::change_password(&self.core, request).await,
            Function::LostPassword => {
                endpoints::lost_password(&self.core, &self.sealer, request).await
            }
            Function::ResetPassword => endpoints::reset_password(&self.core, request).await,
            Function::RefreshToken => {
                sessions::refresh_token(&self.sessions, &self.identity, request).await
            }
            Function::Logout => {
                sessions::logout(&self.sessions.store, &self.sessions.policy, request).await
            }
            Function::Sessions => sessions::sessions(&self.access, request).await,
            Function::Jwks => sessions::jwks(&self.keys, request).await,
        }
    }

    /// Handles a Lambda event (HTTP API or direct invoke) for `function`, as its Lambda would.
    pub async fn handle_event(&self, function: Function, event: Value, request_id: &str) -> Value {
        // Boxed: one future for every function nests deep enough otherwise to exceed the
        // compiler's layout depth in the callers.
        Box::pin(envelope::handle_event(
            function,
            Some(&self.limiter),
            event,
            request_id,
            |request| Box::pin(self.call(function, request)),
        ))
        .await
    }
}

/// The HTTP API (payload 2.0) event API Gateway sends for `POST path` with `headers` and
/// `body`: what the local runtime hands a function, so that it runs exactly as deployed. As API
/// Gateway does, a body that is not UTF-8 text travels base64-encoded.
pub fn http_api_event(
    path: &str,
    headers: &[(String, String)],
    body: &[u8],
    request_id: &str,
) -> Value {
    route_event(
        "POST",
        path,
        path,
        &serde_json::Map::new(),
        headers,
        body,
        request_id,
    )
}

/// The same for any route (`method` and the route's `route_path`, `/sessions/{id}`), requested
/// as `raw_path` with the route's `path_parameters`.
pub fn route_event(
    method: &str,
    route_path: &str,
    raw_path: &str,
    path_parameters: &serde_json::Map<String, Value>,
    headers: &[(String, String)],
    body: &[u8],
    request_id: &str,
) -> Value {
    let (body, is_base64_encoded) = match std::str::from_utf8(body) {
        Ok(text) => (text.to_owned(), false),
        Err(_) => (STANDARD.encode(body), true),
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    let headers: serde_json::Map<String, Value> = headers
        .iter()
        .map(|(name, value)| (name.to_ascii_lowercase(), Value::String(value.clone())))
        .collect();
    let route_key = format!("{method} {route_path}");
    let mut event = serde_json::json!({
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": raw_path,
        "rawQueryString": "",
        "headers": headers,
        "requestContext": {
            "accountId": "000000000000",
            "apiId": "local",
            "domainName": "localhost",
            "domainPrefix": "localhost",
            "http": {
                "method": method,
                "path": raw_path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": headers.get("user-agent").and_then(Value::as_str).unwrap_or(""),
            },
            "requestId": request_id,
            "routeKey": route_key,
            "stage": "$default",
            "timeEpoch": now,
        },
        "isBase64Encoded": is_base64_encoded,
    });
    if !body.is_empty() {
        event["body"] = Value::String(body);
    }
    if !path_parameters.is_empty() {
        event["pathParameters"] = Value::Object(path_parameters.clone());
    }
    event
}

#[cfg(test)]
mod tests {
    use lambdauth_handlers::api::envelope::{Via, request_from_event};

    use super::*;

    #[test]
    fn a_built_http_api_event_parses_as_one() {
        let event = http_api_event(
            "/login",
            &[("Accept-Language".to_owned(), "de".to_owned())],
            br#"{"email":"a@b.co"}"#,
            "r1",
        );
        let (request, via) = request_from_event(event, "r1").unwrap();
        assert_eq!(via, Via::HttpApi);
        assert_eq!(request.accept_language.as_deref(), Some("de"));
        assert_eq!(request.body, br#"{"email":"a@b.co"}"#);
    }

    #[test]
    fn a_body_that_is_not_utf_8_travels_base64_encoded_and_arrives_as_it_was() {
        let bytes = b"{\"email\":\"a@b.co\",\"password\":\"pass\xff\xfe\"}";
        let event = http_api_event("/login", &[], bytes, "r1");
        assert_eq!(event["isBase64Encoded"], true);
        let (request, _) = request_from_event(event, "r1").unwrap();
        assert_eq!(request.body, bytes);
    }
}
