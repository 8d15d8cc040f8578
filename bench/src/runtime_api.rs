//! A Lambda Runtime API stand-in that runs one function binary.

use std::collections::HashMap;
use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use axum::Router;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use serde_json::Value;
use tokio::sync::{Mutex, mpsc, oneshot};

/// One event handed out, waiting for its answer.
struct Pending {
    handed_out: Option<Instant>,
    answer: oneshot::Sender<Answered>,
}

/// An answer and when it came.
struct Answered {
    handed_out: Option<Instant>,
    at: Instant,
    body: Value,
    failed: bool,
}

struct Shared {
    next: Mutex<mpsc::Receiver<(String, Value)>>,
    pending: Mutex<HashMap<String, Pending>>,
    first_next: Mutex<Option<Instant>>,
}

/// What one run of a binary measured.
#[derive(Debug, Clone)]
pub struct Measurement {
    /// Spawn until the binary first asked for an event: its init.
    pub init: Duration,
    /// Spawn until the first answer arrived.
    pub first_response: Duration,
    /// Each invocation after the first, from handing out the event to its answer.
    pub warm: Vec<Duration>,
    /// The answers, in order.
    pub answers: Vec<Value>,
    /// Peak resident memory of the process (`VmHWM`), in KiB.
    pub peak_rss_kib: u64,
    /// CPU time (user + system, all threads) the process spent on the warm invocations: from
    /// the first answer to the last.
    pub warm_cpu: Duration,
}

/// Runs `binary` under the stand-in with `env`, handing it `events` one after another.
pub async fn run<S: std::hash::BuildHasher>(
    binary: &Path,
    env: &HashMap<String, String, S>,
    events: Vec<Value>,
) -> Result<Measurement> {
    let (sender, receiver) = mpsc::channel(1);
    let shared = Arc::new(Shared {
        next: Mutex::new(receiver),
        pending: Mutex::new(HashMap::new()),
        first_next: Mutex::new(None),
    });
    let app = Router::new()
        .route("/2018-06-01/runtime/invocation/next", get(next))
        .route(
            "/2018-06-01/runtime/invocation/{id}/response",
            post(response),
        )
        .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
        .route("/2018-06-01/runtime/init/error", post(init_error))
        .with_state(Arc::clone(&shared));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    let server = tokio::spawn(async move { axum::serve(listener, app).await });

    let spawned = Instant::now();
    let mut child = tokio::process::Command::new(binary)
        .env_clear()
        .envs(env)
        .env("AWS_LAMBDA_RUNTIME_API", address.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("spawning {}", binary.display()))?;
    let pid = child.id().context("no pid")?;

    let mut first_response = None;
    let mut warm = Vec::new();
    let mut answers = Vec::new();
    let mut cpu_after_first = None;
    for (n, event) in events.into_iter().enumerate() {
        let id = format!("bench-{n}");
        let (answer_tx, answer_rx) = oneshot::channel();
        shared.pending.lock().await.insert(
            id.clone(),
            Pending {
                handed_out: None,
                answer: answer_tx,
            },
        );
        sender.send((id.clone(), event)).await?;
        let answered = tokio::time::timeout(Duration::from_mins(1), answer_rx)
            .await
            .context("the function did not answer within a minute")??;
        if answered.failed {
            bail!("invocation {n} failed: {}", answered.body);
        }
        if first_response.is_none() {
            first_response = Some(answered.at - spawned);
            cpu_after_first = cpu_time(pid);
        } else if let Some(handed_out) = answered.handed_out {
            warm.push(answered.at - handed_out);
        }
        answers.push(answered.body);
    }
    let peak_rss_kib = peak_rss_kib(pid).unwrap_or(0);
    let warm_cpu = match (cpu_after_first, cpu_time(pid)) {
        (Some(before), Some(after)) => after.saturating_sub(before),
        _ => Duration::ZERO,
    };
    let _ = child.kill().await;
    server.abort();

    let first_next = shared
        .first_next
        .lock()
        .await
        .context("the binary never asked for an event")?;
    Ok(Measurement {
        init: first_next - spawned,
        first_response: first_response.unwrap_or_default(),
        warm,
        answers,
        peak_rss_kib,
        warm_cpu,
    })
}

async fn next(State(shared): State<Arc<Shared>>) -> impl IntoResponse {
    {
        let mut first = shared.first_next.lock().await;
        first.get_or_insert_with(Instant::now);
    }
    let Some((id, event)) = shared.next.lock().await.recv().await else {
        return (StatusCode::GONE, HeaderMap::new(), String::new());
    };
    if let Some(pending) = shared.pending.lock().await.get_mut(&id) {
        pending.handed_out = Some(Instant::now());
    }
    let mut headers = HeaderMap::new();
    let deadline = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() + 60_000);
    for (name, value) in [
        ("lambda-runtime-aws-request-id", id.clone()),
        ("lambda-runtime-deadline-ms", deadline.to_string()),
        (
            "lambda-runtime-invoked-function-arn",
            "arn:aws:lambda:us-east-1:000000000000:function:bench".to_owned(),
        ),
        (
            "lambda-runtime-trace-id",
            "Root=1-00000000-000000000000000000000000".to_owned(),
        ),
    ] {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    }
    (StatusCode::OK, headers, event.to_string())
}

async fn finish(shared: &Shared, id: &str, body: &str, failed: bool) {
    if let Some(pending) = shared.pending.lock().await.remove(id) {
        let value = serde_json::from_str(body).unwrap_or_else(|_| Value::String(body.to_owned()));
        let _ = pending.answer.send(Answered {
            handed_out: pending.handed_out,
            at: Instant::now(),
            body: value,
            failed,
        });
    }
}

async fn response(
    State(shared): State<Arc<Shared>>,
    UrlPath(id): UrlPath<String>,
    body: String,
) -> StatusCode {
    finish(&shared, &id, &body, false).await;
    StatusCode::ACCEPTED
}

async fn error(
    State(shared): State<Arc<Shared>>,
    UrlPath(id): UrlPath<String>,
    body: String,
) -> StatusCode {
    finish(&shared, &id, &body, true).await;
    StatusCode::ACCEPTED
}

async fn init_error(body: String) -> StatusCode {
    eprintln!("init error: {body}");
    StatusCode::ACCEPTED
}

/// `VmHWM` of `pid`, in KiB.
fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
}

/// User + system CPU time of `pid` and all its threads so far (`/proc/PID/stat`, fields 14 and
/// 15, in clock ticks).
fn cpu_time(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces; the fields after it follow its closing parenthesis.
    let after_name = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // After the name, field 3 (state) is index 0, so utime (14) is index 11 and stime (15) 12.
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_nanos(
        ticks.saturating_mul(1_000_000_000) / clock_ticks_per_second(),
    ))
}

/// `getconf CLK_TCK`, the unit of the CPU times in `/proc` (100 on every Linux in practice).
fn clock_ticks_per_second() -> u64 {
    static TICKS: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| {
        std::process::Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|output| String::from_utf8(output.stdout).ok())
            .and_then(|text| text.trim().parse().ok())
            .filter(|&ticks| ticks > 0)
            .unwrap_or(100)
    })
}
