//! Black-box tests against the local AWS emulator, in one binary so that they share one emulator.

mod emulator;
