//! Starting and continuing sessions: the table, the signer of access tokens and the rules, and
//! what login and refresh answer. A new session's write, its access token's signature and its
//! Cognito token are obtained concurrently.

use std::sync::Arc;

use lambdauth_domain::random::OsRandomness;
use lambdauth_domain::session;
use lambdauth_domain::{
    Clock, DeveloperUserId, Email, RefreshToken, Session, SessionPolicy, SubjectId, Timestamp, User,
};
use lambdauth_runtime::api::{ApiResponse, HandlerError, Outcome};
use serde::Serialize;

use crate::identity::IdentityIssuer;
use crate::store::UserStore;
use crate::tokens::{AccessTokenSigner, Audience};

/// What starts and continues sessions: the table, the signer of access tokens, the rules and
/// the clock.
#[derive(Clone)]
pub struct SessionIssuer {
    /// The table.
    pub store: UserStore,
    /// Signs access tokens.
    pub signer: AccessTokenSigner,
    /// How long sessions live.
    pub policy: SessionPolicy,
    /// Where the rules read the time.
    pub clock: Arc<dyn Clock + Send + Sync>,
}

impl std::fmt::Debug for SessionIssuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionIssuer")
            .field("store", &self.store)
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

/// Who logged in, as a new session needs it.
#[derive(Debug)]
pub struct LoggedInUser<'a> {
    /// The user's opaque id.
    pub subject: &'a SubjectId,
    /// The user's address.
    pub email: &'a Email,
    /// The user's session generation.
    pub generation: u64,
    /// Cognito's identifier.
    pub developer_user_id: &'a DeveloperUserId,
    /// The device token to hand back (new, or the one presented).
    pub device_token: &'a str,
}

/// The answer of a login: the original's Cognito token, and the new session's tokens.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct LoginAnswerBody<'a> {
    login: bool,
    identity_id: &'a str,
    token: &'a str,
    expires_in: u64,
    access_token: &'a str,
    access_token_expires_in: u64,
    refresh_token: &'a str,
    refresh_token_expires_in: u64,
    session_id: &'a str,
    device_token: &'a str,
}

/// Whole seconds from `now` until `at`.
pub(crate) fn seconds_until(at: Timestamp, now: Timestamp) -> u64 {
    at.since(now).as_secs()
}

impl SessionIssuer {
    /// Now, as the clock says.
    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// Starts a session for a user just logged in and answers the login: the session write, the
    /// access token's signature and the Cognito token are obtained concurrently.
    pub async fn start(
        &self,
        identity: &IdentityIssuer,
        user: LoggedInUser<'_>,
        user_agent: Option<&str>,
        audience: &Audience,
    ) -> Outcome {
        let now = self.now();
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
            self.signer.sign(user.subject, &session.id, audience, now),
            identity.issue(user.developer_user_id),
        );
        stored?;
        let (access, cognito) = (access?, cognito?);
        Ok(ApiResponse::ok(&LoginAnswerBody {
            login: true,
            identity_id: &cognito.identity_id,
            token: &cognito.token,
            expires_in: cognito.expires_in.as_secs(),
            access_token: &access.jwt,
            access_token_expires_in: access.expires_in.as_secs(),
            refresh_token: refresh_token.expose(),
            refresh_token_expires_in: seconds_until(session.expires_at(&self.policy), now),
            session_id: session.id.as_str(),
            device_token: user.device_token,
        }))
    }
}

/// The session `token` names and its user, if both exist and the user is the token's.
pub(crate) async fn load_session(
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
