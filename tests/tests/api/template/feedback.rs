//! The mail feedback loop in the template: the stack owns the SES configuration set the mailer
//! sends through; its event destination sends bounces, complaints, rejections and deliveries to
//! an SNS topic only SES (for this configuration set and account) may publish to; the topic
//! invokes the feedback function, which may do nothing else; and an alarm watches the bounce
//! rate from the metrics the feedback function emits. Feedback that cannot be recorded is never
//! dropped: an invocation that fails its retries and a message SNS cannot deliver both go to one
//! dead-letter queue, which only the function's role and SNS for the feedback topic may send to,
//! and an alarm watches. Provisioning makes the configuration set locally too.

use std::collections::BTreeSet;

use lambdauth_runtime::metrics::{FeedbackMetric, NAMESPACE};
use serde_norway::Value;

use super::{Template, get_att, list, ref_to, tagged, text};

/// The text of a `!Sub` (its first form or the string of its list form).
fn sub_text(value: &Value) -> Option<&str> {
    let sub = tagged(value, "Sub")?;
    sub.as_str()
        .or_else(|| list(sub).first().and_then(Value::as_str))
}

fn the_one_of_type<'a>(template: &'a Template, kind: &str) -> (&'a str, &'a Value) {
    let found = template.resources_of_type(kind);
    assert_eq!(found.len(), 1, "not one {kind}");
    found[0]
}

#[test]
fn the_stack_owns_the_configuration_set_the_mailer_sends_through() {
    let template = Template::load();
    let (set, _) = the_one_of_type(&template, "AWS::SES::ConfigurationSet");
    assert!(
        template.root["Parameters"]["SesConfigurationSet"].is_null(),
        "an external configuration set is no longer a parameter"
    );
    let mailer = template.function_of("LambdAuthMailer");
    assert_eq!(
        ref_to(&template.environment(mailer)["SES_CONFIGURATION_SET"]),
        Some(set)
    );
    // Sending through a configuration set needs ses:SendEmail on it too.
    let role = template.role_of(mailer);
    let send: Vec<&Value> = template.properties(role)["Policies"]
        .as_sequence()
        .into_iter()
        .flatten()
        .flat_map(|policy| list(&policy["PolicyDocument"]["Statement"]).iter())
        .filter(|statement| list(&statement["Action"]).contains(&Value::from("ses:SendEmail")))
        .collect();
    assert_eq!(send.len(), 1);
    let resources: Vec<&str> = list(&send[0]["Resource"])
        .iter()
        .filter_map(sub_text)
        .collect();
    assert!(
        resources
            .iter()
            .any(|arn| arn.ends_with(&format!(":configuration-set/${{{set}}}"))),
        "{resources:?}"
    );
}

#[test]
fn ses_publishes_the_four_feedback_events_to_the_feedback_topic() {
    let template = Template::load();
    let (set, _) = the_one_of_type(&template, "AWS::SES::ConfigurationSet");
    let (_, destination) = the_one_of_type(&template, "AWS::SES::ConfigurationSetEventDestination");
    let properties = &destination["Properties"];
    assert_eq!(ref_to(&properties["ConfigurationSetName"]), Some(set));
    let events = &properties["EventDestination"];
    assert_eq!(events["Enabled"], Value::from(true));
    let types: BTreeSet<String> = list(&events["MatchingEventTypes"])
        .iter()
        .map(|kind| text(kind).to_ascii_lowercase())
        .collect();
    for kind in ["bounce", "complaint", "reject", "delivery"] {
        assert!(types.contains(kind), "{kind} not published: {types:?}");
    }
    let topic = ref_to(&events["SnsDestination"]["TopicARN"]).expect("an SNS destination");
    assert_eq!(template.resource(topic)["Type"], "AWS::SNS::Topic");
}

#[test]
fn only_ses_for_this_configuration_set_and_account_may_publish_to_the_topic() {
    let template = Template::load();
    let (set, _) = the_one_of_type(&template, "AWS::SES::ConfigurationSet");
    let (topic, _) = the_one_of_type(&template, "AWS::SNS::Topic");
    let (_, policy) = the_one_of_type(&template, "AWS::SNS::TopicPolicy");
    let properties = &policy["Properties"];
    assert_eq!(
        list(&properties["Topics"])
            .iter()
            .filter_map(ref_to)
            .collect::<Vec<_>>(),
        [topic]
    );
    let statements = list(&properties["PolicyDocument"]["Statement"]);
    assert_eq!(statements.len(), 1);
    let statement = &statements[0];
    assert_eq!(statement["Effect"], "Allow");
    assert_eq!(statement["Principal"]["Service"], "ses.amazonaws.com");
    assert_eq!(list(&statement["Action"]), [Value::from("sns:Publish")]);
    assert_eq!(ref_to(&statement["Resource"]), Some(topic));
    let conditions = &statement["Condition"]["StringEquals"];
    assert_eq!(
        ref_to(&conditions["AWS:SourceAccount"]),
        Some("AWS::AccountId")
    );
    let source = sub_text(&conditions["AWS:SourceArn"]).expect("the configuration set's ARN");
    assert!(
        source.ends_with(&format!(":configuration-set/${{{set}}}")),
        "{source}"
    );
}

#[test]
fn the_topic_invokes_the_feedback_function_and_it_may_do_nothing_else() {
    let template = Template::load();
    let (topic, _) = the_one_of_type(&template, "AWS::SNS::Topic");
    let function = template.function_of("LambdAuthMailFeedback");
    let event = template.event(function, "SNS");
    assert_eq!(ref_to(&event["Topic"]), Some(topic));
    let role = template.role_of(function);
    let actions: BTreeSet<String> = template.properties(role)["Policies"]
        .as_sequence()
        .into_iter()
        .flatten()
        .flat_map(|policy| list(&policy["PolicyDocument"]["Statement"]).iter())
        .flat_map(|statement| {
            list(&statement["Action"])
                .iter()
                .map(|a| text(a).to_owned())
        })
        .collect();
    for action in &actions {
        assert!(
            action.starts_with("logs:")
                || action.starts_with("dynamodb:")
                || action == "sqs:SendMessage",
            "the feedback function may {action}"
        );
    }
    for forbidden in [
        "dynamodb:PutItem",
        "dynamodb:DeleteItem",
        "dynamodb:Query",
        "dynamodb:Scan",
    ] {
        assert!(!actions.contains(forbidden), "{forbidden}");
    }
    // Its errors are watched.
    assert!(
        template
            .resources_of_type("AWS::CloudWatch::Alarm")
            .iter()
            .any(|(_, alarm)| {
                alarm["Properties"]["MetricName"] == "Errors"
                    && ref_to(&list(&alarm["Properties"]["Dimensions"])[0]["Value"])
                        == Some(function)
            }),
        "no alarm on the feedback function's errors"
    );
}

/// The metric of a metric-math query `id` in `alarm`: (name, dimensions as `name=value`).
fn query_metric(alarm: &Value, id: &str) -> (String, Vec<String>) {
    let query = list(&alarm["Metrics"])
        .iter()
        .find(|query| query["Id"] == id)
        .unwrap_or_else(|| panic!("no query {id}"));
    let metric = &query["MetricStat"]["Metric"];
    assert_eq!(metric["Namespace"], NAMESPACE);
    assert_eq!(query["MetricStat"]["Period"], Value::from(3600));
    let dimensions = list(&metric["Dimensions"])
        .iter()
        .filter(|d| !d.is_null())
        .map(|d| format!("{}={}", text(&d["Name"]), text(&d["Value"])))
        .collect();
    (text(&metric["MetricName"]).to_owned(), dimensions)
}

#[test]
fn an_alarm_watches_the_bounce_rate_from_the_metrics_the_feedback_function_emits() {
    let template = Template::load();
    let alarm = &template.properties("MailBounceRateAlarm");
    let (bounces, dimensions) = query_metric(alarm, "bounces");
    assert_eq!(bounces, FeedbackMetric::Bounced("Permanent").name());
    let line = FeedbackMetric::Bounced("Permanent").emf_line(0);
    assert_eq!(
        dimensions,
        [format!(
            "BounceType={}",
            line["BounceType"].as_str().unwrap()
        )]
    );
    let (deliveries, dimensions) = query_metric(alarm, "deliveries");
    assert_eq!(deliveries, FeedbackMetric::Delivered.name());
    assert!(dimensions.is_empty());
    let expression = list(&alarm["Metrics"])
        .iter()
        .find(|query| query["ReturnData"] == true)
        .map(|query| text(&query["Expression"]))
        .expect("an expression");
    assert!(expression.contains("bounces") && expression.contains("deliveries"));
    assert_eq!(alarm["Threshold"].as_f64(), Some(5.0));
    assert_eq!(alarm["ComparisonOperator"], "GreaterThanThreshold");
    assert!(get_att(&alarm["AlarmActions"]).is_none());
}

/// The queue the feedback function's failed invocations go to, checked to be an SQS queue.
fn feedback_dead_letter_queue(template: &Template) -> &str {
    let function = template.function_of("LambdAuthMailFeedback");
    let on_failure =
        &template.properties(function)["EventInvokeConfig"]["DestinationConfig"]["OnFailure"];
    assert_eq!(on_failure["Type"], "SQS", "{on_failure:?}");
    let (queue, attribute) = get_att(&on_failure["Destination"]).expect("a queue of the stack");
    assert_eq!(attribute, "Arn");
    assert_eq!(template.resource(queue)["Type"], "AWS::SQS::Queue");
    queue
}

/// Every statement of `role`'s inline policies.
fn role_statements<'a>(template: &'a Template, role: &str) -> Vec<&'a Value> {
    template.properties(role)["Policies"]
        .as_sequence()
        .into_iter()
        .flatten()
        .flat_map(|policy| list(&policy["PolicyDocument"]["Statement"]).iter())
        .collect()
}

#[test]
fn a_feedback_invocation_that_keeps_failing_is_parked_not_dropped() {
    let template = Template::load();
    let function = template.function_of("LambdAuthMailFeedback");
    let invoke = &template.properties(function)["EventInvokeConfig"];
    assert_eq!(invoke["MaximumRetryAttempts"], Value::from(2));
    // Parked for as long as SQS keeps anything, encrypted like the mail queues.
    let queue = template.properties(feedback_dead_letter_queue(&template));
    assert_eq!(queue["MessageRetentionPeriod"], Value::from(1_209_600));
    assert_eq!(queue["SqsManagedSseEnabled"], Value::from(true));
    assert!(queue["RedrivePolicy"].is_null(), "the end of the line");
}

#[test]
fn the_feedback_role_may_send_to_its_dead_letter_queue_and_to_no_other() {
    let template = Template::load();
    let queue = feedback_dead_letter_queue(&template);
    let role = template.role_of(template.function_of("LambdAuthMailFeedback"));
    // Every (action, resource) an SQS statement of the role grants.
    let mut granted = BTreeSet::new();
    for statement in role_statements(&template, role) {
        let actions: Vec<&str> = list(&statement["Action"]).iter().map(text).collect();
        if !actions.iter().any(|action| action.starts_with("sqs:")) {
            continue;
        }
        assert_eq!(statement["Effect"], "Allow");
        assert!(statement["Condition"].is_null(), "{statement:?}");
        for resource in list(&statement["Resource"]) {
            let (target, attribute) =
                get_att(resource).unwrap_or_else(|| panic!("not a queue's ARN: {resource:?}"));
            assert_eq!(attribute, "Arn");
            for action in &actions {
                granted.insert(((*action).to_owned(), target.to_owned()));
            }
        }
    }
    assert_eq!(
        granted,
        BTreeSet::from([("sqs:SendMessage".to_owned(), queue.to_owned())])
    );
    // No other queue of the stack is named anywhere in the role: not the mail queues.
    let others: Vec<&str> = template
        .resources_of_type("AWS::SQS::Queue")
        .into_iter()
        .map(|(name, _)| name)
        .filter(|name| *name != queue)
        .collect();
    assert!(others.contains(&"DeadLetterQueue"), "{others:?}");
    let mut named = BTreeSet::new();
    resources_named(template.resource(role), &mut named);
    assert!(named.contains(queue), "{named:?}");
    for other in others {
        assert!(!named.contains(other), "the feedback role names {other}");
    }
}

/// Every resource `value` names anywhere inside it, by `!Ref`, `!GetAtt` or `${…}` in a `!Sub`.
fn resources_named(value: &Value, named: &mut BTreeSet<String>) {
    if let Some(name) = ref_to(value) {
        named.insert(name.to_owned());
    } else if let Some((name, _)) = get_att(value) {
        named.insert(name.to_owned());
    } else if let Some(sub) = sub_text(value) {
        for piece in sub.split("${").skip(1) {
            let reference = piece.split('}').next().unwrap_or_default();
            named.insert(reference.split('.').next().unwrap_or_default().to_owned());
        }
    }
    match value {
        Value::Tagged(tagged) => resources_named(&tagged.value, named),
        Value::Sequence(items) => items.iter().for_each(|item| resources_named(item, named)),
        Value::Mapping(entries) => entries
            .values()
            .for_each(|entry| resources_named(entry, named)),
        _ => {}
    }
}

#[test]
fn undeliverable_feedback_goes_to_the_same_queue_which_only_sns_for_the_topic_may_fill() {
    let template = Template::load();
    let (topic, _) = the_one_of_type(&template, "AWS::SNS::Topic");
    let queue = feedback_dead_letter_queue(&template);
    let event = template.event(template.function_of("LambdAuthMailFeedback"), "SNS");
    assert_eq!(
        get_att(&event["RedrivePolicy"]["deadLetterTargetArn"]),
        Some((queue, "Arn"))
    );
    let policies: Vec<&Value> = template
        .resources_of_type("AWS::SQS::QueuePolicy")
        .into_iter()
        .map(|(_, policy)| &policy["Properties"])
        .filter(|policy| {
            list(&policy["Queues"])
                .iter()
                .any(|named| ref_to(named) == Some(queue))
        })
        .collect();
    assert_eq!(policies.len(), 1, "not one policy on {queue}");
    let policy = policies[0];
    assert_eq!(
        list(&policy["Queues"])
            .iter()
            .filter_map(ref_to)
            .collect::<Vec<_>>(),
        [queue]
    );
    let statements = list(&policy["PolicyDocument"]["Statement"]);
    assert_eq!(statements.len(), 1);
    let statement = &statements[0];
    assert_eq!(statement["Effect"], "Allow");
    assert_eq!(statement["Principal"]["Service"], "sns.amazonaws.com");
    assert!(statement["Principal"]["AWS"].is_null());
    assert_eq!(list(&statement["Action"]), [Value::from("sqs:SendMessage")]);
    assert_eq!(get_att(&statement["Resource"]), Some((queue, "Arn")));
    // Only for the feedback topic: no other topic (in any account) can fill it.
    let conditions = statement["Condition"]
        .as_mapping()
        .expect("a condition on the source");
    assert_eq!(conditions.len(), 1, "{conditions:?}");
    assert_eq!(
        ref_to(&statement["Condition"]["ArnEquals"]["aws:SourceArn"]),
        Some(topic)
    );
}

#[test]
fn an_alarm_watches_the_feedback_dead_letter_queue() {
    let template = Template::load();
    let queue = feedback_dead_letter_queue(&template);
    let alarms: Vec<&Value> = template
        .resources_of_type("AWS::CloudWatch::Alarm")
        .into_iter()
        .map(|(_, alarm)| &alarm["Properties"])
        .filter(|alarm| {
            list(&alarm["Dimensions"])
                .iter()
                .any(|dimension| get_att(&dimension["Value"]) == Some((queue, "QueueName")))
        })
        .collect();
    assert_eq!(alarms.len(), 1, "not one alarm on {queue}");
    let alarm = alarms[0];
    assert_eq!(alarm["Namespace"], "AWS/SQS");
    assert_eq!(alarm["MetricName"], "ApproximateNumberOfMessagesVisible");
    assert_eq!(list(&alarm["Dimensions"])[0]["Name"], "QueueName");
    assert_eq!(alarm["Threshold"].as_f64(), Some(0.0));
    assert_eq!(alarm["ComparisonOperator"], "GreaterThanThreshold");
    for actions in ["AlarmActions", "OKActions"] {
        let actions = tagged(&alarm[actions], "If").expect("conditional actions");
        assert_eq!(list(actions)[0], "HasAlarmTopic");
    }
    // The operator finds the queue among the outputs.
    let outputs = template.root["Outputs"].as_mapping().expect("Outputs");
    assert!(
        outputs
            .values()
            .any(|output| ref_to(&output["Value"]) == Some(queue)),
        "no output names {queue}"
    );
}

#[tokio::test]
async fn provisioning_makes_the_configuration_set_the_mailer_is_configured_with() {
    let ctx = lambdauth_tests::TestContext::new("fb-provision").await;
    let provisioned = lambdauth_local::provision::provision(&ctx.sdk, ctx.resources())
        .await
        .expect("provisioned");
    let name = provisioned
        .environment()
        .into_iter()
        .find(|(variable, _)| *variable == "SES_CONFIGURATION_SET")
        .map(|(_, value)| value)
        .expect("SES_CONFIGURATION_SET");
    let ses = aws_sdk_sesv2::Client::new(&ctx.sdk);
    // Listed here, not through provisioning's own check, which is what is under test.
    let mut names = Vec::new();
    let mut pages = ses.list_configuration_sets().into_paginator().send();
    while let Some(page) = pages.next().await {
        names.extend(page.expect("listed").configuration_sets().iter().cloned());
    }
    assert!(
        names.contains(&name),
        "no configuration set {name} in {names:?}"
    );
    // Again: it finds what the first run made.
    lambdauth_local::provision::provision(&ctx.sdk, ctx.resources())
        .await
        .expect("provisioned twice");
}
