//! `LambdAuthMailer`: delivers the outbox.
//!
//! It is fed twice: by the table's stream (a new outbox item) and by the retry queue (a job
//! that failed before). Either way it claims the item before sending, so a duplicate delivery
//! sends nothing; decrypts the link's token, renders the mail and sends it through SES; and then
//! records the outcome. A transient SES failure goes back to the retry queue with back-off; a
//! permanent one marks the mail failed and parks the job in the dead-letter queue with its
//! reason. A record is only reported as failed (for Lambda to deliver again) when it could not
//! be handed off at all, and a malformed record is reported to the dead-letter queue, never
//! retried for ever.

mod cap;
pub mod jobs;
pub mod queue;
pub mod ses;
mod suppression;

use std::time::Duration;

use aws_lambda_events::dynamodb::EventRecord;
use aws_lambda_events::sqs::SqsMessage;
use lambdauth_domain::mail::retry_delay;
use std::sync::Arc;

use lambdauth_domain::random::{OsRandomness, Randomness};
use lambdauth_domain::{Clock, MailKind, MailStatus, OutboxMail, Timestamp, mask_addresses};
use lambdauth_mail_templates::{MailContent, Templates, link};
use serde_dynamo::AttributeValue as StreamValue;
use serde_json::{Value, json};
use tracing::Instrument as _;

use lambdauth_runtime::api::BoxError;
use lambdauth_runtime::aws_error::AwsFailure;
use lambdauth_runtime::function::{Context, EventFunction, Function, StartError};
use lambdauth_runtime::metrics::{MailMetric, emit};
use lambdauth_runtime::sealer::TokenSealer;
use lambdauth_runtime::store::StoreError;
use lambdauth_runtime::store::schema::{self, attribute, item_type};

use crate::config::MailerConfig;
use crate::store::OutboxStore;
use jobs::MailJob;
use queue::MailQueue;
use ses::SendFailure;

/// What became of one job.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Delivery {
    /// SES accepted it now.
    Sent,
    /// It had been sent, or failed for good, before: nothing to do.
    AlreadyDone,
    /// The outbox item is gone (expired): nothing to send.
    Gone,
    /// Another mailer holds it; a job was queued to look again when its claim lapses.
    Deferred,
    /// A transient failure; a job was queued to try again.
    Retried,
    /// A permanent failure; the job is in the dead-letter queue.
    DeadLettered,
    /// The global cap of its kind was reached; a job was queued for the next window.
    OverCap,
    /// The recipient is suppressed (SES feedback): the mail ended `suppressed`, unsent.
    Suppressed,
}

/// The SES client the mailer sends with: one attempt per job, since the retry queue is the
/// retry mechanism (never a retry loop that burns the function's time), each attempt bounded by
/// `attempt_timeout`.
fn ses_client(aws: &aws_config::SdkConfig, attempt_timeout: Duration) -> aws_sdk_sesv2::Client {
    let config = aws_sdk_sesv2::config::Builder::from(aws)
        .retry_config(aws_config::retry::RetryConfig::disabled())
        .timeout_config(
            aws_config::timeout::TimeoutConfig::builder()
                .operation_attempt_timeout(attempt_timeout)
                .build(),
        );
    aws_sdk_sesv2::Client::from_conf(config.build())
}

/// The mailer and its clients, built once per container.
pub struct Mailer {
    store: OutboxStore,
    sealer: TokenSealer,
    ses: aws_sdk_sesv2::Client,
    retry_queue: MailQueue,
    dead_letter_queue: MailQueue,
    templates: Templates,
    config: MailerConfig,
    clock: Arc<dyn Clock + Send + Sync>,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer")
            .field("store", &self.store)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// One record of either event source, read as its typed event.
enum MailRecord {
    Stream(Box<EventRecord>),
    Queue(Box<SqsMessage>),
}

impl Function for Mailer {
    const NAME: &'static str = "LambdAuthMailer";
    type Config = MailerConfig;

    fn build(config: MailerConfig, context: &Context) -> Result<Self, StartError> {
        let sqs = aws_sdk_sqs::Client::new(&context.aws);
        Ok(Self {
            templates: Templates::new(config.product_name.clone())
                .map_err(|error| StartError::unusable("the mail templates", error))?,
            store: OutboxStore::new(context.dynamodb(), &config.outbox_table_name),
            sealer: TokenSealer::decrypt_only(aws_sdk_kms::Client::new(&context.aws)),
            ses: ses_client(&context.aws, config.ses_attempt_timeout),
            retry_queue: MailQueue::new(sqs.clone(), &config.retry_queue_url),
            dead_letter_queue: MailQueue::new(sqs, &config.dead_letter_queue_url),
            config,
            clock: Arc::clone(&context.clock),
        })
    }
}

impl EventFunction for Mailer {
    async fn handle_event(&self, event: Value) -> Result<Value, BoxError> {
        Ok(Mailer::handle_event(self, event).await)
    }
}

impl Mailer {
    /// The outbox table this mailer works on.
    pub fn store(&self) -> &OutboxStore {
        &self.store
    }

    fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// Handles a Lambda event from either source and answers the partial batch response. Each
    /// record is read as its source's typed record; one that does not read is parked for an
    /// operator, never retried for ever.
    pub async fn handle_event(&self, event: Value) -> Value {
        let records = match event {
            Value::Object(mut event) => match event.remove("Records") {
                Some(Value::Array(records)) => records,
                _ => Vec::new(),
            },
            _ => Vec::new(),
        };
        let mut failures = Vec::new();
        for record in records {
            let outcome = match MailRecord::read(&record) {
                Some(MailRecord::Stream(record)) => self.handle_stream_record(&record).await,
                Some(MailRecord::Queue(message)) => self.handle_sqs_record(&message).await,
                None => {
                    let identifier = record_identifier(&record);
                    self.report_malformed("a record of neither source", &record, &identifier)
                        .await
                }
            };
            if let Err(identifier) = outcome {
                failures.push(json!({ "itemIdentifier": identifier }));
            }
        }
        json!({ "batchItemFailures": failures })
    }

    /// One stream record; `Err` with its sequence number when Lambda must deliver it again.
    async fn handle_stream_record(&self, record: &EventRecord) -> Result<(), String> {
        let sequence = record.change.sequence_number.clone().unwrap_or_default();
        let image = &record.change.new_image;
        let text = |name: &str| match image.get(name) {
            Some(StreamValue::S(value)) => Some(value.as_str()),
            _ => None,
        };
        if record.event_name != "INSERT" || text(schema::TYPE_ATTRIBUTE) != Some(item_type::MAIL) {
            return Ok(());
        }
        let (Some(mail_id), Some(recipient), Some(kind)) = (
            text(attribute::MAIL_ID),
            text(schema::PARTITION_KEY),
            text(attribute::KIND),
        ) else {
            let shown = serde_json::to_value(record).unwrap_or_default();
            return self
                .report_malformed(
                    "a stream record without mailId, pk or kind",
                    &shown,
                    &sequence,
                )
                .await;
        };
        let job = MailJob::first(mail_id, recipient, kind, self.now().as_millis());
        self.deliver_or_report(&job, &sequence).await
    }

    /// One retry-queue message; `Err` with its message id when SQS must deliver it again.
    async fn handle_sqs_record(&self, message: &SqsMessage) -> Result<(), String> {
        let message_id = message.message_id.clone().unwrap_or_default();
        let body = message.body.as_deref().unwrap_or_default();
        if let Ok(job) = serde_json::from_str::<MailJob>(body) {
            self.deliver_or_report(&job, &message_id).await
        } else {
            let shown = serde_json::to_value(message).unwrap_or_default();
            self.report_malformed(
                "a retry message that is not a mail job",
                &shown,
                &message_id,
            )
            .await
        }
    }

    async fn deliver_or_report(&self, job: &MailJob, identifier: &str) -> Result<(), String> {
        let span = tracing::info_span!("mail", mail_id = %job.mail_id, kind = %job.kind);
        async move {
            match self.deliver(job).await {
                Ok(delivery) => {
                    tracing::info!(?delivery, "handled");
                    Ok(())
                }
                Err(error) => {
                    tracing::warn!(%error, "not handed off; the record will be delivered again");
                    Err(identifier.to_owned())
                }
            }
        }
        .instrument(span)
        .await
    }

    /// A record no job can be made of: parked in the dead-letter queue for an operator, and
    /// acknowledged, so it is not retried for ever.
    async fn report_malformed(
        &self,
        reason: &str,
        record: &Value,
        identifier: &str,
    ) -> Result<(), String> {
        tracing::error!(reason, "malformed record");
        // Parked as text with every address masked: a record can name its recipient.
        let shown = mask_addresses(&record.to_string());
        let body = json!({ "reason": format!("malformed: {reason}"), "record": shown, "enqueuedAt": self.now().as_millis() });
        match self.dead_letter_queue.send_other(&body).await {
            Ok(()) => {
                emit(MailMetric::DeadLettered, "unknown", self.now().as_millis());
                Ok(())
            }
            Err(error) => {
                tracing::error!(%error, "cannot park a malformed record");
                Err(identifier.to_owned())
            }
        }
    }

    /// Delivers one job. `Err` only when the job could not be handed off (sent, queued again, or
    /// dead-lettered): the caller must then have it delivered again.
    pub async fn deliver(&self, job: &MailJob) -> Result<Delivery, MailerError> {
        let now = self.now();
        if let Some(waiting) = self.wait_longer(job, now).await? {
            return Ok(waiting);
        }
        let Some(mail) = self.store.load_mail(&job.recipient, &job.mail_id).await? else {
            tracing::warn!("the outbox item is gone");
            return Ok(Delivery::Gone);
        };
        if matches!(
            mail.status,
            MailStatus::Sent | MailStatus::Failed | MailStatus::Suppressed
        ) {
            return Ok(Delivery::AlreadyDone);
        }
        let claimed = match self
            .store
            .claim_mail(&job.recipient, &job.mail_id, now, self.config.lease)
            .await
        {
            Ok(claimed) => claimed,
            Err(StoreError::Conflict) => return self.not_claimed(job, now).await,
            Err(error) => return Err(error.into()),
        };
        if self.end_if_suppressed(&claimed, now).await? {
            return Ok(Delivery::Suppressed);
        }
        if self.over_cap(&claimed, now).await? {
            return Ok(Delivery::OverCap);
        }
        match self.send(&claimed, now).await {
            Ok(message_id) => {
                self.record_sent(&claimed, &message_id).await;
                emit(
                    MailMetric::Sent,
                    claimed.kind.as_str(),
                    self.now().as_millis(),
                );
                Ok(Delivery::Sent)
            }
            Err(SendFailure::Transient(detail)) if claimed.attempts < self.config.max_attempts => {
                self.retry_later(&claimed, &detail).await
            }
            Err(SendFailure::Transient(detail)) => {
                let reason = format!("gave up after {} attempts: {detail}", claimed.attempts);
                self.dead_letter(&claimed, &reason).await
            }
            Err(SendFailure::Permanent(detail)) => self.dead_letter(&claimed, &detail).await,
            Err(SendFailure::Paused(detail)) => {
                tracing::error!(
                    alert = "SES sending paused",
                    detail,
                    "SES refuses to send for the account; mail is parked in the dead-letter queue"
                );
                self.dead_letter(&claimed, &format!("sending paused: {detail}"))
                    .await
            }
        }
    }

    /// The claim failed: the mail was finished meanwhile, or another mailer holds it.
    async fn not_claimed(&self, job: &MailJob, now: Timestamp) -> Result<Delivery, MailerError> {
        let Some(mail) = self.store.load_mail(&job.recipient, &job.mail_id).await? else {
            return Ok(Delivery::Gone);
        };
        match (mail.status, mail.lease_until) {
            (MailStatus::Sent | MailStatus::Failed | MailStatus::Suppressed, _) => {
                Ok(Delivery::AlreadyDone)
            }
            (_, lease) => {
                // Look again once the other claim has lapsed, in case its holder died.
                let wait = lease.map_or(Duration::from_secs(1), |until| {
                    until.since(now) + Duration::from_secs(1)
                });
                self.enqueue_retry(&mail, wait, mail.last_error.as_deref())
                    .await?;
                Ok(Delivery::Deferred)
            }
        }
    }

    /// Decrypts, renders and sends a claimed mail.
    async fn send(&self, mail: &OutboxMail, now: Timestamp) -> Result<String, SendFailure> {
        let link = match (
            mail.kind.has_link(),
            &mail.link_ciphertext,
            mail.link_expires_at,
        ) {
            (false, _, _) => None,
            (true, Some(ciphertext), Some(expires_at)) => {
                if expires_at <= now {
                    return Err(SendFailure::Permanent(
                        "the link expired before the mail could be sent".to_owned(),
                    ));
                }
                let token = self
                    .sealer
                    .open(ciphertext, &mail.id, mail.recipient.as_str())
                    .await
                    .map_err(|failure| match failure {
                        AwsFailure::Throttled { detail, .. } => {
                            SendFailure::Transient(format!("KMS: {detail}"))
                        }
                        AwsFailure::Unexpected { detail, .. } => {
                            SendFailure::Permanent(format!("KMS: {detail}"))
                        }
                    })?;
                let (page, parameter) = match mail.kind {
                    MailKind::PasswordReset => (&self.config.reset_page, "lost"),
                    _ => (&self.config.verification_page, "verify"),
                };
                Some((
                    link(page, mail.recipient.as_str(), parameter, token.expose()),
                    expires_at.since(mail.created_at),
                ))
            }
            (true, _, _) => {
                return Err(SendFailure::Permanent(
                    "the outbox item has no link token".to_owned(),
                ));
            }
        };
        let content = MailContent {
            email: mail.recipient.as_str(),
            link: link.as_ref().map(|(url, _)| url.as_str()),
            valid_for: link.as_ref().map(|(_, valid_for)| *valid_for),
            earlier_signup_pending: mail.earlier_signup_pending,
        };
        let rendered = self
            .templates
            .render(mail.kind, &mail.locale, &content)
            .map_err(|e| SendFailure::Permanent(e.to_string()))?;
        ses::send(
            &self.ses,
            &self.config.from_address,
            mail.recipient.as_str(),
            self.config.configuration_set.as_deref(),
            &rendered,
        )
        .await
    }

    /// Records the SES message id. SES has already accepted the mail, so this is tried a few
    /// times; if it still fails the claim lapses and a redelivery could send it twice, the one
    /// duplicate this design cannot rule out (SES has no idempotency key).
    async fn record_sent(&self, mail: &OutboxMail, message_id: &str) {
        for attempt in 1..=3 {
            match self
                .store
                .mark_mail_sent(mail.recipient.as_str(), &mail.id, message_id, self.now())
                .await
            {
                Ok(()) => return,
                Err(error) if attempt < 3 => {
                    tracing::warn!(%error, "recording the sent mail failed; trying again");
                    tokio::time::sleep(Duration::from_millis(100 * attempt)).await;
                }
                Err(error) => {
                    tracing::error!(%error, message_id, "SES accepted the mail but it could not be recorded as sent");
                }
            }
        }
    }

    async fn retry_later(&self, mail: &OutboxMail, detail: &str) -> Result<Delivery, MailerError> {
        let random = u32::from_le_bytes(OsRandomness.bytes().unwrap_or([0x80; 4]));
        let wait = retry_delay(
            mail.attempts,
            self.config.retry_base,
            queue::MAX_DELAY,
            random,
        );
        self.store
            .release_mail(mail.recipient.as_str(), &mail.id, detail, self.now())
            .await?;
        self.enqueue_retry(mail, wait, Some(detail)).await?;
        tracing::warn!(
            detail,
            attempts = mail.attempts,
            wait_seconds = wait.as_secs(),
            "transient failure; retrying later"
        );
        emit(
            MailMetric::Retried,
            mail.kind.as_str(),
            self.now().as_millis(),
        );
        Ok(Delivery::Retried)
    }

    async fn enqueue_retry(
        &self,
        mail: &OutboxMail,
        wait: Duration,
        last_error: Option<&str>,
    ) -> Result<(), MailerError> {
        let job = MailJob::after_attempts(mail, last_error, None, self.now().as_millis());
        self.retry_queue.send(&job, wait).await?;
        Ok(())
    }

    /// Parks the job in the dead-letter queue with `reason`, then marks the mail failed. The
    /// queue comes first: if marking fails, the job is delivered again rather than lost.
    async fn dead_letter(&self, mail: &OutboxMail, reason: &str) -> Result<Delivery, MailerError> {
        let job = MailJob::after_attempts(mail, Some(reason), Some(reason), self.now().as_millis());
        self.dead_letter_queue.send(&job, Duration::ZERO).await?;
        self.store
            .mark_mail_failed(mail.recipient.as_str(), &mail.id, reason, self.now())
            .await?;
        tracing::error!(
            reason,
            attempts = mail.attempts,
            "mail failed permanently; job dead-lettered"
        );
        emit(
            MailMetric::Failed,
            mail.kind.as_str(),
            self.now().as_millis(),
        );
        emit(
            MailMetric::DeadLettered,
            mail.kind.as_str(),
            self.now().as_millis(),
        );
        Ok(Delivery::DeadLettered)
    }
}

impl MailRecord {
    /// `record` as a stream record or a queue message, by its `eventSource`; `None` when it is
    /// neither or does not read as its source's record.
    fn read(record: &Value) -> Option<Self> {
        match record.get("eventSource").and_then(Value::as_str) {
            Some("aws:sqs") => serde_json::from_value(record.clone())
                .ok()
                .map(|message| Self::Queue(Box::new(message))),
            Some("aws:dynamodb") => serde_json::from_value(record.clone())
                .ok()
                .map(|record| Self::Stream(Box::new(record))),
            _ => None,
        }
    }
}

/// The identifier Lambda knows a record by, read without its type: a stream record's sequence
/// number or a message's id.
fn record_identifier(record: &Value) -> String {
    record["dynamodb"]["SequenceNumber"]
        .as_str()
        .or_else(|| record["messageId"].as_str())
        .unwrap_or_default()
        .to_owned()
}

/// A job could not be handed off.
#[derive(Debug, thiserror::Error)]
pub enum MailerError {
    /// The table failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// SQS failed.
    #[error(transparent)]
    Aws(#[from] AwsFailure),
}
