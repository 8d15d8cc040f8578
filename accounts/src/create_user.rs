//! `LambdAuthCreateUser` (`POST /users`): `{email, password}` → `{created}`. A duplicate
//! signup answers like a new one and mails the owner instead; either way the same calls are
//! made, so the answer tells nothing about the address.

use lambdauth_domain::random::OsRandomness;
use lambdauth_domain::usecases::signup::{SignupAnswer, SignupInput, signup};
use lambdauth_domain::{Email, NewPassword, RouteClass};
use lambdauth_runtime::api::{ApiError, ApiResponse, Outcome, Request, parse_body};
use lambdauth_runtime::function::{Context, Function, HttpFunction, Route, StartError};
use lambdauth_runtime::sealer::TokenSealer;
use serde::{Deserialize, Serialize};

use crate::config::CreateUserConfig;
use crate::core::Core;

/// `POST /users`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateUserBody {
    /// The address.
    pub email: String,
    /// The new password.
    pub password: String,
}

/// `{created: true}`.
#[derive(Debug, Serialize)]
struct CreatedAnswer {
    created: bool,
}

/// `LambdAuthCreateUser`.
#[derive(Debug, Clone)]
pub struct CreateUser {
    core: Core,
    sealer: TokenSealer,
}

impl Function for CreateUser {
    const NAME: &'static str = "LambdAuthCreateUser";
    type Config = CreateUserConfig;

    fn build(config: CreateUserConfig, context: &Context) -> Result<Self, StartError> {
        Ok(Self {
            core: Core::mailing(&config.core, &config.outbox, context)?,
            sealer: TokenSealer::new(
                aws_sdk_kms::Client::new(&context.aws),
                config.mailing.kms_key_id,
            ),
        })
    }
}

impl HttpFunction for CreateUser {
    const ROUTES: &'static [Route] = &[Route::post("/users")];
    const LIMIT: Option<RouteClass> = Some(RouteClass::Mail);

    async fn handle(&self, request: Request) -> Outcome {
        let CreateUser { core, sealer } = self;
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
            SignupAnswer::Created => ApiResponse::ok(&CreatedAnswer { created: true }),
            SignupAnswer::NotCreated => ApiError::UserExists.into_response(),
        })
    }
}
