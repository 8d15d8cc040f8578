//! Measurements of the real function binaries.
//!
//! [`runtime_api`] is a Lambda Runtime API stand-in: it spawns a release binary with the
//! environment Lambda gives a function, hands it events one at a time, and times what a cold
//! start and each warm invocation cost, and how much memory the process peaked at.

pub mod runtime_api;

/// Sorted-sample statistics.
pub mod stats {
    use std::time::Duration;

    /// The `q` quantile (0.0–1.0) of `samples`, nearest rank.
    pub fn quantile(samples: &[Duration], q: f64) -> Duration {
        if samples.is_empty() {
            return Duration::ZERO;
        }
        let mut sorted = samples.to_vec();
        sorted.sort();
        #[allow(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            clippy::cast_precision_loss
        )]
        let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
        sorted[rank - 1]
    }

    /// Milliseconds with one decimal.
    pub fn ms(duration: Duration) -> String {
        format!("{:.1} ms", duration.as_secs_f64() * 1000.0)
    }
}
