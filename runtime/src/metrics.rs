//! CloudWatch Embedded Metric Format: one JSON line on standard output per event, which
//! CloudWatch Logs turns into metrics without any API call from the function.

use serde_json::json;

/// The namespace of every metric.
pub const NAMESPACE: &str = "LambdAuth";

/// The mail pipeline's events.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MailMetric {
    /// SES accepted a mail.
    Sent,
    /// A transient failure sent the job to the retry queue.
    Retried,
    /// A permanent failure marked the mail failed.
    Failed,
    /// A job went to the dead-letter queue.
    DeadLettered,
    /// The global cap of its kind was reached: the mail waits for the next window.
    Deferred,
    /// The recipient is suppressed (SES feedback): the mail ended unsent.
    Suppressed,
    /// The global cap of its kind was reached, but its link would have expired while it waited:
    /// it was sent over the cap.
    SentOverCap,
}

impl MailMetric {
    /// The metric's name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Sent => "MailSent",
            Self::Retried => "MailRetried",
            Self::Failed => "MailFailed",
            Self::DeadLettered => "MailDeadLettered",
            Self::Deferred => "MailDeferred",
            Self::Suppressed => "MailSuppressed",
            Self::SentOverCap => "MailSentOverCap",
        }
    }

    /// The dimension sets it is counted under: per kind, and over all kinds (the empty set) for
    /// the alarms, except where a security event of the same name already counts it over all
    /// kinds (it would be counted twice there).
    fn dimensions(self) -> serde_json::Value {
        match self {
            Self::Suppressed => json!([["Kind"]]),
            _ => json!([["Kind"], []]),
        }
    }
}

/// The EMF line counting one `metric` for mail `kind`.
pub fn emf_line(metric: MailMetric, kind: &str, timestamp_millis: i64) -> String {
    json!({
        "_aws": {
            "Timestamp": timestamp_millis,
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": metric.dimensions(),
                "Metrics": [{ "Name": metric.name(), "Unit": "Count" }],
            }],
        },
        "Kind": kind,
        metric.name(): 1,
    })
    .to_string()
}

/// Prints the EMF line for `metric`.
pub fn emit(metric: MailMetric, kind: &str, timestamp_millis: i64) {
    println!("{}", emf_line(metric, kind, timestamp_millis));
}

/// What SES's feedback reports on sent mail, one count per recipient. SES's events do not say
/// which kind of mail they are about, so these have no `Kind`; the bounce-rate alarm divides
/// permanent bounces by deliveries plus permanent bounces, both from here.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FeedbackMetric<'a> {
    /// A delivery.
    Delivered,
    /// A bounce, of SES's bounce type (`Permanent`, `Transient`, `Undetermined`), the metric's
    /// one dimension `BounceType`.
    Bounced(&'a str),
    /// A complaint.
    Complained,
    /// A rejection.
    Rejected,
}

impl FeedbackMetric<'_> {
    /// The metric's name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Delivered => "MailDelivered",
            Self::Bounced(_) => "MailBounced",
            Self::Complained => "MailComplained",
            Self::Rejected => "MailRejected",
        }
    }

    /// The EMF line counting one `self` at `timestamp_millis`.
    pub fn emf_line(self, timestamp_millis: i64) -> serde_json::Value {
        let dimensions = match self {
            Self::Bounced(_) => json!([["BounceType"]]),
            _ => json!([[]]),
        };
        let mut line = json!({
            "_aws": {
                "Timestamp": timestamp_millis,
                "CloudWatchMetrics": [{
                    "Namespace": NAMESPACE,
                    "Dimensions": dimensions,
                    "Metrics": [{ "Name": self.name(), "Unit": "Count" }],
                }],
            },
            self.name(): 1,
        });
        if let Self::Bounced(bounce_type) = self {
            line["BounceType"] = json!(bounce_type);
        }
        line
    }

    /// Prints the EMF line.
    pub fn emit(self, timestamp_millis: i64) {
        println!("{}", self.emf_line(timestamp_millis));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bounce_is_counted_by_its_type_and_other_feedback_without_dimensions() {
        let bounce = FeedbackMetric::Bounced("Permanent").emf_line(1_700_000_000_000);
        let declared = &bounce["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(declared["Metrics"][0]["Name"], "MailBounced");
        assert_eq!(declared["Dimensions"], json!([["BounceType"]]));
        assert_eq!(bounce["BounceType"], "Permanent");
        assert_eq!(bounce["MailBounced"], 1);
        let delivery = FeedbackMetric::Delivered.emf_line(1_700_000_000_000);
        assert_eq!(
            delivery["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
            json!([[]])
        );
        assert_eq!(delivery["MailDelivered"], 1);
    }

    #[test]
    fn an_emf_line_declares_its_metric_and_value() {
        let line: serde_json::Value = serde_json::from_str(&emf_line(
            MailMetric::DeadLettered,
            "verification",
            1_700_000_000_000,
        ))
        .unwrap();
        assert_eq!(
            line["_aws"]["CloudWatchMetrics"][0]["Namespace"],
            "LambdAuth"
        );
        assert_eq!(
            line["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Name"],
            "MailDeadLettered"
        );
        assert_eq!(line["MailDeadLettered"], 1);
        assert_eq!(line["Kind"], "verification");
    }
}
