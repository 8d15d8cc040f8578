//! `LambdAuthMailFeedback`: SES's feedback on sent mail, recorded per address.
//!
//! The stack's SES configuration set publishes the Bounce, Complaint, Reject and Delivery events
//! of every mail the mailer sends to an SNS topic, and the topic invokes this function. Each SNS
//! record's message is one SES event (event publishing's JSON: `eventType`, `mail`, and a
//! `bounce`, `complaint` or `delivery` part); each recipient it names gets its feedback recorded
//! on its address's record in the outbox table ([`crate::store::mailbox`]), where the domain's
//! rules ([`lambdauth_domain::feedback`]) decide what it changes: a count, and for a permanent
//! bounce or a complaint a suppression the mailer then honours.
//!
//! Bounces and complaints are security events (an attacker who signs up addresses that bounce
//! is trying to get the account paused) and metrics, with deliveries and rejections, for the
//! bounce-rate alarm. A record that does not read as an SES event is logged and acknowledged,
//! never retried for ever; only a failure to record (DynamoDB) fails the invocation, for Lambda
//! to invoke it again. SNS delivers at least once: an event delivered twice is counted twice,
//! which leaves a suppression as it is.

use aws_lambda_events::sns::SnsRecord;
use lambdauth_domain::feedback::{BounceType, Feedback, decide};
use std::sync::Arc;

use lambdauth_domain::{Clock, Email, Timestamp, mask_addresses};
use lambdauth_runtime::api::BoxError;
use lambdauth_runtime::function::{Context, EventFunction, Function, StartError};
use lambdauth_runtime::metrics::FeedbackMetric;
use lambdauth_runtime::security::{self, SecurityEvent};
use lambdauth_runtime::store::StoreError;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tracing::Instrument as _;

use crate::config::MailFeedbackConfig;
use crate::store::OutboxStore;
/// An SES event as event publishing sends it (identity notifications, which name the type
/// `notificationType`, read the same). Only what the feedback needs is read.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SesEvent {
    /// `Bounce`, `Complaint`, `Delivery`, `Reject` (or another type this function ignores).
    #[serde(alias = "notificationType")]
    pub event_type: String,
    /// The mail the event is about.
    #[serde(default)]
    pub mail: SesMail,
    /// A bounce's details.
    pub bounce: Option<SesBounce>,
    /// A complaint's details.
    pub complaint: Option<SesComplaint>,
    /// A delivery's details.
    pub delivery: Option<SesDelivery>,
}

/// The `mail` part: the mail the event is about.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SesMail {
    /// SES's message id.
    #[serde(default)]
    pub message_id: String,
    /// Every recipient of the mail.
    #[serde(default)]
    pub destination: Vec<String>,
}

/// The `bounce` part.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SesBounce {
    /// `Permanent`, `Transient` or `Undetermined`.
    pub bounce_type: String,
    /// The recipients that bounced.
    #[serde(default)]
    pub bounced_recipients: Vec<SesRecipient>,
}

/// The `complaint` part.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SesComplaint {
    /// The recipients that complained.
    #[serde(default)]
    pub complained_recipients: Vec<SesRecipient>,
    /// The feedback type the mailbox provider reported (`abuse`, `not-spam`, …), when it did.
    #[serde(default)]
    pub complaint_feedback_type: Option<String>,
}

/// The `delivery` part.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SesDelivery {
    /// The recipients the mail was delivered to.
    #[serde(default)]
    pub recipients: Vec<String>,
}

/// One recipient of a bounce or complaint.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SesRecipient {
    /// The address.
    pub email_address: String,
}

/// An SNS message that is not an SES event this function can read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not an SES event: {0}")]
pub struct MalformedEvent(String);

/// The feedback an SES event (the SNS message `message`) gives, per recipient as SES names it.
/// An event of a type this function does not record (`Send`, `Open`, …) gives none.
pub fn read_event(message: &str) -> Result<Vec<(String, Feedback)>, MalformedEvent> {
    let event: SesEvent =
        serde_json::from_str(message).map_err(|e| MalformedEvent(e.to_string()))?;
    let missing =
        |part: &str| MalformedEvent(format!("a {} event without its `{part}`", event.event_type));
    let each = |recipients: Vec<String>, feedback: Feedback| {
        recipients
            .into_iter()
            .map(|recipient| (recipient, feedback))
            .collect()
    };
    Ok(match event.event_type.as_str() {
        "Bounce" => {
            let bounce = event.bounce.clone().ok_or_else(|| missing("bounce"))?;
            let feedback = Feedback::Bounced(BounceType::parse(&bounce.bounce_type));
            each(
                bounce
                    .bounced_recipients
                    .into_iter()
                    .map(|r| r.email_address)
                    .collect(),
                feedback,
            )
        }
        "Complaint" => {
            let complaint = event
                .complaint
                .clone()
                .ok_or_else(|| missing("complaint"))?;
            // `not-spam` is the recipient saying the mail is wanted (moved out of the spam
            // folder): no complaint at all, and no reason to stop mailing them.
            if complaint.complaint_feedback_type.as_deref() == Some("not-spam") {
                return Ok(Vec::new());
            }
            each(
                complaint
                    .complained_recipients
                    .into_iter()
                    .map(|r| r.email_address)
                    .collect(),
                Feedback::Complained,
            )
        }
        "Delivery" => {
            let delivery = event.delivery.clone().ok_or_else(|| missing("delivery"))?;
            each(delivery.recipients, Feedback::Delivered)
        }
        // A rejection is about the whole mail: every recipient of it.
        "Reject" => each(event.mail.destination, Feedback::Rejected),
        _ => Vec::new(),
    })
}

/// The bare address in `recipient`, which SES may give as `Name <address>`.
fn bare_address(recipient: &str) -> &str {
    match (recipient.rfind('<'), recipient.rfind('>')) {
        (Some(start), Some(end)) if start < end => &recipient[start + 1..end],
        _ => recipient,
    }
}

/// What one invocation did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Recorded {
    /// Pieces of feedback recorded (one per recipient of an event).
    pub recorded: usize,
    /// Records or recipients that could not be read: logged and acknowledged.
    pub malformed: usize,
}

/// The feedback could not be recorded: Lambda should invoke the function again.
#[derive(Debug, thiserror::Error)]
pub enum FeedbackError {
    /// The outbox table failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The feedback function over its table, built once per container.
#[derive(Clone)]
pub struct MailFeedback {
    store: OutboxStore,
    clock: Arc<dyn Clock + Send + Sync>,
}

impl std::fmt::Debug for MailFeedback {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MailFeedback")
            .field("store", &self.store)
            .finish_non_exhaustive()
    }
}

impl Function for MailFeedback {
    const NAME: &'static str = "LambdAuthMailFeedback";
    type Config = MailFeedbackConfig;

    fn build(config: MailFeedbackConfig, context: &Context) -> Result<Self, StartError> {
        Ok(Self {
            store: OutboxStore::new(context.dynamodb(), &config.outbox.table_name),
            clock: Arc::clone(&context.clock),
        })
    }
}

impl EventFunction for MailFeedback {
    async fn handle_event(&self, event: Value) -> Result<Value, BoxError> {
        let recorded = MailFeedback::handle_event(self, event).await?;
        Ok(serde_json::to_value(recorded)?)
    }
}

impl MailFeedback {
    /// Handles an SNS event: every record's SES event recorded for each of its recipients.
    pub async fn handle_event(&self, event: Value) -> Result<Recorded, FeedbackError> {
        let records = match event {
            Value::Object(mut event) => match event.remove("Records") {
                Some(Value::Array(records)) => records,
                _ => Vec::new(),
            },
            _ => Vec::new(),
        };
        let mut done = Recorded::default();
        for record in records {
            let Ok(record) = serde_json::from_value::<SnsRecord>(record) else {
                tracing::error!("malformed record: not an SNS record; acknowledged");
                done.malformed += 1;
                continue;
            };
            let span = tracing::info_span!("feedback", sns_message_id = %record.sns.message_id);
            let outcome = self
                .handle_message(&record.sns.message)
                .instrument(span)
                .await?;
            done.recorded += outcome.recorded;
            done.malformed += outcome.malformed;
        }
        Ok(done)
    }

    /// One SES event: parse, then for each recipient decide and persist.
    async fn handle_message(&self, message: &str) -> Result<Recorded, FeedbackError> {
        let mut done = Recorded::default();
        let feedback = match read_event(message) {
            Ok(feedback) => feedback,
            Err(error) => {
                // The message itself is not logged: it names recipients.
                tracing::error!(error = %mask_addresses(&error.to_string()), "malformed SES event; acknowledged");
                done.malformed += 1;
                return Ok(done);
            }
        };
        for (recipient, feedback) in feedback {
            let Ok(address) = Email::parse(bare_address(&recipient)) else {
                tracing::error!(
                    recipient = %mask_addresses(&recipient),
                    "feedback for an address that does not parse; acknowledged"
                );
                done.malformed += 1;
                continue;
            };
            let now = self.clock.now();
            let change = decide(feedback);
            self.store.record_feedback(&address, change, now).await?;
            report(&address, feedback, now);
            done.recorded += 1;
        }
        Ok(done)
    }
}

/// Logs, counts and raises the security event of one piece of recorded feedback.
fn report(address: &Email, feedback: Feedback, now: Timestamp) {
    let now_millis = now.as_millis();
    let recipient = address.as_str();
    match feedback {
        Feedback::Delivered => FeedbackMetric::Delivered.emit(now_millis),
        Feedback::Bounced(bounce_type) => {
            FeedbackMetric::Bounced(bounce_type.as_str()).emit(now_millis);
            security::record(
                &SecurityEvent::BounceRecorded {
                    recipient,
                    bounce_type: bounce_type.as_str(),
                },
                None,
                now,
            );
        }
        Feedback::Complained => {
            FeedbackMetric::Complained.emit(now_millis);
            security::record(&SecurityEvent::ComplaintRecorded { recipient }, None, now);
        }
        Feedback::Rejected => FeedbackMetric::Rejected.emit(now_millis),
    }
    tracing::info!(recipient = %address.masked(), ?feedback, "feedback recorded");
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn mail() -> Value {
        json!({
            "timestamp": "2026-01-01T00:00:00.000Z",
            "source": "no-reply@example.com",
            "messageId": "0100-abc",
            "destination": ["Bob <bob@example.org>", "carol@example.org"],
        })
    }

    #[test]
    fn a_permanent_bounce_names_each_bounced_recipient() {
        let event = json!({
            "eventType": "Bounce",
            "mail": mail(),
            "bounce": {
                "bounceType": "Permanent",
                "bounceSubType": "General",
                "bouncedRecipients": [{"emailAddress": "bob@example.org", "action": "failed", "status": "5.1.1"}],
                "timestamp": "2026-01-01T00:00:01.000Z",
                "feedbackId": "f1",
            },
        });
        assert_eq!(
            read_event(&event.to_string()).unwrap(),
            vec![(
                "bob@example.org".to_owned(),
                Feedback::Bounced(BounceType::Permanent)
            )]
        );
    }

    #[test]
    fn a_not_spam_report_is_no_complaint() {
        let not_spam = json!({"eventType": "Complaint", "mail": mail(), "complaint": {"complainedRecipients": [{"emailAddress": "carol@example.org"}], "complaintFeedbackType": "not-spam", "timestamp": "2026-01-01T00:00:01.000Z", "feedbackId": "f3"}});
        assert!(read_event(&not_spam.to_string()).unwrap().is_empty());
        let abuse = json!({"eventType": "Complaint", "mail": mail(), "complaint": {"complainedRecipients": [{"emailAddress": "carol@example.org"}], "complaintFeedbackType": "abuse", "timestamp": "2026-01-01T00:00:01.000Z", "feedbackId": "f4"}});
        assert_eq!(read_event(&abuse.to_string()).unwrap().len(), 1);
    }

    #[test]
    fn complaints_deliveries_and_rejections_read_as_such() {
        let complaint = json!({"eventType": "Complaint", "mail": mail(), "complaint": {"complainedRecipients": [{"emailAddress": "carol@example.org"}], "timestamp": "2026-01-01T00:00:01.000Z", "feedbackId": "f2"}});
        assert_eq!(
            read_event(&complaint.to_string()).unwrap(),
            vec![("carol@example.org".to_owned(), Feedback::Complained)]
        );
        let delivery = json!({"eventType": "Delivery", "mail": mail(), "delivery": {"recipients": ["carol@example.org"], "timestamp": "2026-01-01T00:00:01.000Z", "smtpResponse": "250 ok"}});
        assert_eq!(
            read_event(&delivery.to_string()).unwrap(),
            vec![("carol@example.org".to_owned(), Feedback::Delivered)]
        );
        let reject =
            json!({"eventType": "Reject", "mail": mail(), "reject": {"reason": "Bad content"}});
        let rejected = read_event(&reject.to_string()).unwrap();
        assert_eq!(rejected.len(), 2);
        assert!(rejected.iter().all(|(_, f)| *f == Feedback::Rejected));
        assert_eq!(bare_address(&rejected[0].0), "bob@example.org");
    }

    #[test]
    fn identity_notifications_read_like_published_events() {
        let notification = json!({"notificationType": "Bounce", "mail": mail(), "bounce": {"bounceType": "Transient", "bouncedRecipients": [{"emailAddress": "bob@example.org"}]}});
        assert_eq!(
            read_event(&notification.to_string()).unwrap(),
            vec![(
                "bob@example.org".to_owned(),
                Feedback::Bounced(BounceType::Transient)
            )]
        );
    }

    #[test]
    fn other_event_types_give_nothing_and_broken_ones_are_malformed() {
        let open = json!({"eventType": "Open", "mail": mail(), "open": {}});
        assert_eq!(read_event(&open.to_string()).unwrap(), vec![]);
        assert!(read_event("not json").is_err());
        assert!(read_event(&json!({"eventType": "Bounce", "mail": mail()}).to_string()).is_err());
        assert!(read_event(&json!({"mail": mail()}).to_string()).is_err());
    }
}
