//! Login: admitted by the throttle first (the attempt counted before the password is checked),
//! then concluded from the check.

use super::{Decision, Settings, next_version};
use crate::{LoginThrottle, PasswordCheck, RetryAfter, StoredPassword, Timestamp, User};

/// The answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LoginAnswer {
    /// The password matched a verified account: get a Cognito token for this identifier.
    LoggedIn {
        /// Cognito's identifier for the user.
        developer_user_id: crate::DeveloperUserId,
    },
    /// `{"login": false}`: wrong password, unknown address, or (with existence errors prevented)
    /// an unverified account.
    Failed,
    /// `{"login": false, "verified": false}`: the right password for an unverified account, said
    /// only when existence errors are not prevented.
    NotVerified,
}

/// Admits an attempt on `user` at `now`: the user with the attempt counted, to write on the
/// condition of `user.version` *before* checking the password, or how long to wait.
pub fn admit(user: &User, now: Timestamp, settings: &Settings) -> Result<User, RetryAfter> {
    let throttle = user.throttle.admit(now, &settings.lockout)?;
    let mut after = next_version(user, now);
    after.throttle = throttle;
    Ok(after)
}

/// Admits an attempt on an address with no account, whose throttle is kept apart so that
/// hammering an unknown address locks exactly as hammering a real one does.
pub fn admit_unknown(
    throttle: LoginThrottle,
    now: Timestamp,
    settings: &Settings,
) -> Result<LoginThrottle, RetryAfter> {
    throttle.admit(now, &settings.lockout)
}

/// Concludes an admitted attempt on `user` (as written by [`admit`]) from the password `check`.
///
/// A match on a verified account clears the failure count and, when the stored hash needed it,
/// stores `rehashed` (the attempt hashed anew). Anything else leaves the counted failure standing.
pub fn conclude(
    user: &User,
    check: PasswordCheck,
    rehashed: Option<StoredPassword>,
    now: Timestamp,
    settings: &Settings,
) -> Decision<LoginAnswer> {
    if !check.matched() {
        return Decision::answer(LoginAnswer::Failed);
    }
    if !user.verified {
        return Decision::answer(if settings.prevent_user_existence_errors {
            LoginAnswer::Failed
        } else {
            LoginAnswer::NotVerified
        });
    }
    let answer = LoginAnswer::LoggedIn {
        developer_user_id: user.developer_user_id.clone(),
    };
    let mut after = next_version(user, now);
    after.throttle = LoginThrottle::default();
    if let Some(rehashed) = rehashed {
        after.password = rehashed;
    }
    Decision::update(answer, user, after, None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::usecases::Write;
    use crate::usecases::testing::*;

    #[test]
    fn an_admitted_attempt_is_counted_before_the_check() {
        let user = verified_user();
        let admitted = admit(&user, now(), &settings()).unwrap();
        assert_eq!(admitted.throttle.failures, 1);
        assert_eq!(admitted.version, user.version + 1);
    }

    #[test]
    fn a_match_on_a_verified_account_logs_in_and_clears_the_count() {
        let admitted = admit(&verified_user(), now(), &settings()).unwrap();
        let decision = conclude(&admitted, PasswordCheck::Match, None, now(), &settings());
        assert_eq!(
            decision.answer,
            LoginAnswer::LoggedIn {
                developer_user_id: admitted.developer_user_id.clone()
            }
        );
        let change = decision.change.unwrap();
        assert!(change.write.user().throttle.is_clear());
        assert_eq!(change.write.user().password, admitted.password);
        assert!(
            matches!(change.write, Write::Update { expected_version, .. } if expected_version == admitted.version)
        );
        assert_eq!(change.mail, None);
    }

    #[test]
    fn a_match_with_a_rehash_stores_the_new_hash() {
        let admitted = admit(&verified_user(), now(), &settings()).unwrap();
        let decision = conclude(
            &admitted,
            PasswordCheck::Match,
            Some(other_password()),
            now(),
            &settings(),
        );
        assert_eq!(
            decision.change.unwrap().write.user().password,
            other_password()
        );
    }

    #[test]
    fn a_mismatch_fails_and_leaves_the_failure_counted() {
        let admitted = admit(&verified_user(), now(), &settings()).unwrap();
        let decision = conclude(&admitted, PasswordCheck::Mismatch, None, now(), &settings());
        assert_eq!(decision.answer, LoginAnswer::Failed);
        assert_eq!(decision.change, None);
    }

    #[test]
    fn an_unverified_account_fails_like_a_wrong_password_unless_prevention_is_off() {
        let mut user = verified_user();
        user.verified = false;
        let admitted = admit(&user, now(), &settings()).unwrap();
        assert_eq!(
            conclude(&admitted, PasswordCheck::Match, None, now(), &settings()).answer,
            LoginAnswer::Failed
        );
        assert_eq!(
            conclude(
                &admitted,
                PasswordCheck::Match,
                None,
                now(),
                &seed_settings()
            )
            .answer,
            LoginAnswer::NotVerified
        );
    }

    #[test]
    fn the_sixth_attempt_in_a_row_must_wait() {
        let mut user = verified_user();
        for _ in 0..5 {
            user = admit(&user, now(), &settings()).unwrap();
        }
        assert_eq!(admit(&user, now(), &settings()).unwrap_err().seconds(), 1);
    }

    #[test]
    fn an_unknown_address_locks_the_same_way() {
        let mut throttle = LoginThrottle::default();
        for _ in 0..5 {
            throttle = admit_unknown(throttle, now(), &settings()).unwrap();
        }
        assert_eq!(
            admit_unknown(throttle, now(), &settings())
                .unwrap_err()
                .seconds(),
            1
        );
    }
}
