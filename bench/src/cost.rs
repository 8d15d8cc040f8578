//! What a million requests cost on Lambda (arm64, us-east-1) from the CPU time a request was
//! measured to take.
//!
//! The model: Lambda gives a function CPU in proportion to its memory, one full vCPU at
//! [`FULL_VCPU_MB`]; below that, CPU-bound work stretches by `FULL_VCPU_MB / memory`. So a
//! request that needs `c` of CPU is billed `ceil_ms(c × FULL_VCPU_MB / memory)` at
//! `memory / 1024` GB, plus the request charge. Time spent waiting on DynamoDB, KMS, Cognito
//! or SES is billed too but is not CPU and not modelled: against the emulator it says nothing
//! about AWS. The CPU time is measured on the benchmark machine (see the report), not on a
//! Graviton core.

use std::time::Duration;

/// Lambda arm64 price per GB-second, us-east-1, first pricing tier.
pub const PRICE_PER_GB_SECOND: f64 = 0.000_013_333_4;
/// Lambda price per million requests, us-east-1.
pub const PRICE_PER_MILLION_REQUESTS: f64 = 0.20;
/// Where the prices come from and when.
pub const PRICE_SOURCE: &str = "AWS Lambda pricing page (aws.amazon.com/lambda/pricing), us-east-1, arm64, first tier: unchanged since arm64 launched in September 2021 and as listed in 2025; not re-read on the run date (the benchmark machine has no web access)";
/// The memory size at which a function gets one full vCPU.
pub const FULL_VCPU_MB: u32 = 1769;
/// The memory sizes the report prices.
pub const MEMORY_SIZES_MB: [u32; 3] = [128, 256, 512];

/// The billed duration of `cpu` at `memory_mb`: stretched by the CPU share, rounded up to the
/// millisecond Lambda bills in.
pub fn billed_duration(cpu: Duration, memory_mb: u32) -> Duration {
    let stretch = f64::from(FULL_VCPU_MB) / f64::from(memory_mb.min(FULL_VCPU_MB));
    let millis = (cpu.as_secs_f64() * 1000.0 * stretch).ceil();
    Duration::from_secs_f64(millis / 1000.0)
}

/// US dollars per million requests that each take `cpu` at `memory_mb`.
pub fn cost_per_million(cpu: Duration, memory_mb: u32) -> f64 {
    let gb_seconds = billed_duration(cpu, memory_mb).as_secs_f64() * f64::from(memory_mb) / 1024.0;
    gb_seconds * PRICE_PER_GB_SECOND * 1e6 + PRICE_PER_MILLION_REQUESTS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_bound_work_stretches_with_less_memory() {
        // 28 ms of CPU at 128 MB: 28 × 1769 / 128 = 386.97… → 387 ms billed.
        assert_eq!(
            billed_duration(Duration::from_millis(28), 128),
            Duration::from_millis(387)
        );
        // From a full vCPU on, more memory does not speed up one thread.
        assert_eq!(
            billed_duration(Duration::from_millis(28), 3008),
            Duration::from_millis(28)
        );
    }

    #[test]
    fn a_million_requests_cost_their_gb_seconds_plus_the_request_charge() {
        // 387 ms at 0.125 GB = 0.048375 GB-s each; a million: 48,375 GB-s.
        let expected = 48_375.0 * PRICE_PER_GB_SECOND + 0.20;
        let cost = cost_per_million(Duration::from_millis(28), 128);
        assert!((cost - expected).abs() < 1e-9, "{cost} vs {expected}");
    }
}
