//! SES's mailbox simulator, played locally. SES answers mail to its simulator addresses with
//! the feedback a real mailbox would give: `bounce@simulator.amazonses.com` bounces permanently,
//! `complaint@…` is delivered and then complained about, `success@…` is delivered, and
//! `suppressionlist@…` bounces as an address on the account's suppression list would (a
//! `+label` before the `@` is allowed, as SES allows it). The emulator sends nothing of the sort,
//! so this module does: for each mail SES accepted (the recording proxy's
//! [`crate::proxy::FaultProxy::sent`]) it builds the events SES's event publishing would put on
//! the configuration set's SNS topic, wraps each in the SNS event Lambda would receive, and hands
//! it to the feedback function's own code ([`MailFeedback::handle_event`]).
//!
//! `lambdauth dev` and the tests both play it, so both run the deployed feedback path.

use std::time::{Duration, SystemTime};

use lambdauth_mail::feedback::{FeedbackError, MailFeedback, Recorded};
use serde_json::{Value, json};

use crate::proxy::SentMail;

/// The domain of SES's mailbox simulator.
pub const SIMULATOR_DOMAIN: &str = "simulator.amazonses.com";

/// The account the local events name (moto's default account).
pub const LOCAL_ACCOUNT: &str = "123456789012";

/// What SES's simulator does with a mail to one of its addresses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scenario {
    /// `success@`: delivered.
    Success,
    /// `bounce@`: a permanent (hard) bounce.
    Bounce,
    /// `complaint@`: delivered, then marked as spam.
    Complaint,
    /// `suppressionlist@`: a permanent bounce, as for an address on the account's suppression
    /// list.
    SuppressionList,
}

/// The scenario of `recipient`, when it is a simulator address.
pub fn scenario(recipient: &str) -> Option<Scenario> {
    let (local, domain) = recipient.trim().rsplit_once('@')?;
    if !domain.eq_ignore_ascii_case(SIMULATOR_DOMAIN) {
        return None;
    }
    let mailbox = local
        .split('+')
        .next()
        .unwrap_or(local)
        .to_ascii_lowercase();
    match mailbox.as_str() {
        "success" => Some(Scenario::Success),
        "bounce" => Some(Scenario::Bounce),
        "complaint" => Some(Scenario::Complaint),
        "suppressionlist" => Some(Scenario::SuppressionList),
        _ => None,
    }
}

/// Where the events come from: what SES would name in them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// The sender (`FROM_ADDRESS`).
    pub sender: String,
    /// The configuration set the mail was sent through (`SES_CONFIGURATION_SET`), if any.
    pub configuration_set: Option<String>,
    /// The region.
    pub region: String,
}

impl Origin {
    /// The ARN of the topic the events are published to.
    pub fn topic_arn(&self) -> String {
        format!(
            "arn:aws:sns:{}:{LOCAL_ACCOUNT}:LambdAuthMailFeedback",
            self.region
        )
    }
}

fn rfc3339(at: SystemTime) -> String {
    humantime::format_rfc3339_millis(at).to_string()
}

/// The `mail` part of every event about `mail`.
fn mail_part(mail: &SentMail, origin: &Origin, sent_at: SystemTime) -> Value {
    let mut tags = json!({
        "ses:operation": ["SendEmail"],
        "ses:source-ip": ["127.0.0.1"],
        "ses:from-domain": [origin.sender.rsplit_once('@').map_or("", |(_, domain)| domain)],
        "ses:caller-identity": ["LambdAuthMailer"],
    });
    if let Some(set) = &origin.configuration_set {
        tags["ses:configuration-set"] = json!([set]);
    }
    json!({
        "timestamp": rfc3339(sent_at),
        "source": origin.sender,
        "sourceArn": format!("arn:aws:ses:{}:{LOCAL_ACCOUNT}:identity/{}", origin.region, origin.sender),
        "sendingAccountId": LOCAL_ACCOUNT,
        "messageId": mail.id,
        "destination": [mail.to],
        "headersTruncated": false,
        "commonHeaders": {
            "from": [origin.sender],
            "to": [mail.to],
            "messageId": mail.id,
            "subject": mail.subject,
        },
        "tags": tags,
    })
}

/// The SES events (event publishing's JSON) SES's simulator gives for `mail`, in the order SES
/// publishes them; none for an address outside the simulator.
pub fn ses_events(mail: &SentMail, origin: &Origin, sent_at: SystemTime) -> Vec<Value> {
    let Some(scenario) = scenario(&mail.to) else {
        return Vec::new();
    };
    let later = rfc3339(sent_at + Duration::from_millis(400));
    let delivery = || {
        json!({
            "eventType": "Delivery",
            "mail": mail_part(mail, origin, sent_at),
            "delivery": {
                "timestamp": later,
                "processingTimeMillis": 400,
                "recipients": [mail.to],
                "smtpResponse": "250 2.6.0 Message received",
                "reportingMTA": "a8-70.smtp-out.amazonses.com",
            },
        })
    };
    let bounce = |sub_type: &str, diagnostic: &str| {
        json!({
            "eventType": "Bounce",
            "mail": mail_part(mail, origin, sent_at),
            "bounce": {
                "bounceType": "Permanent",
                "bounceSubType": sub_type,
                "bouncedRecipients": [{
                    "emailAddress": mail.to,
                    "action": "failed",
                    "status": "5.1.1",
                    "diagnosticCode": diagnostic,
                }],
                "timestamp": later,
                "feedbackId": format!("{}-bounce", mail.id),
                "reportingMTA": "dsn; a8-70.smtp-out.amazonses.com",
            },
        })
    };
    match scenario {
        Scenario::Success => vec![delivery()],
        Scenario::Bounce => vec![bounce("General", "smtp; 550 5.1.1 user unknown")],
        Scenario::SuppressionList => vec![bounce(
            "OnAccountSuppressionList",
            "Amazon SES did not send the message to this address because it is on the suppression list for your account.",
        )],
        Scenario::Complaint => vec![
            delivery(),
            json!({
                "eventType": "Complaint",
                "mail": mail_part(mail, origin, sent_at),
                "complaint": {
                    "complainedRecipients": [{ "emailAddress": mail.to }],
                    "timestamp": rfc3339(sent_at + Duration::from_secs(1)),
                    "feedbackId": format!("{}-complaint", mail.id),
                    "userAgent": "Amazon SES Mailbox Simulator",
                    "complaintFeedbackType": "abuse",
                    "arrivalDate": later,
                },
            }),
        ],
    }
}

/// The Lambda event SNS delivers for `message` (an SES event) published to `topic_arn` as the
/// notification `message_id` at `at`.
pub fn sns_event(topic_arn: &str, message_id: &str, message: &Value, at: SystemTime) -> Value {
    json!({
        "Records": [{
            "EventSource": "aws:sns",
            "EventVersion": "1.0",
            "EventSubscriptionArn": format!("{topic_arn}:00000000-0000-0000-0000-000000000000"),
            "Sns": {
                "Type": "Notification",
                "MessageId": message_id,
                "TopicArn": topic_arn,
                "Subject": null,
                "Message": message.to_string(),
                "Timestamp": rfc3339(at),
                "SignatureVersion": "1",
                "Signature": "bG9jYWw=",
                "SigningCertUrl": "https://sns.amazonaws.com/local.pem",
                "UnsubscribeUrl": "https://sns.amazonaws.com/?Action=Unsubscribe",
                "MessageAttributes": {},
            },
        }],
    })
}

/// Plays the simulator over the mails SES accepted, each one once.
#[derive(Debug, Clone)]
pub struct MailboxSimulator {
    origin: Origin,
    handled: usize,
}

impl MailboxSimulator {
    /// A simulator naming `origin` in its events, that has seen no mail yet.
    pub fn new(origin: Origin) -> Self {
        Self { origin, handled: 0 }
    }

    /// Hands the feedback function the events of every mail in `sent` (all mails SES accepted,
    /// oldest first) not seen before, one SNS event each, as SES and SNS would. A mail whose
    /// events could not be recorded is tried again on the next call.
    pub async fn play(
        &mut self,
        sent: &[SentMail],
        feedback: &MailFeedback,
    ) -> Result<Recorded, FeedbackError> {
        let mut done = Recorded::default();
        for mail in sent.iter().skip(self.handled) {
            let now = SystemTime::now();
            for (n, event) in ses_events(mail, &self.origin, now).iter().enumerate() {
                let message_id = format!("{}-{n}", mail.id);
                let recorded = feedback
                    .handle_event(sns_event(&self.origin.topic_arn(), &message_id, event, now))
                    .await?;
                done.recorded += recorded.recorded;
                done.malformed += recorded.malformed;
            }
            self.handled += 1;
        }
        Ok(done)
    }
}

#[cfg(test)]
mod tests {
    use aws_lambda_events::sns::SnsEvent;
    use lambdauth_domain::feedback::{BounceType, Feedback};
    use lambdauth_mail::feedback::read_event;

    use super::*;

    fn sent(to: &str) -> SentMail {
        SentMail {
            id: "0100-local".to_owned(),
            to: to.to_owned(),
            subject: "Verify your address".to_owned(),
            html: String::new(),
            text: String::new(),
        }
    }

    fn origin() -> Origin {
        Origin {
            sender: "no-reply@example.com".to_owned(),
            configuration_set: Some("lambdauth".to_owned()),
            region: "us-east-1".to_owned(),
        }
    }

    fn feedback_of(to: &str) -> Vec<Feedback> {
        ses_events(&sent(to), &origin(), SystemTime::UNIX_EPOCH)
            .iter()
            .flat_map(|event| read_event(&event.to_string()).unwrap())
            .map(|(recipient, feedback)| {
                assert_eq!(recipient, to);
                feedback
            })
            .collect()
    }

    #[test]
    fn the_simulator_addresses_give_ses_feedback_and_others_none() {
        assert_eq!(
            feedback_of("bounce@simulator.amazonses.com"),
            [Feedback::Bounced(BounceType::Permanent)]
        );
        assert_eq!(
            feedback_of("complaint+signup@simulator.amazonses.com"),
            [Feedback::Delivered, Feedback::Complained]
        );
        assert_eq!(
            feedback_of("success@simulator.amazonses.com"),
            [Feedback::Delivered]
        );
        assert_eq!(
            feedback_of("suppressionlist@simulator.amazonses.com"),
            [Feedback::Bounced(BounceType::Permanent)]
        );
        assert!(feedback_of("bounce@example.com").is_empty());
        assert!(feedback_of("ooto@simulator.amazonses.com").is_empty());
    }

    #[test]
    fn the_events_travel_in_the_sns_event_lambda_receives() {
        let event = &ses_events(
            &sent("bounce@simulator.amazonses.com"),
            &origin(),
            SystemTime::UNIX_EPOCH,
        )[0];
        assert_eq!(
            event["mail"]["tags"]["ses:configuration-set"][0],
            "lambdauth"
        );
        let sns = sns_event(&origin().topic_arn(), "m-1", event, SystemTime::UNIX_EPOCH);
        let typed: SnsEvent = serde_json::from_value(sns).unwrap();
        assert_eq!(typed.records.len(), 1);
        assert_eq!(typed.records[0].sns.message_id, "m-1");
        let message: Value = serde_json::from_str(&typed.records[0].sns.message).unwrap();
        assert_eq!(&message, event);
    }
}
