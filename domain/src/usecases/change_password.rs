//! Change password: the old password proves the caller, under the same throttle as a login
//! (admit with [`super::login::admit`] first); the new one replaces it, pending reset links die,
//! and the owner is told.

use super::{Decision, Settings, next_version, notice_if_allowed};
use crate::random::{Randomness, RandomnessUnavailable};
use crate::{LoginThrottle, MailKind, PasswordCheck, StoredPassword, Timestamp, User};

/// The answer, in the original's terms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChangeAnswer {
    /// `{"changed": true}`.
    Changed,
    /// `{"changed": false}`: wrong old password, unknown address or unverified account.
    NotChanged,
}

/// Concludes a change on `user` (already admitted) from the check of the old password.
pub fn conclude(
    user: &User,
    old_password: PasswordCheck,
    new_password: StoredPassword,
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
    after.sessions.end_all_and_forget_devices();
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
            now().plus(Duration::from_mins(10)),
            &settings(),
            &mut rng(),
        )
        .unwrap();
        let change = decision.change.unwrap();
        assert_eq!(change.write.user().password, other_password());
        assert_eq!(change.mail, None);
    }
}
