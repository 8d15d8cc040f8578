//! The mailer's event sources: the outbox table's stream (the users table has none), filtered to
//! the mail items the code writes and to nothing else, and the retry queue.

use lambdauth_functions as functions;
use lambdauth_runtime::store::schema::{MAIL_SORT_KEY_PREFIX, SORT_KEY, TYPE_ATTRIBUTE, item_type};
use lambdauth_tests::app::{Item, TestApp};
use serde_norway::Value;

use super::{Template, get_att, list, text};

/// Whether a stream record's new image satisfies the `NewImage` part of an event filter
/// pattern (exact strings and `prefix` matches on string attributes: what the template uses).
fn image_matches(pattern: &serde_json::Value, image: &Item) -> bool {
    pattern
        .as_object()
        .expect("a NewImage pattern")
        .iter()
        .all(|(attribute, condition)| {
            let Some(value) = image.get(attribute).and_then(|v| v.as_s().ok()) else {
                return false;
            };
            condition["S"]
                .as_array()
                .expect("a string condition")
                .iter()
                .any(|allowed| match allowed {
                    serde_json::Value::String(exact) => value == exact,
                    other => other["prefix"]
                        .as_str()
                        .is_some_and(|prefix| value.starts_with(prefix)),
                })
        })
}

fn stream_filter(template: &Template) -> serde_json::Value {
    let stream = template.event(template.function_of("LambdAuthMailer"), "DynamoDB");
    let filters = list(&stream["FilterCriteria"]["Filters"]);
    assert_eq!(filters.len(), 1);
    serde_json::from_str(text(&filters[0]["Pattern"])).expect("the pattern is JSON")
}

#[test]
fn the_mailer_takes_outbox_inserts_from_the_stream_and_jobs_from_the_retry_queue() {
    let template = Template::load();
    let mailer = template.function_of("LambdAuthMailer");
    let stream = template.event(mailer, "DynamoDB");
    assert_eq!(
        get_att(&stream["Stream"]),
        Some(("OutboxTable", "StreamArn"))
    );
    // No password hash flows through a stream: the users table has none.
    assert!(template.properties("UsersTable")["StreamSpecification"].is_null());
    let pattern = stream_filter(&template);
    assert_eq!(pattern["eventName"], serde_json::json!(["INSERT"]));
    let image = &pattern["dynamodb"]["NewImage"];
    assert_eq!(
        image[TYPE_ATTRIBUTE]["S"],
        serde_json::json!([item_type::MAIL])
    );
    assert_eq!(
        image[SORT_KEY]["S"],
        serde_json::json!([{ "prefix": MAIL_SORT_KEY_PREFIX }])
    );
    assert_eq!(stream["BisectBatchOnFunctionError"], true);
    let retries = stream["MaximumRetryAttempts"]
        .as_i64()
        .expect("a retry bound");
    assert!((0..=100).contains(&retries), "retries {retries}");
    let age = stream["MaximumRecordAgeInSeconds"]
        .as_i64()
        .expect("an age bound");
    assert!((60..=86_400).contains(&age), "record age {age}");
    assert_eq!(
        list(&stream["FunctionResponseTypes"]),
        [Value::from("ReportBatchItemFailures")]
    );
    assert_eq!(
        get_att(&stream["DestinationConfig"]["OnFailure"]["Destination"]),
        Some(("DeadLetterQueue", "Arn"))
    );

    let queue = template.event(mailer, "SQS");
    assert_eq!(get_att(&queue["Queue"]), Some(("RetryQueue", "Arn")));
    assert_eq!(
        list(&queue["FunctionResponseTypes"]),
        [Value::from("ReportBatchItemFailures")]
    );
}

#[tokio::test]
async fn the_stream_filter_matches_outbox_items_as_written_and_no_other_item() {
    let pattern = stream_filter(&Template::load());
    let image = &pattern["dynamodb"]["NewImage"];
    let app = TestApp::spawn("tpl-filter").await;
    let answer = app
        .http(
            functions::CREATE_USER,
            r#"{"email":"filter@example.com","password":"a long enough passphrase"}"#,
        )
        .await;
    assert_eq!(answer.status, 200, "{answer:?}");
    let items = app.scan().await;
    let (mails, others): (Vec<&Item>, Vec<&Item>) = items.iter().partition(|item| {
        item.get(SORT_KEY)
            .and_then(|sk| sk.as_s().ok())
            .is_some_and(|sk| sk.starts_with(MAIL_SORT_KEY_PREFIX))
    });
    assert_eq!(mails.len(), 1, "{items:?}");
    assert!(!others.is_empty(), "{items:?}");
    assert!(image_matches(image, mails[0]), "{:?}", mails[0]);
    for other in others {
        assert!(!image_matches(image, other), "{other:?}");
    }
}
