//! The session handlers: refresh (rotate a refresh token for new tokens), logout (one session or
//! all of a user's), the caller's sessions (listed or ended, behind an access token) and the
//! issuer's key set. Like the six, each is parse → load → decide (the domain's session rules)
//! → persist (one conditional write) → respond.

use std::time::Duration;

use lambdauth_domain::random::OsRandomness;
use lambdauth_domain::session::{self, Refresh};
use lambdauth_domain::usecases::logout::end_every_session;
use lambdauth_domain::{
    Clock, RefreshToken, Session, SessionId, SessionPolicy, SubjectId, SystemClock, Timestamp, User,
};
use serde_json::{Value, json};

use crate::api::{ApiError, ApiResponse, LogoutBody, RefreshTokenBody, SessionsBody, parse_body};
use crate::endpoints::{Outcome, Request};
use crate::error::HandlerError;
use crate::function::OPENID_CONFIGURATION_PATH;
use crate::identity::IdentityIssuer;
use crate::shared::{MAX_TRIES, contended, persist_decided};
use crate::store::{StoreError, UserStore};
use crate::tokens::{
    AccessTokenSigner, AccessTokenVerifier, KmsKeys, bearer, openid_configuration,
};

/// How long the key set and the OpenID configuration may be cached by clients and authorizers.
const KEY_SET_CACHE_CONTROL: &str = "public, max-age=300";

/// What starts and continues sessions: the table, the signer of access tokens and the rules.
#[derive(Debug, Clone)]
pub struct SessionIssuer {
    /// The table.
    pub store: UserStore,
    /// Signs access tokens.
    pub signer: AccessTokenSigner,
    /// How long sessions live.
    pub policy: SessionPolicy,
}

fn now() -> Timestamp {
    SystemClock.now()
}

fn seconds_until(at: Timestamp, now: Timestamp) -> u64 {
    at.since(now).as_secs()
}

impl SessionIssuer {
    /// Starts a session for a user just logged in and answers the login: the session write, the
    /// access token's signature and the Cognito token are obtained concurrently.
    pub async fn start(
        &self,
        identity: &IdentityIssuer,
        user: LoggedInUser<'_>,
        user_agent: Option<&str>,
    ) -> Outcome {
        let now = now();
        let (session, refresh_token) = session::start(
            user.subject,
            user.email,
            user.generation,
            user_agent,
            now,
            &mut OsRandomness,
        )?;
        let (stored, access, cognito) = tokio::join!(
            self.store.create_session(&session, &self.policy),
            self.signer.sign(user.subject, &session.id, now),
            identity.issue(user.developer_user_id),
        );
        stored?;
        let (access, cognito) = (access?, cognito?);
        Ok(ApiResponse::ok(json!({
            "login": true,
            "identityId": cognito.identity_id,
            "token": cognito.token,
            "expiresIn": cognito.expires_in.as_secs(),
            "accessToken": access.jwt,
            "accessTokenExpiresIn": access.expires_in.as_secs(),
            "refreshToken": refresh_token.expose(),
            "refreshTokenExpiresIn": seconds_until(session.expires_at(&self.policy), now),
            "sessionId": session.id.as_str(),
            "deviceToken": user.device_token,
        })))
    }
}

/// Who logged in, as a new session needs it.
#[derive(Debug)]
pub struct LoggedInUser<'a> {
    /// The user's opaque id.
    pub subject: &'a SubjectId,
    /// The user's address.
    pub email: &'a lambdauth_domain::Email,
    /// The user's session generation.
    pub generation: u64,
    /// Cognito's identifier.
    pub developer_user_id: &'a lambdauth_domain::DeveloperUserId,
    /// The device token to hand back (new, or the one presented).
    pub device_token: &'a str,
}

fn refused() -> ApiResponse {
    ApiError::InvalidRefreshToken.into_response()
}

/// The session `token` names and its user, if both exist and the user is the token's.
async fn load_session(
    store: &UserStore,
    token: &RefreshToken,
) -> Result<Option<(Session, User)>, HandlerError> {
    let Some(session) = store.load_session(token.subject(), token.session()).await? else {
        return Ok(None);
    };
    let Some(user) = store.load_user(&session.email).await? else {
        return Ok(None);
    };
    if user.sessions.subject.as_ref() != Some(token.subject()) {
        return Ok(None);
    }
    Ok(Some((session, user)))
}

/// `LambdAuthRefreshToken`: `{refreshToken}` → new access, refresh and Cognito tokens.
pub async fn refresh_token(
    issuer: &SessionIssuer,
    identity: &IdentityIssuer,
    request: Request,
) -> Outcome {
    let body: RefreshTokenBody = parse_body(&request.body)?;
    let Ok(presented) = RefreshToken::parse(&body.refresh_token) else {
        return Ok(refused());
    };
    let store = &issuer.store;
    for _ in 0..MAX_TRIES {
        let Some((session, user)) = load_session(store, &presented).await? else {
            return Ok(refused());
        };
        let now = now();
        let generation = user.sessions.generation;
        match session::refresh(
            &session,
            &presented,
            generation,
            now,
            &issuer.policy,
            &mut OsRandomness,
        )? {
            Refresh::Refused => return Ok(refused()),
            Refresh::ReuseDetected => {
                match store
                    .delete_session(&session.subject, &session.id, Some(session.version))
                    .await
                {
                    Ok(()) => {
                        tracing::warn!(
                            session = session.id.as_str(),
                            "a retired refresh token was presented after the grace: session ended"
                        );
                        return Ok(refused());
                    }
                    Err(StoreError::Conflict) => {}
                    Err(error) => return Err(error.into()),
                }
            }
            Refresh::Rotated {
                session: rotated,
                token,
            } => match store
                .replace_session(&rotated, session.version, now, &issuer.policy)
                .await
            {
                Ok(()) => {
                    let (access, cognito) = tokio::join!(
                        issuer.signer.sign(&rotated.subject, &rotated.id, now),
                        identity.issue(&user.developer_user_id),
                    );
                    let (access, cognito) = (access?, cognito?);
                    return Ok(ApiResponse::ok(json!({
                        "refreshed": true,
                        "accessToken": access.jwt,
                        "accessTokenExpiresIn": access.expires_in.as_secs(),
                        "refreshToken": token.expose(),
                        "refreshTokenExpiresIn":
                            seconds_until(rotated.expires_at(&issuer.policy), now),
                        "sessionId": rotated.id.as_str(),
                        "identityId": cognito.identity_id,
                        "token": cognito.token,
                        "expiresIn": cognito.expires_in.as_secs(),
                    })));
                }
                Err(StoreError::Conflict) => {}
                Err(error) => return Err(error.into()),
            },
        }
    }
    Err(contended())
}

/// `LambdAuthLogout`: `{refreshToken, everywhere?}` → `{loggedOut: true}`, whatever the token
/// turns out to be (an ended session is as logged out as it gets).
pub async fn logout(store: &UserStore, policy: &SessionPolicy, request: Request) -> Outcome {
    let body: LogoutBody = parse_body(&request.body)?;
    let logged_out = || Ok(ApiResponse::ok(json!({ "loggedOut": true })));
    let Ok(presented) = RefreshToken::parse(&body.refresh_token) else {
        return logged_out();
    };
    let Some((session, user)) = load_session(store, &presented).await? else {
        return logged_out();
    };
    if !session::may_end(
        &session,
        &presented,
        user.sessions.generation,
        now(),
        policy,
    ) {
        return logged_out();
    }
    if body.everywhere {
        persist_decided(store, &session.email, Some(user), |user, now| {
            Ok(end_every_session(user, now))
        })
        .await?;
    }
    store
        .delete_session(&session.subject, &session.id, None)
        .await?;
    logged_out()
}

/// What checks the caller's access token in `LambdAuthSessions`.
#[derive(Debug, Clone)]
pub struct SessionsAccess {
    /// The table.
    pub store: UserStore,
    /// The issuer's keys.
    pub keys: KmsKeys,
    /// The token checks.
    pub verifier: AccessTokenVerifier,
    /// How long sessions live.
    pub policy: SessionPolicy,
}

fn session_view(session: &Session, current: &SessionId) -> Value {
    json!({
        "id": session.id.as_str(),
        "createdAt": rfc3339(session.created_at),
        "lastUsedAt": rfc3339(session.last_used_at),
        "userAgent": session.user_agent,
        "current": &session.id == current,
    })
}

fn rfc3339(at: Timestamp) -> String {
    let since_epoch = Duration::from_millis(u64::try_from(at.as_millis()).unwrap_or(0));
    humantime::format_rfc3339_millis(std::time::UNIX_EPOCH + since_epoch).to_string()
}

/// `LambdAuthSessions`: the caller's live sessions (`GET /sessions`), or one of them ended
/// (`DELETE /sessions/{id}`). The token is checked here too (a direct invoke has no authorizer
/// in front), and must belong to a session still alive.
pub async fn sessions(access: &SessionsAccess, request: Request) -> Outcome {
    let (token, end) = if let Some(http) = &request.http {
        (
            bearer(http.authorization.as_deref()).map(str::to_owned),
            (http.method == "DELETE")
                .then(|| http.path_parameters.get("id").cloned().unwrap_or_default()),
        )
    } else {
        let body: SessionsBody = parse_body(&request.body)?;
        (Some(body.access_token), body.end)
    };
    let unauthorized = || Ok(ApiError::InvalidAccessToken.into_response());
    let Some(token) = token else {
        return unauthorized();
    };
    let keys = access.keys.key_set().await?;
    let Ok(claims) = access.verifier.verify(&token, keys) else {
        return unauthorized();
    };
    let (Some(subject), Some(current)) =
        (SubjectId::parse(&claims.sub), SessionId::parse(&claims.sid))
    else {
        return unauthorized();
    };
    let all = access.store.list_sessions(&subject).await?;
    let Some(email) = all.first().map(|session| session.email.clone()) else {
        return unauthorized();
    };
    let Some(user) = access.store.load_user(&email).await? else {
        return unauthorized();
    };
    let now = now();
    let live: Vec<&Session> = all
        .iter()
        .filter(|session| session.is_live(now, &access.policy, user.sessions.generation))
        .collect();
    if user.sessions.subject.as_ref() != Some(&subject)
        || !live.iter().any(|session| session.id == current)
    {
        return unauthorized();
    }
    match end {
        None => Ok(ApiResponse::ok(json!({
            "sessions": live
                .iter()
                .map(|session| session_view(session, &current))
                .collect::<Vec<_>>(),
        }))),
        Some(end) => {
            let Some(ended) = live.iter().find(|session| session.id.as_str() == end) else {
                return Ok(ApiError::SessionNotFound.into_response());
            };
            access
                .store
                .delete_session(&subject, &ended.id, None)
                .await?;
            Ok(ApiResponse::ok(json!({ "ended": true })))
        }
    }
}

/// The direct invoke of `LambdAuthJwks`: `{}` for the key set, `{"document":
/// "openid-configuration"}` for the configuration.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct JwksBody {
    #[serde(default)]
    document: Option<String>,
}

/// `LambdAuthJwks`: `GET /.well-known/openid-configuration` and `GET /.well-known/jwks.json`.
pub async fn jwks(keys: &KmsKeys, request: Request) -> Outcome {
    let configuration = if let Some(http) = &request.http {
        http.path.ends_with(OPENID_CONFIGURATION_PATH)
    } else {
        let body: JwksBody = if request.body.is_empty() {
            JwksBody { document: None }
        } else {
            parse_body(&request.body)?
        };
        match body.document.as_deref() {
            None | Some("jwks") => false,
            Some("openid-configuration") => true,
            Some(_) => {
                return Err(ApiError::bad_request(
                    "InvalidDocument",
                    "document is `jwks` or `openid-configuration`",
                )
                .into());
            }
        }
    };
    let body = if configuration {
        openid_configuration(keys.issuer())
    } else {
        keys.key_set().await?.to_json()
    };
    Ok(ApiResponse::ok(body).with_header("Cache-Control", KEY_SET_CACHE_CONTROL.to_owned()))
}
