//! The global cap on mails per kind and window, against the emulator: a flood past it is
//! deferred through the retry queue and every mail still goes out, in later windows, none lost
//! and none counted as a failed attempt; parallel mailers cannot overdraw a window.

use std::time::Duration;

use aws_sdk_sqs::types::QueueAttributeName;
use lambdauth_domain::{Clock as _, MailCap, MailKind, SystemClock};
use lambdauth_mail::mailer::Delivery;
use lambdauth_mail::mailer::jobs::MailJob;
use lambdauth_mail::store::OutboxStore;
use lambdauth_mail::store::caps::CapCheck;
use lambdauth_tests::app::{TestApp, run_until};
use lambdauth_tests::proxy::FaultProxy;

const PASSWORD: &str = "correct horse battery staple";
/// The cap of verification mails per window in these tests.
const CAP: u32 = 3;
/// The window, short so that the deferred mails go out within the test.
const WINDOW_SECONDS: &str = "3";

#[tokio::test]
async fn a_flood_past_the_cap_is_deferred_and_every_mail_still_goes_out_later() {
    let app = TestApp::spawn_with(
        "mail-cap-flood",
        &[
            ("MAIL_HOURLY_CAP", "verification=3"),
            ("MAIL_CAP_WINDOW_SECONDS", WINDOW_SECONDS),
        ],
    )
    .await;
    let addresses: Vec<String> = (0..10)
        .map(|i| format!("{}flood{i}@example.com", app.ctx.prefix))
        .collect();
    for email in &addresses {
        app.signup(email, PASSWORD).await;
    }

    let mailer = app.mailer();
    let mut mappings = app.mappings().await;
    // One pass over the stream: at most one window's worth goes out, the rest is deferred.
    mappings
        .round(&mailer, Duration::ZERO)
        .await
        .expect("a round");
    let sent_first = app.ses.sent().len();
    assert!(
        sent_first <= 2 * CAP as usize,
        "{sent_first} mails went out at once past a cap of {CAP}"
    );
    assert!(sent_first < addresses.len(), "nothing was deferred");

    // Every mail goes out in the windows that follow.
    let started = std::time::Instant::now();
    run_until(&mut mappings, &mailer, 600, async || {
        app.ses.sent().len() >= addresses.len()
    })
    .await;
    let drained = started.elapsed();
    for email in &addresses {
        assert_eq!(app.sent_mails(email).len(), 1, "{email} got no single mail");
        let mail = app.last_mail(email, "verification").await;
        assert_eq!(mail.item["status"].as_s().unwrap(), "sent");
        // Waiting under the cap is not a failed attempt.
        assert_eq!(mail.item["attempts"].as_n().unwrap(), "1");
    }
    // No window counted more than the cap, and every mail was counted exactly once.
    let counters: Vec<u32> = app
        .scan_table(&app.outbox_table)
        .await
        .into_iter()
        .filter(|item| {
            item["pk"]
                .as_s()
                .is_ok_and(|pk| pk == "MAILCAP#verification")
        })
        .map(|item| item["sent"].as_n().unwrap().parse().unwrap())
        .collect();
    assert!(
        counters.len() >= 3,
        "{counters:?}: ten mails fit in fewer windows than a cap of three allows"
    );
    assert!(counters.iter().all(|sent| *sent <= CAP), "{counters:?}");
    assert_eq!(counters.iter().sum::<u32>(), 10, "{counters:?}");
    eprintln!(
        "cap {CAP} per {WINDOW_SECONDS} s: {sent_first} of 10 sent at once, the rest over {} more windows in {:.1} s; counts per window {counters:?}",
        counters.len() - 1,
        drained.as_secs_f64()
    );
    // Nothing was given up.
    assert!(app.dead_letter_queue().peek_all().await.unwrap().is_empty());
}

#[tokio::test]
async fn parallel_mailers_cannot_overdraw_a_window() {
    let app = TestApp::spawn("mail-cap-race").await;
    let store = OutboxStore::new(app.dynamodb.clone(), &app.outbox_table);
    let cap = MailCap::uniform(Duration::from_hours(1), 5);
    let now = SystemClock.now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..40 {
        let (store, cap) = (store.clone(), cap.clone());
        tasks.spawn(async move {
            store
                .count_toward_cap(&cap, MailKind::PasswordReset, now)
                .await
        });
    }
    let checks: Vec<_> = tasks.join_all().await;
    let counted = checks
        .iter()
        .filter(|check| matches!(check, Ok(CapCheck::Counted)))
        .count();
    let reached = checks
        .iter()
        .filter(|check| matches!(check, Ok(CapCheck::Reached)))
        .count();
    assert_eq!((counted, reached), (5, 35), "{checks:?}");
    // Another kind has its own count.
    assert_eq!(
        store
            .count_toward_cap(&cap, MailKind::Verification, now)
            .await
            .unwrap(),
        CapCheck::Counted
    );
}

#[tokio::test]
async fn a_job_waiting_for_a_later_window_goes_back_to_wait_without_touching_the_table() {
    let app = TestApp::spawn("mail-cap-wait").await;
    let tables = FaultProxy::recording(lambdauth_tests::emulator().endpoint())
        .await
        .expect("a recording proxy");
    let mailer = app.mailer_with(Some(app.ses.url()), Some(tables.url()));
    let now = SystemClock.now().as_millis();
    let mut job = MailJob::first(
        "0123456789abcdef",
        &app.address("later"),
        "verification",
        now,
    );
    job.not_before = Some(now + 3_600_000);

    let delivery = mailer.deliver(&job).await.expect("handed off");

    assert_eq!(delivery, Delivery::OverCap);
    assert!(
        tables.counts().take_operations().is_empty(),
        "a waiting job read or wrote the table"
    );
    // Back on the retry queue, delayed, still carrying when it is due.
    let sqs = aws_sdk_sqs::Client::new(&app.ctx.sdk);
    let attributes = sqs
        .get_queue_attributes()
        .queue_url(&app.env["RETRY_QUEUE_URL"])
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesDelayed)
        .send()
        .await
        .unwrap();
    assert_eq!(
        attributes
            .attributes()
            .and_then(|a| a.get(&QueueAttributeName::ApproximateNumberOfMessagesDelayed))
            .map(String::as_str),
        Some("1")
    );
}
