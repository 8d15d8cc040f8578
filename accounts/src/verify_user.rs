//! `LambdAuthVerifyUser` (`POST /users/verify`): `{email, verify, password?}` → `{verified}`.

use std::sync::Arc;

use lambdauth_domain::usecases::verify::{CheckedSignupPassword, VerifyAnswer, verify};
use lambdauth_domain::{Email, PasswordAttempt, RouteClass, Token};
use lambdauth_runtime::api::{ApiError, ApiResponse, Outcome, Request, parse_body};
use lambdauth_runtime::function::{Context, Function, HttpFunction, Route, StartError};
use serde::{Deserialize, Serialize};

use crate::config::VerifyUserConfig;
use crate::core::Core;

/// `POST /users/verify`.
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

/// `{verified: true}`.
#[derive(Debug, Serialize)]
struct VerifiedAnswer {
    verified: bool,
}

/// `LambdAuthVerifyUser`.
#[derive(Debug, Clone)]
pub struct VerifyUser {
    core: Core,
}

impl Function for VerifyUser {
    const NAME: &'static str = "LambdAuthVerifyUser";
    type Config = VerifyUserConfig;

    fn build(config: VerifyUserConfig, context: &Context) -> Result<Self, StartError> {
        Ok(Self {
            core: Core::over_users(&config.core, context)?,
        })
    }
}

impl HttpFunction for VerifyUser {
    const ROUTES: &'static [Route] = &[Route::post("/users/verify")];
    const LIMIT: Option<RouteClass> = Some(RouteClass::Link);

    async fn handle(&self, request: Request) -> Outcome {
        let core = &self.core;
        let body: VerifyUserBody = parse_body(&request.body)?;
        let email = Email::parse(&body.email)?;
        let token = Token::parse(&body.verify)?;
        let attempt = body
            .password
            .as_deref()
            .map(PasswordAttempt::new)
            .transpose()?;
        // A password given is checked, off the executor, against the signup the link was mailed
        // for.
        let checked = match attempt {
            Some(attempt) => {
                let signup_password = core.store.load_user(&email).await?.and_then(|user| {
                    user.signup_for(&token, core.now())
                        .map(|signup| signup.password.clone())
                });
                match signup_password {
                    Some(against) => {
                        let (check, _) =
                            core.check(Arc::new(attempt), Some(against.clone())).await?;
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
            VerifyAnswer::Verified => ApiResponse::ok(&VerifiedAnswer { verified: true }),
            VerifyAnswer::NotVerified => {
                ApiError::InvalidLink { answer: "verified" }.into_response()
            }
            VerifyAnswer::PasswordRequired => ApiError::PasswordRequired.into_response(),
            VerifyAnswer::WrongPassword => {
                ApiError::InvalidCredentials { answer: "verified" }.into_response()
            }
        })
    }
}
