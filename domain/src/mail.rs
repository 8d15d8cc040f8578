//! Mail as the rules see it: the kinds there are, the per-kind cooldown of an address, and the
//! intent to send one that a decision emits (the outbox item's content).

use std::fmt::{self, Write as _};
use std::time::Duration;

use crate::backoff::{Backoff, Jitter};
use crate::lockout::RetryAfter;
use crate::random::{Randomness, RandomnessUnavailable};
use crate::{Email, Locale, Timestamp, Token};

/// The kinds of mail the service sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MailKind {
    /// The link that verifies a new account.
    Verification,
    /// The link that sets a new password.
    PasswordReset,
    /// A notice that the password was changed or reset.
    PasswordChanged,
    /// A notice that someone tried to sign up again with a registered address.
    AlreadyRegistered,
}

impl MailKind {
    /// Every kind.
    pub const ALL: [Self; 4] = [
        Self::Verification,
        Self::PasswordReset,
        Self::PasswordChanged,
        Self::AlreadyRegistered,
    ];

    /// The stable name stored on outbox items and used for templates.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Verification => "verification",
            Self::PasswordReset => "password-reset",
            Self::PasswordChanged => "password-changed",
            Self::AlreadyRegistered => "already-registered",
        }
    }

    /// The kind named `name`.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == name)
    }

    /// Whether the mail carries a one-time link.
    pub fn has_link(self) -> bool {
        matches!(self, Self::Verification | Self::PasswordReset)
    }
}

impl fmt::Display for MailKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The shortest time between two mails of one kind to one address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MailCooldowns {
    /// Between verification mails.
    pub verification: Duration,
    /// Between password-reset mails.
    pub reset: Duration,
    /// Between notices of one kind.
    pub notice: Duration,
}

impl Default for MailCooldowns {
    fn default() -> Self {
        Self {
            verification: Duration::from_mins(1),
            reset: Duration::from_mins(1),
            notice: Duration::from_hours(1),
        }
    }
}

impl MailCooldowns {
    /// The cooldown of `kind`.
    pub fn of(&self, kind: MailKind) -> Duration {
        match kind {
            MailKind::Verification => self.verification,
            MailKind::PasswordReset => self.reset,
            MailKind::PasswordChanged | MailKind::AlreadyRegistered => self.notice,
        }
    }
}

/// When each kind of mail was last sent to an address.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MailLog {
    last_sent: [Option<Timestamp>; 4],
}

impl MailLog {
    fn slot(kind: MailKind) -> usize {
        match kind {
            MailKind::Verification => 0,
            MailKind::PasswordReset => 1,
            MailKind::PasswordChanged => 2,
            MailKind::AlreadyRegistered => 3,
        }
    }

    /// When `kind` was last sent.
    pub fn last_sent(&self, kind: MailKind) -> Option<Timestamp> {
        self.last_sent[Self::slot(kind)]
    }

    /// Records that `kind` was sent at `at`.
    pub fn record(&mut self, kind: MailKind, at: Timestamp) {
        self.last_sent[Self::slot(kind)] = Some(at);
    }

    /// Whether `kind` may be sent at `now`, or how long until it may.
    pub fn may_send(
        &self,
        kind: MailKind,
        now: Timestamp,
        cooldowns: &MailCooldowns,
    ) -> Result<(), RetryAfter> {
        match self.last_sent(kind) {
            Some(last) => {
                let next = last.plus(cooldowns.of(kind));
                if now < next {
                    Err(RetryAfter::new(next.since(now)))
                } else {
                    Ok(())
                }
            }
            None => Ok(()),
        }
    }
}

/// The identifier of one mail: 12 hex digits of its creation time in milliseconds and 20 of
/// randomness, so that a listing sorted by id is sorted by time.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct MailId(String);

impl MailId {
    /// A new id for a mail created at `now`.
    pub fn generate(
        now: Timestamp,
        rng: &mut impl Randomness,
    ) -> Result<Self, RandomnessUnavailable> {
        let random: [u8; 10] = rng.bytes()?;
        let mut id = format!("{:012x}", now.as_millis().max(0));
        for byte in random {
            let _ = write!(id, "{byte:02x}");
        }
        Ok(Self(id))
    }

    /// An id read back from storage: 32 lower-case hex digits.
    pub fn parse(text: &str) -> Option<Self> {
        (text.len() == 32
            && text
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
        .then(|| Self(text.to_owned()))
    }

    /// The id.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for MailId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The one-time link a mail carries: the token in clear (the adapter encrypts it before it is
/// written anywhere) and when it expires.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MailLink {
    /// The token.
    pub token: Token,
    /// When the token stops being accepted.
    pub expires_at: Timestamp,
}

/// A mail a decision asks to send: the content of one outbox item.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutgoingMail {
    /// Its id.
    pub id: MailId,
    /// What it says.
    pub kind: MailKind,
    /// Who receives it.
    pub recipient: Email,
    /// The language it is written in.
    pub locale: Locale,
    /// The link, for the kinds that carry one.
    pub link: Option<MailLink>,
    /// When it was decided.
    pub created_at: Timestamp,
    /// A verification mail to an address that already had a signup waiting: the mail says so,
    /// since the recipient may not have asked for the earlier one.
    pub earlier_signup_pending: bool,
}

/// How long a mail job waits before its next attempt: `base × 2^(attempts − 1)` capped at `cap`,
/// with full jitter over its upper half (`random` picks the point), so that a burst of failures
/// does not come back as a burst. The [`Jitter::UpperHalf`] case of [`Backoff`].
pub fn retry_delay(attempts: u32, base: Duration, cap: Duration, random: u32) -> Duration {
    Backoff::new(base, cap, Jitter::UpperHalf).delay(attempts, random)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::testing::CountingRandomness;

    #[test]
    fn kinds_round_trip_through_their_names() {
        for kind in MailKind::ALL {
            assert_eq!(MailKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(MailKind::parse("spam"), None);
        assert!(MailKind::Verification.has_link());
        assert!(!MailKind::AlreadyRegistered.has_link());
    }

    #[test]
    fn each_kind_has_its_own_cooldown() {
        let cooldowns = MailCooldowns::default();
        let now = Timestamp::from_millis(5_000_000);
        let mut log = MailLog::default();
        assert!(
            log.may_send(MailKind::PasswordReset, now, &cooldowns)
                .is_ok()
        );
        log.record(MailKind::PasswordChanged, now);
        // A reset right after a change still goes out.
        assert!(
            log.may_send(MailKind::PasswordReset, now, &cooldowns)
                .is_ok()
        );
        let wait = log
            .may_send(MailKind::PasswordChanged, now, &cooldowns)
            .unwrap_err();
        assert_eq!(wait.seconds(), 3600);
        log.record(MailKind::PasswordReset, now);
        let later = now.plus(Duration::from_secs(59));
        assert_eq!(
            log.may_send(MailKind::PasswordReset, later, &cooldowns)
                .unwrap_err()
                .seconds(),
            1
        );
        assert!(
            log.may_send(
                MailKind::PasswordReset,
                now.plus(Duration::from_mins(1)),
                &cooldowns
            )
            .is_ok()
        );
    }

    #[test]
    fn retry_delays_are_the_upper_half_back_off() {
        let base = Duration::from_secs(10);
        let cap = Duration::from_mins(15);
        assert_eq!(retry_delay(1, base, cap, 0), Duration::from_secs(5));
        assert_eq!(retry_delay(3, base, cap, u32::MAX), Duration::from_secs(40));
        assert_eq!(retry_delay(30, base, cap, u32::MAX), cap);
    }

    #[test]
    fn mail_ids_sort_by_time() {
        let mut rng = CountingRandomness(9);
        let early = MailId::generate(Timestamp::from_millis(1_000), &mut rng).unwrap();
        let late = MailId::generate(Timestamp::from_millis(2_000), &mut rng).unwrap();
        assert!(early < late);
        assert_eq!(early.as_str().len(), 32);
        assert_eq!(MailId::parse(early.as_str()), Some(early));
        assert_eq!(MailId::parse("not-an-id"), None);
    }
}
