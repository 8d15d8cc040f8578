//! The tables and the queues: the template declares what provisioning (`ensure_table`,
//! `ensure_queues`) creates in the emulator, so that a local stack behaves like a deployed one.
//! The users table has no stream; the outbox table's stream of new images feeds the mailer.

use std::collections::{BTreeSet, HashMap};

use lambdauth_local::provision::{
    DEAD_LETTER_RETENTION_SECONDS, MAX_RECEIVE_COUNT, TableKind, VISIBILITY_TIMEOUT_SECONDS,
    ensure_queues, ensure_table,
};
use lambdauth_runtime::store::schema::{PARTITION_KEY, SORT_KEY, TTL_ATTRIBUTE};
use lambdauth_tests::TestContext;

use super::{Template, get_att, list, number, text};

#[tokio::test]
async fn the_template_declares_the_users_table_ensure_table_creates() {
    the_template_declares_the_table_ensure_table_creates("UsersTable", TableKind::Users).await;
}

#[tokio::test]
async fn the_template_declares_the_outbox_table_ensure_table_creates() {
    the_template_declares_the_table_ensure_table_creates("OutboxTable", TableKind::Outbox).await;
}

async fn the_template_declares_the_table_ensure_table_creates(logical_id: &str, kind: TableKind) {
    let template = Template::load();
    let table = template.properties(logical_id);
    let ctx = TestContext::new("tpl-table").await;
    let dynamodb = aws_sdk_dynamodb::Client::new(&ctx.sdk);
    let name = ctx.name(logical_id);
    ensure_table(&dynamodb, &name, kind)
        .await
        .expect("provisioned");
    // Twice: provisioning finds what it made.
    ensure_table(&dynamodb, &name, kind)
        .await
        .expect("provisioned again");
    let described = dynamodb
        .describe_table()
        .table_name(&name)
        .send()
        .await
        .expect("described");
    let created = described.table().expect("a table");

    let keys: BTreeSet<(String, String)> = created
        .key_schema()
        .iter()
        .map(|key| {
            (
                key.attribute_name().to_owned(),
                key.key_type().as_str().to_owned(),
            )
        })
        .collect();
    let declared_keys: BTreeSet<(String, String)> = list(&table["KeySchema"])
        .iter()
        .map(|key| {
            (
                text(&key["AttributeName"]).to_owned(),
                text(&key["KeyType"]).to_owned(),
            )
        })
        .collect();
    assert_eq!(declared_keys, keys);
    assert!(keys.contains(&(PARTITION_KEY.to_owned(), "HASH".to_owned())));
    assert!(keys.contains(&(SORT_KEY.to_owned(), "RANGE".to_owned())));

    let attributes: BTreeSet<(String, String)> = created
        .attribute_definitions()
        .iter()
        .map(|a| {
            (
                a.attribute_name().to_owned(),
                a.attribute_type().as_str().to_owned(),
            )
        })
        .collect();
    let declared_attributes: BTreeSet<(String, String)> = list(&table["AttributeDefinitions"])
        .iter()
        .map(|a| {
            (
                text(&a["AttributeName"]).to_owned(),
                text(&a["AttributeType"]).to_owned(),
            )
        })
        .collect();
    assert_eq!(declared_attributes, attributes);

    assert_streams_agree(kind, table, created);

    let ttl = dynamodb
        .describe_time_to_live()
        .table_name(&name)
        .send()
        .await
        .expect("TTL described");
    let ttl = ttl.time_to_live_description().expect("a TTL");
    assert_eq!(ttl.attribute_name(), Some(TTL_ATTRIBUTE));
    assert_eq!(
        table["TimeToLiveSpecification"]["AttributeName"],
        TTL_ATTRIBUTE
    );
    assert_eq!(table["TimeToLiveSpecification"]["Enabled"], true);

    assert_eq!(
        created
            .billing_mode_summary()
            .and_then(|summary| summary.billing_mode())
            .map(aws_sdk_dynamodb::types::BillingMode::as_str),
        Some("PAY_PER_REQUEST")
    );
    assert_eq!(table["BillingMode"], "PAY_PER_REQUEST");
    assert_eq!(
        table["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"],
        true
    );
    assert_eq!(table["SSESpecification"]["SSEEnabled"], true);
}

#[tokio::test]
async fn the_template_declares_the_queues_ensure_queues_creates() {
    let template = Template::load();
    let retry = template.properties("RetryQueue");
    let dead_letter = template.properties("DeadLetterQueue");
    let ctx = TestContext::new("tpl-queues").await;
    let sqs = aws_sdk_sqs::Client::new(&ctx.sdk);
    let queues = ensure_queues(&sqs, &ctx.name("retry"), &ctx.name("dlq"))
        .await
        .expect("provisioned");
    let attributes = |url: String| {
        let sqs = sqs.clone();
        async move {
            sqs.get_queue_attributes()
                .queue_url(url)
                .attribute_names(aws_sdk_sqs::types::QueueAttributeName::All)
                .send()
                .await
                .expect("attributes")
                .attributes
                .unwrap_or_default()
                .into_iter()
                .map(|(name, value)| (name.as_str().to_owned(), value))
                .collect::<HashMap<String, String>>()
        }
    };
    let created_retry = attributes(queues.retry_url.clone()).await;
    let created_dead_letter = attributes(queues.dead_letter_url.clone()).await;

    let redrive: serde_json::Value =
        serde_json::from_str(&created_retry["RedrivePolicy"]).expect("a redrive policy");
    assert_eq!(redrive["deadLetterTargetArn"], queues.dead_letter_arn);
    assert_eq!(
        get_att(&retry["RedrivePolicy"]["deadLetterTargetArn"]),
        Some(("DeadLetterQueue", "Arn"))
    );
    let max_receive_count = number(&retry["RedrivePolicy"]["maxReceiveCount"]);
    assert_eq!(
        redrive["maxReceiveCount"].as_u64(),
        Some(max_receive_count),
        "template and provisioning disagree on maxReceiveCount"
    );
    assert_eq!(max_receive_count, u64::from(MAX_RECEIVE_COUNT));
    assert!(max_receive_count >= 5);

    let visibility = number(&retry["VisibilityTimeout"]);
    assert_eq!(created_retry["VisibilityTimeout"], visibility.to_string());
    assert_eq!(visibility, u64::from(VISIBILITY_TIMEOUT_SECONDS));
    let mailer_timeout =
        number(&template.properties(template.function_of("LambdAuthMailer"))["Timeout"]);
    assert!(
        visibility >= 6 * mailer_timeout,
        "visibility {visibility} s < 6 x the mailer's {mailer_timeout} s"
    );

    let retention = number(&dead_letter["MessageRetentionPeriod"]);
    assert_eq!(
        created_dead_letter["MessageRetentionPeriod"],
        retention.to_string()
    );
    assert_eq!(retention, u64::from(DEAD_LETTER_RETENTION_SECONDS));
    assert_eq!(retention, 14 * 24 * 3600);
}

/// The outbox table has a stream of new images in both; the users table has none in either.
fn assert_streams_agree(
    kind: TableKind,
    declared: &serde_norway::Value,
    created: &aws_sdk_dynamodb::types::TableDescription,
) {
    match kind {
        TableKind::Outbox => {
            let stream = created.stream_specification().expect("a stream");
            assert!(stream.stream_enabled());
            assert_eq!(
                declared["StreamSpecification"]["StreamViewType"],
                stream.stream_view_type().expect("a view type").as_str()
            );
            assert_eq!(
                declared["StreamSpecification"]["StreamViewType"],
                "NEW_IMAGE"
            );
        }
        TableKind::Users => {
            assert!(
                created
                    .stream_specification()
                    .is_none_or(|stream| !stream.stream_enabled()),
                "{:?}",
                created.stream_specification()
            );
            assert!(created.latest_stream_arn().is_none());
            assert!(declared["StreamSpecification"].is_null());
        }
    }
}
