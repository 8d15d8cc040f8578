//! What the import tests and the import benchmark share: the fixtures of a scanned LambdAuth
//! table, a table in LambdAuth's shape, and the real `lambdauth` binary.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType, PutRequest,
    ScalarAttributeType, WriteRequest,
};
use serde_json::Value;

/// An item as the SDK holds it.
pub type Item = HashMap<String, AttributeValue>;

/// The most items one `BatchWriteItem` takes.
const BATCH_WRITE_LIMIT: usize = 25;

/// `shared/fixtures/legacy-lambdauth`, beside the checkout (or under `LAMBDAUTH_SHARED_DIR`).
pub fn fixtures_dir() -> PathBuf {
    std::env::var_os("LAMBDAUTH_SHARED_DIR")
        .map_or_else(
            || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared"),
            PathBuf::from,
        )
        .join("fixtures/legacy-lambdauth")
}

/// The path of the fixture scan (`aws dynamodb scan` output of a LambdAuth table).
pub fn scan_file() -> PathBuf {
    fixtures_dir().join("scan.json")
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The fixture scan's items, as JSON in DynamoDB's typed form.
///
/// # Panics
/// When the fixture is missing or malformed.
pub fn scan_items() -> Vec<Value> {
    read_json(&scan_file())["Items"]
        .as_array()
        .expect("Items")
        .clone()
}

/// Legacy address (as stored) → password, for every user of the fixture scan.
///
/// # Panics
/// When the fixture is missing or malformed.
pub fn passwords() -> BTreeMap<String, String> {
    serde_json::from_value(read_json(&fixtures_dir().join("passwords.json")))
        .expect("passwords.json maps addresses to passwords")
}

/// A JSON item in DynamoDB's typed form (`{"S": …}`, `{"BOOL": …}`, `{"N": …}`) as an SDK item.
///
/// # Panics
/// On any other form: fixtures only use these.
pub fn sdk_item(json: &Value) -> Item {
    json.as_object()
        .expect("an item is an object")
        .iter()
        .map(|(name, typed)| {
            let value = if let Some(text) = typed.get("S").and_then(Value::as_str) {
                AttributeValue::S(text.to_owned())
            } else if let Some(flag) = typed.get("BOOL").and_then(Value::as_bool) {
                AttributeValue::Bool(flag)
            } else if let Some(number) = typed.get("N").and_then(Value::as_str) {
                AttributeValue::N(number.to_owned())
            } else {
                panic!("unsupported attribute value {typed}")
            };
            (name.clone(), value)
        })
        .collect()
}

/// Creates a table in LambdAuth's shape (hash key `email`, a string) and waits until it is active.
///
/// # Panics
/// When the emulator refuses.
pub async fn create_legacy_table(client: &Client, table: &str) {
    use aws_sdk_dynamodb::client::Waiters as _;
    client
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("email")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .expect("attribute"),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("email")
                .key_type(KeyType::Hash)
                .build()
                .expect("key"),
        )
        .send()
        .await
        .expect("create the legacy table");
    client
        .wait_until_table_exists()
        .table_name(table)
        .wait(std::time::Duration::from_mins(1))
        .await
        .expect("the legacy table becomes active");
}

/// Writes `items` into `table` in batches, retrying what DynamoDB leaves unprocessed.
///
/// # Panics
/// When a batch fails.
pub async fn put_items(client: &Client, table: &str, items: Vec<Item>) {
    let mut requests: Vec<WriteRequest> = items
        .into_iter()
        .map(|item| {
            WriteRequest::builder()
                .put_request(
                    PutRequest::builder()
                        .set_item(Some(item))
                        .build()
                        .expect("put"),
                )
                .build()
        })
        .collect();
    while !requests.is_empty() {
        let batch: Vec<WriteRequest> = requests
            .drain(..requests.len().min(BATCH_WRITE_LIMIT))
            .collect();
        let output = client
            .batch_write_item()
            .request_items(table, batch)
            .send()
            .await
            .expect("batch write");
        if let Some(mut unprocessed) = output.unprocessed_items
            && let Some(left) = unprocessed.remove(table)
        {
            requests.extend(left);
        }
    }
}

/// Every item of `table`, sorted by their keys so that two scans compare.
///
/// # Panics
/// When the scan fails.
pub async fn sorted_scan(client: &Client, table: &str) -> Vec<Item> {
    let mut items = Vec::new();
    let mut pages = client
        .scan()
        .table_name(table)
        .consistent_read(true)
        .into_paginator()
        .items()
        .send();
    while let Some(item) = pages.next().await {
        items.push(item.expect("scan"));
    }
    let key = |item: &Item| {
        ["pk", "sk", "email"]
            .iter()
            .map(|name| {
                item.get(*name)
                    .and_then(|v| v.as_s().ok())
                    .cloned()
                    .unwrap_or_default()
            })
            .collect::<Vec<_>>()
    };
    items.sort_by_key(key);
    items
}
