//! `LambdAuthChangePassword` (`POST /password/change`): `{email, oldPassword, newPassword}` →
//! `{changed}`, under the login throttle.

use std::sync::Arc;

use lambdauth_domain::random::OsRandomness;
use lambdauth_domain::usecases::change_password::{self, ChangeAnswer};
use lambdauth_domain::{Email, NewPassword, PasswordAttempt, RouteClass, Token};
use lambdauth_runtime::api::{ApiResponse, Outcome, Request, parse_body};
use lambdauth_runtime::function::{Context, Function, HttpFunction, Route, StartError};
use serde::{Deserialize, Serialize};

use crate::config::ChangePasswordConfig;
use crate::core::{Admitted, Core};

/// `POST /password/change`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ChangePasswordBody {
    /// The address.
    pub email: String,
    /// The current password.
    pub old_password: String,
    /// The new password.
    pub new_password: String,
    /// The device token a login from this device returned: the attempt counts on this
    /// device's own failures, as a login's does, and the device stays known after the change.
    #[serde(default)]
    pub device_token: Option<String>,
}

/// `{changed: true}`.
#[derive(Debug, Serialize)]
struct ChangedAnswer {
    changed: bool,
}

/// `LambdAuthChangePassword`.
#[derive(Debug, Clone)]
pub struct ChangePassword {
    core: Core,
}

impl Function for ChangePassword {
    const NAME: &'static str = "LambdAuthChangePassword";
    type Config = ChangePasswordConfig;

    fn build(config: ChangePasswordConfig, context: &Context) -> Result<Self, StartError> {
        Ok(Self {
            core: Core::mailing(&config.core, &config.outbox, context)?,
        })
    }
}

impl HttpFunction for ChangePassword {
    const ROUTES: &'static [Route] = &[Route::post("/password/change")];
    const LIMIT: Option<RouteClass> = Some(RouteClass::Password);

    async fn handle(&self, request: Request) -> Outcome {
        let core = &self.core;
        let body: ChangePasswordBody = parse_body(&request.body)?;
        let email = Email::parse(&body.email)?;
        let old = PasswordAttempt::new(&body.old_password)?;
        let new = NewPassword::new(&body.new_password, &email, &core.settings.password_policy)?;
        let source = request.source_ip();
        let failed = || core.failed_attempt(&email, source, "changed");
        // A device token that is not even shaped like one is an unknown device, like a wrong one.
        let device = body
            .device_token
            .as_deref()
            .and_then(|text| Token::parse(text).ok())
            .map(|token| token.hash());
        let admitted = core.admit_from(&email, device.as_ref(), source).await?;
        // Hashed on every admitted path, whatever the old password and the account turn out to
        // be, so that no answer comes later than another for what it found.
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
                    device.as_ref(),
                    now,
                    &core.settings,
                    &mut OsRandomness,
                )
            })
            .await?;
        Ok(match answer {
            Some(ChangeAnswer::Changed) => ApiResponse::ok(&ChangedAnswer { changed: true }),
            Some(ChangeAnswer::NotChanged) | None => failed(),
        })
    }
}
