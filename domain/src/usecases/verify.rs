//! Verification: a valid, unexpired verification token marks its address verified, once, and
//! makes the password of the signup it was mailed for the account's.

use super::{Decision, Settings, next_version};
use crate::{Timestamp, Token, User};

/// The answer, in the original's terms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VerifyAnswer {
    /// `{"verified": true}`.
    Verified,
    /// `{"verified": false}`: the token is wrong, used or expired, or the address unknown.
    NotVerified,
}

/// Decides a verification of the user `existing` (if any) with `token`.
///
/// When existence errors are not prevented, an already verified address answers `Verified`
/// whatever the token, as the original did; otherwise that would tell a stranger the address is
/// registered, so only a valid token answers `Verified`.
pub fn verify(
    existing: Option<&User>,
    token: &Token,
    now: Timestamp,
    settings: &Settings,
) -> Decision<VerifyAnswer> {
    let Some(user) = existing else {
        return Decision::answer(VerifyAnswer::NotVerified);
    };
    if user.verified {
        return Decision::answer(if settings.prevent_user_existence_errors {
            VerifyAnswer::NotVerified
        } else {
            VerifyAnswer::Verified
        });
    }
    let Some(signup) = user
        .pending_signups
        .iter()
        .find(|signup| signup.token.accepts(token, now))
    else {
        return Decision::answer(VerifyAnswer::NotVerified);
    };
    let mut after = next_version(user, now);
    after.password = signup.password.clone();
    after.verified = true;
    after.pending_signups.clear();
    Decision::update(VerifyAnswer::Verified, user, after, None)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::PendingSignup;
    use crate::usecases::testing::*;

    fn unverified_with_token() -> (User, Token) {
        let (token, pending) = token(5, Duration::from_hours(24));
        let user = User {
            verified: false,
            pending_signups: vec![PendingSignup {
                token: pending,
                password: stored_password(),
            }],
            ..verified_user()
        };
        (user, token)
    }

    #[test]
    fn the_right_token_verifies_and_is_consumed() {
        let (user, token) = unverified_with_token();
        let decision = verify(Some(&user), &token, now(), &settings());
        assert_eq!(decision.answer, VerifyAnswer::Verified);
        let after = decision.change.unwrap().write.user().clone();
        assert!(after.verified);
        assert!(after.pending_signups.is_empty());
        assert_eq!(after.version, user.version + 1);
        // Used once, it no longer verifies.
        let again = verify(Some(&after), &token, now(), &settings());
        assert_eq!(again.answer, VerifyAnswer::NotVerified);
        assert_eq!(again.change, None);
    }

    /// The takeover before signup: a stranger signs the address up with their password, then
    /// the owner signs up with theirs. Only the link of a signup sets its password, and
    /// verifying one discards the others.
    #[test]
    fn verifying_applies_the_password_of_the_signup_whose_link_it_is() {
        let (attackers_token, attackers) = token(5, Duration::from_hours(24));
        let (owners_token, owners) = token(6, Duration::from_hours(24));
        let user = User {
            verified: false,
            password: other_password(),
            pending_signups: vec![
                PendingSignup {
                    token: attackers,
                    password: other_password(),
                },
                PendingSignup {
                    token: owners,
                    password: stored_password(),
                },
            ],
            ..verified_user()
        };
        let decision = verify(Some(&user), &owners_token, now(), &settings());
        assert_eq!(decision.answer, VerifyAnswer::Verified);
        let after = decision.change.unwrap().write.user().clone();
        assert_eq!(after.password, stored_password(), "the owner's password");
        assert!(after.pending_signups.is_empty());
        let late = verify(Some(&after), &attackers_token, now(), &settings());
        assert_eq!(late.answer, VerifyAnswer::NotVerified);
        assert_eq!(late.change, None);
    }

    #[test]
    fn a_wrong_or_expired_token_does_not_verify() {
        let (user, token) = unverified_with_token();
        let (wrong, _) = super::super::testing::token(99, Duration::from_mins(1));
        assert_eq!(
            verify(Some(&user), &wrong, now(), &settings()).answer,
            VerifyAnswer::NotVerified
        );
        let expired = now().plus(Duration::from_hours(24));
        let decision = verify(Some(&user), &token, expired, &settings());
        assert_eq!(decision.answer, VerifyAnswer::NotVerified);
        assert_eq!(decision.change, None);
    }

    #[test]
    fn an_unknown_address_does_not_verify() {
        let (_, token) = unverified_with_token();
        assert_eq!(
            verify(None, &token, now(), &settings()).answer,
            VerifyAnswer::NotVerified
        );
    }

    #[test]
    fn an_already_verified_address_answers_like_the_original_only_without_prevention() {
        let (_, token) = unverified_with_token();
        let user = verified_user();
        assert_eq!(
            verify(Some(&user), &token, now(), &settings()).answer,
            VerifyAnswer::NotVerified
        );
        assert_eq!(
            verify(Some(&user), &token, now(), &seed_settings()).answer,
            VerifyAnswer::Verified
        );
    }
}
