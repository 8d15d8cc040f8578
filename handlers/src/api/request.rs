//! Request bodies, with the original's camelCase field names. Unknown fields are refused, and
//! every way a body can be malformed has its own stable code.

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::error::Category;

use super::ApiError;

/// The largest body accepted. The largest valid one (an escaped 1024-byte password twice, with
/// an address) is far below it.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// `POST /users` (`LambdAuthCreateUser`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateUserBody {
    /// The address.
    pub email: String,
    /// The new password.
    pub password: String,
}

/// `POST /users/verify` (`LambdAuthVerifyUser`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifyUserBody {
    /// The address.
    pub email: String,
    /// The token from the verification link.
    pub verify: String,
    /// The password chosen at the signup the link was mailed for: required when the address
    /// was signed up more than once (the answer says `PasswordRequired`), checked when given.
    #[serde(default)]
    pub password: Option<String>,
}

/// `POST /login` (`LambdAuthLogin`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[serde(rename_all = "camelCase")]
pub struct LoginBody {
    /// The address.
    pub email: String,
    /// The password.
    pub password: String,
    /// The device token an earlier login from this device returned.
    #[serde(default)]
    pub device_token: Option<String>,
}

/// `POST /token/refresh` (`LambdAuthRefreshToken`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RefreshTokenBody {
    /// The newest refresh token of the session.
    pub refresh_token: String,
}

/// `POST /logout` (`LambdAuthLogout`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LogoutBody {
    /// A refresh token of the session to end.
    pub refresh_token: String,
    /// End every session of the user, not only this one.
    #[serde(default)]
    pub everywhere: bool,
}

/// A direct invoke of `LambdAuthSessions` (over HTTP the token is the `Authorization` header
/// and the session id is in the path).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SessionsBody {
    /// The caller's access token.
    pub access_token: String,
    /// The id of the session to end; absent to list them.
    #[serde(default)]
    pub end: Option<String>,
}

/// `POST /password/change` (`LambdAuthChangePassword`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ChangePasswordBody {
    /// The address.
    pub email: String,
    /// The current password.
    pub old_password: String,
    /// The new password.
    pub new_password: String,
}

/// `POST /password/lost` (`LambdAuthLostPassword`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LostPasswordBody {
    /// The address.
    pub email: String,
}

/// `POST /password/reset` (`LambdAuthResetPassword`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResetPasswordBody {
    /// The address.
    pub email: String,
    /// The token from the reset link.
    pub lost: String,
    /// The new password.
    pub password: String,
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
    use super::*;

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
