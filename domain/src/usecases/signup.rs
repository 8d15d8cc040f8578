//! Signup: a new address gets an account and a verification link; a known one never makes the
//! answer differ (when existence errors are prevented) and its owner is told instead.

use super::{
    Change, Decision, Settings, Write, compose, issue_link, next_version, notice_if_allowed,
};
use crate::random::{Randomness, RandomnessUnavailable};
use crate::{
    DeveloperUserId, Email, Locale, LoginThrottle, MAX_PENDING_SIGNUPS, MailKind, MailLog,
    PendingSignup, StoredPassword, Timestamp, User,
};

/// A signup request, its password already checked against the policy and hashed.
#[derive(Debug)]
pub struct SignupInput {
    /// The address.
    pub email: Email,
    /// The hash of the new password.
    pub password: StoredPassword,
    /// The language for the user's mail.
    pub locale: Locale,
}

/// The answer, in the original's terms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignupAnswer {
    /// `{"created": true}`.
    Created,
    /// `{"created": false}`: the address is taken (only when existence errors are not prevented).
    NotCreated,
}

/// Decides a signup for `input.email`, whose stored user (if any) is `existing`.
///
/// - New address: the user is created unverified, with a verification mail.
/// - Known, unverified: this signup waits beside the earlier ones, bound to its own fresh token
///   (cooldown permitting), so a lost first mail never strands anyone and only the link mailed
///   for a signup can make its password the account's: verifying one signup discards the others
///   (a stranger who signed the address up first never sets the owner's password). The mail says
///   that an earlier signup was waiting.
/// - Known, verified: the owner gets an "already registered" notice (cooldown permitting) when
///   existence errors are prevented; otherwise nothing is sent.
pub fn signup(
    existing: Option<&User>,
    input: SignupInput,
    now: Timestamp,
    settings: &Settings,
    rng: &mut impl Randomness,
) -> Result<Decision<SignupAnswer>, RandomnessUnavailable> {
    let Some(user) = existing else {
        return create(input, now, settings, rng);
    };
    let answer = if settings.prevent_user_existence_errors {
        SignupAnswer::Created
    } else {
        SignupAnswer::NotCreated
    };
    if !user.verified {
        let mut after = next_version(user, now);
        after.contested = true;
        if user
            .mail_log
            .may_send(MailKind::Verification, now, &settings.cooldowns)
            .is_err()
        {
            // No mail inside the cooldown, but the address is now contested: whoever follows
            // the link already mailed must also know that signup's password.
            return Ok(if user.contested {
                Decision::answer(answer)
            } else {
                Decision::update(answer, user, after, None)
            });
        }
        after
            .pending_signups
            .retain(|signup| signup.token.expires_at > now);
        if after.pending_signups.len() >= MAX_PENDING_SIGNUPS {
            // Full: the signups already waiting keep their places until their links expire, so
            // no stranger's later signups can push out the owner's; this one gets no link (the
            // owner who lost every mail can still reset the password, which verifies too).
            return Ok(if user.contested {
                Decision::answer(answer)
            } else {
                Decision::update(answer, user, after, None)
            });
        }
        let (token, link) = issue_link(rng, now, settings.verification_ttl)?;
        let earlier_signup_pending = !after.pending_signups.is_empty();
        after.pending_signups.push(PendingSignup {
            token,
            password: input.password,
        });
        let mut mail = compose(&mut after, MailKind::Verification, Some(link), now, rng)?;
        mail.earlier_signup_pending = earlier_signup_pending;
        return Ok(Decision::update(answer, user, after, Some(mail)));
    }
    if !settings.prevent_user_existence_errors {
        return Ok(Decision::answer(answer));
    }
    let mut after = next_version(user, now);
    match notice_if_allowed(&mut after, MailKind::AlreadyRegistered, now, settings, rng)? {
        Some(mail) => Ok(Decision::update(answer, user, after, Some(mail))),
        None => Ok(Decision::answer(answer)),
    }
}

fn create(
    input: SignupInput,
    now: Timestamp,
    settings: &Settings,
    rng: &mut impl Randomness,
) -> Result<Decision<SignupAnswer>, RandomnessUnavailable> {
    let (token, link) = issue_link(rng, now, settings.verification_ttl)?;
    let mut user = User {
        email: input.email,
        developer_user_id: DeveloperUserId::generate(rng)?,
        pending_signups: vec![PendingSignup {
            token,
            password: input.password.clone(),
        }],
        contested: false,
        password: input.password,
        verified: false,
        reset: None,
        throttle: LoginThrottle::default(),
        mail_log: MailLog::default(),
        locale: input.locale,
        created_at: now,
        updated_at: now,
        sessions: crate::UserSessions::default(),
        version: 1,
    };
    let mail = compose(&mut user, MailKind::Verification, Some(link), now, rng)?;
    Ok(Decision {
        answer: SignupAnswer::Created,
        change: Some(Change {
            write: Write::Create(user),
            mail: Some(mail),
        }),
    })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::PendingToken;
    use crate::usecases::testing::*;

    fn input(email: &str) -> SignupInput {
        SignupInput {
            email: Email::parse(email).unwrap(),
            password: stored_password(),
            locale: Locale::parse("de").unwrap(),
        }
    }

    #[test]
    fn a_new_address_is_created_unverified_with_a_verification_mail() {
        let decision = signup(
            None,
            input("New@Example.com"),
            now(),
            &settings(),
            &mut rng(),
        )
        .unwrap();
        assert_eq!(decision.answer, SignupAnswer::Created);
        let change = decision.change.unwrap();
        let Write::Create(user) = &change.write else {
            panic!("expected a create");
        };
        assert_eq!(user.email.as_str(), "new@example.com");
        assert!(!user.verified);
        assert_eq!(user.version, 1);
        assert_eq!(user.pending_signups.len(), 1);
        assert_eq!(user.pending_signups[0].password, user.password);
        let pending = user.pending_signups[0].token;
        assert_eq!(pending.expires_at, now().plus(Duration::from_hours(24)));
        let mail = change.mail.unwrap();
        assert_eq!(mail.kind, MailKind::Verification);
        assert_eq!(mail.locale.as_str(), "de");
        let link = mail.link.unwrap();
        assert!(pending.accepts(&link.token, now()));
        assert_eq!(user.mail_log.last_sent(MailKind::Verification), Some(now()));
    }

    #[test]
    fn a_verified_address_answers_created_and_notifies_its_owner() {
        let existing = verified_user();
        let decision = signup(
            Some(&existing),
            input("alice@example.com"),
            now(),
            &settings(),
            &mut rng(),
        )
        .unwrap();
        assert_eq!(decision.answer, SignupAnswer::Created);
        let change = decision.change.unwrap();
        assert_eq!(
            change.mail.as_ref().unwrap().kind,
            MailKind::AlreadyRegistered
        );
        assert!(change.mail.unwrap().link.is_none());
        let Write::Update {
            user,
            expected_version,
        } = change.write
        else {
            panic!("expected an update");
        };
        assert_eq!(expected_version, existing.version);
        assert_eq!(
            user.password, existing.password,
            "the password is left as it was"
        );
    }

    #[test]
    fn the_already_registered_notice_respects_its_cooldown() {
        let mut existing = verified_user();
        existing.mail_log.record(MailKind::AlreadyRegistered, now());
        let later = now().plus(Duration::from_secs(3599));
        let decision = signup(
            Some(&existing),
            input("alice@example.com"),
            later,
            &settings(),
            &mut rng(),
        )
        .unwrap();
        assert_eq!(decision.answer, SignupAnswer::Created);
        assert_eq!(decision.change, None);
    }

    fn unverified_by_a_stranger() -> User {
        let (_, pending) =
            PendingToken::issue(&mut rng(), now(), Duration::from_hours(24)).unwrap();
        User {
            verified: false,
            password: other_password(),
            pending_signups: vec![PendingSignup {
                token: pending,
                password: other_password(),
            }],
            ..verified_user()
        }
    }

    #[test]
    fn a_second_signup_waits_beside_the_first_bound_to_its_own_link_and_says_so() {
        let existing = unverified_by_a_stranger();
        let later = now().plus(Duration::from_secs(61));
        let decision = signup(
            Some(&existing),
            input("alice@example.com"),
            later,
            &settings(),
            &mut rng(),
        )
        .unwrap();
        let change = decision.change.unwrap();
        let user = change.write.user();
        assert_eq!(user.password, existing.password, "nothing is applied yet");
        assert_eq!(user.pending_signups.len(), 2);
        assert_eq!(user.pending_signups[0], existing.pending_signups[0]);
        let own = &user.pending_signups[1];
        assert_eq!(own.password, stored_password());
        let mail = change.mail.unwrap();
        assert_eq!(mail.kind, MailKind::Verification);
        assert!(mail.earlier_signup_pending);
        assert!(own.token.accepts(&mail.link.unwrap().token, later));
    }

    #[test]
    fn pending_signups_are_bounded_the_oldest_kept_and_expired_ones_forgotten() {
        let mut user = unverified_by_a_stranger();
        let first = user.pending_signups[0].clone();
        let mut at = now();
        let mut mailed = 0;
        for _ in 0..5 {
            at = at.plus(Duration::from_secs(61));
            let decision = signup(
                Some(&user),
                input("alice@example.com"),
                at,
                &settings(),
                &mut rng(),
            )
            .unwrap();
            if let Some(change) = decision.change {
                mailed += usize::from(change.mail.is_some());
                user = change.write.user().clone();
            }
        }
        // The first signup keeps its place however many follow within its link's day; only
        // those that found a free place got a link.
        assert_eq!(user.pending_signups.len(), MAX_PENDING_SIGNUPS);
        assert_eq!(user.pending_signups[0], first);
        assert_eq!(mailed, MAX_PENDING_SIGNUPS - 1);
        assert!(user.contested);
        assert!(
            user.pending_signups[1..]
                .iter()
                .all(|s| s.password == stored_password())
        );
        let after_expiry = at.plus(Duration::from_hours(25));
        let decision = signup(
            Some(&user),
            input("alice@example.com"),
            after_expiry,
            &settings(),
            &mut rng(),
        )
        .unwrap();
        let change = decision.change.unwrap();
        assert_eq!(change.write.user().pending_signups.len(), 1);
        assert!(!change.mail.unwrap().earlier_signup_pending);
    }

    #[test]
    fn a_second_verification_mail_within_a_minute_is_not_sent_but_the_address_is_contested() {
        let mut existing = verified_user();
        existing.verified = false;
        existing.mail_log.record(MailKind::Verification, now());
        let later = now().plus(Duration::from_secs(59));
        let decision = signup(
            Some(&existing),
            input("alice@example.com"),
            later,
            &settings(),
            &mut rng(),
        )
        .unwrap();
        let change = decision.change.expect("the address becomes contested");
        assert_eq!(change.mail, None);
        let after = change.write.user().clone();
        assert!(after.contested);
        assert_eq!(after.pending_signups, existing.pending_signups);
        // Once contested, another signup inside the cooldown changes nothing more.
        let again = signup(
            Some(&after),
            input("alice@example.com"),
            later,
            &settings(),
            &mut rng(),
        )
        .unwrap();
        assert_eq!(again.change, None);
    }

    #[test]
    fn without_existence_prevention_a_taken_address_answers_not_created_and_sends_nothing() {
        let existing = verified_user();
        let decision = signup(
            Some(&existing),
            input("alice@example.com"),
            now(),
            &seed_settings(),
            &mut rng(),
        )
        .unwrap();
        assert_eq!(decision.answer, SignupAnswer::NotCreated);
        assert_eq!(decision.change, None);
    }
}
