//! The tables' shape: key attributes, item types, key prefixes and the TTL attribute. Both tables
//! (users, outbox) share the key layout and the TTL attribute. Everything that creates or reads
//! the tables (the stores, provisioning, the template checks) takes the names from here.
//!
//! The users table: `<address>`/`USER`, `<address>`/`THROTTLE`, `SUBJECT#<id>`/`SESSION#<id>`
//! and `SOURCE#<class>#<source>`/`BUCKET`. The outbox table: `<address>`/`MAIL#<id>`,
//! `ADDRESS#<address>`/`FEEDBACK` and `MAILCAP#<kind>`/`<window start>`.

/// The partition key: the normalized email address the item belongs to, or a prefixed key
/// (`SUBJECT#<id>` for a user's sessions, `SOURCE#…`, `ADDRESS#…`, `MAILCAP#…`).
pub const PARTITION_KEY: &str = "pk";
/// The sort key: what the item is (`USER`, `THROTTLE`, `MAIL#<id>`, `SESSION#<id>`, `BUCKET`,
/// `FEEDBACK` or a cap's window).
pub const SORT_KEY: &str = "sk";
/// The TTL attribute (epoch seconds); DynamoDB deletes expired items within days, so every rule
/// checks expiry itself and never relies on it.
pub const TTL_ATTRIBUTE: &str = "expiresAt";
/// The attribute naming the item's type, for stream filters and scans.
pub const TYPE_ATTRIBUTE: &str = "type";

/// The sort key of a user item.
pub const USER_SORT_KEY: &str = "USER";
/// The sort key of the login throttle of an address with no account.
pub const THROTTLE_SORT_KEY: &str = "THROTTLE";
/// The prefix of an outbox item's sort key.
pub const MAIL_SORT_KEY_PREFIX: &str = "MAIL#";
/// Outbox table: the sort key of the mail item no request ever writes. A transaction that puts
/// no mail checks its absence instead, in the partition a mail would go to, so every
/// transaction of a request that may mail spans both tables with as many items whether or not
/// it mails. It cannot be a mail's: a mail's sort key is [`MAIL_SORT_KEY_PREFIX`] followed by
/// its `MailId`, 32 lower-case hex digits (`0-9a-f`), and `PROBE` is upper-case, outside that
/// alphabet, and 5 characters long.
pub const MAIL_PROBE_SORT_KEY: &str = "MAIL#PROBE";
/// The prefix of the partition of a user's sessions, followed by the user's opaque subject id
/// (a refresh token and an access token name the subject, never the address).
pub const SUBJECT_PARTITION_PREFIX: &str = "SUBJECT#";
/// The prefix of a session item's sort key.
pub const SESSION_SORT_KEY_PREFIX: &str = "SESSION#";

/// Users table: the prefix of a source's token bucket partition, followed by
/// `<class>#<source key>`.
pub const SOURCE_PARTITION_PREFIX: &str = "SOURCE#";
/// Users table: the sort key of a source's token bucket.
pub const BUCKET_SORT_KEY: &str = "BUCKET";

/// Outbox table: the prefix of a recipient's feedback partition, followed by the normalized
/// address. The mailer may not write under it (it cannot lift a suppression); the feedback
/// function may write nothing else.
pub const ADDRESS_PARTITION_PREFIX: &str = "ADDRESS#";
/// Outbox table: the sort key of a recipient's feedback record.
pub const FEEDBACK_SORT_KEY: &str = "FEEDBACK";
/// Outbox table: the prefix of a global mail cap's partition, followed by the kind of mail; the
/// sort key is the window's start (epoch milliseconds).
pub const MAILCAP_PARTITION_PREFIX: &str = "MAILCAP#";

/// The attributes of the items besides the keys, the type and the TTL: the only place their
/// names are written.
pub mod attribute {
    /// A user's address as entered, normalized.
    pub const EMAIL: &str = "email";
    /// The Cognito developer user id of a user.
    pub const DEVELOPER_USER_ID: &str = "developerUserId";
    /// A user's password as a PHC string.
    pub const PASSWORD: &str = "password";
    /// Whether a user's address is verified.
    pub const VERIFIED: &str = "verified";
    /// The signups of an unverified address waiting for verification: a list of maps, each with
    /// [`TOKEN_HASH`], [`TOKEN_EXPIRES_AT`] and [`PASSWORD`].
    pub const PENDING_SIGNUPS: &str = "pendingSignups";
    /// Within a pending signup: its token's hash.
    pub const TOKEN_HASH: &str = "tokenHash";
    /// Within a pending signup: when its token expires (epoch milliseconds).
    pub const TOKEN_EXPIRES_AT: &str = "expiresAt";
    /// The hash of a pending verification token, as items written before pending signups (and
    /// imported ones) hold it: read as one signup bound to the item's password, never written.
    pub const VERIFY_TOKEN_HASH: &str = "verifyTokenHash";
    /// When that verification token expires (epoch milliseconds); read only, as above.
    pub const VERIFY_TOKEN_EXPIRES_AT: &str = "verifyTokenExpiresAt";
    /// The hash of a pending reset token.
    pub const RESET_TOKEN_HASH: &str = "resetTokenHash";
    /// When a pending reset token expires (epoch milliseconds).
    pub const RESET_TOKEN_EXPIRES_AT: &str = "resetTokenExpiresAt";
    /// Failed password attempts counted by the lockout.
    pub const FAILED_LOGINS: &str = "failedLogins";
    /// When the last password attempt failed.
    pub const LAST_FAILURE_AT: &str = "lastFailureAt";
    /// Until when password attempts are refused.
    pub const LOCKED_UNTIL: &str = "lockedUntil";
    /// When each kind of mail was last sent to the address (a map).
    pub const LAST_MAIL_AT: &str = "lastMailAt";
    /// The language mails are written in.
    pub const LOCALE: &str = "locale";
    /// When the item was written first.
    pub const CREATED_AT: &str = "createdAt";
    /// When the item was last changed.
    pub const UPDATED_AT: &str = "updatedAt";
    /// The version optimistic concurrency checks.
    pub const VERSION: &str = "version";
    /// An outbox item's id.
    pub const MAIL_ID: &str = "mailId";
    /// An outbox item's kind of mail.
    pub const KIND: &str = "kind";
    /// An outbox item's recipient.
    pub const RECIPIENT: &str = "recipient";
    /// An outbox item's status (see [`lambdauth_domain::MailStatus`]).
    pub const STATUS: &str = "status";
    /// An outbox item's send attempts so far.
    pub const ATTEMPTS: &str = "attempts";
    /// An unverified address signed up more than once (present only when so).
    pub const SIGNUP_CONTESTED: &str = "signupContested";
    /// A verification mail's note that an earlier signup was waiting (present only when so).
    pub const EARLIER_SIGNUP_PENDING: &str = "earlierSignupPending";
    /// The KMS ciphertext of an outbox item's link token.
    pub const LINK_TOKEN: &str = "linkToken";
    /// When an outbox item's link expires.
    pub const LINK_EXPIRES_AT: &str = "linkExpiresAt";
    /// Until when a mailer's claim on an outbox item holds.
    pub const LEASE_UNTIL: &str = "leaseUntil";
    /// The last send failure of an outbox item (addresses masked).
    pub const LAST_ERROR: &str = "lastError";
    /// SES's id of a sent mail.
    pub const SES_MESSAGE_ID: &str = "sesMessageId";
    /// When SES accepted a mail.
    pub const SENT_AT: &str = "sentAt";
    /// A user's opaque subject id (the `sub` of its access tokens).
    pub const SUBJECT: &str = "subject";
    /// A user's session generation; a session of an older one is dead.
    pub const SESSION_GENERATION: &str = "sessionGeneration";
    /// A user's known devices: a list of maps, each with [`DEVICE_HASH`], [`LAST_LOGIN_AT`] and
    /// the throttle's [`FAILED_LOGINS`], [`LAST_FAILURE_AT`], [`LOCKED_UNTIL`].
    pub const DEVICES: &str = "devices";
    /// Within a known device: the hash of its device token.
    pub const DEVICE_HASH: &str = "deviceHash";
    /// Within a known device: its last successful login.
    pub const LAST_LOGIN_AT: &str = "lastLoginAt";
    /// A session's id.
    pub const SESSION_ID: &str = "sessionId";
    /// The hash of a session's current refresh token.
    pub const REFRESH_HASH: &str = "refreshHash";
    /// The hash of the refresh token a session's last rotation retired.
    pub const PREVIOUS_REFRESH_HASH: &str = "previousRefreshHash";
    /// When that token was retired.
    pub const PREVIOUS_RETIRED_AT: &str = "previousRetiredAt";
    /// When a session was last refreshed.
    pub const LAST_USED_AT: &str = "lastUsedAt";
    /// The user agent a session was started from.
    pub const USER_AGENT: &str = "userAgent";
    /// When a session ends unless refreshed (epoch milliseconds); every write checks it.
    pub const SESSION_EXPIRES_AT: &str = "sessionExpiresAt";
    /// A source's token bucket: its theoretical arrival time (epoch milliseconds), the instant
    /// it would be full again.
    pub const TAT: &str = "tat";
}

/// Item types.
pub mod item_type {
    /// A user.
    pub const USER: &str = "user";
    /// The login throttle of an address with no account.
    pub const THROTTLE: &str = "throttle";
    /// An outbox item: one mail to send.
    pub const MAIL: &str = "mail";
    /// A session.
    pub const SESSION: &str = "session";
    /// A source's token bucket of one route class.
    pub const BUCKET: &str = "bucket";
}

/// How long an outbox item is kept for `lambdauth mail status` after it is written.
pub const MAIL_RETENTION_DAYS: u64 = 30;
