//! The dev server's HTTP edge, doing what API Gateway does in front of the functions: each API
//! request becomes the payload 2.0 event a Lambda gets (with the caller's address as
//! `sourceIp`), a body over the limit is refused before it is read whole, CORS preflights and
//! headers follow the template's `AllowedOrigin`, and the sample pages are served beside it.
//! The sent-mail pages answer only requests addressed to the server itself.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::Router;
use axum::body::Body;
use axum::extract::Path;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::header::{
    ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS, ACCESS_CONTROL_ALLOW_ORIGIN,
    ACCESS_CONTROL_EXPOSE_HEADERS, ACCESS_CONTROL_MAX_AGE, AUTHORIZATION, CONTENT_TYPE, HOST,
    ORIGIN, VARY, WWW_AUTHENTICATE,
};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodFilter, MethodRouter, get};
use lambdauth_accounts::tokens::bearer;
use lambdauth_runtime::api::envelope::{Via, response_to_event};
use lambdauth_runtime::api::{ApiError, MAX_BODY_BYTES};
use lambdauth_runtime::function::{Definition, Route};
use serde_json::Value;
use tower_http::services::ServeDir;

use super::AppState;
use super::mail_pages::{mail_json, mail_page};
use crate::functions::route_event;

/// The longest path segment served: longer ones cannot name a file on any common file system.
const MAX_SEGMENT_BYTES: usize = 255;
/// The longest path served (Linux's `PATH_MAX` less room for the folder of pages).
const MAX_PATH_BYTES: usize = 2048;

/// What the HTTP API's CORS configuration in the template allows besides the origin.
const CORS_METHODS: &str = "GET,POST,DELETE";
const CORS_HEADERS: &str = "content-type,accept-language,authorization";
const CORS_EXPOSED: &str = "retry-after";
const CORS_MAX_AGE: &str = "600";

/// The routes: every function's, the sent-mail pages, and the sample pages.
pub(super) fn router(state: Arc<AppState>, www: &std::path::Path) -> Router {
    let mut routes: HashMap<&'static str, MethodRouter<Arc<AppState>>> = HashMap::new();
    for function in lambdauth_functions::http() {
        for &route in function.routes {
            let handler = move |state: State<Arc<AppState>>,
                                ConnectInfo(peer): ConnectInfo<SocketAddr>,
                                Path(parameters): Path<HashMap<String, String>>,
                                request: Request| {
                call(state, function, route, peer, parameters, request)
            };
            let filter = match route.method {
                "GET" => MethodFilter::GET,
                "DELETE" => MethodFilter::DELETE,
                _ => MethodFilter::POST,
            };
            let methods = routes
                .remove(route.path)
                .unwrap_or_else(|| axum::routing::options(preflight));
            routes.insert(route.path, methods.on(filter, handler));
        }
    }
    let mut api = Router::new();
    for (path, methods) in routes {
        api = api.route(path, methods);
    }
    let api = api
        .layer(middleware::from_fn_with_state(Arc::clone(&state), cors))
        // The body is read here, up to the limit, so no size gets a plain-text 413.
        .layer(axum::extract::DefaultBodyLimit::disable());
    let mail = Router::new()
        .route("/_dev/mail", get(mail_page))
        .route("/_dev/mail.json", get(mail_json))
        .layer(middleware::from_fn_with_state(
            Arc::clone(&state),
            only_to_this_server,
        ));
    let pages = Router::new()
        .fallback_service(ServeDir::new(www))
        .layer(middleware::from_fn(servable_path));
    api.merge(mail).merge(pages).with_state(state)
}

/// One API request: the event API Gateway would send, through the function's own handling.
async fn call(
    State(state): State<Arc<AppState>>,
    function: &'static Definition,
    route: Route,
    peer: SocketAddr,
    parameters: HashMap<String, String>,
    request: Request,
) -> Response {
    let number = state.requests.fetch_add(1, Ordering::Relaxed);
    let request_id = format!("dev-{}-{number}", std::process::id());
    let (parts, body) = request.into_parts();
    let Ok(body) = axum::body::to_bytes(body, MAX_BODY_BYTES + 1).await else {
        return http_response(&response_to_event(
            ApiError::body_too_large().into_response(),
            Via::HttpApi,
        ));
    };
    let headers: Vec<(String, String)> = parts
        .headers
        .iter()
        .filter_map(|(name, value)| {
            Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned()))
        })
        .collect();
    // A body that is not UTF-8 travels base64-encoded, as API Gateway sends it; the function
    // answers InvalidJson for it (never a lossy decoding that makes two byte strings one).
    let parameters: serde_json::Map<String, Value> = parameters
        .into_iter()
        .map(|(name, value)| (name, Value::String(value)))
        .collect();
    let mut event = route_event(
        route.method,
        route.path,
        parts.uri.path(),
        &parameters,
        &headers,
        &body,
        &request_id,
    );
    event["requestContext"]["http"]["sourceIp"] = Value::String(peer.ip().to_string());
    if route.authorized {
        // API Gateway's JWT authorizer: the function is not called for a missing or bad token,
        // and gets the token's claims with the event when it is good.
        let Some(claims) = authorize(&state, &parts.headers).await else {
            return unauthorized();
        };
        event["requestContext"]["authorizer"] = serde_json::json!({ "jwt": { "claims": claims } });
    }
    let answer = state
        .functions
        .handle_event(function, event, &request_id)
        .await;
    http_response(&answer)
}

/// The claims of the request's bearer token, checked as the template's JWT authorizer checks
/// them (RS256 only, a `kid` of the issuer's key set, signature, `iss`, `aud`, `exp`, `nbf`).
async fn authorize(state: &AppState, headers: &HeaderMap) -> Option<Value> {
    let header = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok());
    let token = bearer(header)?;
    let keys = state.authorizer.keys.key_set().await.ok()?;
    let claims = state.authorizer.verifier.verify(token, keys).ok()?;
    // API Gateway hands every claim on as a string.
    let claims = serde_json::to_value(claims).ok()?;
    let strings: serde_json::Map<String, Value> = claims
        .as_object()?
        .iter()
        .map(|(name, value)| {
            let text = value
                .as_str()
                .map_or_else(|| value.to_string(), str::to_owned);
            (name.clone(), Value::String(text))
        })
        .collect();
    Some(Value::Object(strings))
}

/// What API Gateway answers when its authorizer refuses a request.
fn unauthorized() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        [
            (CONTENT_TYPE, HeaderValue::from_static("application/json")),
            (WWW_AUTHENTICATE, HeaderValue::from_static("Bearer")),
        ],
        r#"{"message":"Unauthorized"}"#,
    )
        .into_response()
}

/// The HTTP response API Gateway makes of a payload 2.0 answer.
pub(super) fn http_response(answer: &Value) -> Response {
    let status = answer["statusCode"]
        .as_u64()
        .and_then(|status| u16::try_from(status).ok())
        .and_then(|status| StatusCode::from_u16(status).ok())
        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (
        status,
        answer["body"].as_str().unwrap_or_default().to_owned(),
    )
        .into_response();
    if let Some(headers) = answer["headers"].as_object() {
        for (name, value) in headers {
            if let (Ok(name), Some(Ok(value))) = (
                HeaderName::from_bytes(name.as_bytes()),
                value.as_str().map(HeaderValue::from_str),
            ) {
                response.headers_mut().insert(name, value);
            }
        }
    }
    response
}

/// The `Access-Control-Allow-Origin` for a request from `origin`, when the allowed origin
/// setting admits it: `*` for any origin, or the one origin named.
fn allowed_origin(allowed: &str, origin: Option<&HeaderValue>) -> Option<HeaderValue> {
    let origin = origin?;
    if allowed == "*" {
        return Some(HeaderValue::from_static("*"));
    }
    (origin.as_bytes() == allowed.as_bytes()).then(|| origin.clone())
}

/// A CORS preflight, answered as the HTTP API answers it: 204, with the allowances only for an
/// allowed origin.
async fn preflight(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    if let Some(origin) = allowed_origin(&state.allowed_origin, headers.get(ORIGIN)) {
        let out = response.headers_mut();
        out.insert(ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        out.insert(
            ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static(CORS_METHODS),
        );
        out.insert(
            ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static(CORS_HEADERS),
        );
        out.insert(
            ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static(CORS_MAX_AGE),
        );
    }
    response
}

/// The CORS headers on an API answer to an allowed origin.
async fn cors(State(state): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    let origin = allowed_origin(&state.allowed_origin, request.headers().get(ORIGIN));
    let mut response = next.run(request).await;
    if state.allowed_origin != "*" {
        // The answer names one origin: caches must keep answers apart by origin.
        response
            .headers_mut()
            .append(VARY, HeaderValue::from_static("origin"));
    }
    if let Some(origin) = origin {
        let out = response.headers_mut();
        out.insert(ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        out.insert(
            ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static(CORS_EXPOSED),
        );
    }
    response
}

/// The sent-mail pages hold live links: a page on another origin that reaches this server under
/// its own host name (DNS rebinding) gets nothing.
async fn only_to_this_server(
    State(state): State<Arc<AppState>>,
    request: Request,
    next: Next,
) -> Response {
    let host = request.headers().get(HOST).map(HeaderValue::as_bytes);
    if host == Some(state.listen.to_string().as_bytes()) {
        next.run(request).await
    } else {
        (
            StatusCode::FORBIDDEN,
            "the sent-mail pages answer only to their own address",
        )
            .into_response()
    }
}

/// A path no file can have is not found, whatever the file system would say about it.
async fn servable_path(request: Request<Body>, next: Next) -> Response {
    let path = request.uri().path();
    if path.len() > MAX_PATH_BYTES
        || path
            .split('/')
            .any(|segment| segment.len() > MAX_SEGMENT_BYTES)
    {
        return StatusCode::NOT_FOUND.into_response();
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn an_answer_becomes_its_status_headers_and_body() {
        let response = http_response(&json!({
            "statusCode": 429,
            "headers": {"retry-after": "3", "content-type": "application/json"},
            "body": "{\"error\":{}}",
        }));
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers()["retry-after"], "3");
        assert_eq!(response.headers()["content-type"], "application/json");
    }

    #[test]
    fn an_origin_is_allowed_by_the_wildcard_or_by_its_own_name_only() {
        let page = HeaderValue::from_static("http://127.0.0.1:5173");
        assert_eq!(
            allowed_origin("*", Some(&page)),
            Some(HeaderValue::from_static("*"))
        );
        assert_eq!(
            allowed_origin("http://127.0.0.1:5173", Some(&page)),
            Some(page.clone())
        );
        assert_eq!(
            allowed_origin("https://auth.example.com", Some(&page)),
            None
        );
        assert_eq!(allowed_origin("*", None), None);
    }
}
