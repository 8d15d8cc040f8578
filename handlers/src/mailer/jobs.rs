//! The messages on the retry queue and the dead-letter queue: a pointer to an outbox item, never
//! its token, plus what an operator needs to see.

use serde::{Deserialize, Serialize};

/// A job: deliver outbox item `mail_id` to `recipient`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MailJob {
    /// The outbox item's id.
    pub mail_id: String,
    /// The recipient, the item's partition key.
    pub recipient: String,
    /// The mail's kind.
    pub kind: String,
    /// Send attempts so far.
    #[serde(default)]
    pub attempts: u32,
    /// The last failure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// Why the job is in the dead-letter queue (absent on the retry queue, and on jobs the queue
    /// moved there itself after too many receives).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// When the job was written to its queue (epoch milliseconds).
    pub enqueued_at: i64,
}
