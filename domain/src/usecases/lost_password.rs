//! Lost password: a reset link to a known address, at most one a minute; the answer does not
//! tell whether the address is known (when existence errors are prevented).

use super::{Decision, Settings, compose, issue_link, next_version};
use crate::random::{Randomness, RandomnessUnavailable};
use crate::{MailKind, RetryAfter, Timestamp, User};

/// The answer, in the original's terms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LostAnswer {
    /// `{"sent": true}`.
    Sent,
    /// `{"sent": false}`: unknown address (only when existence errors are not prevented).
    NotSent,
    /// A reset mail went out less than a cooldown ago (only when existence errors are not
    /// prevented; otherwise the answer is `Sent`).
    TooSoon(RetryAfter),
}

/// Decides a lost-password request for the user `existing` (if any).
///
/// A new link replaces any pending one, so only the newest mailed link works.
pub fn lost_password(
    existing: Option<&User>,
    now: Timestamp,
    settings: &Settings,
    rng: &mut impl Randomness,
) -> Result<Decision<LostAnswer>, RandomnessUnavailable> {
    let prevent = settings.prevent_user_existence_errors;
    let Some(user) = existing else {
        return Ok(Decision::answer(if prevent {
            LostAnswer::Sent
        } else {
            LostAnswer::NotSent
        }));
    };
    if let Err(wait) = user
        .mail_log
        .may_send(MailKind::PasswordReset, now, &settings.cooldowns)
    {
        return Ok(Decision::answer(if prevent {
            LostAnswer::Sent
        } else {
            LostAnswer::TooSoon(wait)
        }));
    }
    let mut after = next_version(user, now);
    let (pending, link) = issue_link(rng, now, settings.reset_ttl)?;
    after.reset = Some(pending);
    let mail = compose(&mut after, MailKind::PasswordReset, Some(link), now, rng)?;
    Ok(Decision::update(LostAnswer::Sent, user, after, Some(mail)))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::usecases::testing::*;

    #[test]
    fn a_known_address_gets_a_reset_link_valid_for_an_hour() {
        let user = verified_user();
        let decision = lost_password(Some(&user), now(), &settings(), &mut rng()).unwrap();
        assert_eq!(decision.answer, LostAnswer::Sent);
        let change = decision.change.unwrap();
        let pending = change.write.user().reset.unwrap();
        assert_eq!(pending.expires_at, now().plus(Duration::from_hours(1)));
        let mail = change.mail.unwrap();
        assert_eq!(mail.kind, MailKind::PasswordReset);
        assert!(pending.accepts(&mail.link.unwrap().token, now()));
    }

    #[test]
    fn an_unknown_address_answers_sent_unless_prevention_is_off() {
        let decision = lost_password(None, now(), &settings(), &mut rng()).unwrap();
        assert_eq!(decision.answer, LostAnswer::Sent);
        assert_eq!(decision.change, None);
        assert_eq!(
            lost_password(None, now(), &seed_settings(), &mut rng())
                .unwrap()
                .answer,
            LostAnswer::NotSent
        );
    }

    #[test]
    fn a_second_request_within_a_minute_sends_nothing() {
        let mut user = verified_user();
        user.mail_log.record(MailKind::PasswordReset, now());
        let soon = now().plus(Duration::from_secs(30));
        let decision = lost_password(Some(&user), soon, &settings(), &mut rng()).unwrap();
        assert_eq!(decision.answer, LostAnswer::Sent);
        assert_eq!(decision.change, None);
        let seed = lost_password(Some(&user), soon, &seed_settings(), &mut rng()).unwrap();
        assert_eq!(
            seed.answer,
            LostAnswer::TooSoon(RetryAfter::new(Duration::from_secs(30)))
        );
    }

    #[test]
    fn a_reset_right_after_a_password_change_notice_still_goes_out() {
        let mut user = verified_user();
        user.mail_log.record(MailKind::PasswordChanged, now());
        let decision = lost_password(Some(&user), now(), &settings(), &mut rng()).unwrap();
        assert!(decision.change.unwrap().mail.is_some());
    }
}
