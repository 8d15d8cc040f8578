//! Items ↔ domain values, with every attribute name taken from [`super::schema`].

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::AttributeValue;
use lambdauth_domain::mail::MailLink;
use lambdauth_domain::{
    DeveloperUserId, Email, KnownDevice, Locale, LockoutPolicy, LoginThrottle, MailKind, MailLog,
    OutgoingMail, PendingSignup, PendingToken, StoredPassword, SubjectId, Timestamp, TokenHash,
    User, UserSessions,
};

use super::schema::{
    MAIL_RETENTION_DAYS, MAIL_SORT_KEY_PREFIX, PARTITION_KEY, SORT_KEY, THROTTLE_SORT_KEY,
    TTL_ATTRIBUTE, TYPE_ATTRIBUTE, USER_SORT_KEY, attribute, item_type, mail_status,
};

/// An item.
pub type Item = HashMap<String, AttributeValue>;

/// An item that does not hold what its type promises.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("item attribute `{attribute}`: {problem}")]
pub struct ItemError {
    /// The attribute.
    pub attribute: &'static str,
    /// What is wrong.
    pub problem: &'static str,
}

pub(super) fn missing(attribute: &'static str) -> ItemError {
    ItemError {
        attribute,
        problem: "missing or of the wrong type",
    }
}

pub(super) fn malformed(attribute: &'static str) -> ItemError {
    ItemError {
        attribute,
        problem: "malformed",
    }
}

/// A string attribute value.
pub(super) fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

/// A number attribute value.
pub(super) fn n(value: impl std::fmt::Display) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

pub(super) fn get_s<'a>(item: &'a Item, attribute: &'static str) -> Result<&'a str, ItemError> {
    item.get(attribute)
        .and_then(|v| v.as_s().ok())
        .map(String::as_str)
        .ok_or_else(|| missing(attribute))
}

pub(super) fn get_n<T: std::str::FromStr>(
    item: &Item,
    attribute: &'static str,
) -> Result<T, ItemError> {
    item.get(attribute)
        .and_then(|v| v.as_n().ok())
        .ok_or_else(|| missing(attribute))?
        .parse()
        .map_err(|_| malformed(attribute))
}

pub(super) fn get_optional_n<T: std::str::FromStr>(
    item: &Item,
    attribute: &'static str,
) -> Result<Option<T>, ItemError> {
    if item.contains_key(attribute) {
        get_n(item, attribute).map(Some)
    } else {
        Ok(None)
    }
}

fn get_bool(item: &Item, attribute: &'static str) -> Result<bool, ItemError> {
    item.get(attribute)
        .and_then(|v| v.as_bool().ok())
        .copied()
        .ok_or_else(|| missing(attribute))
}

pub(super) fn timestamp(item: &Item, attribute: &'static str) -> Result<Timestamp, ItemError> {
    get_n(item, attribute).map(Timestamp::from_millis)
}

pub(super) fn optional_timestamp(
    item: &Item,
    attribute: &'static str,
) -> Result<Option<Timestamp>, ItemError> {
    Ok(get_optional_n(item, attribute)?.map(Timestamp::from_millis))
}

/// The key of the user item of `email`.
pub fn user_key(email: &Email) -> Item {
    key(email, USER_SORT_KEY)
}

/// The key of the throttle item of `email`.
pub fn throttle_key(email: &Email) -> Item {
    key(email, THROTTLE_SORT_KEY)
}

/// The key of outbox item `mail_id` to `recipient`.
pub fn mail_key(recipient: &str, mail_id: &str) -> Item {
    HashMap::from([
        (PARTITION_KEY.to_owned(), s(recipient)),
        (
            SORT_KEY.to_owned(),
            s(format!("{MAIL_SORT_KEY_PREFIX}{mail_id}")),
        ),
    ])
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

pub(super) fn put_throttle(item: &mut Item, throttle: &LoginThrottle) {
    item.insert(attribute::FAILED_LOGINS.to_owned(), n(throttle.failures));
    if let Some(at) = throttle.last_failure_at {
        item.insert(attribute::LAST_FAILURE_AT.to_owned(), n(at.as_millis()));
    }
    if let Some(until) = throttle.locked_until {
        item.insert(attribute::LOCKED_UNTIL.to_owned(), n(until.as_millis()));
    }
}

pub(super) fn get_throttle(item: &Item) -> Result<LoginThrottle, ItemError> {
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

/// The outbox item of `mail`, with the link's token as KMS ciphertext (`sealed_token`).
pub fn mail_to_item(mail: &OutgoingMail, sealed_token: Option<Vec<u8>>) -> Item {
    let mut item = mail_key(mail.recipient.as_str(), mail.id.as_str());
    item.insert(TYPE_ATTRIBUTE.to_owned(), s(item_type::MAIL));
    item.insert(attribute::MAIL_ID.to_owned(), s(mail.id.as_str()));
    item.insert(attribute::KIND.to_owned(), s(mail.kind.as_str()));
    item.insert(attribute::RECIPIENT.to_owned(), s(mail.recipient.as_str()));
    item.insert(attribute::LOCALE.to_owned(), s(mail.locale.as_str()));
    item.insert(attribute::STATUS.to_owned(), s(mail_status::PENDING));
    item.insert(attribute::ATTEMPTS.to_owned(), n(0));
    item.insert(
        attribute::CREATED_AT.to_owned(),
        n(mail.created_at.as_millis()),
    );
    let retention = mail
        .created_at
        .plus(Duration::from_hours(24 * MAIL_RETENTION_DAYS));
    item.insert(TTL_ATTRIBUTE.to_owned(), n(retention.as_secs()));
    if let (Some(MailLink { expires_at, .. }), Some(ciphertext)) = (&mail.link, sealed_token) {
        item.insert(
            attribute::LINK_TOKEN.to_owned(),
            AttributeValue::B(Blob::new(ciphertext)),
        );
        item.insert(
            attribute::LINK_EXPIRES_AT.to_owned(),
            n(expires_at.as_millis()),
        );
    }
    if mail.earlier_signup_pending {
        item.insert(
            attribute::EARLIER_SIGNUP_PENDING.to_owned(),
            AttributeValue::Bool(true),
        );
    }
    item
}

/// Where an outbox item is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MailStatus {
    /// Written, not claimed (or released after a transient failure).
    Pending,
    /// Claimed by a mailer until its lease runs out.
    Sending,
    /// Accepted by SES.
    Sent,
    /// Permanently refused; the job is in the dead-letter queue.
    Failed,
    /// Never sent: SES feedback suppressed the recipient (the reason is its last error).
    Suppressed,
}

impl MailStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => mail_status::PENDING,
            Self::Sending => mail_status::SENDING,
            Self::Sent => mail_status::SENT,
            Self::Failed => mail_status::FAILED,
            Self::Suppressed => mail_status::SUPPRESSED,
        }
    }

    fn parse(text: &str) -> Option<Self> {
        [
            Self::Pending,
            Self::Sending,
            Self::Sent,
            Self::Failed,
            Self::Suppressed,
        ]
        .into_iter()
        .find(|status| status.as_str() == text)
    }
}

/// An outbox item as read back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutboxMail {
    /// The mail id.
    pub id: String,
    /// What it says.
    pub kind: MailKind,
    /// Who receives it (the normalized address, the item's partition key).
    pub recipient: Email,
    /// Its language.
    pub locale: Locale,
    /// Where it is in its life.
    pub status: MailStatus,
    /// Send attempts so far (claims).
    pub attempts: u32,
    /// The link token's KMS ciphertext, until the mail is sent.
    pub link_ciphertext: Option<Vec<u8>>,
    /// When the link expires.
    pub link_expires_at: Option<Timestamp>,
    /// Until when the current claim holds.
    pub lease_until: Option<Timestamp>,
    /// The last failure, if any.
    pub last_error: Option<String>,
    /// SES's message id once sent.
    pub ses_message_id: Option<String>,
    /// When it was written.
    pub created_at: Timestamp,
    /// When it last changed.
    pub updated_at: Option<Timestamp>,
    /// A verification mail's note that an earlier signup was waiting.
    pub earlier_signup_pending: bool,
}

/// The outbox item in `item`.
pub fn mail_from_item(item: &Item) -> Result<OutboxMail, ItemError> {
    Ok(OutboxMail {
        id: get_s(item, attribute::MAIL_ID)?.to_owned(),
        kind: MailKind::parse(get_s(item, attribute::KIND)?)
            .ok_or_else(|| malformed(attribute::KIND))?,
        recipient: Email::parse(get_s(item, attribute::RECIPIENT)?)
            .map_err(|_| malformed(attribute::RECIPIENT))?,
        locale: Locale::parse(get_s(item, attribute::LOCALE)?).unwrap_or_default(),
        status: MailStatus::parse(get_s(item, attribute::STATUS)?)
            .ok_or_else(|| malformed(attribute::STATUS))?,
        attempts: get_optional_n(item, attribute::ATTEMPTS)?.unwrap_or(0),
        link_ciphertext: item
            .get(attribute::LINK_TOKEN)
            .and_then(|v| v.as_b().ok())
            .map(|blob| blob.as_ref().to_vec()),
        link_expires_at: optional_timestamp(item, attribute::LINK_EXPIRES_AT)?,
        lease_until: optional_timestamp(item, attribute::LEASE_UNTIL)?,
        last_error: item
            .get(attribute::LAST_ERROR)
            .and_then(|v| v.as_s().ok())
            .cloned(),
        ses_message_id: item
            .get(attribute::SES_MESSAGE_ID)
            .and_then(|v| v.as_s().ok())
            .cloned(),
        created_at: timestamp(item, attribute::CREATED_AT)?,
        earlier_signup_pending: item
            .get(attribute::EARLIER_SIGNUP_PENDING)
            .and_then(|v| v.as_bool().ok())
            .copied()
            .unwrap_or(false),
        updated_at: optional_timestamp(item, attribute::UPDATED_AT)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambdauth_domain::random::OsRandomness;
    use lambdauth_domain::{MailId, Token};

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
    fn an_outbox_item_holds_ciphertext_not_the_token() {
        let token = Token::generate(&mut OsRandomness).unwrap();
        let mail = OutgoingMail {
            id: MailId::generate(Timestamp::from_millis(1000), &mut OsRandomness).unwrap(),
            kind: MailKind::Verification,
            recipient: Email::parse("a@example.com").unwrap(),
            locale: Locale::english(),
            link: Some(MailLink {
                token: token.clone(),
                expires_at: Timestamp::from_millis(2000),
            }),
            created_at: Timestamp::from_millis(1000),
            earlier_signup_pending: true,
        };
        let item = mail_to_item(&mail, Some(vec![1, 2, 3]));
        assert!(mail_from_item(&item).unwrap().earlier_signup_pending);
        assert_eq!(item["status"].as_s().unwrap(), "pending");
        assert_eq!(item["linkToken"].as_b().unwrap().as_ref(), &[1, 2, 3]);
        let text = format!("{item:?}");
        assert!(!text.contains(token.expose()));
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
