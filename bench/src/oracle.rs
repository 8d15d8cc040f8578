//! The login timing oracle check: does the time of a failed login tell an unknown address from
//! a wrong password or an unverified account?
//!
//! Every login runs through the real handler code (the functions' own event handling over a
//! provisioned stack in the emulator) with the production Argon2id cost. The three kinds of
//! failure are interleaved, one of each per round, so that a noisy neighbour slows all three
//! alike. Lockout would turn repeated failures on one account into fast 429s, so the run raises
//! `LOCKOUT_FREE_FAILURES` and uses a new unknown address every time.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use lambdauth_handlers::Function;
use lambdauth_tests::app::TestApp;
use serde_json::json;

use crate::coldstart::{PASSWORD, PRODUCTION_ARGON2};
use crate::stats::median;

/// Free failures allowed during the run: more than it will ever make.
pub const LOCKOUT_FREE_FAILURES: &str = "1000000";

/// Rounds run first and thrown away (connections, caches, the first hash's allocation).
const WARM_UP_ROUNDS: usize = 3;

/// The three ways a login fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// An address with no account (a new one each time).
    UnknownEmail,
    /// A verified account and the wrong password.
    WrongPassword,
    /// An account whose address was never verified, with its right password.
    Unverified,
}

impl Failure {
    /// All three, in the order they run in each round.
    pub const ALL: [Self; 3] = [Self::UnknownEmail, Self::WrongPassword, Self::Unverified];

    /// How the doc names it.
    pub fn label(self) -> &'static str {
        match self {
            Self::UnknownEmail => "unknown email",
            Self::WrongPassword => "wrong password",
            Self::Unverified => "unverified account",
        }
    }
}

/// The login times of each kind of failure.
#[derive(Debug, Clone)]
pub struct OracleRun {
    /// Samples of [`Failure::UnknownEmail`].
    pub unknown_email: Vec<Duration>,
    /// Samples of [`Failure::WrongPassword`].
    pub wrong_password: Vec<Duration>,
    /// Samples of [`Failure::Unverified`].
    pub unverified: Vec<Duration>,
}

impl OracleRun {
    /// The samples of `failure`.
    pub fn samples(&self, failure: Failure) -> &[Duration] {
        match failure {
            Failure::UnknownEmail => &self.unknown_email,
            Failure::WrongPassword => &self.wrong_password,
            Failure::Unverified => &self.unverified,
        }
    }

    /// The median of `failure` divided by the median of `reference`.
    pub fn ratio(&self, failure: Failure, reference: Failure) -> f64 {
        let reference = median(self.samples(reference)).as_secs_f64();
        if reference == 0.0 {
            return 0.0;
        }
        median(self.samples(failure)).as_secs_f64() / reference
    }
}

/// Runs `rounds` rounds of the three failing logins.
pub async fn measure(rounds: usize) -> Result<OracleRun> {
    let mut environment = PRODUCTION_ARGON2.to_vec();
    environment.push(("LOCKOUT_FREE_FAILURES", LOCKOUT_FREE_FAILURES));
    let app = TestApp::spawn_with("oracle", &environment).await;
    let verified = "verified@example.com";
    let unverified = "unverified@example.com";
    for email in [verified, unverified] {
        let answer = app
            .http(
                Function::CreateUser,
                &json!({"email": email, "password": PASSWORD}).to_string(),
            )
            .await;
        if answer.status != 200 {
            bail!("signing up {email} failed: {:?}", answer.body);
        }
    }
    let token = app
        .last_mail(verified, "verification")
        .await
        .token
        .context("no verification token")?;
    let answer = app
        .http(
            Function::VerifyUser,
            &json!({"email": verified, "verify": token}).to_string(),
        )
        .await;
    if answer.status != 200 {
        bail!("verifying {verified} failed: {:?}", answer.body);
    }

    let mut run = OracleRun {
        unknown_email: Vec::with_capacity(rounds),
        wrong_password: Vec::with_capacity(rounds),
        unverified: Vec::with_capacity(rounds),
    };
    for round in 0..WARM_UP_ROUNDS + rounds {
        for failure in Failure::ALL {
            let body = match failure {
                Failure::UnknownEmail => {
                    json!({"email": format!("nobody{round}@example.com"), "password": PASSWORD})
                }
                Failure::WrongPassword => {
                    json!({"email": verified, "password": "not the password at all"})
                }
                Failure::Unverified => json!({"email": unverified, "password": PASSWORD}),
            };
            let started = Instant::now();
            let answer = app.http(Function::Login, &body.to_string()).await;
            let took = started.elapsed();
            if answer.status != 401 {
                bail!(
                    "a login with {} answered {} {:?}, not 401",
                    failure.label(),
                    answer.status,
                    answer.body
                );
            }
            if round >= WARM_UP_ROUNDS {
                match failure {
                    Failure::UnknownEmail => run.unknown_email.push(took),
                    Failure::WrongPassword => run.wrong_password.push(took),
                    Failure::Unverified => run.unverified.push(took),
                }
            }
        }
    }
    Ok(run)
}
