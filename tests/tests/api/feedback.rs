//! SES feedback against the emulator: SES's mailbox simulator (played by the local simulator
//! into the real feedback function) bounces and complains, the address is suppressed, a second
//! mail to it ends `suppressed` without any SES call while the API answers exactly as before,
//! the record says why, and lifting the suppression restores sending. Deliveries are counted,
//! feedback arriving at once is all counted, a malformed record is acknowledged, and
//! `lambdauth dev` plays the simulator by itself.

use std::time::Duration;

use lambdauth_domain::feedback::{AddressFeedback, Sending, SuppressionReason};
use lambdauth_domain::{Clock, Email, SystemClock};
use lambdauth_local::proxy::SentMail;
use lambdauth_local::simulator::{Origin, ses_events, sns_event};
use lambdauth_mail::store::OutboxStore;
use lambdauth_tests::TestContext;
use lambdauth_tests::app::{Answer, TestApp, run_until};
use serde_json::{Value, json};

const PASSWORD: &str = "correct horse battery staple";
const BOUNCE: &str = "bounce@simulator.amazonses.com";
const COMPLAINT: &str = "complaint@simulator.amazonses.com";
const SUCCESS: &str = "success@simulator.amazonses.com";
const SEND_EMAIL: &str = "POST /v2/email/outbound-emails";

/// A stack whose verification mails have no cooldown, so each signup mails.
async fn stack(label: &str) -> TestApp {
    TestApp::spawn_with(label, &[("VERIFICATION_COOLDOWN_SECONDS", "0")]).await
}

fn outbox(app: &TestApp) -> OutboxStore {
    OutboxStore::new(app.dynamodb.clone(), &app.outbox_table)
}

async fn record(app: &TestApp, email: &str) -> Option<AddressFeedback> {
    outbox(app).address_feedback(email).await.expect("read")
}

async fn signup(app: &TestApp, email: &str) -> Answer {
    app.signup(email, PASSWORD).await
}

/// The statuses of the outbox mails to `email`, oldest first.
async fn statuses(app: &TestApp, email: &str) -> Vec<String> {
    outbox(app)
        .mails_to(email)
        .await
        .expect("mails")
        .iter()
        .map(|mail| mail.status.as_str().to_owned())
        .collect()
}

/// Signs `email` up, delivers the mail through the pipeline and plays SES's feedback on it.
async fn mailed_and_fed_back(app: &TestApp, email: &str) -> Answer {
    let answer = signup(app, email).await;
    let mailer = app.mailer();
    let mut mappings = app.mappings().await;
    run_until(&mut mappings, &mailer, 50, async || {
        app.sent_mails(email).len() == 1
    })
    .await;
    let played = app.play_feedback(&mut app.mailbox_simulator()).await;
    assert!(played.recorded >= 1, "{played:?}");
    answer
}

/// A second signup's mail goes through the pipeline and ends suppressed: no SES call.
async fn second_mail_is_suppressed(app: &TestApp, email: &str, first: &Answer) {
    app.ses.counts().take_operations();
    let second = signup(app, email).await;
    assert_eq!(
        (second.status, &second.body),
        (first.status, &first.body),
        "the API answers as before"
    );
    let mailer = app.mailer();
    let mut mappings = app.mappings().await;
    run_until(&mut mappings, &mailer, 50, async || {
        statuses(app, email).await == ["sent", "suppressed"]
    })
    .await;
    assert_eq!(app.sent_mails(email).len(), 1, "a second mail was sent");
    let operations = app.ses.counts().take_operations();
    assert!(
        !operations.iter().any(|operation| operation == SEND_EMAIL),
        "SES was called: {operations:?}"
    );
    let mails = outbox(app).mails_to(email).await.unwrap();
    let suppressed = mails.last().unwrap();
    assert!(suppressed.link_ciphertext.is_none(), "the token is kept");
    assert!(
        app.dead_letter_queue()
            .receive(Duration::ZERO, None)
            .await
            .unwrap()
            .is_empty(),
        "a suppressed mail is no failure"
    );
}

#[tokio::test]
async fn a_simulated_permanent_bounce_suppresses_the_address_until_it_is_lifted() {
    let app = stack("fb-bounce").await;
    let first = mailed_and_fed_back(&app, BOUNCE).await;

    let feedback = record(&app, BOUNCE).await.expect("a record");
    assert_eq!((feedback.permanent_bounces, feedback.deliveries), (1, 0));
    let Sending::Suppressed(suppression) = feedback.sending() else {
        panic!("not suppressed: {feedback:?}");
    };
    assert_eq!(suppression.reason, SuppressionReason::PermanentBounce);

    second_mail_is_suppressed(&app, BOUNCE, &first).await;
    let mails = outbox(&app).mails_to(BOUNCE).await.unwrap();
    assert_eq!(
        mails.last().unwrap().last_error.as_deref(),
        Some("recipient suppressed: permanent-bounce"),
        "the outbox says why"
    );

    // Lifted by an operator: the counts stay, and the next mail is sent.
    let email = Email::parse(BOUNCE).unwrap();
    let lifted = outbox(&app)
        .lift_suppression(&email, "ops", SystemClock.now())
        .await
        .unwrap()
        .expect("it was suppressed");
    assert_eq!(lifted.reason, SuppressionReason::PermanentBounce);
    let after = record(&app, BOUNCE).await.unwrap();
    assert_eq!(after.sending(), Sending::Allowed);
    assert_eq!(after.permanent_bounces, 1);
    assert_eq!(after.lifted.as_ref().map(|l| l.by.as_str()), Some("ops"));
    assert_eq!(
        outbox(&app)
            .lift_suppression(&email, "ops", SystemClock.now())
            .await
            .unwrap(),
        None,
        "nothing left to lift"
    );

    signup(&app, BOUNCE).await;
    let mailer = app.mailer();
    let mut mappings = app.mappings().await;
    run_until(&mut mappings, &mailer, 50, async || {
        app.sent_mails(BOUNCE).len() == 2
    })
    .await;
    assert_eq!(statuses(&app, BOUNCE).await, ["sent", "suppressed", "sent"]);
}

#[tokio::test]
async fn a_simulated_complaint_suppresses_the_address() {
    let app = stack("fb-complaint").await;
    let first = mailed_and_fed_back(&app, COMPLAINT).await;
    let feedback = record(&app, COMPLAINT).await.expect("a record");
    // SES delivers the mail, then the recipient complains.
    assert_eq!((feedback.deliveries, feedback.complaints), (1, 1));
    assert!(matches!(
        feedback.sending(),
        Sending::Suppressed(suppression) if suppression.reason == SuppressionReason::Complaint
    ));
    second_mail_is_suppressed(&app, COMPLAINT, &first).await;
}

#[tokio::test]
async fn a_simulated_delivery_is_counted_and_the_address_keeps_getting_mail() {
    let app = stack("fb-success").await;
    mailed_and_fed_back(&app, SUCCESS).await;
    let feedback = record(&app, SUCCESS).await.expect("a record");
    assert_eq!(feedback.deliveries, 1);
    assert_eq!(feedback.sending(), Sending::Allowed);

    signup(&app, SUCCESS).await;
    let mailer = app.mailer();
    let mut mappings = app.mappings().await;
    run_until(&mut mappings, &mailer, 50, async || {
        app.sent_mails(SUCCESS).len() == 2
    })
    .await;
    assert_eq!(statuses(&app, SUCCESS).await, ["sent", "sent"]);
}

#[tokio::test]
async fn feedback_arriving_at_once_is_all_counted() {
    let app = stack("fb-parallel").await;
    let feedback = app.feedback();
    let origin = Origin {
        sender: lambdauth_tests::app::SENDER.to_owned(),
        configuration_set: None,
        region: lambdauth_tests::region(),
    };
    let events: Vec<Value> = (0..20)
        .map(|n| {
            let mail = SentMail {
                id: format!("m{n}"),
                to: if n % 2 == 0 { SUCCESS } else { BOUNCE }.to_owned(),
                subject: "s".to_owned(),
                html: String::new(),
                text: String::new(),
            };
            let event = ses_events(&mail, &origin, std::time::SystemTime::now()).remove(0);
            sns_event(
                &origin.topic_arn(),
                &mail.id,
                &event,
                std::time::SystemTime::now(),
            )
        })
        .collect();
    let handled = all_recorded(
        events
            .into_iter()
            .map(|event| {
                let feedback = feedback.clone();
                tokio::spawn(async move { feedback.handle_event(event).await })
            })
            .collect(),
    )
    .await;
    assert!(handled.iter().all(|recorded| recorded.recorded == 1));
    assert_eq!(record(&app, SUCCESS).await.unwrap().deliveries, 10);
    let bounced = record(&app, BOUNCE).await.unwrap();
    assert_eq!(bounced.permanent_bounces, 10);
    assert!(matches!(bounced.sending(), Sending::Suppressed(_)));
}

async fn all_recorded<T: Send + 'static>(
    tasks: Vec<tokio::task::JoinHandle<Result<T, lambdauth_mail::feedback::FeedbackError>>>,
) -> Vec<T> {
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.expect("joined").expect("recorded"));
    }
    results
}

#[tokio::test]
async fn a_malformed_record_is_acknowledged_and_changes_nothing() {
    let app = stack("fb-malformed").await;
    let feedback = app.feedback();
    let origin = Origin {
        sender: lambdauth_tests::app::SENDER.to_owned(),
        configuration_set: None,
        region: lambdauth_tests::region(),
    };
    let now = std::time::SystemTime::now();
    for event in [
        json!({"Records": [{"EventSource": "aws:sns"}]}),
        sns_event(&origin.topic_arn(), "m1", &json!("not an SES event"), now),
        sns_event(
            &origin.topic_arn(),
            "m2",
            &json!({"eventType": "Bounce", "mail": {"destination": [BOUNCE]}}),
            now,
        ),
        sns_event(
            &origin.topic_arn(),
            "m3",
            &json!({"eventType": "Complaint", "mail": {}, "complaint": {"complainedRecipients": [{"emailAddress": "not an address"}]}}),
            now,
        ),
    ] {
        let recorded = feedback.handle_event(event).await.expect("acknowledged");
        assert_eq!((recorded.recorded, recorded.malformed), (0, 1));
    }
    let items = app.scan_table(&app.outbox_table).await;
    assert!(items.is_empty(), "{items:?}");
}

#[tokio::test]
async fn the_dev_server_plays_the_mailbox_simulator_into_the_feedback_function() {
    let ctx = TestContext::new("fb-dev").await;
    let server = ctx.dev_server(&[]).await;
    let response = reqwest::Client::new()
        .post(format!("{}/users", server.url()))
        .header("content-type", "application/json")
        .body(json!({"email": BOUNCE, "password": PASSWORD}).to_string())
        .send()
        .await
        .expect("an answer");
    assert_eq!(response.status().as_u16(), 200);
    let store = OutboxStore::new(
        aws_sdk_dynamodb::Client::new(&ctx.sdk),
        ctx.resources().outbox_table,
    );
    let mut suppressed = false;
    for _ in 0..100 {
        if let Some(record) = store.address_feedback(BOUNCE).await.unwrap() {
            suppressed = matches!(record.sending(), Sending::Suppressed(_));
            if suppressed {
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(suppressed, "the bounce was never recorded");
    assert_eq!(server.sent().len(), 1);
    server.stop().await;
}
