//! Black-box tests against the local AWS emulator, in one binary so that they share one emulator.

mod browser;
mod concurrency;
mod doctor;
mod emulator;
mod existence;
mod faults;
mod input;
mod journey;
mod legacy;
mod mail;
mod mail_faults;
mod openapi;
mod template;
