//! The `lambdauth` command line's library: what the operator commands do, kept apart from
//! argument parsing so that their tests drive the same code. What runs only on a developer's
//! machine (the emulator, provisioning, the dev server) is `lambdauth-local`'s.

pub mod dlq;
pub mod doctor;
pub mod import;
pub mod mailbox;
