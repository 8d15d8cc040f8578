//! The operator commands against the local AWS emulator, in one binary so that they share one
//! emulator: `doctor`, `import-legacy`, and the dead-letter queue's redrive and purge (alone,
//! and after a fault run through the whole mail pipeline).

mod dlq;
mod doctor;
mod import;
mod mail_faults;
