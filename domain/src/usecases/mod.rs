//! The use cases of LambdAuth as pure decisions.
//!
//! Each function takes what was read (the user, if any), the input, the time and randomness, and
//! returns a [`Decision`]: the answer to give and, when something must change, one [`Change`] to
//! persist: a user write and at most one mail, written together in one transaction by the
//! handler. No I/O happens here and no password is hashed here: the handler hashes and verifies
//! on a blocking thread and passes the results in.

use std::time::Duration;

use crate::random::{Randomness, RandomnessUnavailable};
use crate::{
    LockoutPolicy, MailCooldowns, MailId, MailKind, OutgoingMail, PasswordPolicy, Timestamp, User,
    mail::MailLink, token::PendingToken,
};

pub mod change_password;
pub mod login;
pub mod logout;
pub mod lost_password;
pub mod reset_password;
pub mod signup;
pub mod verify;

#[cfg(test)]
mod testing;

/// The knobs of the rules, one set per deployment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Settings {
    /// Answers (and their timing) never tell whether an address is registered.
    pub prevent_user_existence_errors: bool,
    /// What a new password must pass.
    pub password_policy: PasswordPolicy,
    /// How long a verification link stays valid.
    pub verification_ttl: Duration,
    /// How long a reset link stays valid.
    pub reset_ttl: Duration,
    /// The shortest time between two mails of one kind to one address.
    pub cooldowns: MailCooldowns,
    /// The login throttle.
    pub lockout: LockoutPolicy,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            prevent_user_existence_errors: true,
            password_policy: PasswordPolicy::default(),
            verification_ttl: Duration::from_hours(24),
            reset_ttl: Duration::from_hours(1),
            cooldowns: MailCooldowns::default(),
            lockout: LockoutPolicy::default(),
        }
    }
}

/// A user write.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Write {
    /// Create the user; the write must fail if the address is already taken.
    Create(User),
    /// Replace the user; the write must fail unless the stored version is still `expected_version`.
    Update {
        /// The new state.
        user: User,
        /// The version it was decided from.
        expected_version: u64,
    },
}

impl Write {
    /// The user as it will be stored.
    pub fn user(&self) -> &User {
        match self {
            Self::Create(user) | Self::Update { user, .. } => user,
        }
    }
}

/// What to persist, all or nothing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    /// The user write.
    pub write: Write,
    /// The mail to put in the outbox in the same transaction.
    pub mail: Option<OutgoingMail>,
}

/// The outcome of a use case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decision<A> {
    /// What the caller is told.
    pub answer: A,
    /// What must be persisted before the answer is given, if anything.
    pub change: Option<Change>,
}

impl<A> Decision<A> {
    fn answer(answer: A) -> Self {
        Self {
            answer,
            change: None,
        }
    }

    fn update(answer: A, before: &User, after: User, mail: Option<OutgoingMail>) -> Self {
        Self {
            answer,
            change: Some(Change {
                write: Write::Update {
                    user: after,
                    expected_version: before.version,
                },
                mail,
            }),
        }
    }
}

/// `user` as the next version, changed at `now`.
fn next_version(user: &User, now: Timestamp) -> User {
    User {
        updated_at: now,
        version: user.version + 1,
        ..user.clone()
    }
}

/// A mail of `kind` to `recipient`, recorded in `user`'s mail log.
fn compose(
    user: &mut User,
    kind: MailKind,
    link: Option<MailLink>,
    now: Timestamp,
    rng: &mut impl Randomness,
) -> Result<OutgoingMail, RandomnessUnavailable> {
    user.mail_log.record(kind, now);
    Ok(OutgoingMail {
        id: MailId::generate(now, rng)?,
        kind,
        recipient: user.email.clone(),
        locale: user.locale.clone(),
        link,
        created_at: now,
        earlier_signup_pending: false,
    })
}

/// Issues a token valid for `ttl` and the link that carries it.
fn issue_link(
    rng: &mut impl Randomness,
    now: Timestamp,
    ttl: Duration,
) -> Result<(PendingToken, MailLink), RandomnessUnavailable> {
    let (token, pending) = PendingToken::issue(rng, now, ttl)?;
    let link = MailLink {
        token,
        expires_at: pending.expires_at,
    };
    Ok((pending, link))
}

/// A notice of `kind` for `user` if its cooldown allows, recorded in the user's mail log.
fn notice_if_allowed(
    user: &mut User,
    kind: MailKind,
    now: Timestamp,
    settings: &Settings,
    rng: &mut impl Randomness,
) -> Result<Option<OutgoingMail>, RandomnessUnavailable> {
    if user
        .mail_log
        .may_send(kind, now, &settings.cooldowns)
        .is_err()
    {
        return Ok(None);
    }
    compose(user, kind, None, now, rng).map(Some)
}
