//! The deployed LambdAuth functions and nothing else: the API contract at their edge, the AWS
//! adapters (DynamoDB store, KMS token sealer, Cognito identity, SES, SQS), the six handlers that
//! run the domain's decisions between them, and the mailer. Each function's binary in `src/bin`
//! is wiring only.

pub mod api;
pub mod aws_error;
pub mod bootstrap;
pub mod config;
pub mod endpoints;
pub mod error;
pub mod feedback;
pub mod function;
pub mod identity;
pub mod limits;
pub mod mailer;
pub mod metrics;
pub mod sealer;
pub mod security;
pub mod sessions;
pub mod shared;
pub mod store;
pub mod tokens;

pub use function::Function;
