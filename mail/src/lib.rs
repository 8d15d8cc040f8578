//! The mail side of LambdAuth, with its own table, roles and event sources:
//!
//! - [`mailer`]: `LambdAuthMailer`, fed by the outbox table's stream and the retry queue, sending
//!   through SES with back-off, the dead-letter queue and the global cap;
//! - [`feedback`]: `LambdAuthMailFeedback`, recording SES's bounces, complaints and deliveries
//!   per address;
//! - [`store`]: the outbox table (mail items, caps, feedback records);
//! - [`config`]: what the two read.

pub mod config;
pub mod feedback;
pub mod mailer;
pub mod store;
