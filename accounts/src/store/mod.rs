//! The users table as the HTTP functions use it ([`UserStore`]): users, login throttles of
//! unknown addresses and sessions. A function that mails puts its mail item in the outbox table
//! in the transaction of the user write that decided it, and does nothing else there (the outbox
//! alone has a stream, so no password hash ever flows through one). Every change is one
//! conditional write, or one transaction across both tables when a mail goes with it, so a
//! decision is persisted whole or not at all, and only on the state it was made from.

pub mod sessions;
pub mod user_items;

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, ConditionCheck, Put, TransactWriteItem};
use lambdauth_domain::usecases::{Change, Write};
use lambdauth_domain::{Email, LockoutPolicy, LoginThrottle, User};

use lambdauth_runtime::aws_error::{AwsFailure, classify};
use lambdauth_runtime::store::StoreError;
use lambdauth_runtime::store::items::Item;
use lambdauth_runtime::store::{mail_items, schema};

/// The users table, and the outbox table's name for the functions that mail: they put a mail
/// item in the transaction of the user write that decided it, and do nothing else there.
#[derive(Debug, Clone)]
pub struct UserStore {
    client: Client,
    table: String,
    outbox: Option<String>,
}

impl UserStore {
    /// The store over the users table `table`, for a function that never mails.
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
            outbox: None,
        }
    }

    /// The same store, putting the mails of its decisions in the outbox table `outbox`.
    #[must_use]
    pub fn with_outbox(mut self, outbox: impl Into<String>) -> Self {
        self.outbox = Some(outbox.into());
        self
    }

    /// The table's name.
    pub fn table(&self) -> &str {
        &self.table
    }

    /// The outbox table's name, for a function that mails.
    pub fn outbox_table(&self) -> Option<&str> {
        self.outbox.as_deref()
    }

    /// The client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    pub(crate) async fn get(&self, key: Item) -> Result<Option<Item>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| classify("DynamoDB", &e))?;
        Ok(output.item)
    }

    /// The user of `email`, read consistently.
    pub async fn load_user(&self, email: &Email) -> Result<Option<User>, StoreError> {
        match self.get(user_items::user_key(email)).await? {
            Some(item) => Ok(Some(user_items::user_from_item(&item)?)),
            None => Ok(None),
        }
    }

    /// Whether `email` has a user item, read consistently without fetching the item whole.
    pub async fn user_exists(&self, email: &Email) -> Result<bool, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(user_items::user_key(email)))
            .projection_expression(schema::PARTITION_KEY)
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| classify("DynamoDB", &e))?;
        Ok(output.item.is_some())
    }

    /// The user of `email` and the login throttle it would have without an account (with the
    /// version to condition its next write on; `None` when there is no throttle item), read
    /// together in one consistent `Query` on the key: a password attempt reads the same way
    /// whether or not the address has an account.
    pub async fn load_account(
        &self,
        email: &Email,
    ) -> Result<(Option<User>, LoginThrottle, Option<u64>), StoreError> {
        use schema::{PARTITION_KEY, SORT_KEY, THROTTLE_SORT_KEY, USER_SORT_KEY};
        let key = user_items::user_key(email);
        let output = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression(format!(
                "{PARTITION_KEY} = :pk AND {SORT_KEY} BETWEEN :throttle AND :user"
            ))
            .expression_attribute_values(":pk", key[PARTITION_KEY].clone())
            .expression_attribute_values(":throttle", AttributeValue::S(THROTTLE_SORT_KEY.into()))
            .expression_attribute_values(":user", AttributeValue::S(USER_SORT_KEY.into()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| classify("DynamoDB", &e))?;
        let (mut user, mut throttle, mut version) = (None, LoginThrottle::default(), None);
        for item in output.items() {
            match item
                .get(SORT_KEY)
                .and_then(|sk| sk.as_s().ok())
                .map(String::as_str)
            {
                Some(USER_SORT_KEY) => user = Some(user_items::user_from_item(item)?),
                Some(THROTTLE_SORT_KEY) => {
                    let (read, read_version) = user_items::throttle_from_item(item)?;
                    (throttle, version) = (read, Some(read_version));
                }
                _ => {}
            }
        }
        Ok((user, throttle, version))
    }

    /// Writes the throttle of an address with no account, if its version is still `expected`.
    pub async fn save_throttle(
        &self,
        email: &Email,
        throttle: &LoginThrottle,
        expected: Option<u64>,
        policy: &LockoutPolicy,
    ) -> Result<(), StoreError> {
        let version = expected.map_or(1, |v| v + 1);
        let item = user_items::throttle_to_item(email, throttle, version, policy);
        self.put_if(item, expected).await
    }

    /// Persists a decision's change: the user write alone, or the user write and the outbox item
    /// in one transaction. `sealed_token` is the KMS ciphertext of the mail's link token.
    pub async fn apply(
        &self,
        change: &Change,
        sealed_token: Option<Vec<u8>>,
    ) -> Result<(), StoreError> {
        if change.mail.is_none() {
            let (user_item, expected) = user_write(change);
            return self.put_if(user_item, expected).await;
        }
        self.transact(self.change_items(change, sealed_token)?)
            .await
    }

    /// Persists `change` in one `TransactWriteItems` (the user write and the mail, if any), or,
    /// when there is nothing to change, confirms in one `TransactWriteItems` that writes nothing
    /// (a `ConditionCheck`) that the user of `email` is still the version read (`read_version`,
    /// none: still absent). Every path of a request that may mail so makes the same one call,
    /// whatever it decided; a lost race is [`StoreError::Conflict`] either way.
    ///
    /// With an outbox table, that call always has the same shape too: one item on the users
    /// table, then one on the outbox table in the address's partition (the mail's put, or else
    /// a check of a key no mail has, which writes nothing), so neither the tables a transaction
    /// spans nor its size (and so its latency) tell whether a mail, and an account, went with it.
    pub async fn apply_in_transaction(
        &self,
        email: &Email,
        read_version: Option<u64>,
        change: Option<&Change>,
        sealed_token: Option<Vec<u8>>,
    ) -> Result<(), StoreError> {
        let mut items = if let Some(change) = change {
            self.change_items(change, sealed_token)?
        } else {
            let (condition, value) = version_condition(read_version);
            let check = ConditionCheck::builder()
                .table_name(&self.table)
                .set_key(Some(user_items::user_key(email)))
                .condition_expression(condition)
                .set_expression_attribute_names(value.as_ref().map(|_| version_name()))
                .set_expression_attribute_values(value)
                .build()
                .map_err(|e| unexpected(&e))?;
            vec![TransactWriteItem::builder().condition_check(check).build()]
        };
        if change.is_none_or(|change| change.mail.is_none()) {
            items.extend(self.outbox_probe(email)?);
        }
        self.transact(items).await
    }

    /// The stand-in for a mail's put in a transaction that puts none: a `ConditionCheck` that
    /// writes nothing, on the outbox table in the partition the mail would go to (`email`), for
    /// the key no mail ever has ([`schema::MAIL_PROBE_SORT_KEY`]), so it always holds. `None` for
    /// a store without an outbox (a function that never mails: its transactions stay as they
    /// were).
    fn outbox_probe(&self, email: &Email) -> Result<Option<TransactWriteItem>, StoreError> {
        let Some(outbox) = self.outbox.as_deref() else {
            return Ok(None);
        };
        let key = HashMap::from([
            (
                schema::PARTITION_KEY.to_owned(),
                AttributeValue::S(email.as_str().to_owned()),
            ),
            (
                schema::SORT_KEY.to_owned(),
                AttributeValue::S(schema::MAIL_PROBE_SORT_KEY.to_owned()),
            ),
        ]);
        let check = ConditionCheck::builder()
            .table_name(outbox)
            .set_key(Some(key))
            .condition_expression(format!("attribute_not_exists({})", schema::PARTITION_KEY))
            .build()
            .map_err(|e| unexpected(&e))?;
        Ok(Some(
            TransactWriteItem::builder().condition_check(check).build(),
        ))
    }

    /// The transaction items of `change`: the user's conditional put, and the mail's if any.
    fn change_items(
        &self,
        change: &Change,
        sealed_token: Option<Vec<u8>>,
    ) -> Result<Vec<TransactWriteItem>, StoreError> {
        let (user_item, expected) = user_write(change);
        let mut puts = vec![transact_put(&self.table, user_item, expected)?];
        if let Some(mail) = &change.mail {
            // A store without an outbox belongs to a function that never mails: a mail here
            // is a wiring mistake, refused rather than written to the wrong table.
            let outbox = self.outbox.as_deref().ok_or_else(|| {
                unexpected(&"a mail to put, but this function has no outbox table")
            })?;
            puts.push(transact_put(
                outbox,
                mail_items::mail_to_item(mail, sealed_token),
                None,
            )?);
        }
        Ok(puts
            .into_iter()
            .map(|put| TransactWriteItem::builder().put(put).build())
            .collect())
    }

    /// Runs `items` as one transaction.
    async fn transact(&self, items: Vec<TransactWriteItem>) -> Result<(), StoreError> {
        self.client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await
            .map_err(|error| transaction_error(&error))?;
        Ok(())
    }

    /// Puts `item` if its stored version is still `expected` (none: if it does not exist yet).
    pub(crate) async fn put_if(&self, item: Item, expected: Option<u64>) -> Result<(), StoreError> {
        let (condition, value) = version_condition(expected);
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression(condition)
            .set_expression_attribute_names(value.as_ref().map(|_| version_name()))
            .set_expression_attribute_values(value)
            .send()
            .await
            .map_err(|error| put_error(&error))?;
        Ok(())
    }
}

/// The conditional put of [`UserStore::put_if`] into `table`, as one item of a transaction.
fn transact_put(table: &str, item: Item, expected: Option<u64>) -> Result<Put, StoreError> {
    let (condition, value) = version_condition(expected);
    Put::builder()
        .table_name(table)
        .set_item(Some(item))
        .condition_expression(condition)
        .set_expression_attribute_names(value.as_ref().map(|_| version_name()))
        .set_expression_attribute_values(value)
        .build()
        .map_err(|e| unexpected(&e))
}

/// The user item a change writes, and the version its write is conditioned on (none: the user
/// must not exist yet).
fn user_write(change: &Change) -> (Item, Option<u64>) {
    match &change.write {
        Write::Create(user) => (user_items::user_to_item(user), None),
        Write::Update {
            user,
            expected_version,
        } => (user_items::user_to_item(user), Some(*expected_version)),
    }
}

/// A failed conditional put: [`StoreError::Conflict`] when the condition failed.
fn put_error<R: std::fmt::Debug>(
    error: &SdkError<aws_sdk_dynamodb::operation::put_item::PutItemError, R>,
) -> StoreError {
    if error.as_service_error().is_some_and(|error| {
        // A put that meets a transaction in flight on the item lost a race too: decided
        // again on fresh state, never a 500.
        error.is_conditional_check_failed_exception() || error.is_transaction_conflict_exception()
    }) {
        StoreError::Conflict
    } else {
        classify("DynamoDB", error).into()
    }
}

fn version_name() -> HashMap<String, String> {
    HashMap::from([("#version".to_owned(), schema::attribute::VERSION.to_owned())])
}

/// The condition for a write expecting `expected` (none: the item must not exist yet), with the
/// value it refers to.
fn version_condition(expected: Option<u64>) -> (String, Option<HashMap<String, AttributeValue>>) {
    match expected {
        None => (
            format!("attribute_not_exists({})", schema::PARTITION_KEY),
            None,
        ),
        Some(version) => (
            "#version = :expected".to_owned(),
            Some(HashMap::from([(
                ":expected".to_owned(),
                AttributeValue::N(version.to_string()),
            )])),
        ),
    }
}

fn unexpected(error: &impl std::fmt::Display) -> StoreError {
    StoreError::Aws(AwsFailure::Unexpected {
        service: "DynamoDB",
        detail: error.to_string(),
    })
}

fn transaction_error<R: std::fmt::Debug>(
    error: &SdkError<TransactWriteItemsError, R>,
) -> StoreError {
    if let Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) =
        error.as_service_error()
    {
        let codes: Vec<&str> = cancelled
            .cancellation_reasons()
            .iter()
            .filter_map(|reason| reason.code())
            .collect();
        if codes
            .iter()
            .any(|code| matches!(*code, "ConditionalCheckFailed" | "TransactionConflict"))
        {
            return StoreError::Conflict;
        }
        if codes.iter().any(|code| {
            matches!(
                *code,
                "ThrottlingError" | "ProvisionedThroughputExceeded" | "RequestLimitExceeded"
            )
        }) {
            return StoreError::Aws(AwsFailure::Throttled {
                service: "DynamoDB",
                detail: codes.join(", "),
            });
        }
    }
    classify("DynamoDB", error).into()
}
