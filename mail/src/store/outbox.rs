//! The outbox table and its mail items' life cycle: claim (pending → sending, with a lease), sent,
//! released after a transient failure, deferred under the global cap, suppressed, failed, and
//! reopened by an operator's redrive. Each step
//! is one conditional update, so two mailers holding the same job cannot both send it.
//!
//! Mail items are put by the HTTP functions, in the same transaction as the user write that
//! decided them (the users store knows this table's name for that alone); everything after
//! that goes through [`OutboxStore`], which never touches the users table.

use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::ReturnValue;
use lambdauth_domain::Timestamp;

use lambdauth_domain::{MailStatus, OutboxMail};
use lambdauth_runtime::aws_error::classify;
use lambdauth_runtime::store::items::{n, s};
use lambdauth_runtime::store::schema::attribute::{
    ATTEMPTS, LAST_ERROR, LEASE_UNTIL, LINK_TOKEN, SENT_AT, SES_MESSAGE_ID, STATUS, UPDATED_AT,
};
use lambdauth_runtime::store::schema::{MAIL_SORT_KEY_PREFIX, PARTITION_KEY, SORT_KEY};
use lambdauth_runtime::store::{StoreError, mail_items};

/// A failed attempt's record: the status it leaves the mail in, why, and the condition (on the
/// status `other`) under which it may be written.
struct Failure<'a> {
    status: &'static str,
    error: &'a str,
    condition: String,
    other: &'static str,
}

/// The longest error text kept on an item.
const MAX_ERROR_LENGTH: usize = 500;

fn shorten(error: &str) -> String {
    error.chars().take(MAX_ERROR_LENGTH).collect()
}

/// The outbox table: the mail items (and, beside them, what the mailer keeps per recipient and
/// per kind of mail). It holds no user and no password hash.
#[derive(Debug, Clone)]
pub struct OutboxStore {
    client: Client,
    table: String,
}

impl OutboxStore {
    /// The store over the outbox table `table`.
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

    /// The client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The outbox item `mail_id` to `recipient`, read consistently.
    pub async fn load_mail(
        &self,
        recipient: &str,
        mail_id: &str,
    ) -> Result<Option<OutboxMail>, StoreError> {
        let output = self
            .client()
            .get_item()
            .table_name(self.table())
            .set_key(Some(mail_items::mail_key(recipient, mail_id)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| classify("DynamoDB", &e))?;
        match output.item {
            Some(item) => Ok(Some(mail_items::mail_from_item(&item)?)),
            None => Ok(None),
        }
    }

    /// Every outbox item to `recipient`, oldest first.
    pub async fn mails_to(&self, recipient: &str) -> Result<Vec<OutboxMail>, StoreError> {
        let mut mails = Vec::new();
        let mut pages = self
            .client()
            .query()
            .table_name(self.table())
            .key_condition_expression(format!(
                "{PARTITION_KEY} = :pk AND begins_with({SORT_KEY}, :prefix)"
            ))
            .expression_attribute_values(":pk", s(recipient))
            .expression_attribute_values(":prefix", s(MAIL_SORT_KEY_PREFIX))
            .into_paginator()
            .items()
            .send();
        while let Some(item) = pages.next().await {
            let item = item.map_err(|e| classify("DynamoDB", &e))?;
            mails.push(mail_items::mail_from_item(&item)?);
        }
        Ok(mails)
    }

    /// Claims the mail for sending until `now + lease`: only a pending mail, or one whose
    /// previous claim lapsed, can be claimed. [`StoreError::Conflict`] when it cannot.
    pub async fn claim_mail(
        &self,
        recipient: &str,
        mail_id: &str,
        now: Timestamp,
        lease: Duration,
    ) -> Result<OutboxMail, StoreError> {
        let output = self
            .update_mail(recipient, mail_id)
            .update_expression(format!(
                "SET #status = :sending, {LEASE_UNTIL} = :lease, {ATTEMPTS} = if_not_exists({ATTEMPTS}, :zero) + :one, {UPDATED_AT} = :now"
            ))
            .condition_expression(format!(
                "attribute_exists({PARTITION_KEY}) AND (#status = :pending OR (#status = :sending AND {LEASE_UNTIL} < :now))"
            ))
            .expression_attribute_values(":sending", s(MailStatus::Sending.as_str()))
            .expression_attribute_values(":pending", s(MailStatus::Pending.as_str()))
            .expression_attribute_values(":lease", n(now.plus(lease).as_millis()))
            .expression_attribute_values(":now", n(now.as_millis()))
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":one", n(1))
            .return_values(ReturnValue::AllNew)
            .send()
            .await
            .map_err(|e| update_error(&e))?;
        let item = output.attributes.ok_or_else(|| {
            StoreError::Aws(lambdauth_runtime::aws_error::AwsFailure::Unexpected {
                service: "DynamoDB",
                detail: "the claim returned no item".to_owned(),
            })
        })?;
        Ok(mail_items::mail_from_item(&item)?)
    }

    /// Records that SES accepted the mail, dropping the token's ciphertext: nothing needs it any
    /// more.
    pub async fn mark_mail_sent(
        &self,
        recipient: &str,
        mail_id: &str,
        ses_message_id: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.update_mail(recipient, mail_id)
            .update_expression(format!(
                "SET #status = :sent, {SES_MESSAGE_ID} = :message, {SENT_AT} = :now, {UPDATED_AT} = :now REMOVE {LEASE_UNTIL}, {LINK_TOKEN}"
            ))
            .condition_expression(format!("attribute_exists({PARTITION_KEY})"))
            .expression_attribute_values(":sent", s(MailStatus::Sent.as_str()))
            .expression_attribute_values(":message", s(ses_message_id))
            .expression_attribute_values(":now", n(now.as_millis()))
            .send()
            .await
            .map_err(|e| update_error(&e))?;
        Ok(())
    }

    /// Gives a claimed mail back after a transient failure, for a retry job to claim again.
    pub async fn release_mail(
        &self,
        recipient: &str,
        mail_id: &str,
        error: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let failure = Failure {
            status: MailStatus::Pending.as_str(),
            error,
            condition: "#status = :other".to_owned(),
            other: MailStatus::Sending.as_str(),
        };
        self.record_failure(recipient, mail_id, &failure, now).await
    }

    /// Marks the mail as permanently failed (unless it was sent meanwhile).
    pub async fn mark_mail_failed(
        &self,
        recipient: &str,
        mail_id: &str,
        error: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let failure = Failure {
            status: MailStatus::Failed.as_str(),
            error,
            condition: format!("attribute_exists({PARTITION_KEY}) AND #status <> :other"),
            other: MailStatus::Sent.as_str(),
        };
        self.record_failure(recipient, mail_id, &failure, now).await
    }

    /// Sets the status and last error of a mail and ends its claim, on `failure`'s condition.
    async fn record_failure(
        &self,
        recipient: &str,
        mail_id: &str,
        failure: &Failure<'_>,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.update_mail(recipient, mail_id)
            .update_expression(format!(
                "SET #status = :status, {LAST_ERROR} = :error, {UPDATED_AT} = :now REMOVE {LEASE_UNTIL}"
            ))
            .condition_expression(&failure.condition)
            .expression_attribute_values(":status", s(failure.status))
            .expression_attribute_values(":other", s(failure.other))
            .expression_attribute_values(":error", s(shorten(failure.error)))
            .expression_attribute_values(":now", n(now.as_millis()))
            .send()
            .await
            .map_err(|e| update_error(&e))?;
        Ok(())
    }

    /// Makes a failed mail pending again, for an operator's redrive.
    pub async fn reopen_mail(
        &self,
        recipient: &str,
        mail_id: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.update_mail(recipient, mail_id)
            .update_expression(format!(
                "SET #status = :pending, {ATTEMPTS} = :zero, {UPDATED_AT} = :now REMOVE {LEASE_UNTIL}"
            ))
            .condition_expression("#status = :failed OR #status = :pending")
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":pending", s(MailStatus::Pending.as_str()))
            .expression_attribute_values(":failed", s(MailStatus::Failed.as_str()))
            .expression_attribute_values(":now", n(now.as_millis()))
            .send()
            .await
            .map_err(|e| update_error(&e))?;
        Ok(())
    }

    /// Ends the claimed `mail` as `suppressed` with `reason`, unsent: its recipient is
    /// suppressed. The link token's ciphertext goes too, as nothing will ever send it. Only
    /// while this claim holds (the mail still `sending` under the lease the claim set):
    /// [`StoreError::Conflict`] otherwise.
    pub async fn mark_mail_suppressed(
        &self,
        mail: &OutboxMail,
        reason: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.update_claimed(mail)?
            .update_expression(format!(
                "SET #status = :suppressed, {LAST_ERROR} = :reason, {UPDATED_AT} = :now REMOVE {LEASE_UNTIL}, {LINK_TOKEN}"
            ))
            .expression_attribute_values(":suppressed", s(MailStatus::Suppressed.as_str()))
            .expression_attribute_values(":reason", s(shorten(reason)))
            .expression_attribute_values(":now", n(now.as_millis()))
            .send()
            .await
            .map_err(|e| update_error(&e))?;
        Ok(())
    }

    /// Gives the claimed `mail` back to wait for the next window of the global cap: pending
    /// again, its claim ended, and the attempt the claim counted taken back (waiting under the
    /// cap is not a failure and must not bring the mail closer to being given up). Only while
    /// this claim holds: [`StoreError::Conflict`] otherwise.
    pub async fn defer_mail(
        &self,
        mail: &OutboxMail,
        note: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.update_claimed(mail)?
            .update_expression(format!(
                "SET #status = :pending, {ATTEMPTS} = {ATTEMPTS} - :one, {LAST_ERROR} = :note, {UPDATED_AT} = :now REMOVE {LEASE_UNTIL}"
            ))
            .expression_attribute_values(":pending", s(MailStatus::Pending.as_str()))
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":note", s(shorten(note)))
            .expression_attribute_values(":now", n(now.as_millis()))
            .send()
            .await
            .map_err(|e| update_error(&e))?;
        Ok(())
    }

    /// An update of `mail` conditioned on the claim that returned it still holding: the mail is
    /// `sending` under that claim's lease, so a mailer whose lease lapsed cannot undo another's
    /// claim.
    fn update_claimed(
        &self,
        mail: &OutboxMail,
    ) -> Result<
        aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder,
        StoreError,
    > {
        let lease = mail.lease_until.ok_or_else(|| {
            StoreError::Aws(lambdauth_runtime::aws_error::AwsFailure::Unexpected {
                service: "DynamoDB",
                detail: "a claimed mail without its lease".to_owned(),
            })
        })?;
        Ok(self
            .update_mail(mail.recipient.as_str(), &mail.id)
            .condition_expression(format!("#status = :sending AND {LEASE_UNTIL} = :lease"))
            .expression_attribute_values(":sending", s(MailStatus::Sending.as_str()))
            .expression_attribute_values(":lease", n(lease.as_millis())))
    }

    fn update_mail(
        &self,
        recipient: &str,
        mail_id: &str,
    ) -> aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder {
        self.client()
            .update_item()
            .table_name(self.table())
            .set_key(Some(mail_items::mail_key(recipient, mail_id)))
            .expression_attribute_names("#status", STATUS)
    }
}

/// A failed conditional update: [`StoreError::Conflict`] when the condition failed.
pub(crate) fn update_error<R: std::fmt::Debug>(
    error: &aws_sdk_dynamodb::error::SdkError<UpdateItemError, R>,
) -> StoreError {
    if error
        .as_service_error()
        .is_some_and(UpdateItemError::is_conditional_check_failed_exception)
    {
        StoreError::Conflict
    } else {
        classify("DynamoDB", error).into()
    }
}
