//! The abuse limits at the API edge: the [`Limiter`] of a function's route class, which takes one
//! request of a source from its bucket before the body is even parsed. A function's definition
//! names its class; the bootstrap builds the limiter and the API envelope applies it, so no
//! handler calls it.
//!
//! Only HTTP requests are limited, by the address API Gateway saw (`requestContext.http.sourceIp`,
//! IPv6 by its /64). A direct Lambda invoke has no source address: its caller is authorized by
//! IAM, and is trusted as far as its IAM policy goes. The limiter never looks at the body, so it
//! tells nothing about accounts, and it reads nothing: each step is one conditional write
//! (see [`lambdauth_domain::limits`]).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use lambdauth_domain::limits::{MAX_WRITES, Next};
use lambdauth_domain::{Clock, Rate, RouteClass, SourceKey, Timestamp};

use lambdauth_domain::RetryAfter;

use crate::config::RateLimitConfig;
use crate::security::{self, SecurityEvent};
use crate::store::StoreError;
use crate::store::buckets::{BucketStore, WriteOutcome, bucket_partition};

/// Why a request was not admitted.
#[derive(Debug, thiserror::Error)]
pub enum NotAdmitted {
    /// The source's bucket is empty: a 429 `TooManyRequests` with the wait.
    #[error("the source's bucket is empty")]
    Refused(RetryAfter),
    /// The bucket could not be written.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The bucket decided nothing in its writes: it does not hold a time.
    #[error("a bucket decided nothing in its writes")]
    Undecided,
}

/// How many buckets an instance remembers the last seen time of; past it, it forgets them all
/// (a forgotten bucket only costs one more write on its next request).
const REMEMBERED_BUCKETS: usize = 4096;

/// Takes requests of one route class from the buckets of their sources.
#[derive(Clone)]
pub struct Limiter {
    buckets: BucketStore,
    class: RouteClass,
    /// The class's rate; `None` when it is `off`.
    rate: Option<Rate>,
    clock: Arc<dyn Clock + Send + Sync>,
    /// The time each bucket held when this instance last wrote it, by partition key: a bucket's
    /// time only grows, so a time seen after `now` names the write that will succeed first
    /// (one write instead of two for a source this instance has served).
    seen: Arc<Mutex<HashMap<String, Timestamp>>>,
}

impl std::fmt::Debug for Limiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Limiter")
            .field("class", &self.class)
            .field("rate", &self.rate)
            .finish_non_exhaustive()
    }
}

impl Limiter {
    /// A limiter of `class` at its rate in `rates`, over the buckets in the users table
    /// `table`, through `client` (the function's own, so that a request's bucket write reuses
    /// the connection its other DynamoDB calls opened).
    pub fn new(
        client: aws_sdk_dynamodb::Client,
        table: &str,
        class: RouteClass,
        rates: RateLimitConfig,
        clock: Arc<dyn Clock + Send + Sync>,
    ) -> Self {
        Self {
            buckets: BucketStore::new(client, table),
            class,
            rate: rates.rate(class),
            clock,
            seen: Arc::default(),
        }
    }

    /// Takes one request from `source_ip` (as API Gateway saw it) out of its bucket. `Err`
    /// with a 429 `TooManyRequests` and the wait when the bucket is empty; the refusal is logged
    /// as the security event `RateLimited`.
    pub async fn admit(&self, source_ip: Option<&str>) -> Result<(), NotAdmitted> {
        let class = self.class;
        let Some(rate) = self.rate else {
            return Ok(());
        };
        // API Gateway always names the source; should it not, such requests share one bucket
        // rather than go unlimited.
        let source = source_ip
            .and_then(SourceKey::of)
            .unwrap_or_else(SourceKey::unknown);
        let partition = bucket_partition(class, &source);
        let now = self.clock.now();
        let mut write = rate.first_write(now, self.last_seen(&partition));
        for writes in 1..=MAX_WRITES {
            let stored = match self
                .buckets
                .write(class, &source, write, rate.keep_until(now))
                .await?
            {
                WriteOutcome::Applied(tat) => {
                    self.remember(partition, tat, now);
                    tracing::debug!(class = class.name(), writes, "admitted");
                    return Ok(());
                }
                WriteOutcome::Failed(stored) => stored,
            };
            if let Some(tat) = stored {
                self.remember(partition.clone(), tat, now);
            }
            match rate.after_failed_write(now, stored) {
                Next::Write(next) => write = next,
                Next::Refused(wait) => {
                    security::record(
                        &SecurityEvent::RateLimited {
                            class: class.name(),
                        },
                        source_ip,
                        now,
                    );
                    tracing::info!(class = class.name(), writes, "rate limited");
                    return Err(NotAdmitted::Refused(wait));
                }
            }
        }
        // Only a bucket item that does not hold a time can get here.
        Err(NotAdmitted::Undecided)
    }

    fn last_seen(&self, partition: &str) -> Option<Timestamp> {
        self.seen.lock().ok()?.get(partition).copied()
    }

    fn remember(&self, partition: String, tat: Timestamp, now: Timestamp) {
        let Ok(mut seen) = self.seen.lock() else {
            return;
        };
        if seen.len() >= REMEMBERED_BUCKETS && !seen.contains_key(&partition) {
            // A rested bucket's time says nothing a missing one does not.
            seen.retain(|_, tat| *tat > now);
            if seen.len() >= REMEMBERED_BUCKETS {
                seen.clear();
            }
        }
        let entry = seen.entry(partition).or_insert(tat);
        *entry = (*entry).max(tat);
    }
}
