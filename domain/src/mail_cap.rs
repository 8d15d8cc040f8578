//! The global cap on outgoing mail: at most so many mails of each kind per window (an hour by
//! default), over all recipients and all instances. It protects the SES account's reputation and
//! quota from a flood that per-source limits did not catch (many sources, or a bug). A mail over
//! the cap is never dropped: it waits for the next window, and the wait is spread over the start
//! of that window so the deferred mails do not all come back in the same second.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::{MailKind, Timestamp};

/// How many mails of each kind may go out per window.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MailCap {
    /// The window's length (an hour by default).
    pub window: Duration,
    /// The cap of each kind; a kind not listed has no cap.
    pub per_kind: BTreeMap<MailKind, u32>,
}

/// The default cap of each kind per hour: far above what a healthy service of this kind sends,
/// far below what a flood would.
pub const DEFAULT_CAP_PER_HOUR: u32 = 1_000;

impl Default for MailCap {
    fn default() -> Self {
        Self::uniform(Duration::from_hours(1), DEFAULT_CAP_PER_HOUR)
    }
}

/// How long before its link expires a mail waiting under the cap is sent anyway, so that the
/// link still works when it arrives.
pub const LINK_MARGIN: Duration = Duration::from_mins(5);

/// What becomes of a mail over the cap.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OverCap {
    /// It waits, to be tried again at this instant.
    WaitUntil(Timestamp),
    /// Its link would be of no use after another wait: it is sent now, over the cap.
    SendNow,
}

fn at_least_one(number: u32) -> Result<u32, InvalidMailCap> {
    if number == 0 {
        Err(InvalidMailCap(
            "a cap of 0 would hold that mail for ever; write `off` for no cap".to_owned(),
        ))
    } else {
        Ok(number)
    }
}

/// Why a cap setting does not read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidMailCap(String);

impl MailCap {
    /// The same cap `per_window` for every kind.
    pub fn uniform(window: Duration, per_window: u32) -> Self {
        Self {
            window,
            per_kind: MailKind::ALL
                .into_iter()
                .map(|kind| (kind, per_window))
                .collect(),
        }
    }

    /// Reads a cap setting over `window`: one number for every kind (`1000`), or kinds by name
    /// with a number each (`verification=500,password-reset=1000`; the kinds not named keep
    /// `default`), or `off` for no cap.
    pub fn parse(text: &str, window: Duration, default: u32) -> Result<Self, InvalidMailCap> {
        if window.is_zero() {
            return Err(InvalidMailCap(
                "the window must be at least one second".to_owned(),
            ));
        }
        let text = text.trim();
        if text.eq_ignore_ascii_case("off") {
            return Ok(Self {
                window,
                per_kind: BTreeMap::new(),
            });
        }
        if let Ok(number) = text.parse::<u32>() {
            return Ok(Self::uniform(window, at_least_one(number)?));
        }
        let mut cap = Self::uniform(window, default);
        for pair in text
            .split(',')
            .map(str::trim)
            .filter(|pair| !pair.is_empty())
        {
            let (name, number) = pair
                .split_once('=')
                .ok_or_else(|| InvalidMailCap(format!("`{pair}` is not `kind=number`")))?;
            let kind = MailKind::parse(name.trim()).ok_or_else(|| {
                InvalidMailCap(format!(
                    "`{}` is not a kind of mail (one of {})",
                    name.trim(),
                    MailKind::ALL.map(MailKind::as_str).join(", ")
                ))
            })?;
            let number = number
                .trim()
                .parse::<u32>()
                .map_err(|_| InvalidMailCap(format!("`{}` is not a number", number.trim())))?;
            cap.per_kind.insert(kind, at_least_one(number)?);
        }
        Ok(cap)
    }

    /// The cap of `kind` per window; `None` when it has none.
    pub fn of(&self, kind: MailKind) -> Option<u32> {
        self.per_kind.get(&kind).copied()
    }

    /// The start of the window `now` falls in (windows are aligned on the epoch, so every
    /// instance counts in the same one).
    pub fn window_start(&self, now: Timestamp) -> Timestamp {
        let length = self.window_millis();
        Timestamp::from_millis(now.as_millis().div_euclid(length) * length)
    }

    /// When the counter of the window starting at `start` may be forgotten: a window after it ends.
    pub fn counter_expiry(&self, start: Timestamp) -> Timestamp {
        start.plus(self.window * 2)
    }

    /// What becomes of a mail over the cap at `now` whose link (if it has one) expires at
    /// `link_expires_at`: it waits for the next window (see [`MailCap::deferral`]), but never so
    /// long that its link is of no use when it arrives. A link mail waits at most until
    /// [`LINK_MARGIN`] before its link expires, and is then sent over the cap: the cap delays
    /// mail, it never loses it.
    pub fn over_cap(
        &self,
        now: Timestamp,
        link_expires_at: Option<Timestamp>,
        random: u32,
    ) -> OverCap {
        let next_try = now.plus(self.deferral(now, random));
        let Some(expires_at) = link_expires_at else {
            return OverCap::WaitUntil(next_try);
        };
        let last_useful = Timestamp::from_millis(
            expires_at
                .as_millis()
                .saturating_sub(i64::try_from(LINK_MARGIN.as_millis()).unwrap_or(i64::MAX)),
        );
        if next_try <= last_useful {
            OverCap::WaitUntil(next_try)
        } else if now < last_useful {
            OverCap::WaitUntil(last_useful)
        } else {
            OverCap::SendNow
        }
    }

    /// How long a mail over the cap at `now` waits: until the next window starts, plus a spread
    /// over that window's first tenth (at most a minute) that `random` picks, so a backlog comes
    /// back spread out rather than at once.
    pub fn deferral(&self, now: Timestamp, random: u32) -> Duration {
        let next = self.window_start(now).plus(self.window);
        let spread = (self.window / 10).min(Duration::from_mins(1));
        let spread_millis = u64::try_from(spread.as_millis()).unwrap_or(0);
        let offset = if spread_millis == 0 {
            0
        } else {
            u64::from(random) % spread_millis
        };
        // At least a second: SQS counts delays in whole seconds.
        (next.since(now) + Duration::from_millis(offset)).max(Duration::from_secs(1))
    }

    fn window_millis(&self) -> i64 {
        i64::try_from(self.window.as_millis())
            .unwrap_or(i64::MAX)
            .max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: Duration = Duration::from_hours(1);

    #[test]
    fn one_number_caps_every_kind() {
        let cap = MailCap::parse("250", HOUR, DEFAULT_CAP_PER_HOUR).unwrap();
        for kind in MailKind::ALL {
            assert_eq!(cap.of(kind), Some(250));
        }
    }

    #[test]
    fn kinds_by_name_keep_the_default_for_the_others() {
        let cap = MailCap::parse(
            "verification=10, password-reset=20",
            HOUR,
            DEFAULT_CAP_PER_HOUR,
        )
        .unwrap();
        assert_eq!(cap.of(MailKind::Verification), Some(10));
        assert_eq!(cap.of(MailKind::PasswordReset), Some(20));
        assert_eq!(
            cap.of(MailKind::PasswordChanged),
            Some(DEFAULT_CAP_PER_HOUR)
        );
    }

    #[test]
    fn off_caps_nothing() {
        let cap = MailCap::parse("off", HOUR, DEFAULT_CAP_PER_HOUR).unwrap();
        assert_eq!(cap.of(MailKind::Verification), None);
    }

    #[test]
    fn a_setting_that_does_not_read_is_refused_with_its_reason() {
        for bad in [
            "spam=3",
            "verification",
            "verification=lots",
            "-1",
            "0",
            "password-reset=1,verification=0",
        ] {
            assert!(
                MailCap::parse(bad, HOUR, DEFAULT_CAP_PER_HOUR).is_err(),
                "{bad} was accepted"
            );
        }
        assert!(MailCap::parse("5", Duration::ZERO, 5).is_err());
    }

    #[test]
    fn windows_are_aligned_so_every_instance_counts_in_the_same_one() {
        let cap = MailCap::default();
        let now = Timestamp::from_millis(7_200_000 + 1_234_567);
        assert_eq!(cap.window_start(now), Timestamp::from_millis(7_200_000));
        assert_eq!(
            cap.counter_expiry(cap.window_start(now)),
            Timestamp::from_millis(7_200_000 + 7_200_000)
        );
    }

    #[test]
    fn a_deferred_mail_waits_into_the_next_window_spread_over_its_start() {
        let cap = MailCap::uniform(Duration::from_secs(10), 3);
        let now = Timestamp::from_millis(1_000_000 + 7_500);
        for random in [0, 1, 999, 123_456, u32::MAX] {
            let wait = cap.deferral(now, random);
            let back = now.plus(wait);
            assert!(back >= Timestamp::from_millis(1_010_000), "{wait:?}");
            assert!(back < Timestamp::from_millis(1_011_000), "{wait:?}");
        }
    }

    #[test]
    fn a_mail_without_a_link_waits_for_the_next_window_however_long() {
        let cap = MailCap::default();
        let now = Timestamp::from_millis(3_600_000 * 10 + 60_000);
        let OverCap::WaitUntil(at) = cap.over_cap(now, None, 7) else {
            panic!("a notice is never sent over the cap");
        };
        assert!(at >= Timestamp::from_millis(3_600_000 * 11));
    }

    #[test]
    fn a_link_mail_waits_no_longer_than_its_link_stays_useful_and_is_then_sent() {
        let cap = MailCap::default();
        let now = Timestamp::from_millis(3_600_000 * 10 + 60_000);
        // The link outlives the wait: it waits for the next window.
        let far = now.plus(Duration::from_hours(24));
        assert!(
            matches!(cap.over_cap(now, Some(far), 7), OverCap::WaitUntil(at) if at >= Timestamp::from_millis(3_600_000 * 11))
        );
        // A reset link of an hour: it waits until five minutes before it expires…
        let soon = now.plus(Duration::from_hours(1));
        assert_eq!(
            cap.over_cap(now, Some(soon), 7),
            OverCap::WaitUntil(Timestamp::from_millis(soon.as_millis() - 300_000))
        );
        // …and is sent then, over the cap, rather than arrive useless.
        let then = Timestamp::from_millis(soon.as_millis() - 300_000);
        assert_eq!(cap.over_cap(then, Some(soon), 7), OverCap::SendNow);
        // A link already about to expire goes at once.
        assert_eq!(
            cap.over_cap(now, Some(now.plus(Duration::from_mins(2))), 7),
            OverCap::SendNow
        );
    }

    #[test]
    fn a_deferral_is_never_shorter_than_a_second() {
        let cap = MailCap::uniform(Duration::from_secs(1), 1);
        let now = Timestamp::from_millis(999);
        assert!(cap.deferral(now, 0) >= Duration::from_secs(1));
    }
}
