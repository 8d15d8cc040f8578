//! What operators do to the mail pipeline: look into the dead-letter queue, send its jobs back
//! to the retry queue (dropping those whose link expired), purge it, and read the outbox history
//! of one address. Every queue access goes through the mailer's own [`MailQueue`].

use std::time::Duration;

use lambdauth_domain::{Email, Timestamp};
use lambdauth_domain::{MailStatus, OutboxMail};
use lambdauth_mail::mailer::queue::{MailQueue, QueuedMessage};
use lambdauth_mail::store::OutboxStore;
use lambdauth_runtime::aws_error::AwsFailure;
use lambdauth_runtime::store::StoreError;

/// How long a message read for a redrive or a purge stays hidden from other readers.
const HOLD_WHILE_WORKING: Duration = Duration::from_secs(30);

/// Every message in the dead-letter queue, left in it.
pub async fn dlq_list(dead_letters: &MailQueue) -> Result<Vec<QueuedMessage>, AwsFailure> {
    dead_letters.peek_all().await
}

/// What a redrive did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RedriveReport {
    /// Jobs sent back to the retry queue.
    pub redriven: Vec<String>,
    /// Jobs dropped, with why (the link expired, the mail was sent, the item is gone).
    pub dropped: Vec<(String, String)>,
    /// Messages left in the dead-letter queue because they are not mail jobs.
    pub kept: Vec<String>,
}

/// Sends every job in the dead-letter queue back to the retry queue, its mail made pending
/// again; drops the jobs whose link expired (they would mail a dead link) or that no longer
/// need sending.
pub async fn dlq_redrive(
    store: &OutboxStore,
    dead_letters: &MailQueue,
    retry: &MailQueue,
    now: Timestamp,
) -> Result<RedriveReport, RedriveError> {
    let letters = dead_letters.receive_all(HOLD_WHILE_WORKING).await?;
    let mut report = RedriveReport::default();
    for letter in letters {
        let Some(job) = letter.job.clone() else {
            report.kept.push(letter.message_id.clone());
            dead_letters
                .make_visible_after(&letter, Duration::ZERO)
                .await?;
            continue;
        };
        let mail = store.load_mail(&job.recipient, &job.mail_id).await?;
        let drop_reason = match &mail {
            None => Some("the outbox item is gone"),
            Some(mail) if mail.status == MailStatus::Sent => Some("already sent"),
            Some(mail) if mail.link_expires_at.is_some_and(|at| at <= now) => {
                Some("its link expired")
            }
            Some(_) => None,
        };
        if let Some(reason) = drop_reason {
            report
                .dropped
                .push((job.mail_id.clone(), reason.to_owned()));
        } else {
            store.reopen_mail(&job.recipient, &job.mail_id, now).await?;
            retry
                .send(&job.redriven(now.as_millis()), Duration::ZERO)
                .await?;
            report.redriven.push(job.mail_id.clone());
        }
        dead_letters.delete(&letter).await?;
    }
    Ok(report)
}

/// Empties the dead-letter queue; how many messages it held.
pub async fn dlq_purge(dead_letters: &MailQueue) -> Result<usize, AwsFailure> {
    let letters = dead_letters.receive_all(HOLD_WHILE_WORKING).await?;
    for letter in &letters {
        dead_letters.delete(letter).await?;
    }
    Ok(letters.len())
}

/// The outbox history of `email`, oldest first.
pub async fn mail_status(
    store: &OutboxStore,
    email: &Email,
) -> Result<Vec<OutboxMail>, StoreError> {
    store.mails_to(email.as_str()).await
}

/// A redrive failed part-way; what was done before stays done.
#[derive(Debug, thiserror::Error)]
pub enum RedriveError {
    /// SQS failed.
    #[error(transparent)]
    Aws(#[from] AwsFailure),
    /// The table failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// `2h 5m`-style age of an instant.
pub fn age(then: i64, now: Timestamp) -> String {
    let seconds = now.since(Timestamp::from_millis(then)).as_secs();
    match seconds {
        0..60 => format!("{seconds}s"),
        60..3600 => format!("{}m", seconds / 60),
        3600..86_400 => format!("{}h {}m", seconds / 3600, seconds % 3600 / 60),
        _ => format!("{}d {}h", seconds / 86_400, seconds % 86_400 / 3600),
    }
}
