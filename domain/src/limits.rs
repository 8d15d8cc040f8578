//! Abuse limits per source: the route classes, the rates, the key a source address is counted
//! under, and the decisions of a token bucket kept as one number.
//!
//! A bucket follows the generic cell rate algorithm (GCRA): it stores only its *theoretical
//! arrival time* (TAT), the instant at which it would be full again. A rate of `count` requests
//! per `period` admits one request every `interval = period / count` (rounded up) and a burst
//! of `count` from rest. A request at `now` is admitted when `max(tat, now) + interval` is at
//! most `now + count × interval`, and then the TAT becomes that sum.
//!
//! The store cannot compute `max` in one conditional write, so the decision is split into two
//! writes, each exact under its condition ([`BucketWrite`]): *restart* a rested bucket (stored
//! TAT absent or not after `now`) at `now + interval`, or *advance* a bucket in use (stored TAT
//! between `now` and the limit) by `interval`. The caller tries the write that matches what it
//! last knew of the bucket; a write whose condition fails hands back the stored TAT, from which
//! [`Rate::after_failed_write`] either refuses with the wait or names the other write. Since a
//! TAT only ever grows, parallel requests can never overdraw a bucket: each admission is one
//! successful conditional write of `interval`, bounded by the limit.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;
use std::time::Duration;

use crate::{RetryAfter, Timestamp};

/// The routes that share one bucket per source.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RouteClass {
    /// Requests that can send mail: signup, lost password.
    Mail,
    /// Requests that check a password: login, password change.
    Password,
    /// Redemptions of a mailed link: verification, reset.
    Link,
    /// Refreshes of a session. (Ending sessions is never limited per source.)
    Session,
}

impl RouteClass {
    /// Every class.
    pub const ALL: [Self; 4] = [Self::Mail, Self::Password, Self::Link, Self::Session];

    /// The class's stable name, in bucket keys, logs and metrics.
    pub fn name(self) -> &'static str {
        match self {
            Self::Mail => "mail",
            Self::Password => "password",
            Self::Link => "link",
            Self::Session => "session",
        }
    }

    /// The class's default rate: Supabase's spirit, 30 requests per five minutes per address,
    /// five times that for sessions (an app refreshes on its own).
    pub fn default_rate(self) -> Rate {
        let five_minutes = Duration::from_mins(5);
        match self {
            Self::Mail | Self::Password | Self::Link => Rate::new(30, five_minutes),
            Self::Session => Rate::new(150, five_minutes),
        }
        .unwrap_or_else(|_| unreachable!("the defaults are valid rates"))
    }
}

impl fmt::Display for RouteClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a rate was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum InvalidRate {
    /// Not `off` nor `<count>/<seconds>`.
    #[error("`{0}` is not `off` nor `<count>/<seconds>` (e.g. `30/300`)")]
    Malformed(String),
    /// A count or a period of zero.
    #[error("the count and the period must both be at least 1")]
    Zero,
}

/// A limit: at most `count` requests per `period`, refilled evenly.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rate {
    count: u32,
    period: Duration,
}

impl Rate {
    /// At most `count` requests per `period`; both must be at least one (a period of at least a
    /// millisecond).
    pub fn new(count: u32, period: Duration) -> Result<Self, InvalidRate> {
        if count == 0 || period.as_millis() == 0 {
            return Err(InvalidRate::Zero);
        }
        Ok(Self { count, period })
    }

    /// Reads a setting: `off` (no limit) or `<count>/<seconds>`, e.g. `30/300`.
    pub fn parse_setting(text: &str) -> Result<Option<Self>, InvalidRate> {
        let text = text.trim();
        if text.eq_ignore_ascii_case("off") {
            return Ok(None);
        }
        let malformed = || InvalidRate::Malformed(text.to_owned());
        let (count, seconds) = text.split_once('/').ok_or_else(malformed)?;
        let count: u32 = count.trim().parse().map_err(|_| malformed())?;
        let seconds: u64 = seconds.trim().parse().map_err(|_| malformed())?;
        Self::new(count, Duration::from_secs(seconds)).map(Some)
    }

    /// The burst admitted from rest.
    pub fn count(self) -> u32 {
        self.count
    }

    /// The period over which `count` requests are admitted.
    pub fn period(self) -> Duration {
        self.period
    }

    /// The time one request takes to refill, in milliseconds: `period / count`, rounded up so
    /// that the rate is never exceeded.
    pub fn interval_millis(self) -> i64 {
        let period = i64::try_from(self.period.as_millis()).unwrap_or(i64::MAX);
        let count = i64::from(self.count);
        period / count + i64::from(period % count != 0)
    }

    /// How far past `now` a stored TAT may be for one more request to be admitted.
    fn tolerance_millis(self) -> i64 {
        self.interval_millis()
            .saturating_mul(i64::from(self.count - 1))
    }

    /// The latest stored TAT with which a request at `now` is still admitted.
    pub fn limit(self, now: Timestamp) -> Timestamp {
        Timestamp::from_millis(now.as_millis().saturating_add(self.tolerance_millis()))
    }

    /// Until when a bucket written at `now` matters: no write at `now` sets a TAT later than
    /// this, and a bucket whose TAT has passed is the same as none. The TTL of its item.
    pub fn keep_until(self, now: Timestamp) -> Timestamp {
        Timestamp::from_millis(
            now.as_millis()
                .saturating_add(self.interval_millis().saturating_mul(i64::from(self.count))),
        )
    }

    /// The write to try first at `now`, from the bucket's TAT as last seen (`None`: never seen,
    /// or forgotten). A TAT seen after `now` means the bucket is in use (it only grows); anything
    /// else is taken for rested.
    pub fn first_write(self, now: Timestamp, last_seen: Option<Timestamp>) -> BucketWrite {
        match last_seen {
            Some(tat) if tat > now => self.advance(now),
            _ => self.restart(now),
        }
    }

    /// What follows a write whose condition failed, from the TAT the store held then (`None`:
    /// no bucket).
    pub fn after_failed_write(self, now: Timestamp, stored: Option<Timestamp>) -> Next {
        match stored {
            None => Next::Write(self.restart(now)),
            Some(tat) if tat <= now => Next::Write(self.restart(now)),
            Some(tat) if tat <= self.limit(now) => Next::Write(self.advance(now)),
            Some(tat) => Next::Refused(RetryAfter::new(tat.since(self.limit(now)))),
        }
    }

    fn restart(self, now: Timestamp) -> BucketWrite {
        BucketWrite::Restart {
            rested_at: now,
            tat: Timestamp::from_millis(now.as_millis().saturating_add(self.interval_millis())),
        }
    }

    fn advance(self, now: Timestamp) -> BucketWrite {
        BucketWrite::Advance {
            from: now,
            limit: self.limit(now),
            by_millis: self.interval_millis(),
        }
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}s", self.count, self.period.as_secs_f64())
    }
}

/// One conditional write on a bucket; the request is admitted if and only if it succeeds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BucketWrite {
    /// A rested bucket starts again: if the stored TAT is absent or not after `rested_at`, it
    /// becomes `tat`.
    Restart {
        /// The instant of the request.
        rested_at: Timestamp,
        /// The new TAT, one interval later.
        tat: Timestamp,
    },
    /// A bucket in use takes one more request: if the stored TAT is between `from` and `limit`
    /// (both included), it grows by `by_millis`.
    Advance {
        /// The instant of the request.
        from: Timestamp,
        /// The latest TAT with which the request is admitted.
        limit: Timestamp,
        /// The interval.
        by_millis: i64,
    },
}

impl BucketWrite {
    /// What the store does: the new TAT when the condition holds on `stored`, `None` when it
    /// fails (and the store hands `stored` back).
    pub fn apply(self, stored: Option<Timestamp>) -> Option<Timestamp> {
        match (self, stored) {
            (Self::Restart { tat, .. }, None) => Some(tat),
            (Self::Restart { rested_at, tat }, Some(old)) => (old <= rested_at).then_some(tat),
            (Self::Advance { .. }, None) => None,
            (
                Self::Advance {
                    from,
                    limit,
                    by_millis,
                },
                Some(old),
            ) => (from <= old && old <= limit)
                .then(|| Timestamp::from_millis(old.as_millis().saturating_add(by_millis))),
        }
    }
}

/// What a request does after a failed write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Next {
    /// Try this write.
    Write(BucketWrite),
    /// The bucket is empty: refused, to be retried after the wait.
    Refused(RetryAfter),
}

/// The most writes one request needs: a failed guess, then the write that matches what the
/// failure showed, which either succeeds or shows a refusal (a TAT only grows, so it cannot show
/// a rested bucket after one in use).
pub const MAX_WRITES: usize = 2;

/// The key a source address is counted under: an IPv4 address whole, an IPv6 address by its
/// /64 (one subscriber's network, which hands its hosts any address inside it). An IPv4 address
/// mapped into IPv6 counts as the IPv4 address.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SourceKey(String);

impl SourceKey {
    /// The key of `address` (`203.0.113.7`, `2001:db8::1`), or `None` when it is not an IP
    /// address.
    pub fn of(address: &str) -> Option<Self> {
        let address = IpAddr::from_str(address.trim()).ok()?;
        Some(Self(match address.to_canonical() {
            IpAddr::V4(v4) => v4.to_string(),
            IpAddr::V6(v6) => {
                let network = u128::from(v6) & !u128::from(u64::MAX);
                format!("{}/64", std::net::Ipv6Addr::from(network))
            }
        }))
    }

    /// The one key of every request whose source address is missing or not an address.
    pub fn unknown() -> Self {
        Self("unknown".to_owned())
    }

    /// The key as written in the bucket's partition key.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SourceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn at(millis: i64) -> Timestamp {
        Timestamp::from_millis(millis)
    }

    fn rate(count: u32, seconds: u64) -> Rate {
        Rate::new(count, Duration::from_secs(seconds)).unwrap()
    }

    /// The textbook GCRA, with `max`: what the two writes must add up to.
    fn reference(rate: Rate, tat: Option<Timestamp>, now: Timestamp) -> Option<Timestamp> {
        let base = tat.map_or(now, |tat| tat.max(now));
        let next = at(base.as_millis() + rate.interval_millis());
        (base <= rate.limit(now)).then_some(next)
    }

    /// One request against a store holding `stored`, as the handler runs it: the guessed write,
    /// then what a failure says. The new stored TAT, and whether it was admitted.
    fn request(
        rate: Rate,
        stored: &mut Option<Timestamp>,
        now: Timestamp,
        last_seen: Option<Timestamp>,
    ) -> (bool, usize) {
        let mut write = rate.first_write(now, last_seen);
        for writes in 1..=MAX_WRITES {
            if let Some(tat) = write.apply(*stored) {
                *stored = Some(tat);
                return (true, writes);
            }
            match rate.after_failed_write(now, *stored) {
                Next::Write(next) => write = next,
                Next::Refused(_) => return (false, writes),
            }
        }
        panic!("more than {MAX_WRITES} writes");
    }

    /// The same by a caller that last saw what is stored.
    fn known(rate: Rate, stored: &mut Option<Timestamp>, now: Timestamp) -> (bool, usize) {
        let seen = *stored;
        request(rate, stored, now, seen)
    }

    #[test]
    fn settings_are_read() {
        assert_eq!(Rate::parse_setting("off"), Ok(None));
        assert_eq!(Rate::parse_setting(" OFF "), Ok(None));
        assert_eq!(Rate::parse_setting("30/300"), Ok(Some(rate(30, 300))));
        assert_eq!(Rate::parse_setting(" 5 / 2 "), Ok(Some(rate(5, 2))));
        assert_eq!(Rate::parse_setting("0/300"), Err(InvalidRate::Zero));
        assert_eq!(Rate::parse_setting("30/0"), Err(InvalidRate::Zero));
        for bad in ["", "30", "30/", "/300", "-1/300", "30/5m", "on"] {
            assert!(
                matches!(Rate::parse_setting(bad), Err(InvalidRate::Malformed(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn the_defaults_are_thirty_per_five_minutes_and_more_for_sessions() {
        for class in [RouteClass::Mail, RouteClass::Password, RouteClass::Link] {
            assert_eq!(class.default_rate(), rate(30, 300));
        }
        assert_eq!(RouteClass::Session.default_rate(), rate(150, 300));
        let names: Vec<_> = RouteClass::ALL.iter().map(|c| c.name()).collect();
        assert_eq!(names, ["mail", "password", "link", "session"]);
    }

    #[test]
    fn the_interval_is_rounded_up_so_the_rate_is_never_exceeded() {
        assert_eq!(rate(30, 300).interval_millis(), 10_000);
        assert_eq!(rate(5, 2).interval_millis(), 400);
        assert_eq!(rate(7, 1).interval_millis(), 143);
        assert_eq!(rate(3000, 1).interval_millis(), 1);
    }

    #[test]
    fn a_rested_bucket_admits_a_burst_of_count_then_refuses_with_the_wait() {
        let rate = rate(5, 2);
        let now = at(1_000_000);
        let mut stored = None;
        for _ in 0..5 {
            assert!(known(rate, &mut stored, now).0);
        }
        let (admitted, writes) = known(rate, &mut stored, now);
        assert!(!admitted);
        assert_eq!(
            writes, 1,
            "a refusal seen coming costs its one failed write"
        );
        match rate.after_failed_write(now, stored) {
            Next::Refused(wait) => assert_eq!(wait, RetryAfter::new(Duration::from_millis(400))),
            Next::Write(write) => panic!("{write:?}"),
        }
        // One interval later exactly one more is admitted.
        let later = at(now.as_millis() + 400);
        assert!(known(rate, &mut stored, later).0);
        assert!(!known(rate, &mut stored, later).0);
        // After the whole period the full burst is back.
        let rested = at(later.as_millis() + 2_000);
        for _ in 0..5 {
            assert!(known(rate, &mut stored, rested).0);
        }
        assert!(!known(rate, &mut stored, rested).0);
    }

    #[test]
    fn each_case_costs_the_writes_it_is_documented_to() {
        let rate = rate(5, 2);
        let now = at(10_000);
        // From rest, nothing known: one write.
        assert_eq!(request(rate, &mut None, now, None), (true, 1));
        // In use, known to be: one write.
        let mut stored = Some(at(10_400));
        assert_eq!(known(rate, &mut stored, now), (true, 1));
        // In use, not known (another instance used it): the guess fails, the advance succeeds.
        let mut stored = Some(at(10_400));
        assert_eq!(request(rate, &mut stored, now, None), (true, 2));
        // Rested, though last seen in use (time passed): one write.
        let mut stored = Some(at(10_400));
        assert_eq!(known(rate, &mut stored, at(20_000)), (true, 1));
        // Empty: one write, whatever was known.
        let mut stored = Some(at(12_000));
        assert_eq!(request(rate, &mut stored, now, None), (false, 1));
        assert_eq!(known(rate, &mut stored, now), (false, 1));
    }

    #[test]
    fn the_ttl_is_never_before_the_tat_a_write_sets() {
        let rate = rate(5, 2);
        let now = at(10_000);
        let mut stored = None;
        while known(rate, &mut stored, now).0 {}
        assert_eq!(stored, Some(rate.keep_until(now)));
    }

    #[test]
    fn source_keys_take_ipv4_whole_and_ipv6_by_its_64() {
        let key = |a: &str| SourceKey::of(a).map(|k| k.as_str().to_owned());
        assert_eq!(key("203.0.113.7").as_deref(), Some("203.0.113.7"));
        assert_eq!(key(" 127.0.0.2 ").as_deref(), Some("127.0.0.2"));
        assert_eq!(key("::ffff:203.0.113.7").as_deref(), Some("203.0.113.7"));
        assert_eq!(
            key("2001:db8:1:2:aaaa::1").as_deref(),
            Some("2001:db8:1:2::/64")
        );
        assert_eq!(
            key("2001:db8:1:2:ffff:ffff:ffff:ffff"),
            key("2001:DB8:1:2::7")
        );
        assert_ne!(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
        assert_eq!(key("::1").as_deref(), Some("::/64"));
        assert_eq!(key("not an address"), None);
        assert_eq!(SourceKey::unknown().as_str(), "unknown");
        assert_eq!(key(""), None);
    }

    proptest! {
        /// Whatever the bucket held and whatever the caller last saw of it, the two writes
        /// decide exactly as the textbook algorithm, in at most two writes.
        #[test]
        fn the_writes_decide_as_the_textbook_gcra(
            count in 1u32..50,
            seconds in 1u64..600,
            now in 1_000_000i64..2_000_000,
            stored in proptest::option::of(0i64..3_000_000),
            seen in proptest::option::of(0i64..3_000_000),
        ) {
            let rate = rate(count, seconds);
            let now = at(now);
            let stored = stored.map(at);
            // What a caller saw can only be older, so not later, than what is stored.
            let seen = seen.map(at).filter(|seen| stored.is_some_and(|s| *seen <= s));
            let mut after = stored;
            let (admitted, writes) = request(rate, &mut after, now, seen);
            let expected = reference(rate, stored, now);
            prop_assert_eq!(admitted, expected.is_some());
            prop_assert_eq!(after, expected.or(stored));
            prop_assert!(writes <= MAX_WRITES);
        }

        /// Parallel requests, their writes interleaved in any order, never overdraw: from rest
        /// exactly `count` of them are admitted.
        #[test]
        fn interleaved_requests_never_overdraw(
            count in 1u32..20,
            requests in 1usize..60,
            schedule in proptest::collection::vec(0usize..60, 0..400),
        ) {
            let rate = rate(count, 60);
            let now = at(5_000_000);
            let mut stored = None;
            // Each request: its pending write (None once decided) and its outcome.
            let mut pending: Vec<Option<BucketWrite>> =
                (0..requests).map(|_| Some(rate.first_write(now, None))).collect();
            let mut admitted = 0u32;
            let mut refused = 0u32;
            let order = schedule.into_iter().chain((0..requests).cycle().take(requests * 3));
            for pick in order {
                let index = pick % requests;
                let Some(write) = pending[index] else { continue };
                if let Some(tat) = write.apply(stored) {
                    stored = Some(tat);
                    admitted += 1;
                    pending[index] = None;
                    continue;
                }
                match rate.after_failed_write(now, stored) {
                    Next::Write(next) => pending[index] = Some(next),
                    Next::Refused(_) => {
                        refused += 1;
                        pending[index] = None;
                    }
                }
            }
            prop_assert!(pending.iter().all(Option::is_none));
            let expected = count.min(u32::try_from(requests).unwrap());
            prop_assert_eq!(admitted, expected);
            prop_assert_eq!(admitted + refused, u32::try_from(requests).unwrap());
        }

        /// Over any stretch of time, no more than `count` plus one per interval elapsed are
        /// admitted.
        #[test]
        fn no_window_admits_more_than_the_rate(
            count in 1u32..10,
            gaps in proptest::collection::vec(0i64..3_000, 1..200),
        ) {
            let rate = rate(count, 10);
            let mut now = at(1_000_000);
            let mut stored = None;
            let mut admitted_at = Vec::new();
            for gap in gaps {
                now = at(now.as_millis() + gap);
                if known(rate, &mut stored, now).0 {
                    admitted_at.push(now.as_millis());
                }
            }
            let interval = rate.interval_millis();
            for (i, start) in admitted_at.iter().enumerate() {
                for (k, end) in admitted_at[i..].iter().enumerate() {
                    let allowed = i64::from(count) + (end - start) / interval;
                    prop_assert!(i64::try_from(k + 1).unwrap() <= allowed);
                }
            }
        }
    }
}
