//! The login timing oracle check: does the time of a failed login tell what the address is (no
//! account, a wrong password, an unverified account, a carried-over or older hash), or does a
//! locked address answer its 429 sooner with an account than without?
//!
//! Every login runs through the real handler code (the functions' own event handling over a
//! provisioned stack in the emulator) with the production Argon2id cost and the lockout on at its
//! defaults. Each attempt uses an address of its own, so no address fails often enough to lock,
//! except the two that each round locks on purpose (five failures) to time the 429 of a known and
//! of an unknown address. The kinds are interleaved, one of each per round, so that a noisy
//! neighbour slows all of them alike.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use aws_sdk_dynamodb::types::AttributeValue;
use lambdauth_domain::random::OsRandomness;
use lambdauth_domain::{Email, HashingParams, NewPassword, PasswordHasher, PasswordPolicy};
use lambdauth_domain::{LockoutPolicy, StoredPassword};
use lambdauth_functions as functions;
use lambdauth_tests::app::TestApp;
use lambdauth_tests::legacy::scan_items;
use serde_json::json;

use crate::coldstart::{MEASURED_SETTINGS, PASSWORD};
use crate::stats::median;

/// Rounds run first and thrown away (connections, caches, the first hash's allocation).
const WARM_UP_ROUNDS: usize = 3;

/// A wrong password long enough for any policy.
const WRONG: &str = "not the password at all";

/// The kinds of failed login timed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// An address with no account.
    UnknownEmail,
    /// A verified account and a wrong password.
    WrongPassword,
    /// An account whose address was never verified, with its right password.
    Unverified,
    /// An account carried over from LambdAuth (a PBKDF2 hash) and a wrong password.
    LegacyHash,
    /// An account whose Argon2id hash has an older, lower cost, and a wrong password.
    OlderCost,
    /// A locked address with an account: answered 429.
    LockedKnown,
    /// A locked address without one: answered 429.
    LockedUnknown,
}

impl Failure {
    /// All of them, in the order they run in each round.
    pub const ALL: [Self; 7] = [
        Self::UnknownEmail,
        Self::WrongPassword,
        Self::Unverified,
        Self::LegacyHash,
        Self::OlderCost,
        Self::LockedKnown,
        Self::LockedUnknown,
    ];

    /// How the doc names it.
    pub fn label(self) -> &'static str {
        match self {
            Self::UnknownEmail => "unknown email",
            Self::WrongPassword => "wrong password",
            Self::Unverified => "unverified account",
            Self::LegacyHash => "legacy PBKDF2 hash, wrong password",
            Self::OlderCost => "older Argon2id cost, wrong password",
            Self::LockedKnown => "locked, with an account (429)",
            Self::LockedUnknown => "locked, without one (429)",
        }
    }

    /// The status every login of this kind must answer.
    pub fn status(self) -> u16 {
        match self {
            Self::LockedKnown | Self::LockedUnknown => 429,
            _ => 401,
        }
    }

    /// The kind its times are compared with: the 401s with an unknown address, the 429s with
    /// each other.
    #[must_use]
    pub fn reference(self) -> Self {
        match self {
            Self::LockedKnown | Self::LockedUnknown => Self::LockedUnknown,
            _ => Self::UnknownEmail,
        }
    }
}

/// The login times of each kind of failure, in [`Failure::ALL`]'s order.
#[derive(Debug, Clone, Default)]
pub struct OracleRun {
    samples: [Vec<Duration>; Failure::ALL.len()],
}

impl OracleRun {
    fn index(failure: Failure) -> usize {
        Failure::ALL
            .iter()
            .position(|kind| *kind == failure)
            .unwrap_or_default()
    }

    /// The samples of `failure`.
    pub fn samples(&self, failure: Failure) -> &[Duration] {
        &self.samples[Self::index(failure)]
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

/// One round's accounts, each used for one attempt.
struct Round {
    unknown: String,
    wrong_password: String,
    unverified: String,
    legacy: String,
    older: String,
    locked_known: String,
    locked_unknown: String,
}

/// The oracle's stack and what it prepares its accounts with.
struct Bench {
    app: TestApp,
    older_hash: StoredPassword,
    legacy_hash: StoredPassword,
}

impl Bench {
    async fn signup(&self, email: &str) -> Result<()> {
        let answer = self
            .app
            .http(
                functions::CREATE_USER,
                &json!({"email": email, "password": PASSWORD}).to_string(),
            )
            .await;
        if answer.status != 200 {
            bail!("signing up {email} failed: {:?}", answer.body);
        }
        Ok(())
    }

    async fn verified(&self, email: &str) -> Result<()> {
        self.signup(email).await?;
        let token = self
            .app
            .last_mail(email, "verification")
            .await
            .token
            .context("no verification token")?;
        let answer = self
            .app
            .http(
                functions::VERIFY_USER,
                &json!({"email": email, "verify": token}).to_string(),
            )
            .await;
        if answer.status != 200 {
            bail!("verifying {email} failed: {:?}", answer.body);
        }
        Ok(())
    }

    /// A verified account of `email` whose stored hash is then `hash`.
    async fn with_hash(&self, email: &str, hash: &StoredPassword) -> Result<()> {
        self.verified(email).await?;
        self.app
            .dynamodb
            .update_item()
            .table_name(&self.app.table)
            .key("pk", AttributeValue::S(email.to_owned()))
            .key("sk", AttributeValue::S("USER".to_owned()))
            .update_expression("SET password = :hash")
            .expression_attribute_values(":hash", AttributeValue::S(hash.to_phc()))
            .send()
            .await
            .context("storing a hash")?;
        Ok(())
    }

    async fn login(&self, email: &str, password: &str) -> (u16, Duration) {
        let body = json!({"email": email, "password": password}).to_string();
        let started = Instant::now();
        let answer = self.app.http(functions::LOGIN, &body).await;
        (answer.status, started.elapsed())
    }

    /// Fails logins on `email` until the lockout holds it.
    async fn lock(&self, email: &str) -> Result<()> {
        for _ in 0..LockoutPolicy::default().free_failures {
            let (status, _) = self.login(email, WRONG).await;
            if status != 401 {
                bail!("locking {email}: a failure answered {status}");
            }
        }
        Ok(())
    }

    async fn prepare(&self, round: usize) -> Result<Round> {
        let name = |kind: &str| format!("{kind}{round}@example.com");
        let round = Round {
            unknown: name("nobody"),
            wrong_password: name("verified"),
            unverified: name("unverified"),
            legacy: name("legacy"),
            older: name("older"),
            locked_known: name("locked"),
            locked_unknown: name("nobodylocked"),
        };
        self.verified(&round.wrong_password).await?;
        self.signup(&round.unverified).await?;
        self.with_hash(&round.legacy, &self.legacy_hash).await?;
        self.with_hash(&round.older, &self.older_hash).await?;
        self.verified(&round.locked_known).await?;
        Ok(round)
    }

    /// One login of `failure` in `round`, timed.
    async fn attempt(&self, failure: Failure, round: &Round) -> Result<Duration> {
        let (email, password) = match failure {
            Failure::UnknownEmail => (&round.unknown, PASSWORD),
            Failure::WrongPassword => (&round.wrong_password, WRONG),
            Failure::Unverified => (&round.unverified, PASSWORD),
            Failure::LegacyHash => (&round.legacy, WRONG),
            Failure::OlderCost => (&round.older, WRONG),
            Failure::LockedKnown => {
                self.lock(&round.locked_known).await?;
                (&round.locked_known, PASSWORD)
            }
            Failure::LockedUnknown => {
                self.lock(&round.locked_unknown).await?;
                (&round.locked_unknown, PASSWORD)
            }
        };
        let (status, took) = self.login(email, password).await;
        if status != failure.status() {
            bail!(
                "a login with {} answered {status}, not {}",
                failure.label(),
                failure.status()
            );
        }
        Ok(took)
    }
}

/// Runs `rounds` rounds of every kind of failed login.
pub async fn measure(rounds: usize) -> Result<OracleRun> {
    let app = TestApp::spawn_with("oracle", &MEASURED_SETTINGS).await;
    let older = HashingParams {
        memory_kib: 4096,
        time_cost: 1,
        parallelism: 1,
    };
    let email = Email::parse("older@example.com")?;
    let password = NewPassword::new(PASSWORD, &email, &PasswordPolicy::default())?;
    let older_hash =
        PasswordHasher::new(older, &mut OsRandomness)?.hash(&password, &mut OsRandomness)?;
    let row = scan_items()
        .into_iter()
        .next()
        .context("the fixture scan has rows")?;
    let legacy_hash = StoredPassword::from_legacy(
        row["passwordSalt"]["S"].as_str().unwrap_or_default(),
        row["passwordHash"]["S"].as_str().unwrap_or_default(),
    )?;
    let bench = Bench {
        app,
        older_hash,
        legacy_hash,
    };
    let mut run = OracleRun::default();
    for round in 0..WARM_UP_ROUNDS + rounds {
        let accounts = bench.prepare(round).await?;
        for failure in Failure::ALL {
            let took = bench.attempt(failure, &accounts).await?;
            if round >= WARM_UP_ROUNDS {
                run.samples[OracleRun::index(failure)].push(took);
            }
        }
    }
    Ok(run)
}
