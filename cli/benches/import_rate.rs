//! The import rate of `lambdauth import-legacy`: a table in LambdAuth's shape is filled with
//! generated users (their hashes and salts taken from the fixture scan, so nothing is hashed
//! here), imported into a fresh stack in the local emulator, then imported again (every user
//! already present). Prints users per second for both runs.
//!
//! `cargo bench -p lambdauth --bench import_rate -- --users 10000`

use std::time::Instant;

use anyhow::{Result, bail};
use clap::Parser;
use lambdauth::import::{
    DEFAULT_CONCURRENCY, DEFAULT_SEGMENTS, ImportOptions, LegacySource, import_legacy,
};
use lambdauth_accounts::config::CoreConfig;
use lambdauth_tests::app::TestApp;
use lambdauth_tests::legacy::{Item, create_legacy_table, put_items, scan_items, sdk_item};
use serde_json::json;
use tokio::task::JoinSet;

#[derive(Parser)]
struct Args {
    /// Legacy users to generate and import.
    #[arg(long, default_value_t = 10_000)]
    users: usize,
    /// Parallel scan segments.
    #[arg(long, default_value_t = DEFAULT_SEGMENTS)]
    segments: u32,
    /// Conditional writes in flight at once.
    #[arg(long, default_value_t = DEFAULT_CONCURRENCY)]
    concurrency: usize,
}

/// Tasks filling the legacy table at once.
const FILLERS: usize = 8;

/// `count` legacy rows: every fourth unverified with a pending verification link, every tenth
/// with a pending reset link, the hashes cycling through the fixture's.
fn generate(count: usize) -> Vec<Item> {
    let templates = scan_items();
    (0..count)
        .map(|i| {
            let template = &templates[i % templates.len()];
            let mut row = json!({
                "email": {"S": format!("User{i:05}@Bench.Example.com")},
                "passwordHash": template["passwordHash"],
                "passwordSalt": template["passwordSalt"],
                "verified": {"BOOL": i % 4 != 0},
            });
            if i % 4 == 0 {
                row["verifyToken"] = json!({"S": format!("{i:0>256x}")});
            }
            if i % 10 == 0 {
                row["lostToken"] = json!({"S": format!("{:0>256x}", i + 1)});
            }
            sdk_item(&row)
        })
        .collect()
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let app = TestApp::spawn("bench-import").await;
    let legacy_table = app.ctx.name("legacy");
    create_legacy_table(&app.dynamodb, &legacy_table).await;

    let started = Instant::now();
    let rows = generate(args.users);
    let chunk = rows.len().div_ceil(FILLERS).max(1);
    let mut fillers = JoinSet::new();
    for part in rows.chunks(chunk) {
        let (client, table, part) = (app.dynamodb.clone(), legacy_table.clone(), part.to_vec());
        fillers.spawn(async move { put_items(&client, &table, part).await });
    }
    fillers.join_all().await;
    println!(
        "legacy table: {} users written in {:.1} s",
        args.users,
        started.elapsed().as_secs_f64()
    );

    let settings = CoreConfig::from_source(&app.env)?.settings;
    let mut options = ImportOptions::new(
        LegacySource::Table {
            name: legacy_table,
            segments: args.segments,
        },
        &app.table,
        settings,
    );
    options.concurrency = args.concurrency;
    println!(
        "import: {} segments, {} writes in flight, emulator at {}",
        args.segments,
        args.concurrency,
        lambdauth_tests::emulator().endpoint()
    );
    for run in ["first import", "second import (all present)"] {
        let summary = import_legacy(&app.dynamodb, &options).await?;
        if !summary.is_complete() || summary.imported + summary.already_present != args.users {
            bail!("the {run} did not finish:\n{summary}");
        }
        let seconds = summary.elapsed.as_secs_f64();
        #[allow(clippy::cast_precision_loss)]
        let rate = args.users as f64 / seconds;
        println!(
            "{run}: {} imported, {} already present in {seconds:.1} s \
             (reading the legacy table {:.1} s): {rate:.0} users/s",
            summary.imported,
            summary.already_present,
            summary.reading.as_secs_f64()
        );
    }
    Ok(())
}
