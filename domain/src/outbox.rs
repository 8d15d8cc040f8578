//! An outbox mail's life: written `pending` in the transaction of the change that decided it,
//! claimed (`sending`) by one mailer under a lease, and then `sent`, `failed` for good (its job in
//! the dead-letter queue) or `suppressed` (SES feedback). A transient failure or a lapsed lease
//! puts it back to `pending`. The store persists these states; the mailer, the CLI and the tests
//! read them through these types.

use crate::{Email, Locale, MailKind, Timestamp};

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
    /// Every status.
    pub const ALL: [Self; 5] = [
        Self::Pending,
        Self::Sending,
        Self::Sent,
        Self::Failed,
        Self::Suppressed,
    ];

    /// The stored name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Sending => "sending",
            Self::Sent => "sent",
            Self::Failed => "failed",
            Self::Suppressed => "suppressed",
        }
    }

    /// Whether the mail is done with: sent, failed for good, or suppressed. Nothing more
    /// happens to it but its expiry.
    pub const fn is_final(self) -> bool {
        matches!(self, Self::Sent | Self::Failed | Self::Suppressed)
    }

    /// The status stored as `text`.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.as_str() == text)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_reads_back_from_its_name_and_only_the_last_three_are_final() {
        for status in MailStatus::ALL {
            assert_eq!(MailStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(MailStatus::parse("Pending"), None);
        let finals: Vec<_> = MailStatus::ALL
            .into_iter()
            .filter(|status| status.is_final())
            .collect();
        assert_eq!(
            finals,
            [MailStatus::Sent, MailStatus::Failed, MailStatus::Suppressed]
        );
    }
}
