//! The `lambdauth` command line's library: what the commands do, kept apart from argument
//! parsing so that the integration tests can drive the same code.

pub mod dev;
pub mod doctor;
pub mod emulator;
pub mod import;
pub mod operations;
pub mod pipeline;
pub mod provision;
pub mod proxy;
