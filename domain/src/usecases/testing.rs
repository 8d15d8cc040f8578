//! Fixtures shared by the use-case tests.

use crate::random::testing::CountingRandomness;
use crate::usecases::Settings;
use crate::{
    DeveloperUserId, Email, Locale, LoginThrottle, MailLog, PendingToken, StoredPassword,
    Timestamp, Token, User,
};
use std::time::Duration;

pub fn now() -> Timestamp {
    Timestamp::from_millis(1_700_000_000_000)
}

pub fn rng() -> CountingRandomness {
    CountingRandomness(42)
}

pub fn settings() -> Settings {
    Settings::default()
}

/// The original's answers: existence errors not prevented.
pub fn seed_settings() -> Settings {
    Settings {
        prevent_user_existence_errors: false,
        ..Settings::default()
    }
}

/// A well-formed stored hash; the decisions never look inside it.
pub fn stored_password() -> StoredPassword {
    StoredPassword::parse(
        "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
    )
    .unwrap()
}

pub fn other_password() -> StoredPassword {
    StoredPassword::parse(
        "$argon2id$v=19$m=64,t=1,p=1$b3RoZXJzYWx0b3RoZXJzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
    )
    .unwrap()
}

/// A token and its pending form, issued at [`now`] for `ttl`.
pub fn token(seed: u64, ttl: Duration) -> (Token, PendingToken) {
    PendingToken::issue(&mut CountingRandomness(seed), now(), ttl).unwrap()
}

pub fn verified_user() -> User {
    User {
        email: Email::parse("alice@example.com").unwrap(),
        developer_user_id: DeveloperUserId::parse("0b6f5a1e-1b9c-4d7e-9b0a-6f1c2d3e4f50").unwrap(),
        password: stored_password(),
        verified: true,
        pending_signups: Vec::new(),
        contested: false,
        reset: None,
        throttle: LoginThrottle::default(),
        mail_log: MailLog::default(),
        locale: Locale::english(),
        created_at: now(),
        updated_at: now(),
        sessions: crate::UserSessions::default(),
        version: 7,
    }
}
