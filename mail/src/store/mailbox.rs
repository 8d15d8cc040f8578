//! What the outbox table knows of each recipient's mailbox from SES's feedback: one record per
//! address (`ADDRESS#<address>` / `FEEDBACK`) with its deliveries, bounces, complaints and
//! rejections counted, the suppression in force (why, since when) and the last one an operator
//! lifted (why it was, who lifted it, when). The rules are the domain's
//! ([`lambdauth_domain::feedback`]); this module reads and writes them.
//!
//! The feedback function records each piece of feedback with one `UpdateItem` that adds to a
//! counter and sets the suppression only where none is in force, so feedback on several mails
//! arriving at once is all counted and never needs a read. The mailer only reads the record (its
//! role may not write under `ADDRESS#`); it ends a mail to a suppressed address with
//! [`OutboxStore::mark_mail_suppressed`], on the mail's own item.
//!
//! The record has no TTL: a suppression must outlive any retention period.

use lambdauth_domain::feedback::{
    AddressFeedback, Counter, FeedbackChange, Lifted, Suppression, SuppressionReason,
};
use lambdauth_domain::{Email, Timestamp};

use super::OutboxStore;
use super::outbox::update_error;
use lambdauth_runtime::aws_error::classify;
use lambdauth_runtime::store::StoreError;
use lambdauth_runtime::store::items::{Item, ItemError, get_optional_n, malformed, n, s};
use lambdauth_runtime::store::schema::attribute::UPDATED_AT;
use lambdauth_runtime::store::schema::{
    ADDRESS_PARTITION_PREFIX, FEEDBACK_SORT_KEY, PARTITION_KEY, SORT_KEY, TYPE_ATTRIBUTE,
};

/// The feedback record's attributes besides the keys and the type, named beside the only code
/// that writes them.
pub mod attribute {
    /// The normalized address the record is about.
    pub const RECIPIENT: &str = "recipient";
    /// Deliveries counted.
    pub const DELIVERIES: &str = "deliveries";
    /// Transient (and undetermined) bounces counted.
    pub const TRANSIENT_BOUNCES: &str = "transientBounces";
    /// Permanent bounces counted.
    pub const PERMANENT_BOUNCES: &str = "permanentBounces";
    /// Complaints counted.
    pub const COMPLAINTS: &str = "complaints";
    /// Rejections counted.
    pub const REJECTS: &str = "rejects";
    /// Why the address is suppressed; present only while it is.
    pub const SUPPRESSION_REASON: &str = "suppressionReason";
    /// Since when it is suppressed (epoch milliseconds); present only while it is.
    pub const SUPPRESSED_AT: &str = "suppressedAt";
    /// The reason of the last suppression lifted.
    pub const LIFTED_REASON: &str = "liftedReason";
    /// When it was lifted.
    pub const LIFTED_AT: &str = "liftedAt";
    /// Who lifted it.
    pub const LIFTED_BY: &str = "liftedBy";
    /// When feedback was last recorded.
    pub const LAST_FEEDBACK_AT: &str = "lastFeedbackAt";
}

/// The item type of a feedback record.
pub const FEEDBACK_ITEM_TYPE: &str = "feedback";

/// The attribute holding `counter`.
fn counter_attribute(counter: Counter) -> &'static str {
    match counter {
        Counter::Deliveries => attribute::DELIVERIES,
        Counter::TransientBounces => attribute::TRANSIENT_BOUNCES,
        Counter::PermanentBounces => attribute::PERMANENT_BOUNCES,
        Counter::Complaints => attribute::COMPLAINTS,
        Counter::Rejects => attribute::REJECTS,
    }
}

/// The key of `recipient`'s feedback record.
pub fn feedback_key(recipient: &str) -> Item {
    Item::from([
        (
            PARTITION_KEY.to_owned(),
            s(format!("{ADDRESS_PARTITION_PREFIX}{recipient}")),
        ),
        (SORT_KEY.to_owned(), s(FEEDBACK_SORT_KEY)),
    ])
}

fn optional_s<'a>(item: &'a Item, name: &'static str) -> Option<&'a str> {
    item.get(name)
        .and_then(|v| v.as_s().ok())
        .map(String::as_str)
}

/// The record in `item`.
pub fn feedback_from_item(item: &Item) -> Result<AddressFeedback, ItemError> {
    let count = |counter: Counter| -> Result<u64, ItemError> {
        Ok(get_optional_n(item, counter_attribute(counter))?.unwrap_or(0))
    };
    let reason = |name: &'static str| -> Result<Option<SuppressionReason>, ItemError> {
        optional_s(item, name)
            .map(|text| SuppressionReason::parse(text).ok_or_else(|| malformed(name)))
            .transpose()
    };
    let suppression = match (
        reason(attribute::SUPPRESSION_REASON)?,
        get_optional_n::<i64>(item, attribute::SUPPRESSED_AT)?,
    ) {
        (Some(reason), Some(since)) => Some(Suppression {
            reason,
            since: Timestamp::from_millis(since),
        }),
        (None, None) => None,
        _ => return Err(malformed(attribute::SUPPRESSED_AT)),
    };
    let lifted = match (
        reason(attribute::LIFTED_REASON)?,
        get_optional_n::<i64>(item, attribute::LIFTED_AT)?,
    ) {
        (Some(reason), Some(at)) => Some(Lifted {
            reason,
            at: Timestamp::from_millis(at),
            by: optional_s(item, attribute::LIFTED_BY)
                .unwrap_or_default()
                .to_owned(),
        }),
        _ => None,
    };
    Ok(AddressFeedback {
        deliveries: count(Counter::Deliveries)?,
        transient_bounces: count(Counter::TransientBounces)?,
        permanent_bounces: count(Counter::PermanentBounces)?,
        complaints: count(Counter::Complaints)?,
        rejects: count(Counter::Rejects)?,
        suppression,
        lifted,
    })
}

impl OutboxStore {
    /// What is known of `recipient`'s mailbox (`None`: no feedback yet), read consistently.
    pub async fn address_feedback(
        &self,
        recipient: &str,
    ) -> Result<Option<AddressFeedback>, StoreError> {
        let output = self
            .client()
            .get_item()
            .table_name(self.table())
            .set_key(Some(feedback_key(recipient)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| classify("DynamoDB", &e))?;
        match output.item {
            Some(item) => Ok(Some(feedback_from_item(&item)?)),
            None => Ok(None),
        }
    }

    /// Records `change` for `recipient`, made at `at`: one `UpdateItem` that creates the record
    /// if needed, adds one to the change's counter and, when the change suppresses, sets the
    /// suppression unless one is in force (the first reason and time stay, as the domain's
    /// [`AddressFeedback::apply`] says).
    pub async fn record_feedback(
        &self,
        recipient: &Email,
        change: FeedbackChange,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        let mut set = vec![
            "#type = :type".to_owned(),
            "#recipient = :recipient".to_owned(),
            "#lastFeedbackAt = :now".to_owned(),
            "#updatedAt = :now".to_owned(),
        ];
        let mut update = self
            .client()
            .update_item()
            .table_name(self.table())
            .set_key(Some(feedback_key(recipient.as_str())))
            .expression_attribute_names("#type", TYPE_ATTRIBUTE)
            .expression_attribute_names("#recipient", attribute::RECIPIENT)
            .expression_attribute_names("#lastFeedbackAt", attribute::LAST_FEEDBACK_AT)
            .expression_attribute_names("#updatedAt", UPDATED_AT)
            .expression_attribute_names("#counter", counter_attribute(change.counter))
            .expression_attribute_values(":type", s(FEEDBACK_ITEM_TYPE))
            .expression_attribute_values(":recipient", s(recipient.as_str()))
            .expression_attribute_values(":now", n(at.as_millis()))
            .expression_attribute_values(":one", n(1));
        if let Some(reason) = change.suppress {
            set.push("#reason = if_not_exists(#reason, :reason)".to_owned());
            set.push("#since = if_not_exists(#since, :now)".to_owned());
            update = update
                .expression_attribute_names("#reason", attribute::SUPPRESSION_REASON)
                .expression_attribute_names("#since", attribute::SUPPRESSED_AT)
                .expression_attribute_values(":reason", s(reason.as_str()));
        }
        update
            .update_expression(format!("SET {} ADD #counter :one", set.join(", ")))
            .send()
            .await
            .map_err(|e| update_error(&e))?;
        Ok(())
    }

    /// Lifts `recipient`'s suppression as `by` at `at`, keeping its counts; `None` when the
    /// address is not suppressed. The write is conditioned on the suppression read, so one that
    /// a new bounce put in force meanwhile is not lifted unseen ([`StoreError::Conflict`]).
    pub async fn lift_suppression(
        &self,
        recipient: &Email,
        by: &str,
        at: Timestamp,
    ) -> Result<Option<Lifted>, StoreError> {
        let Some(mut record) = self.address_feedback(recipient.as_str()).await? else {
            return Ok(None);
        };
        let Some(since) = record.suppression.as_ref().map(|s| s.since) else {
            return Ok(None);
        };
        let Ok(lifted) = record.lift(by, at) else {
            return Ok(None);
        };
        self.client()
            .update_item()
            .table_name(self.table())
            .set_key(Some(feedback_key(recipient.as_str())))
            .update_expression(
                "SET #liftedReason = :reason, #liftedAt = :now, #liftedBy = :by, #updatedAt = :now REMOVE #reason, #since",
            )
            .condition_expression("#since = :since")
            .expression_attribute_names("#liftedReason", attribute::LIFTED_REASON)
            .expression_attribute_names("#liftedAt", attribute::LIFTED_AT)
            .expression_attribute_names("#liftedBy", attribute::LIFTED_BY)
            .expression_attribute_names("#updatedAt", UPDATED_AT)
            .expression_attribute_names("#reason", attribute::SUPPRESSION_REASON)
            .expression_attribute_names("#since", attribute::SUPPRESSED_AT)
            .expression_attribute_values(":reason", s(lifted.reason.as_str()))
            .expression_attribute_values(":now", n(at.as_millis()))
            .expression_attribute_values(":by", s(by))
            .expression_attribute_values(":since", n(since.as_millis()))
            .send()
            .await
            .map_err(|e| update_error(&e))?;
        Ok(Some(lifted))
    }
}

#[cfg(test)]
mod tests {
    use aws_sdk_dynamodb::types::AttributeValue;
    use lambdauth_domain::feedback::{BounceType, Feedback, decide};

    use super::*;

    fn item(pairs: &[(&str, AttributeValue)]) -> Item {
        pairs
            .iter()
            .map(|(name, value)| ((*name).to_owned(), value.clone()))
            .collect()
    }

    #[test]
    fn a_record_reads_back_its_counts_its_suppression_and_its_last_lift() {
        let record = feedback_from_item(&item(&[
            (attribute::DELIVERIES, n(3)),
            (attribute::PERMANENT_BOUNCES, n(1)),
            (attribute::COMPLAINTS, n(2)),
            (attribute::SUPPRESSION_REASON, s("complaint")),
            (attribute::SUPPRESSED_AT, n(1_000)),
            (attribute::LIFTED_REASON, s("permanent-bounce")),
            (attribute::LIFTED_AT, n(500)),
            (attribute::LIFTED_BY, s("ops")),
        ]))
        .unwrap();
        assert_eq!(
            (
                record.deliveries,
                record.transient_bounces,
                record.permanent_bounces,
                record.complaints,
                record.rejects
            ),
            (3, 0, 1, 2, 0)
        );
        assert_eq!(
            record.suppression,
            Some(Suppression {
                reason: SuppressionReason::Complaint,
                since: Timestamp::from_millis(1_000),
            })
        );
        assert_eq!(record.lifted.unwrap().by, "ops");
    }

    #[test]
    fn a_suppression_without_its_time_or_with_an_unknown_reason_is_malformed() {
        assert!(
            feedback_from_item(&item(&[(attribute::SUPPRESSION_REASON, s("complaint"))])).is_err()
        );
        assert!(
            feedback_from_item(&item(&[
                (attribute::SUPPRESSION_REASON, s("spam")),
                (attribute::SUPPRESSED_AT, n(1)),
            ]))
            .is_err()
        );
    }

    #[test]
    fn each_counter_has_its_own_attribute() {
        let names: std::collections::BTreeSet<&str> =
            Counter::ALL.into_iter().map(counter_attribute).collect();
        assert_eq!(names.len(), Counter::ALL.len());
        assert_eq!(
            counter_attribute(decide(Feedback::Bounced(BounceType::Permanent)).counter),
            attribute::PERMANENT_BOUNCES
        );
    }

    #[test]
    fn the_key_is_the_address_under_its_prefix() {
        let key = feedback_key("bob@example.org");
        assert_eq!(key[PARTITION_KEY], s("ADDRESS#bob@example.org"));
        assert_eq!(key[SORT_KEY], s("FEEDBACK"));
    }
}
