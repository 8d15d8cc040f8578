//! The mail queues (the retry queue and the dead-letter queue) over SQS: a [`MailJob`] sent,
//! received, deleted or made visible again. The mailer, the operators' `dlq` commands and the
//! local event source mapping all go through here, so a job is written and read one way.

use std::time::Duration;

use aws_sdk_sqs::Client as SqsClient;
use aws_sdk_sqs::types::{Message, MessageSystemAttributeName};
use serde_json::Value;

use super::jobs::MailJob;
use lambdauth_runtime::aws_error::{AwsFailure, classify};

/// SQS's longest delay on a message.
pub const MAX_DELAY: Duration = Duration::from_mins(15);

/// The most messages one receive returns.
const MAX_BATCH: i32 = 10;

/// One queue of mail jobs.
#[derive(Debug, Clone)]
pub struct MailQueue {
    sqs: SqsClient,
    url: String,
}

/// A message read from a queue: a job, or (on the dead-letter queue) a record no job could be
/// made of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedMessage {
    /// The job, when the message is one.
    pub job: Option<MailJob>,
    /// The raw body.
    pub body: String,
    /// SQS's message id.
    pub message_id: String,
    /// When it was first sent to a queue (epoch milliseconds), from SQS.
    pub sent_at: Option<i64>,
    /// The handle that deletes it or makes it visible again.
    pub receipt_handle: String,
    /// Every system attribute SQS returned (`ApproximateReceiveCount`, `SentTimestamp`, …).
    pub attributes: Vec<(String, String)>,
    /// The body's MD5, as SQS reports it.
    pub md5_of_body: Option<String>,
}

impl QueuedMessage {
    fn from_sqs(message: &Message) -> Self {
        let body = message.body().unwrap_or_default().to_owned();
        let attributes: Vec<(String, String)> = message
            .attributes()
            .map(|attributes| {
                attributes
                    .iter()
                    .map(|(name, value)| (name.as_str().to_owned(), value.clone()))
                    .collect()
            })
            .unwrap_or_default();
        Self {
            job: serde_json::from_str(&body).ok(),
            body,
            message_id: message.message_id().unwrap_or_default().to_owned(),
            sent_at: message
                .attributes()
                .and_then(|a| a.get(&MessageSystemAttributeName::SentTimestamp))
                .and_then(|t| t.parse().ok()),
            receipt_handle: message.receipt_handle().unwrap_or_default().to_owned(),
            attributes,
            md5_of_body: message.md5_of_body().map(str::to_owned),
        }
    }

    /// Why it is in the dead-letter queue: the mailer's reason, or SQS's redrive after too many
    /// receives.
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

impl MailQueue {
    /// The queue at `url`.
    pub fn new(sqs: SqsClient, url: impl Into<String>) -> Self {
        Self {
            sqs,
            url: url.into(),
        }
    }

    /// The queue's URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Sends `job`, visible after `delay` (at most SQS's fifteen minutes).
    pub async fn send(&self, job: &MailJob, delay: Duration) -> Result<(), AwsFailure> {
        let body = serde_json::to_string(job).map_err(|e| AwsFailure::Unexpected {
            service: "SQS",
            detail: format!("a job that does not serialize: {e}"),
        })?;
        self.send_body(body, delay).await
    }

    /// Sends a body that is not a job (a record parked for an operator to read).
    pub async fn send_other(&self, body: &Value) -> Result<(), AwsFailure> {
        self.send_body(body.to_string(), Duration::ZERO).await
    }

    async fn send_body(&self, body: String, delay: Duration) -> Result<(), AwsFailure> {
        let delay = i32::try_from(delay.min(MAX_DELAY).as_secs()).unwrap_or(0);
        self.sqs
            .send_message()
            .queue_url(&self.url)
            .message_body(body)
            .delay_seconds(delay)
            .send()
            .await
            .map_err(|e| classify("SQS", &e))?;
        Ok(())
    }

    /// Up to ten messages, waiting up to `wait` for the first, hidden for `visibility` when
    /// given (the queue's own timeout otherwise).
    pub async fn receive(
        &self,
        wait: Duration,
        visibility: Option<Duration>,
    ) -> Result<Vec<QueuedMessage>, AwsFailure> {
        let output = self
            .sqs
            .receive_message()
            .queue_url(&self.url)
            .max_number_of_messages(MAX_BATCH)
            .wait_time_seconds(i32::try_from(wait.as_secs()).unwrap_or(0))
            .set_visibility_timeout(visibility.map(|v| i32::try_from(v.as_secs()).unwrap_or(0)))
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .send()
            .await
            .map_err(|e| classify("SQS", &e))?;
        Ok(output
            .messages()
            .iter()
            .map(QueuedMessage::from_sqs)
            .collect())
    }

    /// Every message in the queue, each hidden for `visibility` so that each is read once.
    pub async fn receive_all(
        &self,
        visibility: Duration,
    ) -> Result<Vec<QueuedMessage>, AwsFailure> {
        let mut messages = Vec::new();
        loop {
            let batch = self.receive(Duration::ZERO, Some(visibility)).await?;
            if batch.is_empty() {
                return Ok(messages);
            }
            messages.extend(batch);
        }
    }

    /// Every message in the queue, left in it.
    pub async fn peek_all(&self) -> Result<Vec<QueuedMessage>, AwsFailure> {
        let messages = self.receive_all(Duration::from_secs(30)).await?;
        for message in &messages {
            self.make_visible_after(message, Duration::ZERO).await?;
        }
        Ok(messages)
    }

    /// Deletes a handled message.
    pub async fn delete(&self, message: &QueuedMessage) -> Result<(), AwsFailure> {
        self.sqs
            .delete_message()
            .queue_url(&self.url)
            .receipt_handle(&message.receipt_handle)
            .send()
            .await
            .map_err(|e| classify("SQS", &e))?;
        Ok(())
    }

    /// Makes a received message visible again after `delay`.
    pub async fn make_visible_after(
        &self,
        message: &QueuedMessage,
        delay: Duration,
    ) -> Result<(), AwsFailure> {
        self.sqs
            .change_message_visibility()
            .queue_url(&self.url)
            .receipt_handle(&message.receipt_handle)
            .visibility_timeout(i32::try_from(delay.as_secs()).unwrap_or(0))
            .send()
            .await
            .map_err(|e| classify("SQS", &e))?;
        Ok(())
    }
}
