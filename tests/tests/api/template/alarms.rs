//! The alarms: the dead-letter queue, the mailer's errors and the stream's age are watched; so
//! are the metrics the code itself emits (the global mail cap being reached, a spike of failed
//! logins), each by the name the code emits it under; and they notify a topic only when one is
//! given.

use std::collections::BTreeSet;

use lambdauth_runtime::metrics::{FeedbackMetric, MailMetric, NAMESPACE};
use lambdauth_runtime::security::SecurityEvent;

use super::{Template, get_att, list, ref_to, tagged, text};

/// `(metric, what its dimension names)` of every alarm on a single AWS metric.
fn aws_metric_alarms(template: &Template) -> BTreeSet<(String, String)> {
    template
        .resources_of_type("AWS::CloudWatch::Alarm")
        .iter()
        .filter(|(_, alarm)| {
            alarm["Properties"]["Namespace"]
                .as_str()
                .is_some_and(|namespace| namespace.starts_with("AWS/"))
        })
        .map(|(_, alarm)| {
            let alarm = &alarm["Properties"];
            let dimension = &list(&alarm["Dimensions"])[0]["Value"];
            let target = ref_to(dimension)
                .map(str::to_owned)
                .or_else(|| get_att(dimension).map(|(resource, _)| resource.to_owned()))
                .expect("a dimension naming a resource");
            (text(&alarm["MetricName"]).to_owned(), target)
        })
        .collect()
}

/// The names of the service's own metrics (namespace `LambdAuth`) each alarm watches, directly
/// or inside a metric math expression.
fn own_metrics_watched(template: &Template) -> Vec<(String, Vec<String>)> {
    template
        .resources_of_type("AWS::CloudWatch::Alarm")
        .iter()
        .map(|(name, alarm)| {
            let alarm = &alarm["Properties"];
            let mut metrics = Vec::new();
            if alarm["Namespace"].as_str() == Some(NAMESPACE) {
                metrics.push(text(&alarm["MetricName"]).to_owned());
            }
            for query in alarm["Metrics"].as_sequence().into_iter().flatten() {
                let metric = &query["MetricStat"]["Metric"];
                if metric["Namespace"].as_str() == Some(NAMESPACE) {
                    metrics.push(text(&metric["MetricName"]).to_owned());
                }
            }
            ((*name).to_owned(), metrics)
        })
        .collect()
}

#[test]
fn alarms_watch_the_dead_letter_queue_the_mailer_and_the_stream() {
    let template = Template::load();
    for (name, alarm) in template.resources_of_type("AWS::CloudWatch::Alarm") {
        let actions =
            tagged(&alarm["Properties"]["AlarmActions"], "If").expect("conditional actions");
        assert_eq!(list(actions)[0], "HasAlarmTopic", "{name}");
    }
    let watched = aws_metric_alarms(&template);
    let mailer = template.function_of("LambdAuthMailer").to_owned();
    for expected in [
        (
            "ApproximateNumberOfMessagesVisible".to_owned(),
            "DeadLetterQueue".to_owned(),
        ),
        ("Errors".to_owned(), mailer.clone()),
        ("IteratorAge".to_owned(), mailer),
    ] {
        assert!(
            watched.contains(&expected),
            "{expected:?} not in {watched:?}"
        );
    }
    assert_eq!(template.root["Parameters"]["AlarmTopicArn"]["Default"], "");
}

#[test]
fn the_services_own_alarms_watch_metrics_the_code_emits() {
    let template = Template::load();
    let emitted: BTreeSet<String> = SecurityEvent::NAMES
        .iter()
        .map(|name| (*name).to_owned())
        .chain(
            [
                MailMetric::Sent,
                MailMetric::Retried,
                MailMetric::Failed,
                MailMetric::DeadLettered,
                MailMetric::Deferred,
                MailMetric::Suppressed,
            ]
            .map(|metric| metric.name().to_owned()),
        )
        .chain(
            [
                FeedbackMetric::Delivered,
                FeedbackMetric::Bounced("Permanent"),
                FeedbackMetric::Complained,
                FeedbackMetric::Rejected,
            ]
            .map(|metric| metric.name().to_owned()),
        )
        .collect();
    let watched = own_metrics_watched(&template);
    let all: BTreeSet<&str> = watched
        .iter()
        .flat_map(|(_, metrics)| metrics.iter().map(String::as_str))
        .collect();
    // A typo in a metric's name would leave an alarm that never fires.
    for (alarm, metrics) in &watched {
        for metric in metrics {
            assert!(
                emitted.contains(metric),
                "{alarm} watches {metric}, which no code emits"
            );
        }
    }
    assert!(all.contains(MailMetric::Deferred.name()), "{all:?}");
    assert!(all.contains("LoginFailed"), "{all:?}");
    assert!(all.contains("MailBounced"), "{all:?}");
}

#[test]
fn the_access_log_names_each_requests_source_address() {
    let template = Template::load();
    let format = text(&template.properties("ApiStage")["AccessLogSettings"]["Format"]);
    let line: serde_json::Value =
        serde_json::from_str(format).expect("the access log format is one JSON object");
    assert_eq!(line["sourceIp"], "$context.identity.sourceIp");
    assert_eq!(line["routeKey"], "$context.routeKey");
    assert_eq!(line["status"], "$context.status");
}
