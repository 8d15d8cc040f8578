//! A clock a test moves: the system's time plus an offset, so that the emulator's own time and
//! every TTL stay real while the functions live hours or days later.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use lambdauth_domain::{Clock, SystemClock, Timestamp};

/// The system clock, moved forward by what [`MovableClock::advance`] added.
#[derive(Debug, Default)]
pub struct MovableClock {
    offset_millis: AtomicI64,
}

impl MovableClock {
    /// Moves the clock `by` later.
    pub fn advance(&self, by: Duration) {
        let millis = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        self.offset_millis.fetch_add(millis, Ordering::SeqCst);
    }
}

impl Clock for MovableClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_millis(
            SystemClock
                .now()
                .as_millis()
                .saturating_add(self.offset_millis.load(Ordering::SeqCst)),
        )
    }
}
