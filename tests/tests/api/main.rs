//! Black-box tests against the local AWS emulator, in one binary so that they share one emulator.

mod browser;
mod call_sequences;
mod clock;
mod concurrency;
mod dev_server;
mod emulator;
mod existence;
mod faults;
mod feedback;
mod input;
mod journey;
mod limits;
mod mail;
mod mail_cap;
mod openapi;
mod sessions;
mod takeover;
mod template;
