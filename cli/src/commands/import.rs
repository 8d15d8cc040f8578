//! `lambdauth import-legacy`: its arguments and the run that prints the summary.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use anyhow::{Result, bail};
use lambdauth::import::{self, ImportOptions, LegacySource, ProgressDisplay};
use lambdauth_accounts::config::CoreConfig;
use lambdauth_runtime::config::{DEFAULT_TABLE_NAME, ProcessEnv};

use super::aws;

#[derive(clap::Args)]
#[command(group(clap::ArgGroup::new("source").required(true).args(["source_table", "scan_file"])))]
pub(crate) struct ImportArgs {
    /// The LambdAuth table to scan (at the configured endpoint).
    #[arg(long)]
    source_table: Option<String>,
    /// The JSON that `aws dynamodb scan --table-name NAME` printed.
    #[arg(long)]
    scan_file: Option<std::path::PathBuf>,
    /// This service's table.
    #[arg(long, env = "TABLE_NAME", default_value = DEFAULT_TABLE_NAME)]
    table: String,
    /// Read and check everything, write nothing.
    #[arg(long)]
    dry_run: bool,
    /// Parallel scan segments of the source table.
    #[arg(long, default_value_t = import::DEFAULT_SEGMENTS, value_parser = clap::value_parser!(u32).range(1..=i64::from(import::MAX_SEGMENTS)))]
    segments: u32,
    /// Conditional writes in flight at once.
    #[arg(long, default_value_t = import::DEFAULT_CONCURRENCY, value_parser = parse_concurrency)]
    concurrency: usize,
}

pub(crate) fn parse_concurrency(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(n) if (1..=1024).contains(&n) => Ok(n),
        _ => Err("a number from 1 to 1024".to_owned()),
    }
}

pub(crate) async fn run_import(args: ImportArgs) -> Result<ExitCode> {
    let settings = CoreConfig::from_source(&ProcessEnv)?.settings;
    let source = match (args.source_table, args.scan_file) {
        (Some(name), None) => LegacySource::Table {
            name,
            segments: args.segments,
        },
        (None, Some(path)) => LegacySource::ScanFile(path),
        _ => bail!("give exactly one of --source-table and --scan-file"),
    };
    let mut options = ImportOptions::new(source, args.table, settings);
    options.dry_run = args.dry_run;
    options.concurrency = args.concurrency;
    options.progress = if std::io::stderr().is_terminal() {
        ProgressDisplay::Bar
    } else {
        ProgressDisplay::Lines(Duration::from_secs(10))
    };
    let stop = Arc::clone(&options.stop);
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!(
                "import-legacy: stopping after the writes in flight (Ctrl-C again to quit now)"
            );
            stop.store(true, Ordering::Relaxed);
            if tokio::signal::ctrl_c().await.is_ok() {
                std::process::exit(130);
            }
        }
    });
    let client = aws_sdk_dynamodb::Client::new(&aws().await);
    let summary = import::import_legacy(&client, &options).await?;
    println!("{summary}");
    Ok(if summary.is_complete() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
