//! Security events: the few things an operator must be able to count, alarm on and trace back to
//! a source. Each is one structured log line with a stable event name, the masked address it
//! concerns and the caller's source address, and one CloudWatch Embedded Metric Format line that
//! counts it under the event's name (so an alarm needs no log query).
//!
//! No full address is ever written: addresses are masked as [`Email::masked`] does.

use lambdauth_domain::{Email, Timestamp, mask_addresses};
use serde_json::json;

use crate::metrics::NAMESPACE;

/// Something that happened which an operator may need to act on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SecurityEvent<'a> {
    /// A password attempt failed (a wrong password, or an address with no account: the two are
    /// logged alike, as they are answered alike).
    LoginFailed {
        /// The address tried.
        address: &'a Email,
    },
    /// A password attempt was refused unchecked because the address (or the device) is locked.
    AccountLocked {
        /// The address tried.
        address: &'a Email,
    },
    /// A source ran out of its allowance on a route class and was answered 429.
    RateLimited {
        /// The route class (`mail`, `password`, `link`, `session`).
        class: &'a str,
    },
    /// The mailer did not send to an address SES feedback suppressed.
    MailSuppressed {
        /// The recipient.
        recipient: &'a str,
        /// Why the address is suppressed.
        reason: &'a str,
    },
    /// SES reported a bounce for an address.
    BounceRecorded {
        /// The bounced recipient.
        recipient: &'a str,
        /// SES's bounce type (`Permanent`, `Transient`, `Undetermined`).
        bounce_type: &'a str,
    },
    /// SES reported a complaint (the recipient marked the mail as spam).
    ComplaintRecorded {
        /// The complaining recipient.
        recipient: &'a str,
    },
}

impl SecurityEvent<'_> {
    /// The event's stable name: the log field `security_event` and the metric's name.
    pub fn name(&self) -> &'static str {
        match self {
            Self::LoginFailed { .. } => "LoginFailed",
            Self::AccountLocked { .. } => "AccountLocked",
            Self::RateLimited { .. } => "RateLimited",
            Self::MailSuppressed { .. } => "MailSuppressed",
            Self::BounceRecorded { .. } => "BounceRecorded",
            Self::ComplaintRecorded { .. } => "ComplaintRecorded",
        }
    }

    /// Every event's name, for the template's alarms and metric filters to be checked against.
    pub const NAMES: [&'static str; 6] = [
        "LoginFailed",
        "AccountLocked",
        "RateLimited",
        "MailSuppressed",
        "BounceRecorded",
        "ComplaintRecorded",
    ];

    /// The masked address the event concerns, if it concerns one.
    fn masked_address(&self) -> Option<String> {
        match self {
            Self::LoginFailed { address } | Self::AccountLocked { address } => {
                Some(address.masked())
            }
            Self::MailSuppressed { recipient, .. }
            | Self::BounceRecorded { recipient, .. }
            | Self::ComplaintRecorded { recipient } => Some(mask_addresses(recipient)),
            Self::RateLimited { .. } => None,
        }
    }

    /// What else the event says (the route class, the reason, the bounce type).
    fn detail(&self) -> Option<String> {
        match self {
            Self::RateLimited { class } => Some((*class).to_owned()),
            // A reason may quote SES, which names addresses.
            Self::MailSuppressed { reason, .. } => Some(mask_addresses(reason)),
            Self::BounceRecorded { bounce_type, .. } => Some((*bounce_type).to_owned()),
            Self::LoginFailed { .. }
            | Self::AccountLocked { .. }
            | Self::ComplaintRecorded { .. } => None,
        }
    }

    /// The structured line logged for the event, from `source` (the caller's address, when the
    /// event has one).
    pub fn log_line(&self, source: Option<&str>) -> serde_json::Value {
        json!({
            "security_event": self.name(),
            "address": self.masked_address(),
            "source": source,
            "detail": self.detail(),
        })
    }

    /// The EMF line counting one event at `timestamp_millis`: a metric named after the event,
    /// with no dimensions, so one alarm sees every occurrence.
    pub fn emf_line(&self, timestamp_millis: i64) -> serde_json::Value {
        json!({
            "_aws": {
                "Timestamp": timestamp_millis,
                "CloudWatchMetrics": [{
                    "Namespace": NAMESPACE,
                    "Dimensions": [[]],
                    "Metrics": [{ "Name": self.name(), "Unit": "Count" }],
                }],
            },
            self.name(): 1,
        })
    }
}

/// Records `event` from `source` at `now`: a warning log line with its fields, and its metric.
pub fn record(event: &SecurityEvent<'_>, source: Option<&str>, now: Timestamp) {
    let line = event.log_line(source);
    tracing::warn!(
        security_event = event.name(),
        address = line["address"].as_str(),
        source,
        detail = line["detail"].as_str(),
        "security event"
    );
    println!("{}", event.emf_line(now.as_millis()));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_login_failure_names_its_event_masks_the_address_and_keeps_the_source() {
        let email = Email::parse("Alice.Smith@Example.org").unwrap();
        let event = SecurityEvent::LoginFailed { address: &email };
        let line = event.log_line(Some("203.0.113.9"));
        assert_eq!(line["security_event"], "LoginFailed");
        assert_eq!(line["address"], "a***@example.org");
        assert_eq!(line["source"], "203.0.113.9");
        assert!(!line.to_string().contains("alice.smith"));
    }

    /// Captures what `tracing` writes as JSON while `run` runs.
    fn logged(run: impl FnOnce()) -> String {
        use std::sync::{Arc, Mutex};
        let buffer = Arc::new(Mutex::new(Vec::<u8>::new()));
        let writer = Arc::clone(&buffer);
        let subscriber = tracing_subscriber::fmt()
            .json()
            .with_writer(move || SharedWriter(Arc::clone(&writer)))
            .finish();
        tracing::subscriber::with_default(subscriber, run);
        let bytes = buffer.lock().unwrap().clone();
        String::from_utf8(bytes).unwrap()
    }

    struct SharedWriter(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

    impl std::io::Write for SharedWriter {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_recorded_event_is_one_json_log_line_with_its_name_masked_address_and_source() {
        let email = Email::parse("carol@example.org").unwrap();
        let output = logged(|| {
            record(
                &SecurityEvent::AccountLocked { address: &email },
                Some("2001:db8::7"),
                Timestamp::from_millis(1_700_000_000_000),
            );
        });
        let line: serde_json::Value = serde_json::from_str(output.trim()).unwrap();
        assert_eq!(line["level"], "WARN");
        assert_eq!(line["fields"]["security_event"], "AccountLocked");
        assert_eq!(line["fields"]["address"], "c***@example.org");
        assert_eq!(line["fields"]["source"], "2001:db8::7");
        assert!(!output.contains("carol"), "{output}");
    }

    #[test]
    fn a_suppression_masks_addresses_in_its_reason_too() {
        let event = SecurityEvent::MailSuppressed {
            recipient: "bob@example.org",
            reason: "permanent bounce: bob@example.org does not exist",
        };
        let line = event.log_line(None).to_string();
        assert!(!line.contains("bob@"), "{line}");
        assert!(line.contains("b***@example.org"));
    }

    #[test]
    fn each_event_counts_as_a_metric_of_its_own_name_without_dimensions() {
        let email = Email::parse("a@example.org").unwrap();
        let events = [
            SecurityEvent::LoginFailed { address: &email },
            SecurityEvent::AccountLocked { address: &email },
            SecurityEvent::RateLimited { class: "mail" },
            SecurityEvent::MailSuppressed {
                recipient: "a@example.org",
                reason: "complaint",
            },
            SecurityEvent::BounceRecorded {
                recipient: "a@example.org",
                bounce_type: "Permanent",
            },
            SecurityEvent::ComplaintRecorded {
                recipient: "a@example.org",
            },
        ];
        for (event, name) in events.iter().zip(SecurityEvent::NAMES) {
            assert_eq!(event.name(), name);
            let line = event.emf_line(1_700_000_000_000);
            let metrics = &line["_aws"]["CloudWatchMetrics"][0];
            assert_eq!(metrics["Namespace"], NAMESPACE);
            assert_eq!(metrics["Metrics"][0]["Name"], name);
            assert_eq!(metrics["Dimensions"], json!([[]]));
            assert_eq!(line[name], 1);
        }
    }

    #[test]
    fn a_suppressed_mail_is_counted_over_all_kinds_once_by_its_security_event_alone() {
        let line: serde_json::Value = serde_json::from_str(&crate::metrics::emf_line(
            crate::metrics::MailMetric::Suppressed,
            "verification",
            1,
        ))
        .unwrap();
        assert_eq!(
            line["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
            json!([["Kind"]])
        );
        let event = SecurityEvent::MailSuppressed {
            recipient: "a@example.org",
            reason: "complaint",
        };
        assert_eq!(event.name(), crate::metrics::MailMetric::Suppressed.name());
        assert_eq!(
            event.emf_line(1)["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
            json!([[]])
        );
    }
}
