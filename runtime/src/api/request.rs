//! A request as a handler sees it, however it arrived, and its JSON body parsed: unknown fields
//! are refused, and every way a body can be malformed has its own stable code.

use serde::de::DeserializeOwned;
use serde_json::error::Category;

use super::ApiError;

/// The largest body accepted. The largest valid one (an escaped 1024-byte password twice, with
/// an address) is far below it.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// A request, however it arrived.
#[derive(Debug, Clone)]
pub struct Request {
    /// The JSON body.
    pub body: Vec<u8>,
    /// The `Accept-Language` header, when it came over HTTP.
    pub accept_language: Option<String>,
    /// The id it is logged under.
    pub request_id: String,
    /// What an HTTP request carries besides its body; `None` for a direct invoke.
    pub http: Option<HttpDetails>,
}

/// What an HTTP request carries besides its body.
#[derive(Debug, Clone, Default)]
pub struct HttpDetails {
    /// The method.
    pub method: String,
    /// The path requested.
    pub path: String,
    /// The `User-Agent`.
    pub user_agent: Option<String>,
    /// The `Authorization` header.
    pub authorization: Option<String>,
    /// The route's path parameters (`id` of `/sessions/{id}`).
    pub path_parameters: std::collections::HashMap<String, String>,
    /// The caller's address, as API Gateway saw it.
    pub source_ip: Option<String>,
}

impl Request {
    /// The caller's address as API Gateway saw it; `None` for a direct invoke.
    pub fn source_ip(&self) -> Option<&str> {
        self.http
            .as_ref()
            .and_then(|http| http.source_ip.as_deref())
    }

    /// The `User-Agent` of an HTTP request.
    pub fn user_agent(&self) -> Option<&str> {
        self.http
            .as_ref()
            .and_then(|http| http.user_agent.as_deref())
    }
}

/// Parses a body, refusing anything malformed with a 400 whose code says how:
/// `BodyTooLarge`, `InvalidJson` (also a body that is not UTF-8), `UnknownField`,
/// `MissingField`, `DuplicateField` or `InvalidType` (also JSON that is not an object).
pub fn parse_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    if body.len() > MAX_BODY_BYTES {
        return Err(ApiError::body_too_large());
    }
    // serde reads a struct from a JSON array too (`["a@b.co", "…"]`), and would quietly take
    // fields by position: only an object is a body.
    if std::str::from_utf8(body).is_err() {
        return Err(ApiError::bad_request(
            "InvalidJson",
            "the request body is not valid UTF-8",
        ));
    }
    if body.trim_ascii_start().first() != Some(&b'{') {
        return Err(
            if serde_json::from_slice::<serde::de::IgnoredAny>(body).is_ok() {
                ApiError::bad_request("InvalidType", "the request body must be a JSON object")
            } else {
                ApiError::bad_request("InvalidJson", "the request body is not valid JSON")
            },
        );
    }
    serde_json::from_slice(body).map_err(|error| {
        let (code, message) = match error.classify() {
            Category::Data => {
                // serde's messages name the field; keep that part, drop the position.
                let text = error.to_string();
                let text = text.split(" at line ").next().unwrap_or(&text).to_owned();
                let code = if text.starts_with("unknown field") {
                    "UnknownField"
                } else if text.starts_with("missing field") {
                    "MissingField"
                } else if text.starts_with("duplicate field") {
                    "DuplicateField"
                } else {
                    "InvalidType"
                };
                (code, text)
            }
            Category::Syntax | Category::Eof | Category::Io => (
                "InvalidJson",
                "the request body is not valid JSON".to_owned(),
            ),
        };
        ApiError::bad_request(code, message)
    })
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    /// Bodies shaped like the functions' own, with their field names.
    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct LoginBody {
        email: String,
        #[allow(dead_code)]
        password: String,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    struct ChangePasswordBody {
        #[allow(dead_code)]
        email: String,
        old_password: String,
        new_password: String,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct ResetPasswordBody {
        #[allow(dead_code)]
        email: String,
        lost: String,
        #[allow(dead_code)]
        password: String,
    }

    fn code<T: DeserializeOwned + std::fmt::Debug>(body: &str) -> &'static str {
        parse_body::<T>(body.as_bytes()).unwrap_err().code()
    }

    #[test]
    fn the_original_field_names_parse() {
        let body: ChangePasswordBody =
            parse_body(br#"{"email":"a@b.co","oldPassword":"x","newPassword":"y"}"#).unwrap();
        assert_eq!(
            (body.old_password.as_str(), body.new_password.as_str()),
            ("x", "y")
        );
        let body: ResetPasswordBody =
            parse_body(br#"{"email":"a@b.co","lost":"t","password":"p"}"#).unwrap();
        assert_eq!(body.lost, "t");
    }

    #[test]
    fn only_an_object_in_utf_8_is_a_body() {
        assert_eq!(
            code::<LoginBody>(r#"["a@example.com", "correct horse battery staple"]"#),
            "InvalidType"
        );
        assert_eq!(code::<LoginBody>(r#""a@example.com""#), "InvalidType");
        assert_eq!(code::<LoginBody>("null"), "InvalidType");
        let mut not_utf8 = br#"{"email":"a@b.co","password":"pass"#.to_vec();
        not_utf8.extend_from_slice(b"\xff\xff\"}");
        assert_eq!(
            parse_body::<LoginBody>(&not_utf8).unwrap_err().code(),
            "InvalidJson"
        );
        let body: LoginBody = parse_body(b" \n {\"email\":\"a@b.co\",\"password\":\"p\"}").unwrap();
        assert_eq!(body.email, "a@b.co");
    }

    #[test]
    fn a_field_given_twice_says_so() {
        assert_eq!(
            code::<LoginBody>(r#"{"email":"a@b.co","password":"p","password":"q"}"#),
            "DuplicateField"
        );
    }

    #[test]
    fn each_kind_of_malformed_body_has_its_code() {
        assert_eq!(code::<LoginBody>("{"), "InvalidJson");
        assert_eq!(code::<LoginBody>(""), "InvalidJson");
        assert_eq!(code::<LoginBody>("not json"), "InvalidJson");
        assert_eq!(
            code::<LoginBody>(r#"{"email":"a@b.co","password":"p","admin":true}"#),
            "UnknownField"
        );
        assert_eq!(code::<LoginBody>(r#"{"email":"a@b.co"}"#), "MissingField");
        assert_eq!(
            code::<LoginBody>(r#"{"email":"a@b.co","password":42}"#),
            "InvalidType"
        );
        assert_eq!(
            code::<LoginBody>(r#"{"email":null,"password":"p"}"#),
            "InvalidType"
        );
        assert_eq!(code::<LoginBody>("[]"), "InvalidType");
        let huge = format!(
            r#"{{"email":"a@b.co","password":"{}"}}"#,
            "x".repeat(MAX_BODY_BYTES)
        );
        assert_eq!(code::<LoginBody>(&huge), "BodyTooLarge");
    }

    #[test]
    fn messages_name_the_field_but_not_the_position() {
        let error = parse_body::<LoginBody>(br#"{"email":"a@b.co","pasword":"p"}"#).unwrap_err();
        let ApiError::BadRequest { message, .. } = error else {
            panic!()
        };
        assert!(message.contains("pasword"), "{message}");
        assert!(!message.contains("line"), "{message}");
    }
}
