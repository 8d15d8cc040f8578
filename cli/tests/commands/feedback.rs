//! The operator's side of SES feedback against the emulator: `lambdauth mail status` shows an
//! address's deliveries, bounces, complaints and why it is suppressed (and the mails that ended
//! `suppressed`), `lambdauth mail unsuppress` lifts it and sending resumes; `doctor` finds the
//! configuration set, reports its event destination as unknown where the endpoint cannot say,
//! and a missing configuration set as a problem.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Command;

use lambdauth::doctor::{Clients, DoctorSettings, Subject, Verdict, diagnose};
use lambdauth_functions as functions;
use lambdauth_tests::app::{TestApp, run_until};
use serde_json::json;

const BOUNCE: &str = "bounce@simulator.amazonses.com";

fn settings(app: &TestApp, configuration_set: Option<String>) -> DoctorSettings {
    DoctorSettings {
        configuration_set,
        ..super::doctor::settings_of(app)
    }
}

#[tokio::test]
async fn doctor_finds_the_configuration_set_and_says_when_it_cannot_see_its_destination() {
    let app = TestApp::spawn("fb-doctor").await;
    let clients = Clients::new(&app.ctx.sdk);
    let report = diagnose(
        &clients,
        &settings(&app, app.env.get("SES_CONFIGURATION_SET").cloned()),
    )
    .await;
    assert!(report.is_healthy(), "{report}");
    assert_eq!(
        report.verdict(Subject::ConfigurationSet),
        Some(Verdict::Ok),
        "{report}"
    );
    // The emulator has no event destinations: unknown, not a failure.
    let destination = report.about(Subject::FeedbackDestination).next().unwrap();
    assert_eq!(destination.verdict, Verdict::Unknown, "{report}");
    assert!(
        destination.detail.contains("unknown on this endpoint"),
        "{report}"
    );

    let missing = diagnose(&clients, &settings(&app, Some(app.ctx.name("nosuchset")))).await;
    assert_eq!(
        missing.verdict(Subject::ConfigurationSet),
        Some(Verdict::Problem)
    );
    let fix = missing
        .about(Subject::ConfigurationSet)
        .find_map(|finding| finding.fix.clone())
        .unwrap();
    assert!(fix.contains("MailConfigurationSet"), "{fix}");
    let unset = diagnose(&clients, &settings(&app, None)).await;
    let finding = unset.about(Subject::ConfigurationSet).next().unwrap();
    assert_eq!(finding.verdict, Verdict::Problem);
    assert!(finding.detail.contains("SES_CONFIGURATION_SET"), "{unset}");
}

/// Runs `lambdauth mail <arguments>` against `app`'s outbox table: its exit code and output.
fn mail_command(app: &TestApp, arguments: &[&str]) -> (i32, String) {
    let env: HashMap<&str, String> = [
        (
            "AWS_ENDPOINT_URL",
            lambdauth_tests::emulator().endpoint().to_owned(),
        ),
        ("AWS_REGION", lambdauth_tests::region()),
        ("AWS_ACCESS_KEY_ID", "test".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", "test".to_owned()),
        ("OUTBOX_TABLE_NAME", app.outbox_table.clone()),
    ]
    .into_iter()
    .collect();
    let output = Command::new(PathBuf::from(env!("CARGO_BIN_EXE_lambdauth")))
        .arg("mail")
        .args(arguments)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(env)
        .output()
        .expect("run lambdauth mail");
    (
        output.status.code().expect("an exit code"),
        format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ),
    )
}

/// `lambdauth mail <arguments>`, which must succeed: its output.
fn mail(app: &TestApp, arguments: &[&str]) -> String {
    let (code, shown) = tokio::task::block_in_place(|| mail_command(app, arguments));
    assert_eq!(code, 0, "{shown}");
    shown
}

/// Signs `email` up and runs the pipeline until `sent` mails were sent to it and the outbox
/// holds `mails` mails, none of them waiting.
async fn signup_and_deliver(app: &TestApp, email: &str, sent: usize, mails: usize) {
    let answer = app
        .http(
            functions::CREATE_USER,
            &json!({"email": email, "password": "correct horse battery staple"}).to_string(),
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let mailer = app.mailer();
    let mut mappings = app.mappings().await;
    run_until(&mut mappings, &mailer, 50, async || {
        let finished = app
            .mails(email)
            .await
            .iter()
            .filter(|mail| {
                matches!(
                    mail.item["status"].as_s().map(String::as_str),
                    Ok("sent" | "suppressed")
                )
            })
            .count();
        app.sent_mails(email).len() == sent && finished == mails
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn mail_status_shows_why_an_address_is_suppressed_and_unsuppress_lifts_it() {
    let app = TestApp::spawn_with("fb-cli", &[("VERIFICATION_COOLDOWN_SECONDS", "0")]).await;
    let mut simulator = app.mailbox_simulator();
    signup_and_deliver(&app, BOUNCE, 1, 1).await;
    assert_eq!(app.play_feedback(&mut simulator).await.recorded, 1);

    let status = mail(&app, &["status", BOUNCE]);
    assert!(
        status.contains("0 delivered, 1 bounced permanently"),
        "{status}"
    );
    assert!(status.contains("suppressed: permanent-bounce"), "{status}");
    assert!(
        status.contains(&format!("lambdauth mail unsuppress {BOUNCE}")),
        "{status}"
    );

    // The next mail ends suppressed, and the status says so.
    signup_and_deliver(&app, BOUNCE, 1, 2).await;
    let status = mail(&app, &["status", BOUNCE]);
    assert!(
        status.lines().any(|line| line.contains(" suppressed ")
            && line.contains("recipient suppressed: permanent-bounce")),
        "{status}"
    );

    let lifted = mail(&app, &["unsuppress", BOUNCE, "--by", "ops@example.com"]);
    assert!(lifted.contains("lifted the suppression"), "{lifted}");
    let status = mail(&app, &["status", BOUNCE]);
    assert!(status.contains("not suppressed"), "{status}");
    assert!(
        status.contains("1 bounced permanently"),
        "the counts stay: {status}"
    );
    assert!(status.contains("by ops@example.com"), "{status}");
    let again = mail(&app, &["unsuppress", BOUNCE]);
    assert!(again.contains("is not suppressed"), "{again}");

    // Sending is restored.
    signup_and_deliver(&app, BOUNCE, 2, 3).await;
}
