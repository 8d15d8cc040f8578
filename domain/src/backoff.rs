//! Exponential back-off with jitter: how long to wait before trying a failed call again. The one
//! formula behind every retry of the service (the mailer's jobs, the legacy import's throttled
//! calls); the caller brings the random number, so the wait is a pure function of its inputs.

use std::time::Duration;

/// Where in the interval below the ceiling a wait may fall.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Jitter {
    /// Between half the ceiling and the ceiling: the wait still grows with each attempt, yet a
    /// burst of failures does not come back as a burst.
    UpperHalf,
    /// Between zero and the ceiling: the widest spread, for many clients sharing one limit.
    Full,
}

/// An exponential back-off: attempt `n` waits up to `base × 2^(n − 1)`, never more than `cap`,
/// at a point below that ceiling chosen by [`Jitter`] and a random number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backoff {
    /// The ceiling of the first attempt; it doubles with each further attempt.
    pub base: Duration,
    /// The longest single wait.
    pub cap: Duration,
    /// Where below the ceiling a wait falls.
    pub jitter: Jitter,
}

impl Backoff {
    /// A back-off starting at `base`, capped at `cap`, with `jitter`.
    pub const fn new(base: Duration, cap: Duration, jitter: Jitter) -> Self {
        Self { base, cap, jitter }
    }

    /// The longest wait after `attempts` failed attempts: `base × 2^(attempts − 1)`, capped.
    /// Attempt 0 counts as the first.
    pub fn ceiling(&self, attempts: u32) -> Duration {
        let doublings = attempts.saturating_sub(1).min(31);
        self.base
            .checked_mul(1u32 << doublings)
            .map_or(self.cap, |delay| delay.min(self.cap))
    }

    /// The wait after `attempts` failed attempts; `random` (uniform over all `u32`s) picks the
    /// point in the jitter's interval, from its low end at 0 to the ceiling at `u32::MAX`.
    pub fn delay(&self, attempts: u32, random: u32) -> Duration {
        let ceiling = self.ceiling(attempts);
        let floor = match self.jitter {
            Jitter::UpperHalf => ceiling / 2,
            Jitter::Full => Duration::ZERO,
        };
        let spread = ceiling.saturating_sub(floor);
        floor + spread.mul_f64(f64::from(random) / f64::from(u32::MAX))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_delays_double_with_jitter_up_to_the_cap() {
        let mailer = Backoff::new(
            Duration::from_secs(10),
            Duration::from_mins(15),
            Jitter::UpperHalf,
        );
        assert_eq!(mailer.delay(1, 0), Duration::from_secs(5));
        assert_eq!(mailer.delay(1, u32::MAX), Duration::from_secs(10));
        assert_eq!(mailer.delay(3, u32::MAX), Duration::from_secs(40));
        assert_eq!(mailer.delay(30, u32::MAX), mailer.cap);
        let mid = mailer.delay(2, u32::MAX / 2);
        assert!(
            mid > Duration::from_secs(14) && mid < Duration::from_secs(16),
            "{mid:?}"
        );
        assert_eq!(mailer.delay(0, u32::MAX), mailer.base);
    }

    #[test]
    fn the_back_off_grows_and_is_capped() {
        let import = Backoff::new(
            Duration::from_millis(50),
            Duration::from_secs(10),
            Jitter::Full,
        );
        for attempt in 1..=30 {
            let ceiling = import
                .base
                .saturating_mul(1 << (attempt - 1).min(16))
                .min(import.cap);
            assert_eq!(import.ceiling(attempt), ceiling);
            for random in [0, 1, u32::MAX / 3, u32::MAX / 2, u32::MAX - 1, u32::MAX] {
                assert!(import.delay(attempt, random) <= ceiling);
            }
        }
        assert!(import.delay(30, u32::MAX) <= import.cap);
    }

    #[test]
    fn full_jitter_reaches_from_zero_to_the_ceiling() {
        let import = Backoff::new(
            Duration::from_millis(50),
            Duration::from_secs(10),
            Jitter::Full,
        );
        assert_eq!(import.delay(1, 0), Duration::ZERO);
        assert_eq!(import.delay(30, 0), Duration::ZERO);
        assert_eq!(import.delay(1, u32::MAX), Duration::from_millis(50));
        assert_eq!(import.delay(4, u32::MAX), Duration::from_millis(400));
        assert_eq!(import.delay(30, u32::MAX), import.cap);
    }

    #[test]
    fn a_ceiling_that_overflows_is_the_cap() {
        let huge = Backoff::new(Duration::MAX, Duration::from_secs(1), Jitter::UpperHalf);
        assert_eq!(huge.ceiling(40), Duration::from_secs(1));
    }
}
