//! LambdAuth on a developer's machine, never deployed. The command line (`lambdauth dev`,
//! `provision`, `emulator`), the tests and the benchmarks all take these from here:
//!
//! - [`emulator`]: the local AWS emulator (start, stop, ownership) and the SDK settings that
//!   reach it;
//! - [`provision`]: creating, idempotently, everything the functions need;
//! - [`functions`]: every HTTP function built through its definition over one context, and the
//!   API Gateway event that reaches them;
//! - [`mappings`]: the mailer's two event source mappings, run by polling;
//! - [`proxy`]: the SES recording and fault-injecting proxy;
//! - [`simulator`]: SES's mailbox simulator, feeding the feedback function;
//! - [`dev`]: the dev server that puts all of it together;
//! - [`variables`]: the variables each function's definition reads, for the template checks.

pub mod dev;
pub mod emulator;
pub mod functions;
pub mod mappings;
pub mod provision;
pub mod proxy;
pub mod simulator;
pub mod variables;

pub use functions::{Functions, http_api_event, route_event};
