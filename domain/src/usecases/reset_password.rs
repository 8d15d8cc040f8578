//! Reset password: a valid reset token, used once within its hour, sets a new password, and the
//! device it was set from becomes a known device (a fresh browser that just reset cannot be
//! held out by a stranger's failures).

use super::{Decision, Settings, compose, next_version};
use crate::random::{Randomness, RandomnessUnavailable};
use crate::{LoginThrottle, MailKind, StoredPassword, Timestamp, Token, User};

/// The answer, in the original's terms.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ResetAnswer {
    /// `{"changed": true}`, with the device token of the device the reset came from.
    Changed {
        /// The device's new token: it counts its own failed logins, as a login's does.
        device_token: Token,
    },
    /// `{"changed": false}`: the token is wrong, used or expired, or the address unknown.
    NotChanged,
}

/// Decides a reset of the user `existing` (if any) with `token` and the hash of the new password.
///
/// A reset proves control of the mailbox, so it also verifies an unverified account; and it
/// clears the failure count, so a locked-out owner is let back in. The owner is always told,
/// whatever the cooldown of notices (the settings play no part beyond the token's own expiry).
pub fn reset_password(
    existing: Option<&User>,
    token: &Token,
    new_password: StoredPassword,
    now: Timestamp,
    _settings: &Settings,
    rng: &mut impl Randomness,
) -> Result<Decision<ResetAnswer>, RandomnessUnavailable> {
    let Some(user) = existing else {
        return Ok(Decision::answer(ResetAnswer::NotChanged));
    };
    if !user
        .reset
        .is_some_and(|pending| pending.accepts(token, now))
    {
        return Ok(Decision::answer(ResetAnswer::NotChanged));
    }
    let mut after = next_version(user, now);
    after.password = new_password;
    after.reset = None;
    after.sessions.end_all_and_forget_devices();
    let device_token = after.sessions.remember_new_device(now, rng)?;
    after.verified = true;
    after.pending_signups.clear();
    after.throttle = LoginThrottle::default();
    // Always told, whatever an earlier change's notice left in the cooldown: a reset needs a
    // link from the owner's mailbox, so these notices cannot be used to flood it.
    let notice = compose(&mut after, MailKind::PasswordChanged, None, now, rng)?;
    Ok(Decision::update(
        ResetAnswer::Changed { device_token },
        user,
        after,
        Some(notice),
    ))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::usecases::testing::*;

    fn with_reset() -> (User, Token) {
        let (token, pending) = token(11, Duration::from_hours(1));
        let mut user = verified_user();
        user.reset = Some(pending);
        user.throttle = LoginThrottle {
            failures: 9,
            last_failure_at: Some(now()),
            locked_until: Some(now().plus(Duration::from_secs(16))),
        };
        (user, token)
    }

    #[test]
    fn a_valid_token_sets_the_password_once_and_sends_a_notice() {
        let (user, token) = with_reset();
        let decision = reset_password(
            Some(&user),
            &token,
            other_password(),
            now(),
            &settings(),
            &mut rng(),
        )
        .unwrap();
        let ResetAnswer::Changed { device_token } = &decision.answer else {
            panic!("{:?}", decision.answer);
        };
        let change = decision.change.unwrap();
        let after = change.write.user().clone();
        assert_eq!(after.password, other_password());
        // The resetting device is the one device known, its token handed out.
        assert_eq!(after.sessions.devices.len(), 1);
        assert_eq!(after.sessions.devices[0].hash, device_token.hash());
        assert_eq!(after.reset, None);
        assert!(after.throttle.is_clear());
        assert_eq!(change.mail.unwrap().kind, MailKind::PasswordChanged);
        // Single use.
        let again = reset_password(
            Some(&after),
            &token,
            stored_password(),
            now(),
            &settings(),
            &mut rng(),
        )
        .unwrap();
        assert_eq!(again.answer, ResetAnswer::NotChanged);
        assert_eq!(again.change, None);
    }

    #[test]
    fn an_expired_token_after_one_hour_is_refused() {
        let (user, token) = with_reset();
        let late = now().plus(Duration::from_hours(1));
        let decision = reset_password(
            Some(&user),
            &token,
            other_password(),
            late,
            &settings(),
            &mut rng(),
        )
        .unwrap();
        assert_eq!(decision.answer, ResetAnswer::NotChanged);
    }

    #[test]
    fn a_wrong_token_or_unknown_address_is_refused() {
        let (user, _) = with_reset();
        let (wrong, _) = token(12, Duration::from_hours(1));
        let decision = reset_password(
            Some(&user),
            &wrong,
            other_password(),
            now(),
            &settings(),
            &mut rng(),
        )
        .unwrap();
        assert_eq!(decision.answer, ResetAnswer::NotChanged);
        let unknown = reset_password(
            None,
            &wrong,
            other_password(),
            now(),
            &settings(),
            &mut rng(),
        )
        .unwrap();
        assert_eq!(unknown.answer, ResetAnswer::NotChanged);
    }

    #[test]
    fn a_reset_is_always_told_even_right_after_a_change_was() {
        let (mut user, token) = with_reset();
        // A password change's notice went out a minute ago: its cooldown holds for an hour.
        user.mail_log.record(
            MailKind::PasswordChanged,
            now().plus(Duration::from_secs(1)),
        );
        let at = now().plus(Duration::from_mins(1));
        let decision = reset_password(
            Some(&user),
            &token,
            other_password(),
            at,
            &settings(),
            &mut rng(),
        )
        .unwrap();
        assert!(matches!(decision.answer, ResetAnswer::Changed { .. }));
        let mail = decision
            .change
            .unwrap()
            .mail
            .expect("the owner hears of the reset");
        assert_eq!(mail.kind, MailKind::PasswordChanged);
    }

    #[test]
    fn a_reset_verifies_an_unverified_account() {
        let (mut user, token) = with_reset();
        user.verified = false;
        let decision = reset_password(
            Some(&user),
            &token,
            other_password(),
            now(),
            &settings(),
            &mut rng(),
        )
        .unwrap();
        assert!(decision.change.unwrap().write.user().verified);
    }
}
