//! The outbox table as the mail side uses it ([`OutboxStore`]): the mail items' life cycle, the
//! global mail caps, and the SES feedback recorded per address. The HTTP functions only ever put
//! mail items there, in the transaction of the change that decided them.

pub mod caps;
pub mod mailbox;
pub mod outbox;

pub use outbox::OutboxStore;
