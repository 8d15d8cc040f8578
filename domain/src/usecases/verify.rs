//! Verification: a valid, unexpired verification token marks its address verified, once, and
//! makes the password of the signup it was mailed for the account's.

use super::{Decision, Settings, next_version};
use crate::{PasswordCheck, StoredPassword, Timestamp, Token, User};

/// The answer, in the original's terms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VerifyAnswer {
    /// `{"verified": true}`.
    Verified,
    /// `{"verified": false}`: the token is wrong, used or expired, or the address unknown.
    NotVerified,
    /// `{"verified": false}`: the address was signed up more than once, so the link verifies
    /// only with the password of the signup it was mailed for, which was not given.
    PasswordRequired,
    /// `{"verified": false}`: the password given is not the one of the link's signup.
    WrongPassword,
}

/// A password given with a verification, checked against the hash of the signup the link was
/// mailed for (the handler checks it off the executor before deciding).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckedSignupPassword {
    /// The signup password the attempt was checked against.
    pub against: StoredPassword,
    /// Whether it matched.
    pub check: PasswordCheck,
}

/// Decides a verification of the user `existing` (if any) with `token`.
///
/// When existence errors are not prevented, an already verified address answers `Verified`
/// whatever the token, as the original did; otherwise that would tell a stranger the address is
/// registered, so only a valid token answers `Verified`.
pub fn verify(
    existing: Option<&User>,
    token: &Token,
    password: Option<&CheckedSignupPassword>,
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
    let Some(signup) = user.signup_for(token, now) else {
        return Decision::answer(VerifyAnswer::NotVerified);
    };
    match password {
        None if user.contested => return Decision::answer(VerifyAnswer::PasswordRequired),
        None => {}
        Some(checked) if checked.against == signup.password && checked.check.matched() => {}
        Some(_) => return Decision::answer(VerifyAnswer::WrongPassword),
    }
    let mut after = next_version(user, now);
    after.password = signup.password.clone();
    after.verified = true;
    after.pending_signups.clear();
    after.contested = false;
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
        let decision = verify(Some(&user), &token, None, now(), &settings());
        assert_eq!(decision.answer, VerifyAnswer::Verified);
        let after = decision.change.unwrap().write.user().clone();
        assert!(after.verified);
        assert!(after.pending_signups.is_empty());
        assert_eq!(after.version, user.version + 1);
        // Used once, it no longer verifies.
        let again = verify(Some(&after), &token, None, now(), &settings());
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
        let decision = verify(Some(&user), &owners_token, None, now(), &settings());
        assert_eq!(decision.answer, VerifyAnswer::Verified);
        let after = decision.change.unwrap().write.user().clone();
        assert_eq!(after.password, stored_password(), "the owner's password");
        assert!(after.pending_signups.is_empty());
        let late = verify(Some(&after), &attackers_token, None, now(), &settings());
        assert_eq!(late.answer, VerifyAnswer::NotVerified);
        assert_eq!(late.change, None);
    }

    /// A stranger signed the address up first and the owner's own signup came inside the
    /// cooldown: the owner follows the stranger's link. It does not verify without, or with
    /// another, password than the stranger's signup's.
    #[test]
    fn a_contested_address_verifies_only_with_the_password_of_the_links_signup() {
        let (token, pending) = token(5, Duration::from_hours(24));
        let user = User {
            verified: false,
            password: other_password(),
            pending_signups: vec![PendingSignup {
                token: pending,
                password: other_password(),
            }],
            contested: true,
            ..verified_user()
        };
        let without = verify(Some(&user), &token, None, now(), &settings());
        assert_eq!(without.answer, VerifyAnswer::PasswordRequired);
        assert_eq!(without.change, None);
        let owners = CheckedSignupPassword {
            against: other_password(),
            check: PasswordCheck::Mismatch,
        };
        let wrong = verify(Some(&user), &token, Some(&owners), now(), &settings());
        assert_eq!(wrong.answer, VerifyAnswer::WrongPassword);
        assert_eq!(wrong.change, None);
        let checked_against_another = CheckedSignupPassword {
            against: stored_password(),
            check: PasswordCheck::Match,
        };
        let stale = verify(
            Some(&user),
            &token,
            Some(&checked_against_another),
            now(),
            &settings(),
        );
        assert_eq!(stale.answer, VerifyAnswer::WrongPassword);
        let right = CheckedSignupPassword {
            against: other_password(),
            check: PasswordCheck::Match,
        };
        let decision = verify(Some(&user), &token, Some(&right), now(), &settings());
        assert_eq!(decision.answer, VerifyAnswer::Verified);
        let after = decision.change.unwrap().write.user().clone();
        assert!(after.verified && !after.contested);
    }

    #[test]
    fn a_wrong_or_expired_token_does_not_verify() {
        let (user, token) = unverified_with_token();
        let (wrong, _) = super::super::testing::token(99, Duration::from_mins(1));
        assert_eq!(
            verify(Some(&user), &wrong, None, now(), &settings()).answer,
            VerifyAnswer::NotVerified
        );
        let expired = now().plus(Duration::from_hours(24));
        let decision = verify(Some(&user), &token, None, expired, &settings());
        assert_eq!(decision.answer, VerifyAnswer::NotVerified);
        assert_eq!(decision.change, None);
    }

    #[test]
    fn an_unknown_address_does_not_verify() {
        let (_, token) = unverified_with_token();
        assert_eq!(
            verify(None, &token, None, now(), &settings()).answer,
            VerifyAnswer::NotVerified
        );
    }

    #[test]
    fn an_already_verified_address_answers_like_the_original_only_without_prevention() {
        let (_, token) = unverified_with_token();
        let user = verified_user();
        assert_eq!(
            verify(Some(&user), &token, None, now(), &settings()).answer,
            VerifyAnswer::NotVerified
        );
        assert_eq!(
            verify(Some(&user), &token, None, now(), &seed_settings()).answer,
            VerifyAnswer::Verified
        );
    }
}
