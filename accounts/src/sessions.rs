//! `LambdAuthSessions` (`GET /sessions`, `DELETE /sessions/{id}`, behind the JWT authorizer):
//! the caller's live sessions listed, or one of them ended. The access token is checked here too
//! (a direct invoke has no authorizer in front), and must belong to a session still alive. Not
//! limited per source: ending a session must never be refused because a stranger spent the
//! allowance.

use std::sync::Arc;
use std::time::Duration;

use lambdauth_domain::{
    Clock, RouteClass, Session, SessionId, SessionPolicy, SubjectId, Timestamp,
};
use lambdauth_runtime::api::{ApiError, ApiResponse, Outcome, Request, parse_body};
use lambdauth_runtime::function::{Context, Function, HttpFunction, Route, StartError};
use serde::{Deserialize, Serialize};

use crate::config::SessionsConfig;
use crate::store::UserStore;
use crate::tokens::{AccessTokenVerifier, KmsKeys, bearer};

/// A direct invoke of `LambdAuthSessions` (over HTTP the token is the `Authorization` header
/// and the session id is in the path).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SessionsBody {
    /// The caller's access token.
    pub access_token: String,
    /// The id of the session to end; absent to list them.
    #[serde(default)]
    pub end: Option<String>,
}

/// One live session as its owner sees it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct SessionView<'a> {
    id: &'a str,
    created_at: String,
    last_used_at: String,
    user_agent: Option<&'a str>,
    current: bool,
}

/// `{sessions: [...]}`.
#[derive(Debug, Serialize)]
struct SessionList<'a> {
    sessions: Vec<SessionView<'a>>,
}

/// `{ended: true}`.
#[derive(Debug, Serialize)]
struct EndedAnswer {
    ended: bool,
}

/// `LambdAuthSessions`: the table, and what checks the caller's access token.
#[derive(Clone)]
pub struct Sessions {
    /// The table.
    pub store: UserStore,
    /// The issuer's keys.
    pub keys: KmsKeys,
    /// The token checks.
    pub verifier: AccessTokenVerifier,
    /// How long sessions live.
    pub policy: SessionPolicy,
    clock: Arc<dyn Clock + Send + Sync>,
}

impl std::fmt::Debug for Sessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sessions")
            .field("store", &self.store)
            .finish_non_exhaustive()
    }
}

impl Function for Sessions {
    const NAME: &'static str = "LambdAuthSessions";
    type Config = SessionsConfig;

    fn build(config: SessionsConfig, context: &Context) -> Result<Self, StartError> {
        Ok(Self {
            store: UserStore::new(context.dynamodb(), &config.table.table_name),
            verifier: AccessTokenVerifier::new(
                &config.tokens.keys.issuer,
                config.tokens.own_audience(),
            ),
            keys: KmsKeys::new(aws_sdk_kms::Client::new(&context.aws), config.tokens.keys),
            policy: config.sessions.policy,
            clock: Arc::clone(&context.clock),
        })
    }
}

fn session_view<'a>(session: &'a Session, current: &SessionId) -> SessionView<'a> {
    SessionView {
        id: session.id.as_str(),
        created_at: rfc3339(session.created_at),
        last_used_at: rfc3339(session.last_used_at),
        user_agent: session.user_agent.as_deref(),
        current: &session.id == current,
    }
}

fn rfc3339(at: Timestamp) -> String {
    let since_epoch = Duration::from_millis(u64::try_from(at.as_millis()).unwrap_or(0));
    humantime::format_rfc3339_millis(std::time::UNIX_EPOCH + since_epoch).to_string()
}

impl HttpFunction for Sessions {
    const ROUTES: &'static [Route] = &[
        Route::behind_authorizer("GET", "/sessions"),
        Route::behind_authorizer("DELETE", "/sessions/{id}"),
    ];
    const LIMIT: Option<RouteClass> = None;

    async fn handle(&self, request: Request) -> Outcome {
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
        let keys = self.keys.key_set().await?;
        let Ok(claims) = self.verifier.verify(&token, keys) else {
            return unauthorized();
        };
        let (Some(subject), Some(current)) =
            (SubjectId::parse(&claims.sub), SessionId::parse(&claims.sid))
        else {
            return unauthorized();
        };
        let all = self.store.list_sessions(&subject).await?;
        let Some(email) = all.first().map(|session| session.email.clone()) else {
            return unauthorized();
        };
        let Some(user) = self.store.load_user(&email).await? else {
            return unauthorized();
        };
        let now = self.clock.now();
        let live: Vec<&Session> = all
            .iter()
            .filter(|session| session.is_live(now, &self.policy, user.sessions.generation))
            .collect();
        if user.sessions.subject.as_ref() != Some(&subject)
            || !live.iter().any(|session| session.id == current)
        {
            return unauthorized();
        }
        match end {
            None => Ok(ApiResponse::ok(&SessionList {
                sessions: live
                    .iter()
                    .map(|session| session_view(session, &current))
                    .collect(),
            })),
            Some(end) => {
                let Some(ended) = live.iter().find(|session| session.id.as_str() == end) else {
                    return Ok(ApiError::SessionNotFound.into_response());
                };
                self.store.delete_session(&subject, &ended.id, None).await?;
                Ok(ApiResponse::ok(&EndedAnswer { ended: true }))
            }
        }
    }
}
