//! The login throttle: Cognito's model of five free failures, then a wait that doubles from one
//! second up to fifteen minutes, forgotten after a success or fifteen idle minutes, counted from
//! the end of the last lock (so a wait longer than the idle period does not wipe the count).
//!
//! An attempt is counted as a failure *before* its password is checked (a reservation written
//! with a condition), and a success clears the count afterwards. So parallel attempts cannot all
//! slip past the lock by reading the same count: each must win a conditional write first, and
//! the number of password checks an attacker gets is what the lockout allows.

use std::time::Duration;

use crate::Timestamp;

/// The lockout rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LockoutPolicy {
    /// Failures allowed before any wait.
    pub free_failures: u32,
    /// The wait after the first failure beyond the free ones; it doubles with each failure.
    pub first_wait: Duration,
    /// The longest wait.
    pub max_wait: Duration,
    /// After this long without a failure and without a lock in force, the count starts again
    /// from zero.
    pub idle_reset: Duration,
}

impl Default for LockoutPolicy {
    fn default() -> Self {
        Self {
            free_failures: 5,
            first_wait: Duration::from_secs(1),
            max_wait: Duration::from_mins(15),
            idle_reset: Duration::from_mins(15),
        }
    }
}

impl LockoutPolicy {
    /// The wait imposed once `failures` failures have been counted: none while they are within
    /// the free ones, then `first_wait × 2^(failures − free_failures)`, capped at `max_wait`.
    pub fn wait_after(&self, failures: u32) -> Duration {
        if failures < self.free_failures {
            return Duration::ZERO;
        }
        let doublings = failures - self.free_failures;
        let factor = 1u32.checked_shl(doublings).unwrap_or(u32::MAX);
        self.first_wait
            .checked_mul(factor)
            .map_or(self.max_wait, |wait| wait.min(self.max_wait))
    }
}

/// How long a client must wait; sent as `Retry-After` in whole seconds, at least one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryAfter(Duration);

impl RetryAfter {
    /// A wait of `duration`.
    pub fn new(duration: Duration) -> Self {
        Self(duration)
    }

    /// The wait in whole seconds, rounded up, never zero.
    pub fn seconds(self) -> u64 {
        let secs = self.0.as_secs() + u64::from(self.0.subsec_nanos() > 0);
        secs.max(1)
    }
}

/// The failure count of one address, stored with it so that it holds across every instance.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LoginThrottle {
    /// Failures counted since the last success or idle reset.
    pub failures: u32,
    /// When the last one was counted.
    pub last_failure_at: Option<Timestamp>,
    /// No attempt is admitted before this instant.
    pub locked_until: Option<Timestamp>,
}

impl LoginThrottle {
    /// When the count is forgotten: `idle_reset` after the later of the last failure and the
    /// end of the lock it set. Measured from the failure alone, a lock longer than the idle
    /// period would end with the count wiped, and the waits would never grow past it.
    pub fn forgotten_at(&self, policy: &LockoutPolicy) -> Option<Timestamp> {
        let quiet_since = match (self.last_failure_at, self.locked_until) {
            (Some(last), Some(until)) => last.max(until),
            (last, until) => last.or(until)?,
        };
        Some(quiet_since.plus(policy.idle_reset))
    }

    /// The throttle as it stands at `now`: forgotten when idle long enough.
    #[must_use]
    pub fn at(self, now: Timestamp, policy: &LockoutPolicy) -> Self {
        match self.forgotten_at(policy) {
            Some(forgotten) if now >= forgotten => Self::default(),
            _ => self,
        }
    }

    /// Admits an attempt at `now`, or says how long to wait. An admitted attempt comes back
    /// already counted as a failure: that is the reservation to write, conditionally, before the
    /// password is checked.
    pub fn admit(self, now: Timestamp, policy: &LockoutPolicy) -> Result<Self, RetryAfter> {
        let current = self.at(now, policy);
        if let Some(until) = current.locked_until
            && now < until
        {
            return Err(RetryAfter(until.since(now)));
        }
        let failures = current.failures.saturating_add(1);
        let wait = policy.wait_after(failures);
        Ok(Self {
            failures,
            last_failure_at: Some(now),
            locked_until: (!wait.is_zero()).then(|| now.plus(wait)),
        })
    }

    /// Whether nothing is counted.
    pub fn is_clear(&self) -> bool {
        *self == Self::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn the_wait_doubles_after_five_failures_up_to_fifteen_minutes() {
        let policy = LockoutPolicy::default();
        for free in 0..5 {
            assert_eq!(policy.wait_after(free), Duration::ZERO);
        }
        assert_eq!(policy.wait_after(5), secs(1));
        assert_eq!(policy.wait_after(6), secs(2));
        assert_eq!(policy.wait_after(7), secs(4));
        assert_eq!(policy.wait_after(14), secs(512));
        assert_eq!(policy.wait_after(15), secs(900));
        assert_eq!(policy.wait_after(u32::MAX), secs(900));
    }

    #[test]
    fn five_failures_pass_and_then_the_sixth_attempt_waits() {
        let policy = LockoutPolicy::default();
        let now = Timestamp::from_millis(10_000_000);
        let mut throttle = LoginThrottle::default();
        for _ in 0..5 {
            throttle = throttle.admit(now, &policy).unwrap();
        }
        assert_eq!(throttle.failures, 5);
        let wait = throttle.admit(now, &policy).unwrap_err();
        assert_eq!(wait.seconds(), 1);
        // One second later the sixth attempt is admitted and locks for two.
        let later = now.plus(secs(1));
        throttle = throttle.admit(later, &policy).unwrap();
        assert_eq!(throttle.admit(later, &policy).unwrap_err().seconds(), 2);
    }

    #[test]
    fn fifteen_idle_minutes_forget_the_failures() {
        let policy = LockoutPolicy::default();
        let now = Timestamp::from_millis(10_000_000);
        let mut throttle = LoginThrottle::default();
        for _ in 0..12 {
            throttle = LoginThrottle {
                locked_until: None,
                ..throttle.admit(now, &policy).unwrap()
            };
        }
        assert_eq!(throttle.failures, 12);
        let after_idle = throttle
            .admit(now.plus(Duration::from_mins(15)), &policy)
            .unwrap();
        assert_eq!(after_idle.failures, 1);
        assert_eq!(after_idle.locked_until, None);
        let before_idle = throttle.at(now.plus(secs(15 * 60 - 1)), &policy);
        assert_eq!(before_idle.failures, 12);
    }

    /// An attacker who tries again each time a lock ends: with a maximum wait above the idle
    /// period, the waits keep doubling up to it instead of starting over.
    #[test]
    fn with_an_hour_as_the_longest_wait_the_waits_keep_doubling_past_the_idle_period() {
        let policy = LockoutPolicy {
            max_wait: Duration::from_hours(1),
            ..LockoutPolicy::default()
        };
        let mut now = Timestamp::from_millis(10_000_000);
        let mut throttle = LoginThrottle::default();
        let mut waits = Vec::new();
        for _ in 0..18 {
            throttle = throttle.admit(now, &policy).unwrap();
            if let Some(until) = throttle.locked_until {
                waits.push(until.since(now).as_secs());
                now = until;
            }
        }
        assert_eq!(
            waits,
            [
                1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 3600, 3600
            ]
        );
        assert_eq!(throttle.failures, 18);
        // Forgotten only once the idle period has passed after the last lock ended.
        let lock_end = throttle.locked_until.unwrap();
        assert_eq!(throttle.at(lock_end.plus(secs(899)), &policy).failures, 18);
        assert!(throttle.at(lock_end.plus(secs(900)), &policy).is_clear());
    }

    #[test]
    fn retry_after_rounds_up_and_is_never_zero() {
        assert_eq!(RetryAfter::new(Duration::from_millis(1)).seconds(), 1);
        assert_eq!(RetryAfter::new(Duration::from_millis(1500)).seconds(), 2);
        assert_eq!(RetryAfter::new(Duration::ZERO).seconds(), 1);
        assert_eq!(RetryAfter::new(secs(900)).seconds(), 900);
    }
}
