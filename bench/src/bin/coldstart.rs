//! Cold start, warm latency and peak memory of the real function binaries, run under a Lambda
//! Runtime API stand-in against the local emulator.
//!
//! `cargo run --release -p lambdauth-bench --bin coldstart -- --invocations 50`

use std::collections::HashMap;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Parser;
use lambdauth_bench::runtime_api;
use lambdauth_bench::stats::{ms, quantile};
use lambdauth_handlers::Function;
use lambdauth_handlers::lambda::http_api_event;
use lambdauth_tests::app::TestApp;
use serde_json::{Value, json};

#[derive(Parser)]
struct Args {
    /// Warm invocations after the cold one.
    #[arg(long, default_value_t = 50)]
    invocations: usize,
    /// Skip building the release binaries (they must exist).
    #[arg(long)]
    no_build: bool,
}

const PASSWORD: &str = "correct horse battery staple";

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    if !args.no_build {
        let status = std::process::Command::new(env!("CARGO"))
            .args(["build", "--release", "-p", "lambdauth-handlers", "--bins"])
            .current_dir(&workspace)
            .status()?;
        if !status.success() {
            bail!("building the release binaries failed");
        }
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| workspace.join("target"), PathBuf::from);

    // Production hashing cost: these are the figures a deployment sees.
    let app = TestApp::spawn_with(
        "bench",
        &[("ARGON2_MEMORY_KIB", "19456"), ("ARGON2_TIME_COST", "2")],
    )
    .await;
    let email = "bench@example.com";
    app.http(
        Function::CreateUser,
        &json!({"email": email, "password": PASSWORD}).to_string(),
    )
    .await;
    let token = app
        .last_mail(email, "verification")
        .await
        .token
        .context("no verification token")?;
    app.http(
        Function::VerifyUser,
        &json!({"email": email, "verify": token}).to_string(),
    )
    .await;

    let mut env = app.env.clone();
    env.extend(
        [
            ("AWS_REGION", "us-east-1"),
            ("AWS_ACCESS_KEY_ID", "test"),
            ("AWS_SECRET_ACCESS_KEY", "test"),
            ("AWS_ENDPOINT_URL", lambdauth_tests::emulator().endpoint()),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"),
            ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
            ("RUST_LOG", "info"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned())),
    );

    println!("| function | init | first response | warm p50 | warm p95 | warm n | peak RSS |");
    println!("| --- | --- | --- | --- | --- | --- | --- |");
    let login: Vec<Value> = (0..=args.invocations)
        .map(|n| {
            event(
                Function::Login,
                &json!({"email": email, "password": PASSWORD}),
                n,
            )
        })
        .collect();
    measure(&target, &env, Function::Login, login, |answer| {
        answer["statusCode"] == 200
    })
    .await?;
    let signups: Vec<Value> = (0..=args.invocations)
        .map(|n| {
            event(
                Function::CreateUser,
                &json!({"email": format!("new{n}@example.com"), "password": PASSWORD}),
                n,
            )
        })
        .collect();
    measure(&target, &env, Function::CreateUser, signups, |answer| {
        answer["statusCode"] == 200
    })
    .await?;
    Ok(())
}

fn event(function: Function, body: &Value, n: usize) -> Value {
    let headers = [("content-type".to_owned(), "application/json".to_owned())];
    http_api_event(
        function.path(),
        &headers,
        &body.to_string(),
        &format!("bench-{n}"),
    )
}

async fn measure(
    target: &std::path::Path,
    env: &HashMap<String, String>,
    function: Function,
    events: Vec<Value>,
    ok: impl Fn(&Value) -> bool,
) -> Result<()> {
    let mut env = env.clone();
    env.insert(
        "AWS_LAMBDA_FUNCTION_NAME".to_owned(),
        function.name().to_owned(),
    );
    let binary = target.join("release").join(function.name());
    let measured = runtime_api::run(&binary, &env, events).await?;
    if let Some(bad) = measured.answers.iter().find(|answer| !ok(answer)) {
        bail!("{} answered {bad}", function.name());
    }
    println!(
        "| {} | {} | {} | {} | {} | {} | {:.1} MiB |",
        function.name(),
        ms(measured.init),
        ms(measured.first_response),
        ms(quantile(&measured.warm, 0.5)),
        ms(quantile(&measured.warm, 0.95)),
        measured.warm.len(),
        f64::from(u32::try_from(measured.peak_rss_kib).unwrap_or(u32::MAX)) / 1024.0,
    );
    Ok(())
}
