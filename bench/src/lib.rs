//! Measurements of LambdAuth, reported as figures (never asserted).
//!
//! - [`runtime_api`]: a Lambda Runtime API stand-in that spawns a release binary with the
//!   environment Lambda gives a function, hands it events one at a time, and times its cold
//!   start and warm invocations, its CPU time and the memory it peaked at;
//! - [`coldstart`]: that stand-in run over the login and signup functions;
//! - [`oracle`]: whether the time of a failed login tells why it failed;
//! - [`pipeline`]: signups through the local runtime until every mail is accepted, with and
//!   without SES faults;
//! - [`sizes`]: the release binaries and their deployment zips;
//! - [`criterion_estimates`]: the criterion benches, run and read back;
//! - [`cost`]: what a million requests cost on Lambda from the measured CPU time;
//! - [`machine`]: what the figures were measured on;
//! - [`report`]: all of it as `docs/BENCHMARKS.md`.

pub mod coldstart;
pub mod cost;
pub mod criterion_estimates;
pub mod machine;
pub mod oracle;
pub mod pipeline;
pub mod report;
pub mod runtime_api;
pub mod sizes;

/// Sorted-sample statistics and the units figures are shown in.
pub mod stats {
    use std::time::Duration;

    pub use lambdauth_tests::stats::quantile;

    /// The median of `samples`.
    pub fn median(samples: &[Duration]) -> Duration {
        quantile(samples, 0.5)
    }

    /// Milliseconds with one decimal.
    pub fn ms(duration: Duration) -> String {
        format!("{:.1} ms", duration.as_secs_f64() * 1000.0)
    }

    /// Seconds with one decimal.
    pub fn seconds(duration: Duration) -> String {
        format!("{:.1} s", duration.as_secs_f64())
    }

    /// KiB shown as MiB with one decimal.
    pub fn mib(kib: u64) -> String {
        format!("{:.1} MiB", kib_to_mib(kib))
    }

    /// KiB as MiB.
    pub fn kib_to_mib(kib: u64) -> f64 {
        f64::from(u32::try_from(kib).unwrap_or(u32::MAX)) / 1024.0
    }

    /// Bytes shown as MiB with two decimals.
    pub fn bytes_mib(bytes: u64) -> String {
        format!("{:.2} MiB", kib_to_mib(bytes / 1024))
    }
}
