//! `LambdAuthRefreshToken` (`POST /token/refresh`): `{refreshToken}` → new access, refresh and
//! Cognito tokens. The token rotates on every use; a retired one presented after the grace ends
//! the whole session (RFC 9700 §4.14.2).

use std::sync::Arc;

use lambdauth_domain::random::OsRandomness;
use lambdauth_domain::session::{self, Refresh};
use lambdauth_domain::{RefreshToken, RouteClass};
use lambdauth_runtime::api::{ApiError, ApiResponse, Outcome, Request, parse_body};
use lambdauth_runtime::function::{Context, Function, HttpFunction, Route, StartError};
use lambdauth_runtime::retry::{Try, until_persisted};
use lambdauth_runtime::store::StoreError;
use serde::{Deserialize, Serialize};

use crate::config::RefreshTokenConfig;
use crate::identity::IdentityIssuer;
use crate::issuer::{SessionIssuer, load_session, seconds_until};
use crate::store::UserStore;
use crate::tokens::AccessTokenSigner;

/// `POST /token/refresh`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RefreshTokenBody {
    /// The newest refresh token of the session.
    pub refresh_token: String,
    /// The audience the new access token is for: one of `ACCESS_TOKEN_AUDIENCE`, the first
    /// when absent.
    #[serde(default)]
    pub audience: Option<String>,
}

/// The answer of a refresh: the session's new tokens and a renewed Cognito token.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct RefreshAnswer<'a> {
    refreshed: bool,
    access_token: &'a str,
    access_token_expires_in: u64,
    refresh_token: &'a str,
    refresh_token_expires_in: u64,
    session_id: &'a str,
    identity_id: &'a str,
    token: &'a str,
    expires_in: u64,
}

/// `LambdAuthRefreshToken`.
#[derive(Debug, Clone)]
pub struct RefreshTokenFunction {
    issuer: SessionIssuer,
    identity: IdentityIssuer,
}

impl Function for RefreshTokenFunction {
    const NAME: &'static str = "LambdAuthRefreshToken";
    type Config = RefreshTokenConfig;

    fn build(config: RefreshTokenConfig, context: &Context) -> Result<Self, StartError> {
        Ok(Self {
            issuer: SessionIssuer {
                store: UserStore::new(context.dynamodb(), &config.table.table_name),
                signer: AccessTokenSigner::new(
                    aws_sdk_kms::Client::new(&context.aws),
                    config.tokens,
                ),
                policy: config.sessions.policy,
                clock: Arc::clone(&context.clock),
            },
            identity: IdentityIssuer::new(
                aws_sdk_cognitoidentity::Client::new(&context.aws),
                config.identity,
            ),
        })
    }
}

fn refused() -> ApiResponse {
    ApiError::InvalidRefreshToken.into_response()
}

impl HttpFunction for RefreshTokenFunction {
    const ROUTES: &'static [Route] = &[Route::post("/token/refresh")];
    const LIMIT: Option<RouteClass> = Some(RouteClass::Session);

    async fn handle(&self, request: Request) -> Outcome {
        let RefreshTokenFunction { issuer, identity } = self;
        let body: RefreshTokenBody = parse_body(&request.body)?;
        let audience = &issuer
            .signer
            .audience(body.audience.as_deref())
            .map_err(ApiError::from)?;
        let Ok(presented) = RefreshToken::parse(&body.refresh_token) else {
            return Ok(refused());
        };
        let store = &issuer.store;
        let presented = &presented;
        until_persisted((), |()| async move {
            let Some((session, user)) = load_session(store, presented).await? else {
                return Ok(Try::Done(refused()));
            };
            let now = issuer.now();
            let generation = user.sessions.generation;
            match session::refresh(
                &session,
                presented,
                generation,
                now,
                &issuer.policy,
                &mut OsRandomness,
            )? {
                Refresh::Refused => Ok(Try::Done(refused())),
                Refresh::ReuseDetected => match store
                    .delete_session(&session.subject, &session.id, Some(session.version))
                    .await
                {
                    Ok(()) => {
                        tracing::warn!(
                            session = session.id.as_str(),
                            "a retired refresh token was presented after the grace: session ended"
                        );
                        Ok(Try::Done(refused()))
                    }
                    Err(StoreError::Conflict) => Ok(Try::Lost(())),
                    Err(error) => Err(error.into()),
                },
                Refresh::Rotated {
                    session: rotated,
                    token,
                } => match store
                    .replace_session(&rotated, session.version, now, &issuer.policy)
                    .await
                {
                    Ok(()) => {
                        let (access, cognito) = tokio::join!(
                            issuer
                                .signer
                                .sign(&rotated.subject, &rotated.id, audience, now),
                            identity.issue(&user.developer_user_id),
                        );
                        let (access, cognito) = (access?, cognito?);
                        Ok(Try::Done(ApiResponse::ok(&RefreshAnswer {
                            refreshed: true,
                            access_token: &access.jwt,
                            access_token_expires_in: access.expires_in.as_secs(),
                            refresh_token: token.expose(),
                            refresh_token_expires_in: seconds_until(
                                rotated.expires_at(&issuer.policy),
                                now,
                            ),
                            session_id: rotated.id.as_str(),
                            identity_id: &cognito.identity_id,
                            token: &cognito.token,
                            expires_in: cognito.expires_in.as_secs(),
                        })))
                    }
                    Err(StoreError::Conflict) => Ok(Try::Lost(())),
                    Err(error) => Err(error.into()),
                },
            }
        })
        .await
    }
}
