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
}

impl MailMetric {
    /// The metric's name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Sent => "MailSent",
            Self::Retried => "MailRetried",
            Self::Failed => "MailFailed",
            Self::DeadLettered => "MailDeadLettered",
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
                "Dimensions": [["Kind"]],
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

#[cfg(test)]
mod tests {
    use super::*;

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
