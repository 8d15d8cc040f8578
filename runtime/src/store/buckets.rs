//! The token buckets of the abuse limits, in the users table: one item per route class and source
//! (`SOURCE#<class>#<source key>` / `BUCKET`) holding the bucket's theoretical arrival time and a
//! TTL. A bucket is never read: each step of a request is one conditional `UpdateItem`
//! ([`BucketWrite`]), and a failed condition hands back the stored time
//! (`ReturnValuesOnConditionCheckFailure = ALL_OLD`) for the next decision.

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue, ReturnValuesOnConditionCheckFailure};
use lambdauth_domain::limits::BucketWrite;
use lambdauth_domain::{RouteClass, SourceKey, Timestamp};

use super::StoreError;
use super::schema::{
    self, BUCKET_SORT_KEY, PARTITION_KEY, SORT_KEY, SOURCE_PARTITION_PREFIX, TTL_ATTRIBUTE,
    TYPE_ATTRIBUTE, attribute::TAT,
};
use crate::aws_error::{AwsFailure, classify};

/// What a write did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WriteOutcome {
    /// Its condition held: the request is admitted, and the bucket's time is now this.
    Applied(Timestamp),
    /// Its condition failed; the bucket held this time (`None`: there was no bucket).
    Failed(Option<Timestamp>),
}

/// The buckets in the users table.
#[derive(Debug, Clone)]
pub struct BucketStore {
    client: Client,
    table: String,
}

/// The partition key of the bucket of `class` for `source`.
pub fn bucket_partition(class: RouteClass, source: &SourceKey) -> String {
    format!(
        "{SOURCE_PARTITION_PREFIX}{}#{}",
        class.name(),
        source.as_str()
    )
}

impl BucketStore {
    /// The buckets in the users table `table`.
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    /// The table's name.
    pub fn table(&self) -> &str {
        &self.table
    }

    /// Runs `write` on the bucket of `class` for `source`, to be kept until `keep_until` (its
    /// TTL): one conditional `UpdateItem`.
    pub async fn write(
        &self,
        class: RouteClass,
        source: &SourceKey,
        write: BucketWrite,
        keep_until: Timestamp,
    ) -> Result<WriteOutcome, StoreError> {
        let key = HashMap::from([
            (
                PARTITION_KEY.to_owned(),
                AttributeValue::S(bucket_partition(class, source)),
            ),
            (
                SORT_KEY.to_owned(),
                AttributeValue::S(BUCKET_SORT_KEY.to_owned()),
            ),
        ]);
        let millis = |t: Timestamp| AttributeValue::N(t.as_millis().to_string());
        // The TTL is in whole seconds, rounded up so that it never precedes the time it keeps.
        let ttl = AttributeValue::N((keep_until.as_secs() + 1).to_string());
        let request = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key))
            .expression_attribute_names("#tat", TAT)
            .expression_attribute_names("#ttl", TTL_ATTRIBUTE)
            .expression_attribute_names("#type", TYPE_ATTRIBUTE)
            .expression_attribute_values(":ttl", ttl)
            .expression_attribute_values(
                ":type",
                AttributeValue::S(schema::item_type::BUCKET.to_owned()),
            )
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        let request = match write {
            BucketWrite::Restart { rested_at, tat } => request
                .update_expression("SET #tat = :tat, #ttl = :ttl, #type = :type")
                .condition_expression("attribute_not_exists(#tat) OR #tat <= :rested")
                .expression_attribute_values(":tat", millis(tat))
                .expression_attribute_values(":rested", millis(rested_at)),
            BucketWrite::Advance {
                from,
                limit,
                by_millis,
            } => request
                .update_expression("SET #tat = #tat + :by, #ttl = :ttl, #type = :type")
                .condition_expression("#tat BETWEEN :from AND :limit")
                .expression_attribute_values(":by", AttributeValue::N(by_millis.to_string()))
                .expression_attribute_values(":from", millis(from))
                .expression_attribute_values(":limit", millis(limit))
                .return_values(ReturnValue::UpdatedNew),
        };
        match request.send().await {
            Ok(output) => match write {
                BucketWrite::Restart { tat, .. } => Ok(WriteOutcome::Applied(tat)),
                BucketWrite::Advance { .. } => {
                    let tat = output.attributes().and_then(tat_of);
                    tat.map(WriteOutcome::Applied)
                        .ok_or_else(|| unexpected("an advanced bucket came back without its time"))
                }
            },
            Err(error) => {
                if let Some(UpdateItemError::ConditionalCheckFailedException(failed)) =
                    error.as_service_error()
                {
                    Ok(WriteOutcome::Failed(failed.item().and_then(tat_of)))
                } else {
                    Err(classify("DynamoDB", &error).into())
                }
            }
        }
    }
}

/// The time a bucket item holds.
fn tat_of(item: &HashMap<String, AttributeValue>) -> Option<Timestamp> {
    match item.get(TAT) {
        Some(AttributeValue::N(number)) => number.parse().ok().map(Timestamp::from_millis),
        _ => None,
    }
}

fn unexpected(detail: &str) -> StoreError {
    StoreError::Aws(AwsFailure::Unexpected {
        service: "DynamoDB",
        detail: detail.to_owned(),
    })
}
