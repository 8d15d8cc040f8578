//! The global mail cap's counters in the outbox table, one item per kind and window
//! (`MAILCAP#<kind>` / `<window start>`); a mail over the cap is given back with
//! [`OutboxStore::defer_mail`]. Counting is one
//! conditional `UpdateItem` per mail: parallel mailers cannot both take the last place of a
//! window, and no read comes first.

use aws_sdk_dynamodb::types::AttributeValue;
use lambdauth_domain::{MailCap, MailKind, Timestamp};

use super::OutboxStore;
use super::outbox::update_error;
use lambdauth_runtime::store::StoreError;
use lambdauth_runtime::store::items::{n, s};
use lambdauth_runtime::store::schema::{
    MAILCAP_PARTITION_PREFIX, PARTITION_KEY, SORT_KEY, TTL_ATTRIBUTE,
};

/// The attribute counting a window's mails.
const SENT_IN_WINDOW: &str = "sent";

/// Whether a mail may go out now under the cap.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CapCheck {
    /// It was counted in the current window: send it.
    Counted,
    /// Its kind has no cap: send it.
    Uncapped,
    /// The window's cap of its kind is reached: defer it.
    Reached,
}

impl OutboxStore {
    /// Counts one mail of `kind` in the window `now` falls in, unless the window already holds
    /// `cap` of them: one conditional update, `ADD` under `sent < cap`.
    pub async fn count_toward_cap(
        &self,
        cap: &MailCap,
        kind: MailKind,
        now: Timestamp,
    ) -> Result<CapCheck, StoreError> {
        let Some(limit) = cap.of(kind) else {
            return Ok(CapCheck::Uncapped);
        };
        if limit == 0 {
            return Ok(CapCheck::Reached);
        }
        let start = cap.window_start(now);
        let key = [
            (
                PARTITION_KEY.to_owned(),
                s(format!("{MAILCAP_PARTITION_PREFIX}{}", kind.as_str())),
            ),
            (SORT_KEY.to_owned(), s(start.as_millis().to_string())),
        ];
        let outcome = self
            .client()
            .update_item()
            .table_name(self.table())
            .set_key(Some(key.into_iter().collect()))
            .update_expression(format!(
                "ADD {SENT_IN_WINDOW} :one SET {TTL_ATTRIBUTE} = :expires"
            ))
            .condition_expression(format!(
                "attribute_not_exists({SENT_IN_WINDOW}) OR {SENT_IN_WINDOW} < :cap"
            ))
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":cap", n(limit))
            .expression_attribute_values(
                ":expires",
                AttributeValue::N(cap.counter_expiry(start).as_secs().to_string()),
            )
            .send()
            .await;
        match outcome {
            Ok(_) => Ok(CapCheck::Counted),
            Err(error) => match update_error(&error) {
                StoreError::Conflict => Ok(CapCheck::Reached),
                other => Err(other),
            },
        }
    }
}
