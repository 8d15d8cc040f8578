//! The six original handlers: parse → load → decide → persist → respond. Each is an `async fn` over the
//! shared [`Core`] and the clients its function needs, called by the Lambda binary and by the
//! local runtime alike.

use std::sync::Arc;

use lambdauth_domain::random::OsRandomness;
use lambdauth_domain::usecases::change_password::{self, ChangeAnswer};
use lambdauth_domain::usecases::login::LoginAnswer;
use lambdauth_domain::usecases::lost_password::{LostAnswer, lost_password as decide_lost};
use lambdauth_domain::usecases::reset_password::{ResetAnswer, reset_password as decide_reset};
use lambdauth_domain::usecases::signup::{SignupAnswer, SignupInput, signup};
use lambdauth_domain::usecases::verify::{CheckedSignupPassword, VerifyAnswer, verify};
use lambdauth_domain::{Email, NewPassword, PasswordAttempt, Token};
use serde_json::json;

use crate::api::{
    ApiError, ApiResponse, ChangePasswordBody, CreateUserBody, LoginBody, LostPasswordBody,
    ResetPasswordBody, VerifyUserBody, parse_body,
};
use crate::error::HandlerError;
use crate::identity::IdentityIssuer;
use crate::sealer::TokenSealer;
use crate::security::{self, SecurityEvent};
use crate::sessions::{LoggedInUser, SessionIssuer};
use crate::shared::{Admitted, Core};

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
}

/// The result of a handler.
pub type Outcome = Result<ApiResponse, HandlerError>;

/// `LambdAuthCreateUser`: `{email, password}` → `{created}`.
pub async fn create_user(core: &Core, sealer: &TokenSealer, request: Request) -> Outcome {
    let body: CreateUserBody = parse_body(&request.body)?;
    let email = Email::parse(&body.email)?;
    let password = NewPassword::new(&body.password, &email, &core.settings.password_policy)?;
    let locale = lambdauth_mail_templates::negotiate(request.accept_language.as_deref());
    // Hashed whether or not the address is taken, so the time of the answer does not tell.
    let hash = core.hash(password).await?;
    let answer = core
        .decide_and_persist_alike(&email, sealer, |user, now| {
            let input = SignupInput {
                email: email.clone(),
                password: hash.clone(),
                locale: locale.clone(),
            };
            signup(user, input, now, &core.settings, &mut OsRandomness)
        })
        .await?;
    Ok(match answer {
        SignupAnswer::Created => ApiResponse::ok(json!({ "created": true })),
        SignupAnswer::NotCreated => ApiError::UserExists.into_response(),
    })
}

/// `LambdAuthVerifyUser`: `{email, verify}` → `{verified}`.
pub async fn verify_user(core: &Core, request: Request) -> Outcome {
    let body: VerifyUserBody = parse_body(&request.body)?;
    let email = Email::parse(&body.email)?;
    let token = Token::parse(&body.verify)?;
    let attempt = body
        .password
        .as_deref()
        .map(PasswordAttempt::new)
        .transpose()?;
    // A password given is checked, off the executor, against the signup the link was mailed for.
    let checked = match attempt {
        Some(attempt) => {
            let signup_password = core.store.load_user(&email).await?.and_then(|user| {
                user.signup_for(&token, core.now())
                    .map(|signup| signup.password.clone())
            });
            match signup_password {
                Some(against) => {
                    let (check, _) = core.check(Arc::new(attempt), Some(against.clone())).await?;
                    Some(CheckedSignupPassword { against, check })
                }
                None => None,
            }
        }
        None => None,
    };
    let answer = core
        .decide_and_persist(&email, |user, now| {
            Ok(verify(user, &token, checked.as_ref(), now, &core.settings))
        })
        .await?;
    Ok(match answer {
        VerifyAnswer::Verified => ApiResponse::ok(json!({ "verified": true })),
        VerifyAnswer::NotVerified => ApiError::InvalidLink { answer: "verified" }.into_response(),
        VerifyAnswer::PasswordRequired => ApiError::PasswordRequired.into_response(),
        VerifyAnswer::WrongPassword => {
            ApiError::InvalidCredentials { answer: "verified" }.into_response()
        }
    })
}

/// `LambdAuthLogin`: `{email, password, deviceToken?}` → `{login, identityId, token, expiresIn}`
/// and a new session's `accessToken`, `refreshToken`, `sessionId` and the device's `deviceToken`.
pub async fn login(
    core: &Core,
    identity: &IdentityIssuer,
    sessions: &SessionIssuer,
    request: Request,
) -> Outcome {
    let body: LoginBody = parse_body(&request.body)?;
    let email = Email::parse(&body.email)?;
    let attempt = PasswordAttempt::new(&body.password)?;
    // A device token that is not even shaped like one is an unknown device, like a wrong one.
    let device = body
        .device_token
        .as_deref()
        .and_then(|text| Token::parse(text).ok());
    let source = request.source_ip();
    let failed = || {
        security::record(&SecurityEvent::LoginFailed { address: &email }, source);
        ApiError::InvalidCredentials { answer: "login" }.into_response()
    };
    let Some(checked) = core
        .check_login(&email, attempt, device.as_ref().map(Token::hash), source)
        .await?
    else {
        return Ok(failed());
    };
    match core.finish_login(checked).await? {
        Some(LoginAnswer::LoggedIn {
            developer_user_id,
            subject,
            generation,
            new_device,
        }) => {
            let device_token = new_device.as_ref().or(device.as_ref()).ok_or_else(|| {
                HandlerError::Internal("a known device without its token".to_owned())
            })?;
            let user = LoggedInUser {
                subject: &subject,
                email: &email,
                generation,
                developer_user_id: &developer_user_id,
                device_token: device_token.expose(),
            };
            let user_agent = request
                .http
                .as_ref()
                .and_then(|http| http.user_agent.as_deref());
            // Boxed: the three concurrent calls make a large future.
            Box::pin(sessions.start(identity, user, user_agent)).await
        }
        Some(LoginAnswer::NotVerified) => Ok(ApiError::UserNotVerified.into_response()),
        Some(LoginAnswer::Failed) | None => Ok(failed()),
    }
}

/// `LambdAuthChangePassword`: `{email, oldPassword, newPassword}` → `{changed}`.
pub async fn change_password(core: &Core, request: Request) -> Outcome {
    let body: ChangePasswordBody = parse_body(&request.body)?;
    let email = Email::parse(&body.email)?;
    let old = PasswordAttempt::new(&body.old_password)?;
    let new = NewPassword::new(&body.new_password, &email, &core.settings.password_policy)?;
    let source = request.source_ip();
    let failed = || {
        security::record(&SecurityEvent::LoginFailed { address: &email }, source);
        ApiError::InvalidCredentials { answer: "changed" }.into_response()
    };
    let admitted = core.admit(&email, source).await?;
    // Hashed on every admitted path, whatever the old password and the account turn out to be,
    // so that no answer comes later than another for what it found.
    let hash = core.hash(new).await?;
    let Admitted::User(user) = admitted else {
        core.check(Arc::new(old), None).await?;
        return Ok(failed());
    };
    let (check, _) = core
        .check(Arc::new(old), Some(user.password.clone()))
        .await?;
    if !check.matched() {
        return Ok(failed());
    }
    let answer = core
        .conclude(user, |user, now| {
            change_password::conclude(
                user,
                check,
                hash.clone(),
                now,
                &core.settings,
                &mut OsRandomness,
            )
        })
        .await?;
    Ok(match answer {
        Some(ChangeAnswer::Changed) => ApiResponse::ok(json!({ "changed": true })),
        Some(ChangeAnswer::NotChanged) | None => failed(),
    })
}

/// `LambdAuthLostPassword`: `{email}` → `{sent}`.
pub async fn lost_password(core: &Core, sealer: &TokenSealer, request: Request) -> Outcome {
    let body: LostPasswordBody = parse_body(&request.body)?;
    let email = Email::parse(&body.email)?;
    let answer = core
        .decide_and_persist_alike(&email, sealer, |user, now| {
            decide_lost(user, now, &core.settings, &mut OsRandomness)
        })
        .await?;
    match answer {
        LostAnswer::Sent => Ok(ApiResponse::ok(json!({ "sent": true }))),
        LostAnswer::NotSent => Ok(ApiError::UserNotFound.into_response()),
        LostAnswer::TooSoon(wait) => Err(ApiError::TooManyRequests(wait).into()),
    }
}

/// `LambdAuthResetPassword`: `{email, lost, password}` → `{changed}`.
pub async fn reset_password(core: &Core, request: Request) -> Outcome {
    let body: ResetPasswordBody = parse_body(&request.body)?;
    let email = Email::parse(&body.email)?;
    let token = Token::parse(&body.lost)?;
    let password = NewPassword::new(&body.password, &email, &core.settings.password_policy)?;
    let hash = core.hash(password).await?;
    let answer = core
        .decide_and_persist(&email, |user, now| {
            decide_reset(
                user,
                &token,
                hash.clone(),
                now,
                &core.settings,
                &mut OsRandomness,
            )
        })
        .await?;
    Ok(match answer {
        ResetAnswer::Changed => ApiResponse::ok(json!({ "changed": true })),
        ResetAnswer::NotChanged => ApiError::InvalidLink { answer: "changed" }.into_response(),
    })
}
