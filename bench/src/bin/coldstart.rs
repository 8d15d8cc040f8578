//! Cold start, warm latency, warm CPU time and peak memory of the real function binaries, run
//! under a Lambda Runtime API stand-in against the local emulator.
//!
//! `cargo run --release -p lambdauth-bench --bin coldstart -- --invocations 50`

use anyhow::Result;
use clap::Parser;
use lambdauth_bench::coldstart::{self, TABLE_HEADER};

#[derive(Parser)]
struct Args {
    /// Warm invocations after the cold one.
    #[arg(long, default_value_t = 50)]
    invocations: usize,
    /// Skip building the release binaries (they must exist).
    #[arg(long)]
    no_build: bool,
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    if !args.no_build {
        coldstart::build_release_binaries()?;
    }
    let runs =
        coldstart::measure(&coldstart::target_dir().join("release"), args.invocations).await?;
    println!("{TABLE_HEADER}");
    for run in runs {
        println!("{}", run.row());
    }
    Ok(())
}
