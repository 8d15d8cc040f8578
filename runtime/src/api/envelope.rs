//! The envelope around a handler: an API Gateway HTTP API (payload 2.0) event or a direct invoke
//! with the original's JSON comes in; an HTTP request takes its turn from its source's bucket
//! ([`Limiter`]) before its body is parsed; the matching response goes out.

use std::future::Future;

use aws_lambda_events::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
use aws_lambda_events::encodings::Body;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use http::header::{
    ACCEPT_LANGUAGE, AUTHORIZATION, CONTENT_TYPE, HeaderName, HeaderValue, USER_AGENT,
};
use serde_json::Value;
use tracing::Instrument as _;

use super::HandlerError;
use super::{ApiError, ApiResponse, HttpDetails, Outcome, Request};
use crate::limits::{Limiter, NotAdmitted};

/// How the request arrived, and so how the answer must leave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// An API Gateway HTTP API event: the answer is a payload 2.0 response.
    HttpApi,
    /// A direct invoke: the answer is the JSON body itself.
    DirectInvoke,
}

/// Whether `event` is an HTTP API payload 2.0 event rather than a direct invoke's body.
fn is_http_api_event(event: &Value) -> bool {
    event.get("version").and_then(Value::as_str) == Some("2.0")
        && event
            .get("requestContext")
            .and_then(|context| context.get("http"))
            .is_some_and(Value::is_object)
}

/// Unwraps an event into a request.
pub fn request_from_event(event: Value, request_id: &str) -> Result<(Request, Via), ApiError> {
    if !is_http_api_event(&event) {
        let body = serde_json::to_vec(&event)
            .map_err(|_| ApiError::bad_request("InvalidJson", "the event is not valid JSON"))?;
        return Ok((
            Request {
                body,
                accept_language: None,
                request_id: request_id.to_owned(),
                http: None,
            },
            Via::DirectInvoke,
        ));
    }
    let event: ApiGatewayV2httpRequest = serde_json::from_value(event)
        .map_err(|_| ApiError::bad_request("InvalidRequest", "the HTTP API event is malformed"))?;
    let body = match (event.body, event.is_base64_encoded) {
        (None, _) => Vec::new(),
        (Some(text), false) => text.into_bytes(),
        (Some(text), true) => STANDARD.decode(text).map_err(|_| {
            ApiError::bad_request("InvalidJson", "the request body is not valid base64")
        })?,
    };
    let header = |name| {
        event
            .headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned)
    };
    let accept_language = header(ACCEPT_LANGUAGE);
    let http = HttpDetails {
        method: event.request_context.http.method.to_string(),
        path: event
            .raw_path
            .clone()
            .or(event.request_context.http.path.clone())
            .unwrap_or_default(),
        user_agent: header(USER_AGENT).or(event.request_context.http.user_agent.clone()),
        authorization: header(AUTHORIZATION),
        path_parameters: event.path_parameters,
        source_ip: event.request_context.http.source_ip.clone(),
    };
    Ok((
        Request {
            body,
            accept_language,
            request_id: request_id.to_owned(),
            http: Some(http),
        },
        Via::HttpApi,
    ))
}

/// Wraps a response for the way the request came.
pub fn response_to_event(response: ApiResponse, via: Via) -> Value {
    match via {
        Via::DirectInvoke => response.body,
        Via::HttpApi => {
            let mut event = ApiGatewayV2httpResponse::default();
            event.status_code = i64::from(response.status);
            event
                .headers
                .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            for (name, value) in &response.headers {
                if let (Ok(name), Ok(value)) = (
                    HeaderName::from_bytes(name.as_bytes()),
                    HeaderValue::from_str(value),
                ) {
                    event.headers.insert(name, value);
                }
            }
            event.body = Some(Body::Text(response.body.to_string()));
            event.is_base64_encoded = false;
            serde_json::to_value(event).unwrap_or(Value::Null)
        }
    }
}

/// Handles one event for the function named `operation` with `handler`: unwrap, take the
/// request from its source's bucket (an HTTP request, when there is a `limiter`), run, log,
/// wrap. Never fails: every failure becomes an error answer.
pub async fn handle_event<F, Fut>(
    operation: &'static str,
    limiter: Option<&Limiter>,
    event: Value,
    request_id: &str,
    handler: F,
) -> Value
where
    F: FnOnce(Request) -> Fut,
    Fut: Future<Output = Outcome>,
{
    let span = tracing::info_span!("request", operation, request_id);
    async move {
        let (request, via) = match request_from_event(event, request_id) {
            Ok(unwrapped) => unwrapped,
            Err(error) => {
                tracing::info!(status = error.status(), code = error.code(), "refused");
                return response_to_event(error.into_response(), Via::HttpApi);
            }
        };
        // A direct invoke is an IAM-authorized caller with no source address: not limited.
        let admitted = match (via, limiter) {
            (Via::HttpApi, Some(limiter)) => limiter.admit(request.source_ip()).await,
            _ => Ok(()),
        };
        if let Err(not_admitted) = admitted {
            let error = match not_admitted {
                NotAdmitted::Refused(wait) => {
                    HandlerError::Refused(ApiError::TooManyRequests(wait))
                }
                NotAdmitted::Store(error) => error.into(),
                NotAdmitted::Undecided => {
                    HandlerError::bug("a bucket decided nothing in its writes")
                }
            };
            let response = error.into_response(request_id);
            let code = response.body["error"]["code"].as_str().unwrap_or("");
            tracing::info!(status = response.status, code, ?via, "answered");
            return response_to_event(response, via);
        }
        let response = match handler(request).await {
            Ok(response) => response,
            Err(error) => error.into_response(request_id),
        };
        let code = response.body["error"]["code"].as_str().unwrap_or("");
        tracing::info!(status = response.status, code, ?via, "answered");
        response_to_event(response, via)
    }
    .instrument(span)
    .await
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn http_event(body: &str, base64: bool) -> Value {
        json!({
            "version": "2.0",
            "routeKey": "POST /login",
            "rawPath": "/login",
            "rawQueryString": "",
            "headers": { "content-type": "application/json", "accept-language": "de-DE,de;q=0.9" },
            "requestContext": {
                "accountId": "123456789012",
                "apiId": "api",
                "domainName": "example.com",
                "domainPrefix": "example",
                "http": { "method": "POST", "path": "/login", "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "test" },
                "requestId": "r1",
                "routeKey": "POST /login",
                "stage": "$default",
                "time": "24/Nov/2026:10:00:00 +0000",
                "timeEpoch": 1_795_000_000_000_i64
            },
            "body": if base64 { STANDARD.encode(body) } else { body.to_owned() },
            "isBase64Encoded": base64
        })
    }

    #[test]
    fn an_http_api_event_is_unwrapped_with_its_headers() {
        for base64 in [false, true] {
            let (request, via) =
                request_from_event(http_event(r#"{"email":"a@b.co"}"#, base64), "id").unwrap();
            assert_eq!(via, Via::HttpApi);
            assert_eq!(request.body, br#"{"email":"a@b.co"}"#);
            assert_eq!(request.accept_language.as_deref(), Some("de-DE,de;q=0.9"));
        }
    }

    #[test]
    fn anything_else_is_a_direct_invoke_body() {
        let (request, via) =
            request_from_event(json!({"email": "a@b.co", "password": "p"}), "id").unwrap();
        assert_eq!(via, Via::DirectInvoke);
        let body: Value = serde_json::from_slice(&request.body).unwrap();
        assert_eq!(body, json!({"email": "a@b.co", "password": "p"}));
    }

    #[test]
    fn responses_are_wrapped_for_the_way_they_came() {
        let response = ApiResponse::json(429, json!({"error": {"code": "TooManyRequests"}}))
            .with_header("Retry-After", "3".to_owned());
        let direct = response_to_event(response.clone(), Via::DirectInvoke);
        assert_eq!(direct, json!({"error": {"code": "TooManyRequests"}}));
        let http = response_to_event(response, Via::HttpApi);
        assert_eq!(http["statusCode"], 429);
        assert_eq!(http["headers"]["retry-after"], "3");
        assert_eq!(http["headers"]["content-type"], "application/json");
        let body: Value = serde_json::from_str(http["body"].as_str().unwrap()).unwrap();
        assert_eq!(body["error"]["code"], "TooManyRequests");
    }
}
