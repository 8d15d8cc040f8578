//! Every measurement of LambdAuth in one command, and `docs/BENCHMARKS.md` rewritten from it:
//! the criterion benches, cold start and warm invocations of the release binaries, the login
//! timing oracle check, the mail pipeline under load with and without SES faults, binary and
//! zip sizes, and the cost per million requests derived from the measured CPU time.
//!
//! `cargo run --release -p lambdauth-bench --bin benchmarks` (add `-- --quick` for a smaller
//! run, `-- --only oracle` to print one section and leave the doc alone).

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::Parser;
use lambdauth_bench::criterion_estimates::Estimate;
use lambdauth_bench::pipeline::PipelineRun;
use lambdauth_bench::report::{self, ESTIMATE_IDS, Measurements, Section};
use lambdauth_bench::{coldstart, criterion_estimates, machine, oracle, pipeline, sizes};

#[derive(Parser)]
#[command(about = "Run every LambdAuth benchmark and rewrite docs/BENCHMARKS.md")]
struct Args {
    /// A smaller run: criterion's quick mode and fewer invocations, rounds and signups (each
    /// still overridable).
    #[arg(long)]
    quick: bool,
    /// Warm invocations per function under the Runtime API stand-in [default: 50, quick 10].
    #[arg(long)]
    invocations: Option<usize>,
    /// Rounds of the login timing oracle check [default: 30, quick 10].
    #[arg(long)]
    oracle_rounds: Option<usize>,
    /// Signups per pipeline run [default: 1000, quick 100].
    #[arg(long)]
    signups: Option<usize>,
    /// Signups in flight at most.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// Use the release binaries as they are instead of building them first.
    #[arg(long)]
    no_build: bool,
    /// Run only these sections and print them; the doc is left alone.
    #[arg(long, value_enum, value_delimiter = ',')]
    only: Vec<Section>,
    /// Where the report goes.
    #[arg(long, default_value_os_t = coldstart::workspace().join("docs/BENCHMARKS.md"))]
    doc: PathBuf,
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let started = Instant::now();
    let sections = if args.only.is_empty() {
        Section::ALL.to_vec()
    } else {
        args.only.clone()
    };
    let wants = |section| sections.contains(&section);
    let settings = report::Settings {
        quick: args.quick,
        invocations: args.invocations.unwrap_or(if args.quick { 10 } else { 50 }),
        oracle_rounds: args
            .oracle_rounds
            .unwrap_or(if args.quick { 10 } else { 30 }),
        signups: args.signups.unwrap_or(if args.quick { 100 } else { 1000 }),
        concurrency: args.concurrency,
        command_line: command_line(),
    };
    let mut measurements = Measurements {
        machine: machine::this_machine(),
        estimates: Vec::new(),
        functions: Vec::new(),
        oracle: None,
        pipelines: Vec::new(),
        sizes: Vec::new(),
        took: std::time::Duration::ZERO,
    };
    let release_dir = coldstart::target_dir().join("release");

    if (wants(Section::Coldstart) || wants(Section::Sizes) || wants(Section::Cost))
        && !args.no_build
    {
        eprintln!("building the release function binaries");
        coldstart::build_release_binaries()?;
    }
    if wants(Section::Criterion) || wants(Section::Cost) {
        measurements.estimates = criterion(args.quick)?;
    }
    if wants(Section::Coldstart) || wants(Section::Cost) {
        eprintln!("cold start: {} warm invocations", settings.invocations);
        measurements.functions = coldstart::measure(
            &release_dir.join(coldstart::FUNCTION_BINARY),
            settings.invocations,
            false,
        )
        .await
        .context("the cold start measurement failed")?;
    }
    if wants(Section::Oracle) {
        eprintln!("login timing oracle: {} rounds", settings.oracle_rounds);
        measurements.oracle = Some(
            oracle::measure(settings.oracle_rounds)
                .await
                .context("the oracle check failed")?,
        );
    }
    if wants(Section::Pipeline) {
        for faults in [false, true] {
            measurements.pipelines.push(load(&settings, faults).await?);
        }
    }
    if wants(Section::Sizes) {
        measurements.sizes = sizes::measure(&release_dir)?;
    }
    measurements.took = started.elapsed();

    if args.only.is_empty() {
        let doc = report::render(&settings, &measurements);
        if let Some(folder) = args.doc.parent() {
            std::fs::create_dir_all(folder)?;
        }
        std::fs::write(&args.doc, &doc)
            .with_context(|| format!("writing {}", args.doc.display()))?;
        println!("{doc}");
        eprintln!("wrote {}", args.doc.display());
    } else {
        println!(
            "{}",
            report::render_sections(&settings, &measurements, &sections)
        );
    }
    Ok(())
}

/// Runs the criterion benches and reads back their estimates.
fn criterion(quick: bool) -> Result<Vec<Estimate>> {
    let criterion_home = coldstart::target_dir().join("criterion");
    for target in criterion_estimates::BENCH_TARGETS {
        eprintln!("{}", criterion_estimates::command_line(target, quick));
        criterion_estimates::run(target, &criterion_home, quick)?;
    }
    ESTIMATE_IDS
        .iter()
        .flat_map(|(_, ids)| ids.iter())
        .map(|id| criterion_estimates::read(&criterion_home, id))
        .collect()
}

/// One pipeline load run.
async fn load(settings: &report::Settings, faults: bool) -> Result<PipelineRun> {
    eprintln!(
        "pipeline: {} signups, {}",
        settings.signups,
        if faults {
            "20 % SES faults"
        } else {
            "no faults"
        }
    );
    let run = pipeline::measure(settings.signups, settings.concurrency, faults)
        .await
        .context("the pipeline load run failed")?;
    eprintln!(
        "  all answered after {:.1} s, all mail accepted after {:.1} s",
        run.all_answered.as_secs_f64(),
        run.all_mail_accepted.as_secs_f64()
    );
    Ok(run)
}

/// This run's command line, as the doc shows it.
fn command_line() -> String {
    let arguments: Vec<String> = std::env::args().skip(1).collect();
    if arguments.is_empty() {
        report::COMMAND.to_owned()
    } else {
        format!("{} -- {}", report::COMMAND, arguments.join(" "))
    }
}
