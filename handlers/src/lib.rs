//! The LambdAuth functions: the HTTP API contract at their edge and, as they land, the AWS
//! adapters and the handlers that run the domain's decisions between them.

pub mod api;
