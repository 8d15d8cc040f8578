//! The store's basics, shared by both tables' adapters: the schema (keys, attribute names, item
//! types), reading and writing attribute values, the outbox item that both sides of the mail
//! pipeline read, the per-source buckets, and the store's error.

pub mod buckets;
pub mod items;
pub mod mail_items;
pub mod schema;

use crate::aws_error::AwsFailure;
use items::ItemError;

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The item changed since it was read (or already exists): read again and decide again.
    #[error("the item changed since it was read")]
    Conflict,
    /// DynamoDB failed.
    #[error(transparent)]
    Aws(#[from] AwsFailure),
    /// An item does not hold what it should.
    #[error(transparent)]
    Item(#[from] ItemError),
}
