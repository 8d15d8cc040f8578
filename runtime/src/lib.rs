//! What every deployed LambdAuth function runs on, whichever side it serves:
//!
//! - [`function`]: what a function is (its name, configuration, build and handler; routes,
//!   guard and limit class for an HTTP one) and its value in the registry, [`function::Definition`];
//! - [`bootstrap`]: the Lambda `main` of every function: logging, the SDK's settings, the event
//!   loop of the function the handler names;
//! - [`api`]: the API edge: the event envelope, the request, body parsing, error answers, the
//!   handler's error and the response;
//! - [`limits`]: the per-source limiter the envelope applies before a body is parsed;
//! - [`retry`]: decide and persist, again on fresh state after a lost write race;
//! - [`config`]: reading variables, and the pieces both sides read;
//! - [`aws_error`], [`metrics`], [`security`]: what an AWS failure means, the metrics and the
//!   security events;
//! - [`sealer`]: link tokens under KMS (sealed by the HTTP side, opened by the mailer);
//! - [`store`]: the schema, item basics, the outbox item both sides share, the buckets.

pub mod api;
pub mod aws_error;
pub mod bootstrap;
pub mod config;
pub mod function;
pub mod limits;
pub mod metrics;
pub mod retry;
pub mod sealer;
pub mod security;
pub mod store;
