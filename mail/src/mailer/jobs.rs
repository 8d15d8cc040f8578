//! The messages on the retry queue and the dead-letter queue: a pointer to an outbox item, never
//! its token, plus what an operator needs to see.

use serde::{Deserialize, Serialize};

use lambdauth_domain::OutboxMail;

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
    /// Not to be tried before this instant (epoch milliseconds): a mail waiting under the
    /// global cap for longer than SQS can delay a message. A job received earlier goes back to
    /// wait, without a call to the table.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_before: Option<i64>,
}

impl MailJob {
    /// The first job of outbox item `mail_id` (from its stream record), written at `now_millis`.
    pub fn first(mail_id: &str, recipient: &str, kind: &str, now_millis: i64) -> Self {
        Self {
            mail_id: mail_id.to_owned(),
            recipient: recipient.to_owned(),
            kind: kind.to_owned(),
            attempts: 0,
            last_error: None,
            reason: None,
            enqueued_at: now_millis,
            not_before: None,
        }
    }

    /// The job for `mail` after `attempts` tries, carrying the last error and, for the
    /// dead-letter queue, the reason it is parked.
    pub fn after_attempts(
        mail: &OutboxMail,
        last_error: Option<&str>,
        reason: Option<&str>,
        now_millis: i64,
    ) -> Self {
        Self {
            mail_id: mail.id.clone(),
            recipient: mail.recipient.as_str().to_owned(),
            kind: mail.kind.as_str().to_owned(),
            attempts: mail.attempts,
            last_error: last_error.map(str::to_owned),
            reason: reason.map(str::to_owned),
            enqueued_at: now_millis,
            not_before: None,
        }
    }

    /// This job sent back by an operator: its attempts start again and it is no longer parked.
    #[must_use]
    pub fn redriven(&self, now_millis: i64) -> Self {
        Self {
            attempts: 0,
            reason: None,
            enqueued_at: now_millis,
            not_before: None,
            ..self.clone()
        }
    }
}
