//! The abuse limits at the API edge: which route class each function belongs to, and the
//! [`Limiter`] that takes one request of a source from its bucket before the body is even parsed.
//!
//! Only HTTP requests are limited, by the address API Gateway saw (`requestContext.http.sourceIp`,
//! IPv6 by its /64). A direct Lambda invoke has no source address: its caller is authorized by
//! IAM, and is trusted as far as its IAM policy goes. The limiter never looks at the body, so it
//! tells nothing about accounts, and it reads nothing: each step is one conditional write
//! (see [`lambdauth_domain::limits`]).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use lambdauth_domain::limits::{MAX_WRITES, Next};
use lambdauth_domain::{Clock, RouteClass, SourceKey, SystemClock, Timestamp};

use crate::Function;
use crate::api::ApiError;
use crate::config::RateLimitConfig;
use crate::error::HandlerError;
use crate::security::{self, SecurityEvent};
use crate::store::UserStore;
use crate::store::buckets::{BucketStore, WriteOutcome, bucket_partition};

/// The class whose bucket a request to `function` draws from. `None` for the key set, which is
/// public and static, and for ending sessions (logout, the sessions list behind the
/// authorizer): a limit per address there would let anyone behind the same address (a NAT, a
/// carrier's) spend the allowance and keep a victim from revoking a stolen session.
pub fn class_of(function: Function) -> Option<RouteClass> {
    match function {
        Function::CreateUser | Function::LostPassword => Some(RouteClass::Mail),
        Function::Login | Function::ChangePassword => Some(RouteClass::Password),
        Function::VerifyUser | Function::ResetPassword => Some(RouteClass::Link),
        Function::RefreshToken => Some(RouteClass::Session),
        Function::Logout | Function::Sessions | Function::Jwks => None,
    }
}

/// How many buckets an instance remembers the last seen time of; past it, it forgets them all
/// (a forgotten bucket only costs one more write on its next request).
const REMEMBERED_BUCKETS: usize = 4096;

/// Takes requests from the buckets of their sources.
#[derive(Debug, Clone)]
pub struct Limiter {
    buckets: BucketStore,
    rates: RateLimitConfig,
    /// The time each bucket held when this instance last wrote it, by partition key: a bucket's
    /// time only grows, so a time seen after `now` names the write that will succeed first
    /// (one write instead of two for a source this instance has served).
    seen: Arc<Mutex<HashMap<String, Timestamp>>>,
}

impl Limiter {
    /// A limiter over `buckets` with `rates`.
    pub fn new(buckets: BucketStore, rates: RateLimitConfig) -> Self {
        Self {
            buckets,
            rates,
            seen: Arc::default(),
        }
    }

    /// A limiter over the buckets in `store`'s users table, through `store`'s own client: one
    /// connection pool per function, so a request's bucket write reuses the connection its
    /// other DynamoDB calls opened.
    pub fn for_store(store: &UserStore, rates: RateLimitConfig) -> Self {
        Self::new(
            BucketStore::new(store.client().clone(), store.table()),
            rates,
        )
    }

    /// Takes one request to `function` from `source_ip` (as API Gateway saw it) out of its
    /// bucket. `Err` with a 429 `TooManyRequests` and the wait when the bucket is empty; the
    /// refusal is logged as the security event `RateLimited`.
    pub async fn admit(
        &self,
        function: Function,
        source_ip: Option<&str>,
    ) -> Result<(), HandlerError> {
        let Some(class) = class_of(function) else {
            return Ok(());
        };
        let Some(rate) = self.rates.rate(class) else {
            return Ok(());
        };
        // API Gateway always names the source; should it not, such requests share one bucket
        // rather than go unlimited.
        let source = source_ip
            .and_then(SourceKey::of)
            .unwrap_or_else(SourceKey::unknown);
        let partition = bucket_partition(class, &source);
        let now = SystemClock.now();
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
                    );
                    tracing::info!(class = class.name(), writes, "rate limited");
                    return Err(ApiError::TooManyRequests(wait).into());
                }
            }
        }
        // Only a bucket item that does not hold a time can get here.
        Err(HandlerError::Internal(format!(
            "the bucket {partition} decided nothing in {MAX_WRITES} writes"
        )))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_function_but_the_key_set_and_ending_sessions_has_a_class() {
        let unlimited = [Function::Jwks, Function::Logout, Function::Sessions];
        for function in Function::ALL {
            assert_eq!(class_of(function).is_none(), unlimited.contains(&function));
        }
        assert_eq!(class_of(Function::CreateUser), Some(RouteClass::Mail));
        assert_eq!(class_of(Function::LostPassword), Some(RouteClass::Mail));
        assert_eq!(class_of(Function::Login), Some(RouteClass::Password));
        assert_eq!(
            class_of(Function::ChangePassword),
            Some(RouteClass::Password)
        );
        assert_eq!(class_of(Function::VerifyUser), Some(RouteClass::Link));
        assert_eq!(class_of(Function::ResetPassword), Some(RouteClass::Link));
        assert_eq!(class_of(Function::RefreshToken), Some(RouteClass::Session));
    }
}
