//! Hundreds of mails through a fault-injecting proxy in front of SES: every mail arrives exactly
//! once, every permanent failure lands in the dead-letter queue with its reason, and a redrive
//! after the cause is fixed delivers those once too.
//!
//! The jobs are spread over several stacks (tables, queues) sharing one proxy: the emulator
//! copies a whole table for every transaction, so one table of hundreds of users would spend the
//! run in the emulator rather than in the pipeline.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use lambdauth::dlq::{dlq_list, dlq_redrive};
use lambdauth_domain::{Clock, SystemClock};
use lambdauth_functions as functions;
use lambdauth_mail::store::OutboxStore;
use lambdauth_tests::app::TestApp;
use lambdauth_tests::proxy::{Fault, FaultProxy, Seen};
use serde_json::json;
use tokio::task::JoinSet;

use lambdauth_tests::app::run_until;
use lambdauth_tests::stats::quantile;

/// Five stacks: `tokio::join!` below runs one per stack.
const STACKS: usize = 5;
const JOBS_PER_STACK: usize = 100;
/// Every `REJECT_EVERY`th address is refused by SES until the cause is "fixed".
const REJECT_EVERY: usize = 20;

fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(0))
}

/// What one stack did.
struct StackRun {
    signed_up: HashMap<String, i64>,
    latencies: Vec<i64>,
    redriven: usize,
}

/// Signs `JOBS_PER_STACK` users up on a stack of its own, drains its pipeline through `proxy`,
/// checks its dead-letter queue, then fixes the cause and redrives.
async fn run_stack(index: usize, proxy: Arc<FaultProxy>, rejecting: Arc<AtomicBool>) -> StackRun {
    // A hundred signups from one test source: the per-source limit is not what this measures.
    let app = Arc::new(
        TestApp::spawn_with(&format!("faults{index}"), &[("RATE_LIMIT_MAIL", "off")]).await,
    );
    let prefix = app.ctx.prefix.clone();
    let address = |n: usize| {
        if n.is_multiple_of(REJECT_EVERY) {
            format!("{prefix}reject{n}@example.com")
        } else {
            format!("{prefix}u{n}@example.com")
        }
    };
    let rejected: Vec<String> = (0..JOBS_PER_STACK)
        .filter(|n| n.is_multiple_of(REJECT_EVERY))
        .map(address)
        .collect();
    // Users sign up while the pipeline runs, as they would.
    let signups = async {
        let mut signed_up: HashMap<String, i64> = HashMap::new();
        for chunk in (0..JOBS_PER_STACK).collect::<Vec<_>>().chunks(10) {
            let mut set = JoinSet::new();
            for &n in chunk {
                let app = Arc::clone(&app);
                let email = address(n);
                set.spawn(async move {
                    let body = json!({"email": email, "password": "correct horse battery staple"});
                    assert_eq!(
                        app.http(functions::CREATE_USER, &body.to_string())
                            .await
                            .status,
                        200
                    );
                    (email, now_millis())
                });
            }
            signed_up.extend(set.join_all().await);
        }
        signed_up
    };
    let mailer = app.mailer_with(Some(proxy.url()), None);
    let mut mappings = app.mappings().await;
    let dlq = app.dead_letter_queue();
    let delivered = |proxy: &FaultProxy| {
        proxy
            .sent()
            .iter()
            .filter(|m| m.to.starts_with(&prefix))
            .count()
    };
    let expected = JOBS_PER_STACK - rejected.len();
    let drain = run_until(&mut mappings, &mailer, 3000, async || {
        delivered(&proxy) >= expected && dlq_list(&dlq).await.unwrap().len() >= rejected.len()
    });
    let (signed_up, ()) = tokio::join!(signups, drain);

    let parked = dlq_list(&dlq).await.unwrap();
    assert_eq!(parked.len(), rejected.len());
    for letter in &parked {
        assert!(letter.job.as_ref().unwrap().recipient.contains("reject"));
        assert!(
            letter.reason().contains("MessageRejected"),
            "{}",
            letter.reason()
        );
    }
    let store = OutboxStore::new(app.dynamodb.clone(), &app.outbox_table);
    let mut latencies = Vec::new();
    for (email, at) in signed_up.iter().filter(|(e, _)| !e.contains("reject")) {
        let mails = store.mails_to(email).await.unwrap();
        latencies.push(mails[0].updated_at.unwrap().as_millis() - at);
    }

    // The cause is fixed once every stack has parked its rejections; then redrive.
    while rejecting.load(Ordering::SeqCst) {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let report = dlq_redrive(&store, &dlq, &app.retry_queue(), SystemClock.now())
        .await
        .unwrap();
    assert_eq!(report.redriven.len(), rejected.len());
    run_until(&mut mappings, &mailer, 600, async || {
        delivered(&proxy) >= JOBS_PER_STACK
    })
    .await;
    assert!(dlq_list(&dlq).await.unwrap().is_empty());
    StackRun {
        signed_up,
        latencies,
        redriven: report.redriven.len(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_mail_arrives_exactly_once_through_transient_and_permanent_faults() {
    // One SES request in six fails transiently (throttling, a 5xx, a timeout, in turn); the
    // addresses meant to be refused are refused while `rejecting` holds.
    let rejecting = Arc::new(AtomicBool::new(true));
    let requests = Arc::new(AtomicU64::new(0));
    let rule = {
        let rejecting = Arc::clone(&rejecting);
        Arc::new(move |seen: &Seen<'_>| {
            if !seen.uri.path().ends_with("/outbound-emails") {
                return None;
            }
            if rejecting.load(Ordering::SeqCst) && seen.body.contains("reject") {
                return Some(Fault::Reject);
            }
            match requests.fetch_add(1, Ordering::SeqCst) % 18 {
                0 => Some(Fault::Throttle),
                6 => Some(Fault::ServerError),
                12 => Some(Fault::Timeout(Duration::from_millis(1200))),
                _ => None,
            }
        })
    };
    let proxy = Arc::new(FaultProxy::start(lambdauth_tests::emulator().endpoint(), rule).await);
    let started = Instant::now();
    // Fix the cause once every rejection has been parked (or after ten minutes, when a stack
    // failed and will report why).
    let rejections = STACKS * JOBS_PER_STACK / REJECT_EVERY;
    let fix = async {
        while proxy.counts().rejected.load(Ordering::SeqCst) < rejections
            && started.elapsed() < Duration::from_mins(10)
        {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        // Parking follows the rejection; give the stacks a moment to list their queues first.
        tokio::time::sleep(Duration::from_secs(3)).await;
        rejecting.store(false, Ordering::SeqCst);
    };
    let stack = |index| run_stack(index, Arc::clone(&proxy), Arc::clone(&rejecting));
    let (first, second, third, fourth, fifth, ()) =
        tokio::join!(stack(0), stack(1), stack(2), stack(3), stack(4), fix);
    let runs = [first, second, third, fourth, fifth];
    let elapsed = started.elapsed();

    let jobs: usize = runs.iter().map(|r| r.signed_up.len()).sum();
    let mut per_address: HashMap<String, usize> = HashMap::new();
    for mail in proxy.sent() {
        *per_address.entry(mail.to).or_default() += 1;
    }
    let lost = runs
        .iter()
        .flat_map(|r| r.signed_up.keys())
        .filter(|email| !per_address.contains_key(*email))
        .count();
    let duplicated = per_address.values().filter(|count| **count > 1).count();
    let transient = proxy.counts().transient.load(Ordering::SeqCst);
    assert_eq!(jobs, STACKS * JOBS_PER_STACK);
    assert_eq!(lost, 0, "mails lost");
    assert_eq!(duplicated, 0, "mails sent twice");
    assert!(
        transient * 10 >= jobs,
        "only {transient} transient faults for {jobs} jobs"
    );
    let mut latencies: Vec<i64> = runs.iter().flat_map(|r| r.latencies.clone()).collect();
    latencies.sort_unstable();
    eprintln!(
        "mail fault run: jobs={jobs} transient_faults={transient} rejections={} lost={lost} duplicated={duplicated} \
         redriven_and_delivered={} signup_to_delivery_p50={}ms p95={}ms total={:.1}s",
        proxy.counts().rejected.load(Ordering::SeqCst),
        runs.iter().map(|r| r.redriven).sum::<usize>(),
        quantile(&latencies, 0.5),
        quantile(&latencies, 0.95),
        elapsed.as_secs_f64(),
    );
}
