//! Runs the criterion benches and reads back what they estimated
//! (`target/criterion/<group>/<bench>/new/estimates.json`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde_json::Value;

use crate::coldstart::workspace;

/// A criterion bench target: the package and the `[[bench]]` name.
#[derive(Debug, Clone, Copy)]
pub struct BenchTarget {
    /// The package.
    pub package: &'static str,
    /// The bench.
    pub bench: &'static str,
}

/// The criterion benches of the workspace.
pub const BENCH_TARGETS: [BenchTarget; 2] = [
    BenchTarget {
        package: "lambdauth-domain",
        bench: "hashing",
    },
    BenchTarget {
        package: "lambdauth-accounts",
        bench: "login_request",
    },
];

/// One criterion benchmark's estimate.
#[derive(Debug, Clone)]
pub struct Estimate {
    /// `group/function` as criterion names it.
    pub id: String,
    /// The median time per iteration.
    pub median: Duration,
    /// The lower end of the median's 95 % confidence interval.
    pub median_low: Duration,
    /// The upper end.
    pub median_high: Duration,
}

/// The command line that runs `target`.
pub fn command_line(target: BenchTarget, quick: bool) -> String {
    let quick = if quick { " --quick" } else { "" };
    format!(
        "cargo bench -p {} --bench {} -- --noplot{quick}",
        target.package, target.bench
    )
}

/// Runs `target` with its estimates under `criterion_home`.
pub fn run(target: BenchTarget, criterion_home: &Path, quick: bool) -> Result<()> {
    let mut command = std::process::Command::new(env!("CARGO"));
    command
        .args(["bench", "-p", target.package, "--bench", target.bench])
        .args(["--", "--noplot"])
        .env("CRITERION_HOME", criterion_home)
        .current_dir(workspace());
    if quick {
        command.arg("--quick");
    }
    let status = command
        .status()
        .with_context(|| format!("running {}", command_line(target, quick)))?;
    if !status.success() {
        bail!("{} failed", command_line(target, quick));
    }
    Ok(())
}

/// Reads the estimate of benchmark `id` (`group/function`).
pub fn read(criterion_home: &Path, id: &str) -> Result<Estimate> {
    let path: PathBuf = criterion_home.join(id).join("new").join("estimates.json");
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let estimates: Value = serde_json::from_str(&text)?;
    let nanos = |value: &Value| -> Result<Duration> {
        let nanos = value
            .as_f64()
            .with_context(|| format!("no number in {}", path.display()))?;
        Ok(Duration::from_secs_f64(nanos / 1e9))
    };
    let median = &estimates["median"];
    Ok(Estimate {
        id: id.to_owned(),
        median: nanos(&median["point_estimate"])?,
        median_low: nanos(&median["confidence_interval"]["lower_bound"])?,
        median_high: nanos(&median["confidence_interval"]["upper_bound"])?,
    })
}

/// A duration of criterion's scale: ns, µs or ms.
pub fn short(duration: Duration) -> String {
    let nanos = duration.as_secs_f64() * 1e9;
    if nanos < 1e3 {
        format!("{nanos:.0} ns")
    } else if nanos < 1e6 {
        format!("{:.2} µs", nanos / 1e3)
    } else {
        format!("{:.2} ms", nanos / 1e6)
    }
}
