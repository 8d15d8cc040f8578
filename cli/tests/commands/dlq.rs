//! `lambdauth dlq` against the emulator: a redrive keeps what is not a mail job, a purge empties
//! the queue, and listing leaves everything where it was.

use lambdauth::dlq::{dlq_list, dlq_purge, dlq_redrive};
use lambdauth_domain::{Clock, SystemClock};
use lambdauth_local::mappings::event;
use lambdauth_tests::app::TestApp;
use serde_json::json;

#[tokio::test]
async fn a_redrive_keeps_what_is_not_a_job_and_a_purge_empties_the_queue() {
    let app = TestApp::spawn("dlq-malformed").await;
    let mailer = app.mailer();
    let bad = json!({"messageId": "m-bad", "body": "not a job", "eventSource": "aws:sqs"});
    let broken_stream = json!({"eventName": "INSERT", "eventSource": "aws:dynamodb", "dynamodb": {"SequenceNumber": "7", "NewImage": {"type": {"S": "mail"}}}});
    mailer.handle_event(event(&[bad, broken_stream])).await;
    let dead_letters = app.dead_letter_queue();
    assert_eq!(dlq_list(&dead_letters).await.unwrap().len(), 2);
    assert_eq!(
        dlq_list(&dead_letters).await.unwrap().len(),
        2,
        "listing leaves them there"
    );
    let report = dlq_redrive(
        mailer.store(),
        &dead_letters,
        &app.retry_queue(),
        SystemClock.now(),
    )
    .await
    .unwrap();
    assert_eq!((report.redriven.len(), report.kept.len()), (0, 2));
    assert_eq!(dlq_purge(&dead_letters).await.unwrap(), 2);
    assert!(dlq_list(&dead_letters).await.unwrap().is_empty());
}
