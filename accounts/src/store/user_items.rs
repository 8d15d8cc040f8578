//! The users table's account items ↔ domain values: the user item and the login throttle of an
//! address with no account, every attribute name taken from the runtime's schema.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use lambdauth_domain::{
    DeveloperUserId, Email, KnownDevice, Locale, LockoutPolicy, LoginThrottle, MailKind, MailLog,
    PendingSignup, PendingToken, StoredPassword, SubjectId, Timestamp, TokenHash, User,
    UserSessions,
};
use lambdauth_runtime::store::items::{
    Item, ItemError, get_bool, get_n, get_optional_n, get_s, malformed, missing, n,
    optional_timestamp, s, timestamp,
};
use lambdauth_runtime::store::schema::{
    PARTITION_KEY, SORT_KEY, THROTTLE_SORT_KEY, TTL_ATTRIBUTE, TYPE_ATTRIBUTE, USER_SORT_KEY,
    attribute, item_type,
};

/// The key of the user item of `email`.
pub fn user_key(email: &Email) -> Item {
    key(email, USER_SORT_KEY)
}

/// The key of the throttle item of `email`.
pub fn throttle_key(email: &Email) -> Item {
    key(email, THROTTLE_SORT_KEY)
}

fn key(email: &Email, sort_key: &str) -> Item {
    HashMap::from([
        (PARTITION_KEY.to_owned(), s(email.as_str())),
        (SORT_KEY.to_owned(), s(sort_key)),
    ])
}

fn put_pending(
    item: &mut Item,
    hash_attribute: &str,
    expiry_attribute: &str,
    pending: Option<&PendingToken>,
) {
    if let Some(pending) = pending {
        item.insert(hash_attribute.to_owned(), s(pending.hash.to_hex()));
        item.insert(
            expiry_attribute.to_owned(),
            n(pending.expires_at.as_millis()),
        );
    }
}

fn get_pending(
    item: &Item,
    hash_attribute: &'static str,
    expiry_attribute: &'static str,
) -> Result<Option<PendingToken>, ItemError> {
    if !item.contains_key(hash_attribute) {
        return Ok(None);
    }
    let hash = TokenHash::from_hex(get_s(item, hash_attribute)?)
        .ok_or_else(|| malformed(hash_attribute))?;
    Ok(Some(PendingToken {
        hash,
        expires_at: timestamp(item, expiry_attribute)?,
    }))
}

fn signup_value(signup: &PendingSignup) -> AttributeValue {
    AttributeValue::M(HashMap::from([
        (
            attribute::TOKEN_HASH.to_owned(),
            s(signup.token.hash.to_hex()),
        ),
        (
            attribute::TOKEN_EXPIRES_AT.to_owned(),
            n(signup.token.expires_at.as_millis()),
        ),
        (attribute::PASSWORD.to_owned(), s(signup.password.to_phc())),
    ]))
}

/// The pending signups of a user item: its list, or the one verification token an item written
/// before them holds, bound to the item's `password` when `one_signup_only` (and dropped
/// otherwise: the owner signs up again).
fn get_signups(
    item: &Item,
    password: &StoredPassword,
    one_signup_only: bool,
) -> Result<Vec<PendingSignup>, ItemError> {
    let Some(list) = item.get(attribute::PENDING_SIGNUPS) else {
        if !one_signup_only {
            return Ok(Vec::new());
        }
        let legacy = get_pending(
            item,
            attribute::VERIFY_TOKEN_HASH,
            attribute::VERIFY_TOKEN_EXPIRES_AT,
        )?;
        return Ok(legacy
            .map(|token| PendingSignup {
                token,
                password: password.clone(),
            })
            .into_iter()
            .collect());
    };
    let list = list
        .as_l()
        .map_err(|_| malformed(attribute::PENDING_SIGNUPS))?;
    list.iter()
        .map(|entry| {
            let entry = entry
                .as_m()
                .map_err(|_| malformed(attribute::PENDING_SIGNUPS))?;
            let token = get_pending(entry, attribute::TOKEN_HASH, attribute::TOKEN_EXPIRES_AT)?
                .ok_or_else(|| missing(attribute::TOKEN_HASH))?;
            let password = StoredPassword::parse(get_s(entry, attribute::PASSWORD)?)
                .map_err(|_| malformed(attribute::PASSWORD))?;
            Ok(PendingSignup { token, password })
        })
        .collect()
}

pub(crate) fn put_throttle(item: &mut Item, throttle: &LoginThrottle) {
    item.insert(attribute::FAILED_LOGINS.to_owned(), n(throttle.failures));
    if let Some(at) = throttle.last_failure_at {
        item.insert(attribute::LAST_FAILURE_AT.to_owned(), n(at.as_millis()));
    }
    if let Some(until) = throttle.locked_until {
        item.insert(attribute::LOCKED_UNTIL.to_owned(), n(until.as_millis()));
    }
}

pub(crate) fn get_throttle(item: &Item) -> Result<LoginThrottle, ItemError> {
    Ok(LoginThrottle {
        failures: get_optional_n(item, attribute::FAILED_LOGINS)?.unwrap_or(0),
        last_failure_at: optional_timestamp(item, attribute::LAST_FAILURE_AT)?,
        locked_until: optional_timestamp(item, attribute::LOCKED_UNTIL)?,
    })
}

/// The item of `user`.
pub fn user_to_item(user: &User) -> Item {
    let mut item = user_key(&user.email);
    item.insert(TYPE_ATTRIBUTE.to_owned(), s(item_type::USER));
    item.insert(attribute::EMAIL.to_owned(), s(user.email.as_str()));
    item.insert(
        attribute::DEVELOPER_USER_ID.to_owned(),
        s(user.developer_user_id.as_str()),
    );
    item.insert(attribute::PASSWORD.to_owned(), s(user.password.to_phc()));
    item.insert(
        attribute::VERIFIED.to_owned(),
        AttributeValue::Bool(user.verified),
    );
    if user.contested {
        item.insert(
            attribute::SIGNUP_CONTESTED.to_owned(),
            AttributeValue::Bool(true),
        );
    }
    if !user.pending_signups.is_empty() {
        item.insert(
            attribute::PENDING_SIGNUPS.to_owned(),
            AttributeValue::L(user.pending_signups.iter().map(signup_value).collect()),
        );
    }
    put_pending(
        &mut item,
        attribute::RESET_TOKEN_HASH,
        attribute::RESET_TOKEN_EXPIRES_AT,
        user.reset.as_ref(),
    );
    put_throttle(&mut item, &user.throttle);
    let last_mail: HashMap<String, AttributeValue> = MailKind::ALL
        .into_iter()
        .filter_map(|kind| {
            user.mail_log
                .last_sent(kind)
                .map(|at| (kind.as_str().to_owned(), n(at.as_millis())))
        })
        .collect();
    item.insert(
        attribute::LAST_MAIL_AT.to_owned(),
        AttributeValue::M(last_mail),
    );
    item.insert(attribute::LOCALE.to_owned(), s(user.locale.as_str()));
    item.insert(
        attribute::CREATED_AT.to_owned(),
        n(user.created_at.as_millis()),
    );
    item.insert(
        attribute::UPDATED_AT.to_owned(),
        n(user.updated_at.as_millis()),
    );
    put_user_sessions(&mut item, &user.sessions);
    item.insert(attribute::VERSION.to_owned(), n(user.version));
    item
}

fn put_user_sessions(item: &mut Item, sessions: &UserSessions) {
    if let Some(subject) = &sessions.subject {
        item.insert(attribute::SUBJECT.to_owned(), s(subject.as_str()));
    }
    if sessions.generation > 0 {
        item.insert(
            attribute::SESSION_GENERATION.to_owned(),
            n(sessions.generation),
        );
    }
    if !sessions.devices.is_empty() {
        let devices = sessions
            .devices
            .iter()
            .map(|device| {
                let mut entry = HashMap::from([
                    (attribute::DEVICE_HASH.to_owned(), s(device.hash.to_hex())),
                    (
                        attribute::LAST_LOGIN_AT.to_owned(),
                        n(device.last_login_at.as_millis()),
                    ),
                ]);
                put_throttle(&mut entry, &device.throttle);
                AttributeValue::M(entry)
            })
            .collect();
        item.insert(attribute::DEVICES.to_owned(), AttributeValue::L(devices));
    }
}

fn get_user_sessions(item: &Item) -> Result<UserSessions, ItemError> {
    let subject = match item.get(attribute::SUBJECT) {
        Some(_) => Some(
            SubjectId::parse(get_s(item, attribute::SUBJECT)?)
                .ok_or_else(|| malformed(attribute::SUBJECT))?,
        ),
        None => None,
    };
    let devices = match item.get(attribute::DEVICES) {
        Some(list) => list
            .as_l()
            .map_err(|_| malformed(attribute::DEVICES))?
            .iter()
            .map(|entry| {
                let entry = entry.as_m().map_err(|_| malformed(attribute::DEVICES))?;
                Ok(KnownDevice {
                    hash: TokenHash::from_hex(get_s(entry, attribute::DEVICE_HASH)?)
                        .ok_or_else(|| malformed(attribute::DEVICE_HASH))?,
                    throttle: get_throttle(entry)?,
                    last_login_at: timestamp(entry, attribute::LAST_LOGIN_AT)?,
                })
            })
            .collect::<Result<_, ItemError>>()?,
        None => Vec::new(),
    };
    Ok(UserSessions {
        subject,
        generation: get_optional_n(item, attribute::SESSION_GENERATION)?.unwrap_or(0),
        devices,
    })
}

/// The user in `item`.
pub fn user_from_item(item: &Item) -> Result<User, ItemError> {
    let email =
        Email::parse(get_s(item, attribute::EMAIL)?).map_err(|_| malformed(attribute::EMAIL))?;
    let password = StoredPassword::parse(get_s(item, attribute::PASSWORD)?)
        .map_err(|_| malformed(attribute::PASSWORD))?;
    let mut mail_log = MailLog::default();
    if let Some(map) = item
        .get(attribute::LAST_MAIL_AT)
        .and_then(|v| v.as_m().ok())
    {
        for (kind, at) in map {
            let kind = MailKind::parse(kind).ok_or_else(|| malformed(attribute::LAST_MAIL_AT))?;
            let at = at
                .as_n()
                .ok()
                .and_then(|at| at.parse().ok())
                .ok_or_else(|| malformed(attribute::LAST_MAIL_AT))?;
            mail_log.record(kind, Timestamp::from_millis(at));
        }
    }
    let created_at = timestamp(item, attribute::CREATED_AT)?;
    // Before pending signups, a second signup mailed a fresh token but kept the first signup's
    // password: such a token may be the owner's beside a stranger's password, so it is bound to
    // that password only when no second verification mail was ever sent.
    let one_signup_only = mail_log
        .last_sent(MailKind::Verification)
        .is_none_or(|at| at == created_at);
    Ok(User {
        developer_user_id: DeveloperUserId::parse(get_s(item, attribute::DEVELOPER_USER_ID)?)
            .ok_or_else(|| malformed(attribute::DEVELOPER_USER_ID))?,
        verified: get_bool(item, attribute::VERIFIED)?,
        pending_signups: get_signups(item, &password, one_signup_only)?,
        contested: item
            .get(attribute::SIGNUP_CONTESTED)
            .and_then(|v| v.as_bool().ok())
            .copied()
            .unwrap_or(false),
        reset: get_pending(
            item,
            attribute::RESET_TOKEN_HASH,
            attribute::RESET_TOKEN_EXPIRES_AT,
        )?,
        throttle: get_throttle(item)?,
        mail_log,
        locale: Locale::parse(get_s(item, attribute::LOCALE)?).unwrap_or_default(),
        created_at,
        updated_at: timestamp(item, attribute::UPDATED_AT)?,
        sessions: get_user_sessions(item)?,
        version: get_n(item, attribute::VERSION)?,
        password,
        email,
    })
}

/// The throttle item of an address with no account; it expires once idle long enough to be
/// forgotten anyway.
pub fn throttle_to_item(
    email: &Email,
    throttle: &LoginThrottle,
    version: u64,
    policy: &LockoutPolicy,
) -> Item {
    let mut item = throttle_key(email);
    item.insert(TYPE_ATTRIBUTE.to_owned(), s(item_type::THROTTLE));
    put_throttle(&mut item, throttle);
    item.insert(attribute::VERSION.to_owned(), n(version));
    if let Some(forgotten) = throttle.forgotten_at(policy) {
        item.insert(TTL_ATTRIBUTE.to_owned(), n(forgotten.as_secs() + 3600));
    }
    item
}

/// The throttle and version in a throttle item.
pub fn throttle_from_item(item: &Item) -> Result<(LoginThrottle, u64), ItemError> {
    Ok((get_throttle(item)?, get_n(item, attribute::VERSION)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambdauth_domain::Token;

    fn user() -> User {
        let mut mail_log = MailLog::default();
        mail_log.record(MailKind::Verification, Timestamp::from_millis(5));
        mail_log.record(MailKind::AlreadyRegistered, Timestamp::from_millis(6));
        User {
            email: Email::parse("erin+tag@example.co.uk").unwrap(),
            developer_user_id: DeveloperUserId::parse("Erin+Tag@Example.co.uk").unwrap(),
            password: StoredPassword::parse(
                "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2g",
            )
            .unwrap(),
            verified: false,
            pending_signups: vec![
                PendingSignup {
                    token: PendingToken {
                        hash: Token::parse("abcdefghijklmnopqrstuvwxyz").unwrap().hash(),
                        expires_at: Timestamp::from_millis(99),
                    },
                    password: StoredPassword::parse(
                        "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2g",
                    )
                    .unwrap(),
                },
                PendingSignup {
                    token: PendingToken {
                        hash: Token::parse("zyxwvutsrqponmlkjihgfedcba").unwrap().hash(),
                        expires_at: Timestamp::from_millis(98),
                    },
                    password: StoredPassword::parse(
                        "$argon2id$v=19$m=64,t=1,p=1$b3RoZXJzYWx0b3RoZXI$aGFzaGhhc2hoYXNoaGFzaGhhc2g",
                    )
                    .unwrap(),
                },
            ],
            contested: true,
            reset: None,
            throttle: LoginThrottle {
                failures: 3,
                last_failure_at: Some(Timestamp::from_millis(7)),
                locked_until: None,
            },
            mail_log,
            locale: Locale::parse("de").unwrap(),
            created_at: Timestamp::from_millis(1),
            updated_at: Timestamp::from_millis(2),
            sessions: UserSessions {
                subject: SubjectId::parse("0b6f5a1e-1b9c-4d7e-9b0a-6f1c2d3e4f50"),
                generation: 4,
                devices: vec![KnownDevice {
                    hash: Token::parse("devicedevicedevicedevice").unwrap().hash(),
                    throttle: LoginThrottle {
                        failures: 2,
                        last_failure_at: Some(Timestamp::from_millis(8)),
                        locked_until: Some(Timestamp::from_millis(9)),
                    },
                    last_login_at: Timestamp::from_millis(3),
                }],
            },
            version: 12,
        }
    }

    #[test]
    fn a_user_survives_a_round_trip_through_its_item() {
        let user = user();
        let item = user_to_item(&user);
        assert_eq!(item["pk"].as_s().unwrap(), "erin+tag@example.co.uk");
        assert_eq!(item["sk"].as_s().unwrap(), "USER");
        assert_eq!(user_from_item(&item).unwrap(), user);
    }

    #[test]
    fn an_item_written_before_pending_signups_reads_its_token_as_one_bound_to_its_password() {
        let mut item = user_to_item(&User {
            pending_signups: Vec::new(),
            ..user()
        });
        item.insert(
            "verifyTokenHash".to_owned(),
            s(Token::parse("abcdefghijklmnopqrstuvwxyz")
                .unwrap()
                .hash()
                .to_hex()),
        );
        item.insert("verifyTokenExpiresAt".to_owned(), n(99));
        // A second signup back then mailed a new token but kept the first password: that token
        // is bound to nothing, and the owner signs up again.
        assert!(user_from_item(&item).unwrap().pending_signups.is_empty());
        // One signup only: its token was mailed when the item was created.
        item.insert(
            "lastMailAt".to_owned(),
            AttributeValue::M(HashMap::from([("verification".to_owned(), n(1))])),
        );
        let read = user_from_item(&item).unwrap();
        assert_eq!(read.pending_signups.len(), 1);
        assert_eq!(read.pending_signups[0].password, read.password);
        assert_eq!(
            read.pending_signups[0].token,
            user().pending_signups[0].token
        );
    }

    #[test]
    fn a_broken_item_is_an_error_not_a_panic() {
        let mut item = user_to_item(&user());
        item.insert("version".to_owned(), s("twelve"));
        assert_eq!(user_from_item(&item).unwrap_err().attribute, "version");
        item.remove("password");
        assert_eq!(user_from_item(&item).unwrap_err().attribute, "password");
    }

    #[test]
    fn a_throttle_round_trips_and_expires() {
        let email = Email::parse("ghost@example.com").unwrap();
        let throttle = LoginThrottle {
            failures: 2,
            last_failure_at: Some(Timestamp::from_millis(1_000_000)),
            locked_until: None,
        };
        let item = throttle_to_item(&email, &throttle, 4, &LockoutPolicy::default());
        assert_eq!(throttle_from_item(&item).unwrap(), (throttle, 4));
        assert_eq!(
            item[TTL_ATTRIBUTE].as_n().unwrap(),
            &(1000 + 900 + 3600).to_string()
        );
    }
}
