//! Cold start, warm latency, warm CPU time and peak memory of the real function binaries, run
//! under a Lambda Runtime API stand-in against the local emulator.
//!
//! `cargo run --release -p lambdauth-bench --bin coldstart -- --invocations 50`
//!
//! `--binary PATH` measures another build of the function binary (the one `sam build` made,
//! `target/lambda/lambdauth-function/bootstrap`, say) and `--login-only` the login alone (an
//! older binary that serves only the login, for a comparison).

use anyhow::Result;
use clap::Parser;
use lambdauth_bench::coldstart::{self, TABLE_HEADER};

#[derive(Parser)]
struct Args {
    /// Warm invocations after the cold one.
    #[arg(long, default_value_t = 50)]
    invocations: usize,
    /// Skip building the release binary (it must exist).
    #[arg(long)]
    no_build: bool,
    /// The function binary to run, instead of `target/release/lambdauth-function` (not built).
    #[arg(long)]
    binary: Option<std::path::PathBuf>,
    /// Measure the login alone.
    #[arg(long)]
    login_only: bool,
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let binary = if let Some(binary) = args.binary {
        binary
    } else {
        if !args.no_build {
            coldstart::build_release_binaries()?;
        }
        coldstart::release_binary()
    };
    let runs = coldstart::measure(&binary, args.invocations, args.login_only).await?;
    println!("{TABLE_HEADER}");
    for run in runs {
        println!("{}", run.row());
    }
    Ok(())
}
