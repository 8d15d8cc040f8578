//! The mailer's two event source mappings, run locally: the table's stream and the retry queue
//! are polled, their records batched into the same Lambda events AWS would send, the mailer
//! called, and its partial batch responses honoured (a failed stream record is delivered again
//! with everything after it; a failed queue message becomes visible again).

use std::collections::HashMap;
use std::time::Duration;

use aws_lambda_events::dynamodb::EventRecord;
use aws_lambda_events::sqs::SqsMessage;
use aws_sdk_dynamodbstreams::types::{AttributeValue, ShardIteratorType};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use lambdauth_mail::mailer::Mailer;
use lambdauth_mail::mailer::queue::{MailQueue, QueuedMessage};
use lambdauth_runtime::aws_error::{AwsFailure, classify};
use serde_json::{Map, Value, json};

/// The most records handed to the mailer in one event (the template's batch sizes).
pub const BATCH_SIZE: usize = 10;
/// How often a stream batch is delivered again before its records are dropped (the mapping's
/// `MaximumRetryAttempts`).
pub const MAX_STREAM_RETRIES: u32 = 10;
/// How soon a failed queue message is visible again locally.
const FAILED_MESSAGE_VISIBILITY: Duration = Duration::from_secs(1);

fn attribute_json(value: &AttributeValue) -> Value {
    match value {
        AttributeValue::S(s) => json!({ "S": s }),
        AttributeValue::N(n) => json!({ "N": n }),
        AttributeValue::B(b) => json!({ "B": STANDARD.encode(b.as_ref()) }),
        AttributeValue::Bool(b) => json!({ "BOOL": b }),
        AttributeValue::Null(_) => json!({ "NULL": true }),
        AttributeValue::Ss(list) => json!({ "SS": list }),
        AttributeValue::Ns(list) => json!({ "NS": list }),
        AttributeValue::Bs(list) => {
            json!({ "BS": list.iter().map(|b| STANDARD.encode(b.as_ref())).collect::<Vec<_>>() })
        }
        AttributeValue::L(list) => {
            json!({ "L": list.iter().map(attribute_json).collect::<Vec<_>>() })
        }
        AttributeValue::M(map) => json!({ "M": image_json(map) }),
        _ => Value::Null,
    }
}

fn image_json(image: &HashMap<String, AttributeValue>) -> Map<String, Value> {
    image
        .iter()
        .map(|(k, v)| (k.clone(), attribute_json(v)))
        .collect()
}

/// A stream record as the Lambda DynamoDB event carries it, read into `aws_lambda_events`' own
/// type so that the mailer gets exactly what the deployed mapping would hand it.
pub fn stream_record(
    record: &aws_sdk_dynamodbstreams::types::Record,
    stream_arn: &str,
    region: &str,
) -> Result<EventRecord, AwsFailure> {
    let change = record.dynamodb();
    let mut dynamodb = json!({
        "ApproximateCreationDateTime": change.and_then(|c| c.approximate_creation_date_time()).map(aws_sdk_dynamodbstreams::primitives::DateTime::secs),
        "Keys": change.and_then(|c| c.keys()).map(image_json),
        "NewImage": change.and_then(|c| c.new_image()).map(image_json),
        "SequenceNumber": change.and_then(|c| c.sequence_number()),
        "SizeBytes": change.and_then(aws_sdk_dynamodbstreams::types::StreamRecord::size_bytes).unwrap_or(0),
        "StreamViewType": change.and_then(|c| c.stream_view_type()).map(|v| v.as_str().to_owned()),
    });
    // What the stream left out is absent from Lambda's record too, not null.
    if let Value::Object(fields) = &mut dynamodb {
        fields.retain(|_, value| !value.is_null());
    }
    let record = json!({
        "eventID": record.event_id(),
        "eventName": record.event_name().map(|name| name.as_str().to_owned()),
        "eventVersion": record.event_version(),
        "eventSource": "aws:dynamodb",
        "awsRegion": region,
        "eventSourceARN": stream_arn,
        "dynamodb": dynamodb,
    });
    serde_json::from_value(record).map_err(|error| AwsFailure::Unexpected {
        service: "DynamoDB Streams",
        detail: format!("a record that is not a Lambda stream record: {error}"),
    })
}

/// A Lambda event of `records`.
pub fn event(records: &[Value]) -> Value {
    json!({ "Records": records })
}

/// A Lambda event of typed `records` (stream records or queue messages).
pub fn typed_event<R: serde::Serialize>(records: &[R]) -> Value {
    let records: Vec<Value> = records
        .iter()
        .map(|record| serde_json::to_value(record).unwrap_or_default())
        .collect();
    event(&records)
}

/// Reads a table's stream from its start, shard by shard.
#[derive(Debug)]
pub struct StreamSource {
    client: aws_sdk_dynamodbstreams::Client,
    stream_arn: String,
    region: String,
    iterators: HashMap<String, Option<String>>,
}

impl StreamSource {
    /// The stream of `table`, read from its oldest record.
    pub async fn for_table(
        dynamodb: &aws_sdk_dynamodb::Client,
        client: aws_sdk_dynamodbstreams::Client,
        table: &str,
        region: &str,
    ) -> Result<Self, AwsFailure> {
        let described = dynamodb
            .describe_table()
            .table_name(table)
            .send()
            .await
            .map_err(|e| classify("DynamoDB", &e))?;
        let stream_arn = described
            .table()
            .and_then(|t| t.latest_stream_arn())
            .ok_or_else(|| AwsFailure::Unexpected {
                service: "DynamoDB",
                detail: format!("table {table} has no stream"),
            })?
            .to_owned();
        let mut source = Self {
            client,
            stream_arn,
            region: region.to_owned(),
            iterators: HashMap::new(),
        };
        source.discover_shards().await?;
        Ok(source)
    }

    async fn discover_shards(&mut self) -> Result<(), AwsFailure> {
        let described = self
            .client
            .describe_stream()
            .stream_arn(&self.stream_arn)
            .send()
            .await
            .map_err(|e| classify("DynamoDB Streams", &e))?;
        let shards: Vec<String> = described
            .stream_description()
            .map(|d| {
                d.shards()
                    .iter()
                    .filter_map(|s| s.shard_id().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        for shard in shards {
            if self.iterators.contains_key(&shard) {
                continue;
            }
            let iterator = self
                .client
                .get_shard_iterator()
                .stream_arn(&self.stream_arn)
                .shard_id(&shard)
                .shard_iterator_type(ShardIteratorType::TrimHorizon)
                .send()
                .await
                .map_err(|e| classify("DynamoDB Streams", &e))?
                .shard_iterator;
            self.iterators.insert(shard, iterator);
        }
        Ok(())
    }

    /// The records that arrived since the last poll, as Lambda event records.
    pub async fn poll(&mut self) -> Result<Vec<EventRecord>, AwsFailure> {
        self.discover_shards().await?;
        let mut records = Vec::new();
        let shards: Vec<String> = self.iterators.keys().cloned().collect();
        for shard in shards {
            let Some(Some(iterator)) = self.iterators.get(&shard).cloned() else {
                continue;
            };
            let output = self
                .client
                .get_records()
                .shard_iterator(iterator)
                .limit(1000)
                .send()
                .await
                .map_err(|e| classify("DynamoDB Streams", &e))?;
            for record in output.records() {
                records.push(stream_record(record, &self.stream_arn, &self.region)?);
            }
            self.iterators.insert(shard, output.next_shard_iterator);
        }
        Ok(records)
    }
}

/// Receives from a queue as Lambda's SQS poller does.
#[derive(Debug, Clone)]
pub struct QueueSource {
    queue: MailQueue,
    arn: String,
    region: String,
}

impl QueueSource {
    /// The queue at `url`.
    pub async fn new(
        client: aws_sdk_sqs::Client,
        url: &str,
        region: &str,
    ) -> Result<Self, AwsFailure> {
        let arn = crate::provision::queue_arn(&client, url).await?;
        Ok(Self {
            queue: MailQueue::new(client, url),
            arn,
            region: region.to_owned(),
        })
    }

    /// Up to ten messages as the SQS event records Lambda builds, each with the message it came
    /// from, waiting up to `wait` for the first.
    pub async fn receive(
        &self,
        wait: Duration,
    ) -> Result<Vec<(SqsMessage, QueuedMessage)>, AwsFailure> {
        let messages = self.queue.receive(wait, None).await?;
        Ok(messages
            .into_iter()
            .map(|message| {
                let mut record = SqsMessage::default();
                record.message_id = Some(message.message_id.clone());
                record.receipt_handle = Some(message.receipt_handle.clone());
                record.body = Some(message.body.clone());
                record.md5_of_body.clone_from(&message.md5_of_body);
                record.attributes = message.attributes.iter().cloned().collect();
                record.event_source = Some("aws:sqs".to_owned());
                record.event_source_arn = Some(self.arn.clone());
                record.aws_region = Some(self.region.clone());
                (record, message)
            })
            .collect())
    }

    /// Deletes a handled message.
    pub async fn delete(&self, message: &QueuedMessage) -> Result<(), AwsFailure> {
        self.queue.delete(message).await
    }

    /// Makes a failed message visible again soon.
    pub async fn release(&self, message: &QueuedMessage) -> Result<(), AwsFailure> {
        self.queue
            .make_visible_after(message, FAILED_MESSAGE_VISIBILITY)
            .await
    }
}

/// The identifiers the mailer reported as failed.
pub fn failed_identifiers(response: &Value) -> Vec<String> {
    response["batchItemFailures"]
        .as_array()
        .map(|failures| {
            failures
                .iter()
                .filter_map(|f| f["itemIdentifier"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Both mappings, feeding one mailer.
#[derive(Debug)]
pub struct LocalMappings {
    stream: StreamSource,
    queue: QueueSource,
    pending: Vec<EventRecord>,
    retries: u32,
}

/// What one round moved.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Round {
    /// Stream records handed to the mailer.
    pub stream_records: usize,
    /// Queue messages handed to the mailer.
    pub queue_messages: usize,
    /// Records and messages it reported as failed.
    pub failures: usize,
}

impl LocalMappings {
    /// The mappings of the outbox table's stream (`outbox_table`) and the retry queue at
    /// `retry_queue_url`, with clients built from `aws`.
    pub async fn for_stack(
        aws: &aws_config::SdkConfig,
        outbox_table: &str,
        retry_queue_url: &str,
        region: &str,
    ) -> Result<Self, AwsFailure> {
        let stream = StreamSource::for_table(
            &aws_sdk_dynamodb::Client::new(aws),
            aws_sdk_dynamodbstreams::Client::new(aws),
            outbox_table,
            region,
        )
        .await?;
        let queue =
            QueueSource::new(aws_sdk_sqs::Client::new(aws), retry_queue_url, region).await?;
        Ok(Self::new(stream, queue))
    }

    /// The mappings of `stream` and `queue`.
    pub fn new(stream: StreamSource, queue: QueueSource) -> Self {
        Self {
            stream,
            queue,
            pending: Vec::new(),
            retries: 0,
        }
    }

    /// One round: the stream's new records, then one receive from the queue (waiting up to
    /// `wait`), each batch through `mailer`.
    pub async fn round(&mut self, mailer: &Mailer, wait: Duration) -> Result<Round, AwsFailure> {
        let mut round = Round::default();
        self.pending.extend(self.stream.poll().await?);
        while !self.pending.is_empty() {
            let batch: Vec<EventRecord> = self.pending.iter().take(BATCH_SIZE).cloned().collect();
            round.stream_records += batch.len();
            let failures = failed_identifiers(&mailer.handle_event(typed_event(&batch)).await);
            round.failures += failures.len();
            let first_failed = batch.iter().position(|record| {
                record
                    .change
                    .sequence_number
                    .as_ref()
                    .is_some_and(|sequence| failures.contains(sequence))
            });
            match first_failed {
                // Lambda starts the next batch at the first failed record.
                Some(index) if self.retries < MAX_STREAM_RETRIES => {
                    self.pending.drain(..index);
                    self.retries += 1;
                    break;
                }
                Some(_) => {
                    tracing::error!(
                        records = batch.len(),
                        "stream records dropped after too many retries"
                    );
                    self.pending.drain(..batch.len());
                    self.retries = 0;
                }
                None => {
                    self.pending.drain(..batch.len());
                    self.retries = 0;
                }
            }
        }
        let messages = self.queue.receive(wait).await?;
        if !messages.is_empty() {
            round.queue_messages = messages.len();
            let records: Vec<SqsMessage> =
                messages.iter().map(|(record, _)| record.clone()).collect();
            let failures = failed_identifiers(&mailer.handle_event(typed_event(&records)).await);
            round.failures += failures.len();
            for (_, message) in &messages {
                if failures.contains(&message.message_id) {
                    self.queue.release(message).await?;
                } else {
                    self.queue.delete(message).await?;
                }
            }
        }
        Ok(round)
    }
}
