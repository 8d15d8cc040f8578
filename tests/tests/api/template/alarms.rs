//! The alarms: the dead-letter queue, the mailer's errors and the stream's age are watched, and
//! notify a topic only when one is given.

use std::collections::BTreeSet;

use super::{Template, get_att, list, ref_to, tagged, text};

#[test]
fn alarms_watch_the_dead_letter_queue_the_mailer_and_the_stream() {
    let template = Template::load();
    let alarms = template.resources_of_type("AWS::CloudWatch::Alarm");
    let watched: BTreeSet<(String, String)> = alarms
        .iter()
        .map(|(name, alarm)| {
            let alarm = &alarm["Properties"];
            let actions = tagged(&alarm["AlarmActions"], "If").expect("conditional actions");
            assert_eq!(list(actions)[0], "HasAlarmTopic", "{name}");
            let dimension = &list(&alarm["Dimensions"])[0]["Value"];
            let target = ref_to(dimension)
                .map(str::to_owned)
                .or_else(|| get_att(dimension).map(|(resource, _)| resource.to_owned()))
                .expect("a dimension naming a resource");
            (text(&alarm["MetricName"]).to_owned(), target)
        })
        .collect();
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
