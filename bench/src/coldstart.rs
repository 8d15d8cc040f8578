//! Cold start, warm latency, warm CPU time and peak memory of the release function binaries,
//! each run under the [`runtime_api`](crate::runtime_api) stand-in against the local emulator
//! with the production Argon2id cost.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use anyhow::{Context, Result, bail};
use lambdauth_functions as functions;
use lambdauth_local::http_api_event;
use lambdauth_local::proxy::SentMail;
use lambdauth_local::simulator::{Origin, ses_events, sns_event};
use lambdauth_runtime::function::Definition;
use lambdauth_tests::app::{SENDER, TestApp};
use serde_json::{Value, json};

use crate::runtime_api::{self, Measurement};
use crate::stats::{mib, ms, quantile};

/// The password of every account the measurements use.
pub const PASSWORD: &str = "correct horse battery staple";

/// The settings every measurement runs with: the Argon2id settings a deployment runs with (the
/// defaults, spelled out so that no test default can creep in), and limits per source so high
/// that a run from one address is never refused while every request still pays its bucket's
/// write, as deployed.
pub const MEASURED_SETTINGS: [(&str, &str); 7] = [
    ("ARGON2_MEMORY_KIB", "19456"),
    ("ARGON2_TIME_COST", "2"),
    ("ARGON2_PARALLELISM", "1"),
    ("RATE_LIMIT_MAIL", "1000000/60"),
    ("RATE_LIMIT_PASSWORD", "1000000/60"),
    ("RATE_LIMIT_LINK", "1000000/60"),
    ("RATE_LIMIT_SESSION", "1000000/60"),
];

/// The workspace this crate lives in.
pub fn workspace() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

/// Where cargo puts build output: `CARGO_TARGET_DIR`, or `target` in the workspace.
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| workspace().join("target"), PathBuf::from)
}

/// The one binary every function runs, each naming itself by its handler (`_HANDLER`).
pub const FUNCTION_BINARY: &str = "lambdauth-function";

/// The release function binary: `target/release/lambdauth-function`.
pub fn release_binary() -> PathBuf {
    target_dir().join("release").join(FUNCTION_BINARY)
}

/// Builds the function binary with the release profile.
pub fn build_release_binaries() -> Result<()> {
    let status = std::process::Command::new(env!("CARGO"))
        .args([
            "build",
            "--release",
            "-p",
            "lambdauth-functions",
            "--bin",
            FUNCTION_BINARY,
        ])
        .current_dir(workspace())
        .status()
        .context("running cargo build")?;
    if !status.success() {
        bail!("building the release binaries failed");
    }
    Ok(())
}

/// One function's run under the stand-in.
#[derive(Debug, Clone)]
pub struct FunctionRun {
    /// The function's binary (`LambdAuthLogin`, …).
    pub name: &'static str,
    /// What was measured.
    pub measurement: Measurement,
}

impl FunctionRun {
    /// CPU time per warm invocation.
    pub fn cpu_per_invocation(&self) -> Duration {
        let warm = u32::try_from(self.measurement.warm.len()).unwrap_or(u32::MAX);
        if warm == 0 {
            return Duration::ZERO;
        }
        self.measurement.warm_cpu / warm
    }

    /// A Markdown table row: function, init, first response, warm p50 and p95, warm n, CPU per
    /// warm invocation, peak RSS.
    pub fn row(&self) -> String {
        let m = &self.measurement;
        format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            self.name,
            ms(m.init),
            ms(m.first_response),
            ms(quantile(&m.warm, 0.5)),
            ms(quantile(&m.warm, 0.95)),
            m.warm.len(),
            ms(self.cpu_per_invocation()),
            mib(m.peak_rss_kib),
        )
    }
}

/// The header of the table [`FunctionRun::row`] fills.
pub const TABLE_HEADER: &str = "| function | init | first response | warm p50 | warm p95 | warm n | CPU per warm invocation | peak RSS |\n| --- | --- | --- | --- | --- | --- | --- | --- |";

/// Runs `LambdAuthLogin` (a verified account logging in with the right password),
/// `LambdAuthRefreshToken` (a live session's refresh token each time),
/// `LambdAuthCreateUser` (a new address each time) and `LambdAuthMailFeedback` (SES's delivery
/// event for one mail each time, through SNS) from `release_dir`, each for one cold invocation
/// and `invocations` warm ones, against a fresh stack in the emulator. `binary` is the function
/// binary each runs as (its handler naming the function); `login_only` stops after the login.
pub async fn measure(
    binary: &Path,
    invocations: usize,
    login_only: bool,
) -> Result<Vec<FunctionRun>> {
    let app = TestApp::spawn_with("coldstart", &MEASURED_SETTINGS).await;
    let email = "bench@example.com";
    let created = app
        .http(
            functions::CREATE_USER,
            &json!({"email": email, "password": PASSWORD}).to_string(),
        )
        .await;
    if created.status != 200 {
        bail!("signing up the measured account failed: {:?}", created.body);
    }
    let token = app
        .last_mail(email, "verification")
        .await
        .token
        .context("no verification token")?;
    app.http(
        functions::VERIFY_USER,
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

    let logins: Vec<Value> = (0..=invocations)
        .map(|n| {
            event(
                functions::LOGIN,
                &json!({"email": email, "password": PASSWORD}),
                n,
            )
        })
        .collect();
    let login = run(binary, &env, functions::LOGIN, logins).await?;
    if login_only {
        return Ok(vec![login]);
    }
    // One session per refresh: each refresh rotates its token, so every event gets its own.
    let mut refreshes = Vec::with_capacity(invocations + 1);
    for n in 0..=invocations {
        let session = app.login_session(email, PASSWORD).await;
        refreshes.push(event(
            functions::REFRESH_TOKEN,
            &json!({"refreshToken": session["refreshToken"]}),
            n,
        ));
    }
    let refresh = run(binary, &env, functions::REFRESH_TOKEN, refreshes).await?;
    let signups: Vec<Value> = (0..=invocations)
        .map(|n| {
            event(
                functions::CREATE_USER,
                &json!({"email": format!("new{n}@example.com"), "password": PASSWORD}),
                n,
            )
        })
        .collect();
    let signup = run(binary, &env, functions::CREATE_USER, signups).await?;
    let origin = Origin {
        sender: SENDER.to_owned(),
        configuration_set: app.env.get("SES_CONFIGURATION_SET").cloned(),
        region: lambdauth_tests::region(),
    };
    let mut deliveries = Vec::with_capacity(invocations + 1);
    for n in 0..=invocations {
        let mail = SentMail {
            id: format!("bench-{n}"),
            to: "success@simulator.amazonses.com".to_owned(),
            subject: String::new(),
            html: String::new(),
            text: String::new(),
        };
        let at = SystemTime::now();
        let delivery = ses_events(&mail, &origin, at)
            .into_iter()
            .next()
            .context("the simulator has no event for success@")?;
        deliveries.push(sns_event(&origin.topic_arn(), &mail.id, &delivery, at));
    }
    let feedback = run_binary(
        binary,
        &env,
        functions::MAIL_FEEDBACK.name,
        deliveries,
        |answer| answer["recorded"] == 1,
    )
    .await?;
    Ok(vec![login, refresh, signup, feedback])
}

fn event(function: &'static Definition, body: &Value, n: usize) -> Value {
    let headers = [("content-type".to_owned(), "application/json".to_owned())];
    http_api_event(
        function.path(),
        &headers,
        body.to_string().as_bytes(),
        &format!("bench-{n}"),
    )
}

async fn run(
    binary: &Path,
    env: &HashMap<String, String>,
    function: &'static Definition,
    events: Vec<Value>,
) -> Result<FunctionRun> {
    run_binary(binary, env, function.name, events, |answer| {
        answer["statusCode"] == 200
    })
    .await
}

/// Runs the function `name` (`binary` with its handler `name`) on `events`; every answer must
/// pass `succeeded`.
async fn run_binary(
    binary: &Path,
    env: &HashMap<String, String>,
    name: &'static str,
    events: Vec<Value>,
    succeeded: impl Fn(&Value) -> bool,
) -> Result<FunctionRun> {
    let mut env = env.clone();
    env.insert("AWS_LAMBDA_FUNCTION_NAME".to_owned(), name.to_owned());
    env.insert(
        lambdauth_runtime::bootstrap::HANDLER_VARIABLE.to_owned(),
        name.to_owned(),
    );
    let measurement = runtime_api::run(binary, &env, events).await?;
    if let Some(bad) = measurement.answers.iter().find(|answer| !succeeded(answer)) {
        bail!("{name} answered {bad}");
    }
    Ok(FunctionRun { name, measurement })
}
