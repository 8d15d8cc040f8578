//! The errors a client can see. Each variant's documentation says what the client gets; nothing
//! internal (no cause, no stack, no stored value) ever reaches the body.

use std::borrow::Cow;
use std::collections::BTreeMap;

use lambdauth_domain::{ErrorCode, InvalidEmail, InvalidToken, PasswordRejected, RetryAfter};
use serde::Serialize;

use super::ApiResponse;

/// An error answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiError {
    /// 400 with `code` and `message`: the request is malformed or breaks a rule.
    BadRequest {
        /// The stable code (`InvalidEmail`, `PasswordTooShort`, …).
        code: &'static str,
        /// A sentence for people.
        message: String,
    },
    /// 401 `InvalidCredentials`, with the original's `{<answer>: false}` (`login` or `changed`):
    /// the address or the password is wrong. One answer for every failed attempt, whatever the
    /// reason, so that it tells nothing about the account.
    InvalidCredentials {
        /// The original's answer field.
        answer: &'static str,
    },
    /// 403 `UserNotVerified` with `{login: false, verified: false}`: the right password on an
    /// address whose verification link was not followed yet.
    UserNotVerified,
    /// 401 `PasswordRequired` with `{verified: false}`: the address was signed up more than
    /// once, so its link verifies only with the password chosen at the signup it was mailed for.
    PasswordRequired,
    /// 404 `UserNotFound` with `{sent: false}`: no account has the address (only with existence
    /// prevention off).
    UserNotFound,
    /// 409 `UserExists` with `{created: false}`: the address has an account (only with existence
    /// prevention off).
    UserExists,
    /// 400 `InvalidToken` with the original's `{<answer>: false}` (`verified` or `changed`): the
    /// mailed link is invalid, used or expired.
    InvalidLink {
        /// The original's answer field.
        answer: &'static str,
    },
    /// 401 `InvalidRefreshToken` with `{refreshed: false}`: the refresh token is unknown,
    /// expired, ended or was reused.
    InvalidRefreshToken,
    /// 401 `InvalidAccessToken`: no access token, a bad one, or one of a session that ended.
    InvalidAccessToken,
    /// 404 `SessionNotFound`: no live session of the caller has this id.
    SessionNotFound,
    /// 429 `TooManyRequests` with a `Retry-After` header.
    TooManyRequests(RetryAfter),
    /// 503 `ServiceUnavailable` with `Retry-After: 1`: a dependency is throttling; nothing was
    /// counted against the caller.
    ServiceUnavailable,
    /// 500 `InternalError` with the request id to quote; the cause is only logged.
    Internal {
        /// The id of the request, as logged.
        request_id: String,
    },
}

impl ApiError {
    /// A 400 with `code` and `message`.
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::BadRequest {
            code,
            message: message.into(),
        }
    }

    /// A 400 `BodyTooLarge`: the body is over [`super::MAX_BODY_BYTES`].
    pub fn body_too_large() -> Self {
        Self::bad_request(
            "BodyTooLarge",
            format!(
                "the request body is larger than {} bytes",
                super::MAX_BODY_BYTES
            ),
        )
    }

    /// The HTTP status.
    pub fn status(&self) -> u16 {
        match self {
            Self::BadRequest { .. } | Self::InvalidLink { .. } => 400,
            Self::InvalidCredentials { .. }
            | Self::PasswordRequired
            | Self::InvalidRefreshToken
            | Self::InvalidAccessToken => 401,
            Self::UserNotVerified => 403,
            Self::UserNotFound | Self::SessionNotFound => 404,
            Self::UserExists => 409,
            Self::TooManyRequests(_) => 429,
            Self::ServiceUnavailable => 503,
            Self::Internal { .. } => 500,
        }
    }

    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::BadRequest { code, .. } => code,
            Self::InvalidCredentials { .. } => "InvalidCredentials",
            Self::UserNotVerified => "UserNotVerified",
            Self::PasswordRequired => "PasswordRequired",
            Self::UserNotFound => "UserNotFound",
            Self::UserExists => "UserExists",
            Self::InvalidLink { .. } => "InvalidToken",
            Self::InvalidRefreshToken => "InvalidRefreshToken",
            Self::InvalidAccessToken => "InvalidAccessToken",
            Self::SessionNotFound => "SessionNotFound",
            Self::TooManyRequests(_) => "TooManyRequests",
            Self::ServiceUnavailable => "ServiceUnavailable",
            Self::Internal { .. } => "InternalError",
        }
    }

    /// The response: `{"error": {"code": …, "message": …}}` (with `retryAfter` for a 429 and
    /// `requestId` for a 500), after the original's `{<answer>: false}` fields where it had them.
    pub fn into_response(self) -> ApiResponse {
        let status = self.status();
        let code = self.code();
        let (answers, message): (&[&str], Cow<'_, str>) = match &self {
            Self::InvalidCredentials { answer } => (std::slice::from_ref(answer), WRONG_CREDENTIALS.into()),
            Self::UserNotVerified => (
                &["login", "verified"],
                "the email address is not verified yet; follow the link in the verification mail"
                    .into(),
            ),
            Self::UserNotFound => (&["sent"], "no account has this email address".into()),
            Self::PasswordRequired => (
                &["verified"],
                "this address was signed up more than once: enter the password you chose when you signed up"
                    .into(),
            ),
            Self::UserExists => (
                &["created"],
                "an account with this email address already exists".into(),
            ),
            Self::InvalidLink { answer } => (
                std::slice::from_ref(answer),
                "the link is invalid or has expired".into(),
            ),
            Self::InvalidRefreshToken => (
                &["refreshed"],
                "the refresh token is invalid, expired or ended; log in again".into(),
            ),
            Self::InvalidAccessToken => (
                &[],
                "the access token is missing, invalid or expired, or its session ended".into(),
            ),
            Self::SessionNotFound => (&[], "you have no session with this id".into()),
            Self::BadRequest { message, .. } => (&[], message.as_str().into()),
            Self::TooManyRequests(wait) => (
                &[],
                format!("too many attempts; try again in {} seconds", wait.seconds()).into(),
            ),
            Self::ServiceUnavailable => (&[], "the service is busy; try again shortly".into()),
            Self::Internal { .. } => (
                &[],
                "something went wrong on our side; quote the request id if you report it".into(),
            ),
        };
        let body = ErrorAnswer {
            refused: answers.iter().map(|answer| (*answer, false)).collect(),
            error: ErrorDetail {
                code,
                message,
                retry_after: match &self {
                    Self::TooManyRequests(wait) => Some(wait.seconds()),
                    _ => None,
                },
                request_id: match &self {
                    Self::Internal { request_id } => Some(request_id),
                    _ => None,
                },
            },
        };
        let response = ApiResponse::json(status, serde_json::to_value(&body).unwrap_or_default());
        match self {
            Self::TooManyRequests(wait) => {
                response.with_header("Retry-After", wait.seconds().to_string())
            }
            Self::ServiceUnavailable => response.with_header("Retry-After", "1".to_owned()),
            _ => response,
        }
    }
}

/// An error answer: the original's `{<answer>: false}` fields beside the error.
#[derive(Serialize)]
struct ErrorAnswer<'a> {
    #[serde(flatten)]
    refused: BTreeMap<&'a str, bool>,
    error: ErrorDetail<'a>,
}

/// What went wrong, for the client.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ErrorDetail<'a> {
    code: &'a str,
    message: Cow<'a, str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    retry_after: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    request_id: Option<&'a str>,
}

/// The one message of every failed password attempt.
const WRONG_CREDENTIALS: &str = "the email address or the password is wrong";

fn from_rule(error: &(impl ErrorCode + std::fmt::Display)) -> ApiError {
    ApiError::bad_request(error.code(), error.to_string())
}

impl From<InvalidEmail> for ApiError {
    fn from(error: InvalidEmail) -> Self {
        from_rule(&error)
    }
}

impl From<PasswordRejected> for ApiError {
    fn from(error: PasswordRejected) -> Self {
        from_rule(&error)
    }
}

impl From<InvalidToken> for ApiError {
    fn from(error: InvalidToken) -> Self {
        from_rule(&error)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use serde_json::json;

    use super::*;

    #[test]
    fn refusals_carry_the_originals_false_answers_with_one_status_each() {
        let cases = [
            (
                ApiError::InvalidCredentials { answer: "login" },
                401,
                "InvalidCredentials",
                json!({"login": false}),
            ),
            (
                ApiError::InvalidCredentials { answer: "changed" },
                401,
                "InvalidCredentials",
                json!({"changed": false}),
            ),
            (
                ApiError::UserNotVerified,
                403,
                "UserNotVerified",
                json!({"login": false, "verified": false}),
            ),
            (
                ApiError::UserNotFound,
                404,
                "UserNotFound",
                json!({"sent": false}),
            ),
            (
                ApiError::UserExists,
                409,
                "UserExists",
                json!({"created": false}),
            ),
            (
                ApiError::InvalidLink { answer: "verified" },
                400,
                "InvalidToken",
                json!({"verified": false}),
            ),
        ];
        for (error, status, code, answers) in cases {
            assert_eq!((error.status(), error.code()), (status, code));
            let response = error.into_response();
            assert_eq!(response.status, status);
            assert_eq!(response.body["error"]["code"], code);
            assert!(response.body["error"]["message"].is_string());
            for (field, value) in answers.as_object().unwrap() {
                assert_eq!(&response.body[field], value, "{code}: {field}");
            }
        }
    }
    use lambdauth_domain::{Email, NewPassword, PasswordPolicy};

    #[test]
    fn a_rule_violation_is_a_400_with_the_rule_code() {
        let email = Email::parse("a@example.com").unwrap();
        let rejected = NewPassword::new("short", &email, &PasswordPolicy::default()).unwrap_err();
        let response = ApiError::from(rejected).into_response();
        assert_eq!(response.status, 400);
        assert_eq!(response.body["error"]["code"], "PasswordTooShort");
        assert_eq!(
            response.body["error"]["message"],
            "the password must be at least 15 characters long"
        );
    }

    #[test]
    fn too_many_requests_carries_retry_after() {
        let response =
            ApiError::TooManyRequests(RetryAfter::new(Duration::from_millis(1500))).into_response();
        assert_eq!(response.status, 429);
        assert_eq!(response.header("Retry-After"), Some("2"));
        assert_eq!(response.body["error"]["retryAfter"], 2);
    }

    #[test]
    fn an_internal_error_shows_only_the_request_id() {
        let response = ApiError::Internal {
            request_id: "req-1".to_owned(),
        }
        .into_response();
        assert_eq!(response.status, 500);
        assert_eq!(response.body["error"]["code"], "InternalError");
        assert_eq!(response.body["error"]["requestId"], "req-1");
        assert_eq!(response.body["error"].as_object().unwrap().len(), 3);
    }

    #[test]
    fn service_unavailable_asks_to_retry() {
        let response = ApiError::ServiceUnavailable.into_response();
        assert_eq!(response.status, 503);
        assert_eq!(response.header("Retry-After"), Some("1"));
    }
}
