//! Every HTTP function over one context, each built through its own definition, and the API
//! Gateway event that reaches them: what the local runtime serves and the integration tests
//! call, so that both run the Lambdas' own construction and event handling.

use std::collections::HashMap;
use std::sync::Arc;

use aws_config::SdkConfig;
use aws_types::service_config::{LoadServiceConfig, ServiceConfigKey};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use lambdauth_runtime::config::Source;
use lambdauth_runtime::function::{Context, Definition, Handler, StartError};
use serde_json::Value;

/// Every HTTP function of the registry, built over one context. A clone shares the built
/// functions (and so their limiters' memory), as one Lambda instance's requests do.
#[derive(Clone)]
pub struct Functions {
    handlers: Arc<HashMap<&'static str, Box<dyn Handler>>>,
}

impl std::fmt::Debug for Functions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Functions")
            .field("functions", &self.handlers.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl Functions {
    /// Every HTTP function, configured from `source` with the variables the Lambdas read, its
    /// clients built from `context` (one process stands in for all of them, as one set of
    /// clients).
    pub fn start(context: &Context, source: &dyn Source) -> Result<Self, StartError> {
        let handlers = lambdauth_functions::http()
            .map(|function| Ok((function.name, function.start(context, source)?)))
            .collect::<Result<_, StartError>>()?;
        Ok(Self {
            handlers: Arc::new(handlers),
        })
    }

    /// Handles a Lambda event (HTTP API or direct invoke) for `function`, as its Lambda would.
    ///
    /// # Panics
    /// When `function` is not an HTTP function of the registry.
    pub async fn handle_event(
        &self,
        function: &Definition,
        event: Value,
        request_id: &str,
    ) -> Value {
        let handler = self
            .handlers
            .get(function.name)
            .unwrap_or_else(|| panic!("{} is not an HTTP function", function.name));
        // An HTTP function answers every failure itself: it never asks for a redelivery.
        match handler.handle(event, request_id).await {
            Ok(answer) => answer,
            Err(error) => panic!("{} failed: {error}", function.name),
        }
    }
}

/// Per-service endpoints, as `AWS_ENDPOINT_URL_<SERVICE>` would set them: one service reached
/// through a proxy (to record or fail its calls) while the others reach the emulator.
#[derive(Debug, Clone, Default)]
pub struct ServiceEndpoints(HashMap<String, String>);

impl LoadServiceConfig for ServiceEndpoints {
    fn load_config(&self, key: ServiceConfigKey<'_>) -> Option<String> {
        (key.env() == "AWS_ENDPOINT_URL")
            .then(|| self.0.get(key.service_id()).cloned())
            .flatten()
    }
}

/// `sdk` with the service whose SDK id is `service_id` (`DynamoDB`, `SESv2`, `Cognito
/// Identity`, `KMS`, `SQS`) reached at `endpoint`, on top of the overrides `earlier` made.
pub fn with_service_endpoint(
    sdk: &SdkConfig,
    earlier: &ServiceEndpoints,
    service_id: &str,
    endpoint: &str,
) -> (SdkConfig, ServiceEndpoints) {
    let mut endpoints = earlier.clone();
    endpoints
        .0
        .insert(service_id.to_owned(), endpoint.to_owned());
    let config = sdk.to_builder().service_config(endpoints.clone()).build();
    (config, endpoints)
}

/// A context over `sdk` with the clock of `context` (so that a test's clock survives a change of
/// endpoints).
pub fn context_like(context: &Context, sdk: SdkConfig) -> Context {
    Context::with_clock(sdk, Arc::clone(&context.clock))
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
    use lambdauth_runtime::api::envelope::{Via, request_from_event};

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
