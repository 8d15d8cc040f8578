//! Login: admitted by the throttle first (the attempt counted before the password is checked),
//! then concluded from the check.

use super::{Decision, Settings, next_version};
use crate::random::{Randomness, RandomnessUnavailable};
use crate::{
    LoginThrottle, PasswordCheck, RetryAfter, StoredPassword, SubjectId, Timestamp, Token,
    TokenHash, User,
};

/// The answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LoginAnswer {
    /// The password matched a verified account: get a Cognito token for this identifier and
    /// start a session.
    LoggedIn {
        /// Cognito's identifier for the user.
        developer_user_id: crate::DeveloperUserId,
        /// The opaque id access tokens name the user by.
        subject: SubjectId,
        /// The user's session generation, which the new session starts under.
        generation: u64,
        /// The device token issued to a device not known before (a known one keeps its own).
        new_device: Option<Token>,
    },
    /// `{"login": false}`: wrong password, unknown address, or (with existence errors prevented)
    /// an unverified account.
    Failed,
    /// `{"login": false, "verified": false}`: the right password for an unverified account, said
    /// only when existence errors are not prevented.
    NotVerified,
}

/// Admits an attempt on `user` at `now` on the account's own failure count: the user with the
/// attempt counted, to write on the condition of `user.version` *before* checking the password,
/// or how long to wait.
pub fn admit(user: &User, now: Timestamp, settings: &Settings) -> Result<User, RetryAfter> {
    admit_from(user, None, now, settings)
}

/// Admits an attempt from the device whose token hashes to `device`: a device the user logged
/// in from before is counted on its own, so that failures from anywhere else (an attacker
/// keeping the account locked) do not lock it; any other attempt is counted on the account.
pub fn admit_from(
    user: &User,
    device: Option<&TokenHash>,
    now: Timestamp,
    settings: &Settings,
) -> Result<User, RetryAfter> {
    let mut after = next_version(user, now);
    match device.and_then(|hash| after.sessions.devices.iter_mut().find(|d| &d.hash == hash)) {
        Some(known) => known.throttle = known.throttle.admit(now, &settings.lockout)?,
        None => after.throttle = user.throttle.admit(now, &settings.lockout)?,
    }
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

/// Concludes an admitted attempt on `user` (as written by [`admit_from`] with the same
/// `device`) from the password `check`.
///
/// A match on a verified account clears the failure count the attempt was counted on, stores
/// `rehashed` (the attempt hashed anew) when the stored hash needed it, gives the user its
/// opaque subject id at the first login, and remembers the device (issuing it a token when it
/// was not known). Anything else leaves the counted failure standing.
pub fn conclude(
    user: &User,
    check: PasswordCheck,
    rehashed: Option<StoredPassword>,
    device: Option<&TokenHash>,
    now: Timestamp,
    settings: &Settings,
    rng: &mut impl Randomness,
) -> Result<Decision<LoginAnswer>, RandomnessUnavailable> {
    if !check.matched() {
        return Ok(Decision::answer(LoginAnswer::Failed));
    }
    if !user.verified {
        return Ok(Decision::answer(
            if settings.prevent_user_existence_errors {
                LoginAnswer::Failed
            } else {
                LoginAnswer::NotVerified
            },
        ));
    }
    let mut after = next_version(user, now);
    if let Some(rehashed) = rehashed {
        after.password = rehashed;
    }
    let subject = match &after.sessions.subject {
        Some(subject) => subject.clone(),
        None => SubjectId::generate(rng)?,
    };
    after.sessions.subject = Some(subject.clone());
    let known = device.and_then(|hash| {
        after
            .sessions
            .devices
            .iter_mut()
            .find(|known| &known.hash == hash)
    });
    let new_device = if let Some(known) = known {
        known.throttle = LoginThrottle::default();
        known.last_login_at = now;
        None
    } else {
        after.throttle = LoginThrottle::default();
        Some(after.sessions.remember_new_device(now, rng)?)
    };
    let answer = LoginAnswer::LoggedIn {
        developer_user_id: user.developer_user_id.clone(),
        subject,
        generation: after.sessions.generation,
        new_device,
    };
    Ok(Decision::update(answer, user, after, None))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::testing::CountingRandomness;
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
        let decision = conclude(
            &admitted,
            PasswordCheck::Match,
            None,
            None,
            now(),
            &settings(),
            &mut rng(),
        )
        .unwrap();
        assert!(matches!(
            &decision.answer,
            LoginAnswer::LoggedIn { developer_user_id, new_device: Some(_), .. }
                if *developer_user_id == admitted.developer_user_id
        ));
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
            None,
            now(),
            &settings(),
            &mut rng(),
        )
        .unwrap();
        assert_eq!(
            decision.change.unwrap().write.user().password,
            other_password()
        );
    }

    #[test]
    fn a_mismatch_fails_and_leaves_the_failure_counted() {
        let admitted = admit(&verified_user(), now(), &settings()).unwrap();
        let decision = conclude(
            &admitted,
            PasswordCheck::Mismatch,
            None,
            None,
            now(),
            &settings(),
            &mut rng(),
        )
        .unwrap();
        assert_eq!(decision.answer, LoginAnswer::Failed);
        assert_eq!(decision.change, None);
    }

    #[test]
    fn an_unverified_account_fails_like_a_wrong_password_unless_prevention_is_off() {
        let mut user = verified_user();
        user.verified = false;
        let admitted = admit(&user, now(), &settings()).unwrap();
        assert_eq!(
            conclude(
                &admitted,
                PasswordCheck::Match,
                None,
                None,
                now(),
                &settings(),
                &mut rng()
            )
            .unwrap()
            .answer,
            LoginAnswer::Failed
        );
        assert_eq!(
            conclude(
                &admitted,
                PasswordCheck::Match,
                None,
                None,
                now(),
                &seed_settings(),
                &mut rng()
            )
            .unwrap()
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

    fn logged_in_device(user: &User) -> (User, Token) {
        logged_in_device_at(user, now(), &mut rng())
    }

    /// A login from a new device at `at`, its token drawn from `rng`.
    fn logged_in_device_at(
        user: &User,
        at: Timestamp,
        rng: &mut CountingRandomness,
    ) -> (User, Token) {
        let admitted = admit(user, at, &settings()).unwrap();
        let decision = conclude(
            &admitted,
            PasswordCheck::Match,
            None,
            None,
            at,
            &settings(),
            rng,
        )
        .unwrap();
        let LoginAnswer::LoggedIn {
            new_device: Some(device),
            ..
        } = decision.answer
        else {
            panic!("no device token");
        };
        (decision.change.unwrap().write.user().clone(), device)
    }

    #[test]
    fn failures_from_elsewhere_do_not_lock_a_known_device() {
        let (mut user, device) = logged_in_device(&verified_user());
        assert!(user.sessions.subject.is_some());
        for _ in 0..8 {
            if let Ok(admitted) = admit(&user, now(), &settings()) {
                user = admitted;
            }
        }
        assert!(
            admit(&user, now(), &settings()).is_err(),
            "the account is locked"
        );
        assert!(
            admit_from(
                &user,
                Some(&Token::generate(&mut rng()).unwrap().hash()),
                now(),
                &settings()
            )
            .is_err(),
            "an unknown device token counts on the account"
        );
        let admitted = admit_from(&user, Some(&device.hash()), now(), &settings()).unwrap();
        assert_eq!(
            admitted.throttle, user.throttle,
            "the account's count is left alone"
        );
        let decision = conclude(
            &admitted,
            PasswordCheck::Match,
            None,
            Some(&device.hash()),
            now(),
            &settings(),
            &mut rng(),
        )
        .unwrap();
        assert!(matches!(
            decision.answer,
            LoginAnswer::LoggedIn {
                new_device: None,
                ..
            }
        ));
        let after = decision.change.unwrap().write.user().clone();
        assert!(
            after
                .sessions
                .device(&device.hash())
                .unwrap()
                .throttle
                .is_clear()
        );
        assert!(
            admit(&after, now(), &settings()).is_err(),
            "still locked elsewhere"
        );
    }

    #[test]
    fn a_known_device_locks_on_its_own_failures() {
        let (mut user, device) = logged_in_device(&verified_user());
        for _ in 0..5 {
            user = admit_from(&user, Some(&device.hash()), now(), &settings()).unwrap();
        }
        assert!(admit_from(&user, Some(&device.hash()), now(), &settings()).is_err());
        assert!(
            admit(&user, now(), &settings()).is_ok(),
            "the account's count is its own"
        );
    }

    #[test]
    fn the_oldest_device_is_forgotten_past_the_limit_and_the_subject_stays() {
        let mut rng = rng();
        let (mut user, first) = logged_in_device_at(&verified_user(), now(), &mut rng);
        let subject = user.sessions.subject.clone();
        let mut second = None;
        for seconds in 1..=u64::try_from(crate::MAX_KNOWN_DEVICES).unwrap() {
            let at = now().plus(std::time::Duration::from_secs(seconds));
            let device;
            (user, device) = logged_in_device_at(&user, at, &mut rng);
            second.get_or_insert(device);
        }
        assert_eq!(user.sessions.devices.len(), crate::MAX_KNOWN_DEVICES);
        assert!(
            user.sessions.device(&first.hash()).is_none(),
            "the oldest is forgotten"
        );
        assert!(user.sessions.device(&second.unwrap().hash()).is_some());
        assert_eq!(user.sessions.subject, subject);
    }
}
