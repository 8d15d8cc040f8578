//! `LambdAuthLostPassword` (`POST /password/lost`): `{email}` → `{sent}`, whether or not the
//! address has an account, with the same calls either way.

use lambdauth_domain::random::OsRandomness;
use lambdauth_domain::usecases::lost_password::{LostAnswer, lost_password};
use lambdauth_domain::{Email, RouteClass};
use lambdauth_runtime::api::{ApiError, ApiResponse, Outcome, Request, parse_body};
use lambdauth_runtime::function::{Context, Function, HttpFunction, Route, StartError};
use lambdauth_runtime::sealer::TokenSealer;
use serde::{Deserialize, Serialize};

use crate::config::LostPasswordConfig;
use crate::core::Core;

/// `POST /password/lost`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LostPasswordBody {
    /// The address.
    pub email: String,
}

/// `{sent: true}`.
#[derive(Debug, Serialize)]
struct SentAnswer {
    sent: bool,
}

/// `LambdAuthLostPassword`.
#[derive(Debug, Clone)]
pub struct LostPassword {
    core: Core,
    sealer: TokenSealer,
}

impl Function for LostPassword {
    const NAME: &'static str = "LambdAuthLostPassword";
    type Config = LostPasswordConfig;

    fn build(config: LostPasswordConfig, context: &Context) -> Result<Self, StartError> {
        Ok(Self {
            core: Core::mailing(&config.core, &config.outbox, context)?,
            sealer: TokenSealer::new(
                aws_sdk_kms::Client::new(&context.aws),
                config.mailing.kms_key_id,
            ),
        })
    }
}

impl HttpFunction for LostPassword {
    const ROUTES: &'static [Route] = &[Route::post("/password/lost")];
    const LIMIT: Option<RouteClass> = Some(RouteClass::Mail);

    async fn handle(&self, request: Request) -> Outcome {
        let LostPassword { core, sealer } = self;
        let body: LostPasswordBody = parse_body(&request.body)?;
        let email = Email::parse(&body.email)?;
        let answer = core
            .decide_and_persist_alike(&email, sealer, |user, now| {
                lost_password(user, now, &core.settings, &mut OsRandomness)
            })
            .await?;
        match answer {
            LostAnswer::Sent => Ok(ApiResponse::ok(&SentAnswer { sent: true })),
            LostAnswer::NotSent => Ok(ApiError::UserNotFound.into_response()),
            LostAnswer::TooSoon(wait) => Err(ApiError::TooManyRequests(wait).into()),
        }
    }
}
