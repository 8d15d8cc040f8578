//! `LambdAuthLogout` (`POST /logout`): `{refreshToken, everywhere?}` → `{loggedOut: true}`,
//! whatever the token turns out to be (an ended session is as logged out as it gets). Not limited
//! per source: a stranger behind the same address must never keep an owner from logging out.

use std::sync::Arc;

use lambdauth_domain::session;
use lambdauth_domain::usecases::logout::end_every_session;
use lambdauth_domain::{Clock, RefreshToken, RouteClass, SessionPolicy};
use lambdauth_runtime::api::{ApiResponse, Outcome, Request, parse_body};
use lambdauth_runtime::function::{Context, Function, HttpFunction, Route, StartError};
use serde::{Deserialize, Serialize};

use crate::config::LogoutConfig;
use crate::core::persist_decided;
use crate::issuer::load_session;
use crate::store::UserStore;

/// `POST /logout`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LogoutBody {
    /// A refresh token of the session to end.
    pub refresh_token: String,
    /// End every session of the user, not only this one.
    #[serde(default)]
    pub everywhere: bool,
}

/// `{loggedOut: true}`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct LoggedOutAnswer {
    logged_out: bool,
}

/// `LambdAuthLogout`.
#[derive(Clone)]
pub struct Logout {
    store: UserStore,
    policy: SessionPolicy,
    clock: Arc<dyn Clock + Send + Sync>,
}

impl std::fmt::Debug for Logout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Logout")
            .field("store", &self.store)
            .finish_non_exhaustive()
    }
}

impl Function for Logout {
    const NAME: &'static str = "LambdAuthLogout";
    type Config = LogoutConfig;

    fn build(config: LogoutConfig, context: &Context) -> Result<Self, StartError> {
        Ok(Self {
            store: UserStore::new(context.dynamodb(), &config.table.table_name),
            policy: config.sessions.policy,
            clock: Arc::clone(&context.clock),
        })
    }
}

impl HttpFunction for Logout {
    const ROUTES: &'static [Route] = &[Route::post("/logout")];
    const LIMIT: Option<RouteClass> = None;

    async fn handle(&self, request: Request) -> Outcome {
        let Logout {
            store,
            policy,
            clock,
        } = self;
        let body: LogoutBody = parse_body(&request.body)?;
        let logged_out = || Ok(ApiResponse::ok(&LoggedOutAnswer { logged_out: true }));
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
            clock.now(),
            policy,
        ) {
            return logged_out();
        }
        if body.everywhere {
            persist_decided(store, &session.email, Some(user), &**clock, |user, now| {
                Ok(end_every_session(user, now))
            })
            .await?;
        }
        store
            .delete_session(&session.subject, &session.id, None)
            .await?;
        logged_out()
    }
}
