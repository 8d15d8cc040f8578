//! What operators do to the mail pipeline: look into the dead-letter queue, send its jobs back
//! to the retry queue (dropping those whose link expired), purge it, and read the outbox history
//! of one address.

use aws_sdk_sqs::Client as SqsClient;
use lambdauth_domain::{Email, Timestamp};
use lambdauth_handlers::aws::{AwsFailure, classify};
use lambdauth_handlers::mailer::jobs::MailJob;
use lambdauth_handlers::store::items::{MailStatus, OutboxMail};
use lambdauth_handlers::store::{StoreError, UserStore};

/// How long a message read for listing stays hidden before it is made visible again.
const PEEK_VISIBILITY_SECONDS: i32 = 30;

/// One message in the dead-letter queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    /// The job, when the message is one.
    pub job: Option<MailJob>,
    /// The raw body, for a message that is not a job.
    pub body: String,
    /// SQS's message id.
    pub message_id: String,
    /// When it was first sent to a queue (epoch milliseconds), from SQS.
    pub sent_at: Option<i64>,
    receipt_handle: String,
}

impl DeadLetter {
    /// Why it is there: the mailer's reason, or SQS's redrive after too many receives.
    pub fn reason(&self) -> String {
        match &self.job {
            Some(MailJob {
                reason: Some(reason),
                ..
            }) => reason.clone(),
            Some(MailJob { last_error, .. }) => format!(
                "received too often without success{}",
                last_error
                    .as_ref()
                    .map(|e| format!(" (last error: {e})"))
                    .unwrap_or_default()
            ),
            None => "not a mail job".to_owned(),
        }
    }
}

/// Reads every message in the queue at `url`, hiding them while it reads so each is seen once.
async fn read_all(sqs: &SqsClient, url: &str) -> Result<Vec<DeadLetter>, AwsFailure> {
    let mut letters = Vec::new();
    loop {
        let output = sqs
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(10)
            .visibility_timeout(PEEK_VISIBILITY_SECONDS)
            .message_system_attribute_names(
                aws_sdk_sqs::types::MessageSystemAttributeName::SentTimestamp,
            )
            .send()
            .await
            .map_err(|e| classify("SQS", &e))?;
        if output.messages().is_empty() {
            break;
        }
        for message in output.messages() {
            let body = message.body().unwrap_or_default().to_owned();
            letters.push(DeadLetter {
                job: serde_json::from_str(&body).ok(),
                body,
                message_id: message.message_id().unwrap_or_default().to_owned(),
                sent_at: message
                    .attributes()
                    .and_then(|a| {
                        a.get(&aws_sdk_sqs::types::MessageSystemAttributeName::SentTimestamp)
                    })
                    .and_then(|t| t.parse().ok()),
                receipt_handle: message.receipt_handle().unwrap_or_default().to_owned(),
            });
        }
    }
    Ok(letters)
}

async fn make_visible(
    sqs: &SqsClient,
    url: &str,
    letters: &[DeadLetter],
) -> Result<(), AwsFailure> {
    for letter in letters {
        sqs.change_message_visibility()
            .queue_url(url)
            .receipt_handle(&letter.receipt_handle)
            .visibility_timeout(0)
            .send()
            .await
            .map_err(|e| classify("SQS", &e))?;
    }
    Ok(())
}

/// Every message in the dead-letter queue, left in it.
pub async fn dlq_list(
    sqs: &SqsClient,
    dead_letter_url: &str,
) -> Result<Vec<DeadLetter>, AwsFailure> {
    let letters = read_all(sqs, dead_letter_url).await?;
    make_visible(sqs, dead_letter_url, &letters).await?;
    Ok(letters)
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
    sqs: &SqsClient,
    store: &UserStore,
    dead_letter_url: &str,
    retry_url: &str,
    now: Timestamp,
) -> Result<RedriveReport, RedriveError> {
    let letters = read_all(sqs, dead_letter_url).await?;
    let mut report = RedriveReport::default();
    let mut kept = Vec::new();
    for letter in letters {
        let Some(job) = letter.job.clone() else {
            report.kept.push(letter.message_id.clone());
            kept.push(letter);
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
            let retry = MailJob {
                attempts: 0,
                reason: None,
                enqueued_at: now.as_millis(),
                ..job.clone()
            };
            sqs.send_message()
                .queue_url(retry_url)
                .message_body(serde_json::to_string(&retry).unwrap_or_default())
                .send()
                .await
                .map_err(|e| classify("SQS", &e))?;
            report.redriven.push(job.mail_id.clone());
        }
        delete(sqs, dead_letter_url, &letter).await?;
    }
    make_visible(sqs, dead_letter_url, &kept).await?;
    Ok(report)
}

/// Empties the dead-letter queue; how many messages it held.
pub async fn dlq_purge(sqs: &SqsClient, dead_letter_url: &str) -> Result<usize, AwsFailure> {
    let letters = read_all(sqs, dead_letter_url).await?;
    for letter in &letters {
        delete(sqs, dead_letter_url, letter).await?;
    }
    Ok(letters.len())
}

async fn delete(sqs: &SqsClient, url: &str, letter: &DeadLetter) -> Result<(), AwsFailure> {
    sqs.delete_message()
        .queue_url(url)
        .receipt_handle(&letter.receipt_handle)
        .send()
        .await
        .map_err(|e| classify("SQS", &e))?;
    Ok(())
}

/// The outbox history of `email`, oldest first.
pub async fn mail_status(store: &UserStore, email: &Email) -> Result<Vec<OutboxMail>, StoreError> {
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
