//! The harness itself: the emulator answers, and each test's resources are its own.

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
};
use lambdauth_tests::{TestContext, emulator, unique_prefix};

async fn create_table(ctx: &TestContext, name: &str) -> aws_sdk_dynamodb::Client {
    let client = aws_sdk_dynamodb::Client::new(&ctx.sdk);
    client
        .create_table()
        .table_name(ctx.name(name))
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("pk")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .unwrap(),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("pk")
                .key_type(KeyType::Hash)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    client
}

async fn tables_with_prefix(client: &aws_sdk_dynamodb::Client, prefix: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut pages = client.list_tables().into_paginator().items().send();
    while let Some(name) = pages.next().await {
        let name = name.unwrap();
        if name.starts_with(prefix) {
            names.push(name);
        }
    }
    names
}

#[tokio::test]
async fn the_emulator_is_started_for_the_test_process_and_answers() {
    let endpoint = emulator().endpoint();
    assert!(endpoint.starts_with("http://127.0.0.1:"), "{endpoint}");
    let ctx = TestContext::new("answers").await;
    let client = create_table(&ctx, "users").await;
    let described = client
        .describe_table()
        .table_name(ctx.name("users"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        described.table().unwrap().table_name(),
        Some(ctx.name("users").as_str())
    );
}

#[tokio::test]
async fn each_test_sees_only_its_own_resources() {
    let (a, b) = tokio::join!(TestContext::new("own-a"), TestContext::new("own-b"));
    assert_ne!(a.prefix, b.prefix);
    let client_a = create_table(&a, "users").await;
    let client_b = create_table(&b, "users").await;
    assert_eq!(
        tables_with_prefix(&client_a, &a.prefix).await,
        vec![a.name("users")]
    );
    assert_eq!(
        tables_with_prefix(&client_b, &b.prefix).await,
        vec![b.name("users")]
    );
}

#[test]
fn prefixes_are_unique_and_short() {
    let prefixes: std::collections::HashSet<String> = (0..1000)
        .map(|_| unique_prefix("a-very-long-test-label-indeed"))
        .collect();
    assert_eq!(prefixes.len(), 1000);
    assert!(prefixes.iter().all(|p| p.len() <= 40));
}
