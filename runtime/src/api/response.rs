//! A response independent of how it travels (HTTP API event or direct invoke).

use serde::Serialize;
use serde_json::Value;

/// A status, headers and a JSON body.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiResponse {
    /// The HTTP status.
    pub status: u16,
    /// Extra headers (`Content-Type: application/json` is implied).
    pub headers: Vec<(&'static str, String)>,
    /// The body.
    pub body: Value,
}

impl ApiResponse {
    /// A JSON response.
    pub fn json(status: u16, body: Value) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body,
        }
    }

    /// A 200 with `body`, a typed answer; a 500 (logged) should it not serialize, which an
    /// answer of strings, numbers and booleans always does.
    pub fn ok(body: &impl Serialize) -> Self {
        match serde_json::to_value(body) {
            Ok(body) => Self::json(200, body),
            Err(error) => {
                tracing::error!(%error, "an answer did not serialize");
                Self::json(
                    500,
                    serde_json::json!({ "error": {
                        "code": "InternalError",
                        "message": "something went wrong on our side",
                    } }),
                )
            }
        }
    }

    /// The same response with one more header.
    #[must_use]
    pub fn with_header(mut self, name: &'static str, value: String) -> Self {
        self.headers.push((name, value));
        self
    }

    /// The value of header `name`, compared without regard to case.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}
