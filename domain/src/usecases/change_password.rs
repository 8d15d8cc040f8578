//! Change password: the old password proves the caller, under the same throttle as a login
//! (admit with [`super::login::admit_from`] first, from the caller's device when it names a
//! known one); the new one replaces it, pending reset links die, every session ends and every
//! device but the caller's is forgotten, and the owner is told.

use super::{Decision, Settings, next_version, notice_if_allowed};
use crate::random::{Randomness, RandomnessUnavailable};
use crate::{LoginThrottle, MailKind, PasswordCheck, StoredPassword, Timestamp, TokenHash, User};

/// The answer, in the original's terms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChangeAnswer {
    /// `{"changed": true}`.
    Changed,
    /// `{"changed": false}`: wrong old password, unknown address or unverified account.
    NotChanged,
}

/// Concludes a change on `user` (already admitted, from the device whose token hashes to
/// `device` when one was named) from the check of the old password. A known device that made
/// the change stays known, its failures forgiven: the owner who just proved the password keeps
/// the device that no stranger's failures can lock.
pub fn conclude(
    user: &User,
    old_password: PasswordCheck,
    new_password: StoredPassword,
    device: Option<&TokenHash>,
    now: Timestamp,
    settings: &Settings,
    rng: &mut impl Randomness,
) -> Result<Decision<ChangeAnswer>, RandomnessUnavailable> {
    if !old_password.matched() || !user.verified {
        return Ok(Decision::answer(ChangeAnswer::NotChanged));
    }
    let mut after = next_version(user, now);
    after.password = new_password;
    after.reset = None;
    after.sessions.end_all_and_forget_devices_but(device, now);
    after.throttle = LoginThrottle::default();
    let notice = notice_if_allowed(&mut after, MailKind::PasswordChanged, now, settings, rng)?;
    Ok(Decision::update(ChangeAnswer::Changed, user, after, notice))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::usecases::login::admit;
    use crate::usecases::testing::*;

    fn admitted_with_pending_reset() -> User {
        let (_, pending) = token(3, Duration::from_hours(1));
        let user = User {
            reset: Some(pending),
            ..verified_user()
        };
        admit(&user, now(), &settings()).unwrap()
    }

    #[test]
    fn the_right_old_password_changes_it_clears_resets_and_sends_a_notice() {
        let user = admitted_with_pending_reset();
        let decision = conclude(
            &user,
            PasswordCheck::Match,
            other_password(),
            None,
            now(),
            &settings(),
            &mut rng(),
        )
        .unwrap();
        assert_eq!(decision.answer, ChangeAnswer::Changed);
        let change = decision.change.unwrap();
        let after = change.write.user();
        assert_eq!(after.password, other_password());
        assert_eq!(after.reset, None);
        assert!(after.throttle.is_clear());
        let mail = change.mail.unwrap();
        assert_eq!(mail.kind, MailKind::PasswordChanged);
        assert!(mail.link.is_none());
    }

    #[test]
    fn a_wrong_old_password_changes_nothing() {
        let user = admitted_with_pending_reset();
        let decision = conclude(
            &user,
            PasswordCheck::Mismatch,
            other_password(),
            None,
            now(),
            &settings(),
            &mut rng(),
        )
        .unwrap();
        assert_eq!(decision.answer, ChangeAnswer::NotChanged);
        assert_eq!(decision.change, None);
    }

    #[test]
    fn an_unverified_account_cannot_change_its_password() {
        let mut user = admitted_with_pending_reset();
        user.verified = false;
        let decision = conclude(
            &user,
            PasswordCheck::Match,
            other_password(),
            None,
            now(),
            &settings(),
            &mut rng(),
        )
        .unwrap();
        assert_eq!(decision.answer, ChangeAnswer::NotChanged);
    }

    #[test]
    fn a_second_change_within_the_hour_changes_without_a_second_notice() {
        let mut user = admitted_with_pending_reset();
        user.mail_log.record(MailKind::PasswordChanged, now());
        let decision = conclude(
            &user,
            PasswordCheck::Match,
            other_password(),
            None,
            now().plus(Duration::from_mins(10)),
            &settings(),
            &mut rng(),
        )
        .unwrap();
        let change = decision.change.unwrap();
        assert_eq!(change.write.user().password, other_password());
        assert_eq!(change.mail, None);
    }

    #[test]
    fn the_known_device_that_changed_the_password_stays_known_and_no_other() {
        let mut user = admitted_with_pending_reset();
        let (mine, _) = token(21, Duration::from_hours(24 * 30));
        let (theirs, _) = token(22, Duration::from_hours(24 * 30));
        for hash in [mine.hash(), theirs.hash()] {
            user.sessions.devices.push(crate::KnownDevice {
                hash,
                throttle: LoginThrottle {
                    failures: 3,
                    last_failure_at: Some(now()),
                    locked_until: None,
                },
                last_login_at: now(),
            });
        }
        let later = now().plus(Duration::from_mins(1));
        let decision = conclude(
            &user,
            PasswordCheck::Match,
            other_password(),
            Some(&mine.hash()),
            later,
            &settings(),
            &mut rng(),
        )
        .unwrap();
        let change = decision.change.unwrap();
        let devices = &change.write.user().sessions.devices;
        assert_eq!(devices.len(), 1);
        assert_eq!(devices[0].hash, mine.hash());
        assert!(devices[0].throttle.is_clear());
        assert_eq!(devices[0].last_login_at, later);
        assert!(change.write.user().sessions.generation > user.sessions.generation);
        // From an unknown device, every device is forgotten.
        let decision = conclude(
            &user,
            PasswordCheck::Match,
            other_password(),
            Some(&token(23, Duration::from_hours(24)).0.hash()),
            later,
            &settings(),
            &mut rng(),
        )
        .unwrap();
        assert!(
            decision
                .change
                .unwrap()
                .write
                .user()
                .sessions
                .devices
                .is_empty()
        );
    }
}
