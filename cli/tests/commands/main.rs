//! The operator commands against the local AWS emulator, in one binary so that they share one
//! emulator: `doctor`, `import-legacy`, the dead-letter queue's redrive and purge (alone, and
//! after a fault run through the whole mail pipeline), and `mail status` / `mail unsuppress` on
//! SES feedback.

mod dlq;
mod doctor;
mod feedback;
mod import;
mod mail_faults;
