//! The mail pipeline against the emulator: the stream and the retry queue feed the mailer, its
//! partial batch responses are exact, duplicates send nothing, and a delivered link works.

use std::sync::Arc;
use std::time::Duration;

use lambdauth_functions as functions;
use lambdauth_local::mappings::{event, failed_identifiers};
use lambdauth_mail::mailer::Mailer;
use lambdauth_mail::mailer::queue::QueuedMessage;
use lambdauth_tests::app::{TestApp, run_until};
use lambdauth_tests::proxy::{Fault, FaultProxy, Rule};
use serde_json::{Value, json};

const PASSWORD: &str = "correct horse battery staple";

async fn signup(app: &TestApp, email: &str) {
    app.signup(email, PASSWORD).await;
}

/// The stream's outbox records, in order (the deployed mapping's filter keeps only these).
async fn mail_records(app: &TestApp) -> Vec<Value> {
    let mut mappings_stream = lambdauth_local::mappings::StreamSource::for_table(
        &app.dynamodb,
        aws_sdk_dynamodbstreams::Client::new(&app.ctx.sdk),
        &app.outbox_table,
        &lambdauth_tests::region(),
    )
    .await
    .unwrap();
    mappings_stream
        .poll()
        .await
        .unwrap()
        .into_iter()
        .map(|record| serde_json::to_value(record).unwrap())
        .filter(|r| r["eventName"] == "INSERT" && r["dynamodb"]["NewImage"]["type"]["S"] == "mail")
        .collect()
}

fn failing_for(ids: Vec<String>) -> Rule {
    Arc::new(move |seen| {
        ids.iter()
            .any(|id| seen.body.contains(id.as_str()))
            .then_some(Fault::DynamoDbThrottle)
    })
}

#[tokio::test]
async fn a_delivered_links_verify_the_user_and_reset_the_password() {
    let app = TestApp::spawn("mail-links").await;
    let email = format!("{}user@example.com", app.ctx.prefix);
    signup(&app, &email).await;
    let mailer = app.mailer();
    let mut mappings = app.mappings().await;
    run_until(&mut mappings, &mailer, 50, async || {
        app.sent_mails(&email).len() == 1
    })
    .await;

    let mail = app.sent_mails(&email).remove(0);
    assert!(mail.subject.contains("Verify"), "{}", mail.subject);
    let link = mail.link().unwrap();
    assert!(
        link.starts_with("http://127.0.0.1:3000/verify.html#email="),
        "{link}"
    );
    let verified = app
        .http(
            functions::VERIFY_USER,
            &json!({"email": mail.link_parameter("email").unwrap(), "verify": mail.link_parameter("verify").unwrap()}).to_string(),
        )
        .await;
    assert_eq!(verified.status, 200, "{}", verified.body);

    app.http(
        functions::LOST_PASSWORD,
        &json!({"email": email}).to_string(),
    )
    .await;
    run_until(&mut mappings, &mailer, 50, async || {
        app.sent_mails(&email).len() == 2
    })
    .await;
    let reset_mail = app
        .sent_mails(&email)
        .into_iter()
        .find(|m| m.link().is_some_and(|l| l.contains("reset.html")))
        .unwrap();
    let reset = app
        .http(
            functions::RESET_PASSWORD,
            &json!({"email": email, "lost": reset_mail.link_parameter("lost").unwrap(), "password": "a brand new passphrase"}).to_string(),
        )
        .await;
    assert_eq!(reset.status, 200, "{}", reset.body);
    let login = app
        .http(
            functions::LOGIN,
            &json!({"email": email, "password": "a brand new passphrase"}).to_string(),
        )
        .await;
    assert_eq!(login.status, 200);
    // The notice of the reset goes out too, and the outbox holds no token any more.
    run_until(&mut mappings, &mailer, 50, async || {
        app.sent_mails(&email).len() == 3
    })
    .await;
    for item in app.mails(&email).await {
        assert_eq!(item.item["status"].as_s().unwrap(), "sent");
        assert!(!item.item.contains_key("linkToken"));
    }
}

#[tokio::test]
async fn a_stream_batch_with_one_failing_record_reports_exactly_that_record() {
    let app = TestApp::spawn("stream-batch").await;
    for n in 0..10 {
        signup(&app, &format!("{}s{n}@example.com", app.ctx.prefix)).await;
    }
    let records = mail_records(&app).await;
    assert_eq!(records.len(), 10);
    let fourth = &records[3];
    let failing_id = fourth["dynamodb"]["NewImage"]["mailId"]["S"]
        .as_str()
        .unwrap()
        .to_owned();
    let proxy = FaultProxy::start(
        lambdauth_tests::emulator().endpoint(),
        failing_for(vec![failing_id]),
    )
    .await;
    let mailer = app.mailer_with(Some(app.ses.url()), Some(proxy.url()));

    let response = mailer.handle_event(event(&records)).await;
    assert_eq!(
        response,
        json!({"batchItemFailures": [{"itemIdentifier": fourth["dynamodb"]["SequenceNumber"]}]})
    );
    for (n, record) in records.iter().enumerate() {
        let to = record["dynamodb"]["NewImage"]["recipient"]["S"]
            .as_str()
            .unwrap();
        assert_eq!(app.sent_mails(to).len(), usize::from(n != 3), "record {n}");
    }
}

#[tokio::test]
async fn a_queue_batch_with_two_failing_messages_reports_exactly_those() {
    let app = TestApp::spawn("queue-batch").await;
    let sqs = aws_sdk_sqs::Client::new(&app.ctx.sdk);
    let mut ids = Vec::new();
    for n in 0..10 {
        let email = format!("{}q{n}@example.com", app.ctx.prefix);
        signup(&app, &email).await;
        let mail = app.last_mail(&email, "verification").await;
        let job = json!({"mailId": mail.id, "recipient": email, "kind": "verification", "attempts": 0, "enqueuedAt": 0});
        sqs.send_message()
            .queue_url(&app.env["RETRY_QUEUE_URL"])
            .message_body(job.to_string())
            .send()
            .await
            .unwrap();
        ids.push(mail.id);
    }
    let queue = lambdauth_local::mappings::QueueSource::new(
        sqs.clone(),
        &app.env["RETRY_QUEUE_URL"],
        &lambdauth_tests::region(),
    )
    .await
    .unwrap();
    let mut messages = Vec::new();
    while messages.len() < 10 {
        messages.extend(queue.receive(Duration::from_secs(1)).await.unwrap());
    }
    let failing = vec![ids[2].clone(), ids[7].clone()];
    let proxy = FaultProxy::start(
        lambdauth_tests::emulator().endpoint(),
        failing_for(failing.clone()),
    )
    .await;
    let mailer = app.mailer_with(Some(app.ses.url()), Some(proxy.url()));
    let records: Vec<Value> = messages
        .iter()
        .map(|(record, _)| serde_json::to_value(record).unwrap())
        .collect();
    let mut reported = failed_identifiers(&mailer.handle_event(event(&records)).await);
    reported.sort();
    let mut expected: Vec<String> = records
        .iter()
        .filter(|r| {
            failing
                .iter()
                .any(|id| r["body"].as_str().unwrap().contains(id.as_str()))
        })
        .map(|r| r["messageId"].as_str().unwrap().to_owned())
        .collect();
    expected.sort();
    assert_eq!(expected.len(), 2);
    assert_eq!(reported, expected);

    // A message that keeps failing moves to the dead-letter queue by the redrive policy.
    for (_, message) in &messages {
        if expected.contains(&message.message_id) {
            queue.release(message).await.unwrap();
        } else {
            queue.delete(message).await.unwrap();
        }
    }
    let mut mappings = app.mappings().await;
    let dlq = app.dead_letter_queue();
    for _ in 0..40 {
        mappings
            .round(&mailer, Duration::from_secs(1))
            .await
            .unwrap();
        if dlq.peek_all().await.unwrap().len() == 2 {
            break;
        }
    }
    let parked = dlq.peek_all().await.unwrap();
    assert_eq!(parked.len(), 2, "{parked:?}");
    assert!(
        parked
            .iter()
            .all(|letter| letter.reason().starts_with("received too often"))
    );
}

#[tokio::test]
async fn the_same_record_or_message_three_times_sends_one_mail() {
    let app = TestApp::spawn("duplicates").await;
    let first = format!("{}dup1@example.com", app.ctx.prefix);
    let second = format!("{}dup2@example.com", app.ctx.prefix);
    signup(&app, &first).await;
    signup(&app, &second).await;
    let mailer = app.mailer();
    let records = mail_records(&app).await;
    let record = records
        .iter()
        .find(|r| r["dynamodb"]["NewImage"]["recipient"]["S"] == first.as_str())
        .unwrap();
    for _ in 0..3 {
        let response = mailer
            .handle_event(event(std::slice::from_ref(record)))
            .await;
        assert_eq!(response, json!({"batchItemFailures": []}));
    }
    assert_eq!(app.sent_mails(&first).len(), 1);

    let mail = app.last_mail(&second, "verification").await;
    let message = json!({
        "messageId": "m-1",
        "receiptHandle": "r-1",
        "body": json!({"mailId": mail.id, "recipient": second, "kind": "verification", "attempts": 0, "enqueuedAt": 0}).to_string(),
        "attributes": {},
        "messageAttributes": {},
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:000000000000:retry",
        "awsRegion": "us-east-1",
    });
    for _ in 0..3 {
        let response = mailer
            .handle_event(event(std::slice::from_ref(&message)))
            .await;
        assert_eq!(response, json!({"batchItemFailures": []}));
    }
    assert_eq!(app.sent_mails(&second).len(), 1);
}

#[tokio::test]
async fn a_malformed_record_is_parked_not_retried() {
    let app = TestApp::spawn("malformed").await;
    let mailer = app.mailer();
    let bad = json!({"messageId": "m-bad", "body": "not a job for someone@example.com", "eventSource": "aws:sqs"});
    let broken_stream = json!({"eventName": "INSERT", "eventSource": "aws:dynamodb", "dynamodb": {"SequenceNumber": "7", "NewImage": {"type": {"S": "mail"}}}});
    assert_eq!(
        mailer.handle_event(event(&[bad])).await,
        json!({"batchItemFailures": []})
    );
    assert_eq!(
        mailer.handle_event(event(&[broken_stream])).await,
        json!({"batchItemFailures": []})
    );
    let parked = app.dead_letter_queue().peek_all().await.unwrap();
    assert_eq!(parked.len(), 2);
    // Parked for an operator to read, with the address masked.
    assert!(
        parked
            .iter()
            .any(|letter| letter.body.contains("s***@example.com"))
    );
    assert!(
        parked
            .iter()
            .all(|letter| !letter.body.contains("someone@example.com"))
    );
    assert!(parked.iter().all(|letter| letter.job.is_none()));
}

/// Runs the pipeline until `count` jobs are in the dead-letter queue; those jobs.
async fn run_until_parked(app: &TestApp, mailer: &Mailer, count: usize) -> Vec<QueuedMessage> {
    let mut mappings = app.mappings().await;
    let dlq = app.dead_letter_queue();
    run_until(&mut mappings, mailer, 30, async || {
        dlq.peek_all().await.unwrap().len() == count
    })
    .await;
    dlq.peek_all().await.unwrap()
}

#[tokio::test]
async fn an_unverified_sender_is_a_permanent_failure_in_the_dead_letter_queue() {
    let app = TestApp::spawn_with(
        "unverified-sender",
        &[("FROM_ADDRESS", "nobody@unverified.example.org")],
    )
    .await;
    let email = format!("{}sender@example.com", app.ctx.prefix);
    signup(&app, &email).await;
    let mailer = app.mailer();
    let parked = run_until_parked(&app, &mailer, 1).await;
    assert!(
        parked[0].reason().contains("MessageRejected"),
        "{}",
        parked[0].reason()
    );
    let item = &app.mails(&email).await[0].item;
    assert_eq!(item["status"].as_s().unwrap(), "failed");
    // SES names the refused address; what is stored and parked names it only masked.
    let last_error = item["lastError"].as_s().unwrap();
    assert!(
        last_error.contains("n***@unverified.example.org"),
        "{last_error}"
    );
    for shown in [last_error.as_str(), &parked[0].reason(), &parked[0].body] {
        assert!(
            !shown.contains("nobody@unverified.example.org"),
            "a full address in {shown}"
        );
    }
    assert!(app.sent_mails(&email).is_empty());
}

#[tokio::test]
async fn a_paused_account_parks_the_mail_in_the_dead_letter_queue() {
    let app = TestApp::spawn("paused").await;
    let email = format!("{}paused@example.com", app.ctx.prefix);
    signup(&app, &email).await;
    let paused = FaultProxy::start(
        lambdauth_tests::emulator().endpoint(),
        Arc::new(|seen: &lambdauth_tests::proxy::Seen<'_>| {
            seen.uri
                .path()
                .ends_with("/outbound-emails")
                .then_some(Fault::Paused)
        }),
    )
    .await;
    let mailer = app.mailer_with(Some(paused.url()), None);
    let parked = run_until_parked(&app, &mailer, 1).await;
    assert!(
        parked[0].reason().starts_with("sending paused"),
        "{}",
        parked[0].reason()
    );
    assert!(paused.sent().is_empty());
}
