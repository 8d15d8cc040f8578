//! Pipeline load: N signups through the local runtime (`DevServer` in this process, HTTP over
//! loopback with bounded concurrency), timing each signup and the wait until SES (the emulator's,
//! behind the recording proxy) has accepted every verification mail; once with SES answering
//! everything and once with a rule that fails about one SES request in five.
//!
//! The mailer gives each SES attempt [`SES_ATTEMPT_TIMEOUT`] (5 s), so an injected timeout holds
//! the request [`TIMEOUT_HOLD`], longer than that. The run sets `RETRY_BASE_SECONDS=1` (30 in
//! production) so that a retried mail waits about one second, not thirty, before its next
//! attempt.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use lambdauth_local::dev::{DevOptions, DevServer, default_www};
use lambdauth_local::proxy::{Fault, Rule, Seen};
use lambdauth_mail::config::DEFAULT_SES_ATTEMPT_TIMEOUT as SES_ATTEMPT_TIMEOUT;
use lambdauth_tests::TestContext;
use serde_json::json;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::coldstart::{MEASURED_SETTINGS, PASSWORD};

/// How long an injected timeout holds an SES request: past the mailer's attempt timeout.
pub const TIMEOUT_HOLD: Duration = SES_ATTEMPT_TIMEOUT.saturating_add(Duration::from_secs(1));

/// The environment of the run on top of the stack's names.
pub const RUN_ENVIRONMENT: [(&str, &str); 1] = [("RETRY_BASE_SECONDS", "1")];

/// The longest the run waits for every mail before it gives up.
const MAIL_DEADLINE: Duration = Duration::from_hours(1);

/// The SES faults, as a cycle over the `SendEmail` requests in arrival order: of every 25,
/// two are throttled (429), two fail with a 503 and one is held past the attempt timeout: 20 %.
pub const FAULT_CYCLE: [(usize, Fault); 5] = [
    (0, Fault::Throttle),
    (4, Fault::ServerError),
    (8, Fault::Throttle),
    (12, Fault::Timeout(TIMEOUT_HOLD)),
    (16, Fault::ServerError),
];
/// The length of [`FAULT_CYCLE`].
pub const FAULT_CYCLE_LENGTH: u64 = 25;

/// What one load run measured.
#[derive(Debug, Clone)]
pub struct PipelineRun {
    /// Whether SES faults were injected.
    pub faults: bool,
    /// Signups sent.
    pub signups: usize,
    /// Signups in flight at most.
    pub concurrency: usize,
    /// The time of each signup, request to answer.
    pub latencies: Vec<Duration>,
    /// Signups that did not answer 200.
    pub failed_signups: usize,
    /// From the first signup sent to the last answered.
    pub all_answered: Duration,
    /// From the first signup sent until SES had accepted a mail to every address.
    pub all_mail_accepted: Duration,
    /// Mails SES accepted (more than `signups` would mean a duplicate).
    pub mails_accepted: usize,
    /// `SendEmail` requests the mailer made.
    pub send_requests: u64,
    /// Of those, the ones answered with an injected fault.
    pub faults_injected: u64,
}

/// The `SendEmail` requests the SES proxy saw, and how many of them it failed.
#[derive(Debug, Default)]
pub struct SendCounts {
    /// Requests seen.
    pub requests: AtomicU64,
    /// Requests answered with an injected fault.
    pub faults: AtomicU64,
}

/// The rule that counts `SendEmail` requests in `counts` and, when `inject`, fails them by
/// [`FAULT_CYCLE`].
pub fn ses_rule(counts: Arc<SendCounts>, inject: bool) -> Rule {
    Arc::new(move |seen: &Seen<'_>| {
        if !seen.uri.path().ends_with("/outbound-emails") {
            return None;
        }
        let position = counts.requests.fetch_add(1, Ordering::SeqCst) % FAULT_CYCLE_LENGTH;
        if !inject {
            return None;
        }
        let fault = FAULT_CYCLE
            .iter()
            .find(|(at, _)| u64::try_from(*at).ok() == Some(position))
            .map(|(_, fault)| *fault);
        if fault.is_some() {
            counts.faults.fetch_add(1, Ordering::SeqCst);
        }
        fault
    })
}

/// Runs `signups` signups, at most `concurrency` at a time, against a fresh local runtime,
/// with SES faults when `faults`, and waits for every mail.
pub async fn measure(signups: usize, concurrency: usize, faults: bool) -> Result<PipelineRun> {
    let ctx = TestContext::new(if faults { "loadfaults" } else { "load" }).await;
    let mut environment = ctx.environment();
    for (name, value) in MEASURED_SETTINGS.iter().chain(&RUN_ENVIRONMENT) {
        environment.insert((*name).to_owned(), (*value).to_owned());
    }
    let counts = Arc::new(SendCounts::default());
    let server = DevServer::start(
        &ctx.sdk,
        DevOptions {
            listen: ([127, 0, 0, 1], 0).into(),
            www: default_www(),
            environment,
            ses_rule: Some(ses_rule(Arc::clone(&counts), faults)),
        },
    )
    .await
    .context("starting the local runtime")?;

    let client = reqwest::Client::new();
    let url = format!("{}/users", server.url());
    let gate = Arc::new(Semaphore::new(concurrency.max(1)));
    let prefix = ctx.prefix.clone();
    let started = Instant::now();
    let mut tasks = JoinSet::new();
    for n in 0..signups {
        let permit = Arc::clone(&gate).acquire_owned().await?;
        let client = client.clone();
        let url = url.clone();
        let body =
            json!({"email": format!("{prefix}{n}@example.com"), "password": PASSWORD}).to_string();
        tasks.spawn(async move {
            let sent = Instant::now();
            let answer = client
                .post(&url)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await;
            drop(permit);
            let ok = matches!(&answer, Ok(response) if response.status() == 200);
            (sent.elapsed(), ok)
        });
    }
    let mut latencies = Vec::with_capacity(signups);
    let mut failed_signups = 0;
    while let Some(joined) = tasks.join_next().await {
        let (latency, ok) = joined?;
        latencies.push(latency);
        if !ok {
            failed_signups += 1;
        }
    }
    let all_answered = started.elapsed();
    let expected = signups - failed_signups;

    let all_mail_accepted = loop {
        let recipients: HashSet<String> = server.sent().into_iter().map(|mail| mail.to).collect();
        if recipients.len() >= expected {
            break started.elapsed();
        }
        if started.elapsed() > MAIL_DEADLINE {
            bail!(
                "only {} of {expected} mails were accepted within {} minutes",
                recipients.len(),
                MAIL_DEADLINE.as_secs() / 60
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let mails_accepted = server.sent().len();
    server.stop().await;
    Ok(PipelineRun {
        faults,
        signups,
        concurrency,
        latencies,
        failed_signups,
        all_answered,
        all_mail_accepted,
        mails_accepted,
        send_requests: counts.requests.load(Ordering::SeqCst),
        faults_injected: counts.faults.load(Ordering::SeqCst),
    })
}
