//! The LambdAuth functions: the API contract at their edge, the AWS adapters (DynamoDB store,
//! KMS token sealer, Cognito identity), and the six handlers that run the domain's decisions
//! between them. Each function's binary in `src/bin` is wiring only.

pub mod api;
pub mod aws;
pub mod config;
pub mod error;
pub mod functions;
pub mod identity;
pub mod lambda;
pub mod mailer;
pub mod metrics;
pub mod operations;
pub mod runtime;
pub mod sealer;
pub mod service;
pub mod store;

pub use functions::{Function, Functions};
