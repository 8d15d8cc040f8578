//! `LambdAuthLogin` (`POST /login`): `{email, password, deviceToken?}` → `{login, identityId,
//! token, expiresIn}` and a new session's `accessToken`, `refreshToken`, `sessionId` and the
//! device's `deviceToken`.

use lambdauth_domain::usecases::login::LoginAnswer;
use lambdauth_domain::{Email, PasswordAttempt, RouteClass, Token};
use lambdauth_runtime::api::{ApiError, HandlerError, Outcome, Request, parse_body};
use lambdauth_runtime::function::{Context, Function, HttpFunction, Route, StartError};
use serde::Deserialize;

use crate::config::LoginConfig;
use crate::core::Core;
use crate::identity::IdentityIssuer;
use crate::issuer::{LoggedInUser, SessionIssuer};
use crate::tokens::AccessTokenSigner;

/// `POST /login`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LoginBody {
    /// The address.
    pub email: String,
    /// The password.
    pub password: String,
    /// The device token an earlier login from this device returned.
    #[serde(default)]
    pub device_token: Option<String>,
    /// The audience the access token is for: one of `ACCESS_TOKEN_AUDIENCE`, the first when
    /// absent.
    #[serde(default)]
    pub audience: Option<String>,
}

/// `LambdAuthLogin`.
#[derive(Debug, Clone)]
pub struct Login {
    /// The account rules over the users table.
    pub core: Core,
    identity: IdentityIssuer,
    sessions: SessionIssuer,
}

impl Function for Login {
    const NAME: &'static str = "LambdAuthLogin";
    type Config = LoginConfig;

    fn build(config: LoginConfig, context: &Context) -> Result<Self, StartError> {
        let core = Core::over_users(&config.core, context)?;
        Ok(Self {
            sessions: SessionIssuer {
                store: core.store.clone(),
                signer: AccessTokenSigner::new(
                    aws_sdk_kms::Client::new(&context.aws),
                    config.tokens,
                ),
                policy: config.sessions.policy,
                clock: std::sync::Arc::clone(&context.clock),
            },
            core,
            identity: IdentityIssuer::new(
                aws_sdk_cognitoidentity::Client::new(&context.aws),
                config.identity,
            ),
        })
    }
}

impl HttpFunction for Login {
    const ROUTES: &'static [Route] = &[Route::post("/login")];
    const LIMIT: Option<RouteClass> = Some(RouteClass::Password);

    async fn handle(&self, request: Request) -> Outcome {
        let Login {
            core,
            identity,
            sessions,
        } = self;
        let body: LoginBody = parse_body(&request.body)?;
        let email = Email::parse(&body.email)?;
        let attempt = PasswordAttempt::new(&body.password)?;
        // Refused before anything is read: the audience says nothing about the account.
        let audience = sessions
            .signer
            .audience(body.audience.as_deref())
            .map_err(ApiError::from)?;
        // A device token that is not even shaped like one is an unknown device, like a wrong one.
        let device = body
            .device_token
            .as_deref()
            .and_then(|text| Token::parse(text).ok());
        let source = request.source_ip();
        let failed = || core.failed_attempt(&email, source, "login");
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
                let device_token = new_device
                    .as_ref()
                    .or(device.as_ref())
                    .ok_or_else(|| HandlerError::bug("a known device without its token"))?;
                let user = LoggedInUser {
                    subject: &subject,
                    email: &email,
                    generation,
                    developer_user_id: &developer_user_id,
                    device_token: device_token.expose(),
                };
                // Boxed: the three concurrent calls make a large future.
                Box::pin(sessions.start(identity, user, request.user_agent(), &audience)).await
            }
            Some(LoginAnswer::NotVerified) => Ok(ApiError::UserNotVerified.into_response()),
            Some(LoginAnswer::Failed) | None => Ok(failed()),
        }
    }
}
