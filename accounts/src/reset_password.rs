//! `LambdAuthResetPassword` (`POST /password/reset`): `{email, lost, password}` → `{changed}`.

use lambdauth_domain::random::OsRandomness;
use lambdauth_domain::usecases::reset_password::{ResetAnswer, reset_password};
use lambdauth_domain::{Email, NewPassword, RouteClass, Token};
use lambdauth_runtime::api::{ApiError, ApiResponse, Outcome, Request, parse_body};
use lambdauth_runtime::function::{Context, Function, HttpFunction, Route, StartError};
use serde::{Deserialize, Serialize};

use crate::config::ResetPasswordConfig;
use crate::core::Core;

/// `POST /password/reset`.
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

/// `{changed: true, deviceToken}`: the device the reset came from is a known device now.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ResetAnswerBody<'a> {
    changed: bool,
    device_token: &'a str,
}

/// `LambdAuthResetPassword`.
#[derive(Debug, Clone)]
pub struct ResetPassword {
    core: Core,
}

impl Function for ResetPassword {
    const NAME: &'static str = "LambdAuthResetPassword";
    type Config = ResetPasswordConfig;

    fn build(config: ResetPasswordConfig, context: &Context) -> Result<Self, StartError> {
        Ok(Self {
            core: Core::mailing(&config.core, &config.outbox, context)?,
        })
    }
}

impl HttpFunction for ResetPassword {
    const ROUTES: &'static [Route] = &[Route::post("/password/reset")];
    const LIMIT: Option<RouteClass> = Some(RouteClass::Link);

    async fn handle(&self, request: Request) -> Outcome {
        let core = &self.core;
        let body: ResetPasswordBody = parse_body(&request.body)?;
        let email = Email::parse(&body.email)?;
        let token = Token::parse(&body.lost)?;
        let password = NewPassword::new(&body.password, &email, &core.settings.password_policy)?;
        let hash = core.hash(password).await?;
        let answer = core
            .decide_and_persist(&email, |user, now| {
                reset_password(
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
            ResetAnswer::Changed { device_token } => ApiResponse::ok(&ResetAnswerBody {
                changed: true,
                device_token: device_token.expose(),
            }),
            ResetAnswer::NotChanged => ApiError::InvalidLink { answer: "changed" }.into_response(),
        })
    }
}
