//! The table's shape: key attributes, item types and the TTL attribute. Everything that creates
//! or reads the table (the store, provisioning, the template checks) takes the names from here.

/// The partition key: the normalized email address the item belongs to.
pub const PARTITION_KEY: &str = "pk";
/// The sort key: what the item is (`USER`, `THROTTLE` or `MAIL#<id>`).
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

/// The attributes of the items besides the keys, the type and the TTL.
pub mod attribute {
    /// An outbox item's id.
    pub const MAIL_ID: &str = "mailId";
    /// An outbox item's kind of mail.
    pub const KIND: &str = "kind";
}

/// Item types.
pub mod item_type {
    /// A user.
    pub const USER: &str = "user";
    /// The login throttle of an address with no account.
    pub const THROTTLE: &str = "throttle";
    /// An outbox item: one mail to send.
    pub const MAIL: &str = "mail";
}

/// The status of an outbox item.
pub mod mail_status {
    /// Written, not yet claimed by the mailer.
    pub const PENDING: &str = "pending";
    /// Claimed by a mailer until its lease runs out.
    pub const SENDING: &str = "sending";
    /// Accepted by SES.
    pub const SENT: &str = "sent";
    /// Permanently refused; the job is in the dead-letter queue.
    pub const FAILED: &str = "failed";
}

/// How long an outbox item is kept for `lambdauth mail status` after it is written.
pub const MAIL_RETENTION_DAYS: u64 = 30;
