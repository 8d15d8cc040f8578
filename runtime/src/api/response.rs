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

    /// A 200 with `body`, a typed answer.
    pub fn ok(body: &impl Serialize) -> Self {
        // An answer is a struct of strings, numbers and booleans: it always serializes.
        Self::json(200, serde_json::to_value(body).unwrap_or(Value::Null))
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
