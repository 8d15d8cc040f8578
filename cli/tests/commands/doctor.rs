//! `lambdauth doctor` against the emulator: a stack as provisioning makes it is healthy, and each
//! way of breaking it is found, with its fix; the binary exits 1 exactly when something is wrong.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Command;

use lambdauth::doctor::{Clients, DoctorSettings, Report, Subject, Verdict, diagnose};
use lambdauth_runtime::store::schema::{PARTITION_KEY, SORT_KEY};
use lambdauth_tests::app::{SENDER, TestApp};

/// The settings the functions of `app` run with.
pub(crate) fn settings_of(app: &TestApp) -> DoctorSettings {
    let env = |name: &str| app.env.get(name).cloned();
    DoctorSettings {
        table: app.table.clone(),
        outbox_table: app.outbox_table.clone(),
        retry_queue_url: env("RETRY_QUEUE_URL"),
        dead_letter_queue_url: env("DEAD_LETTER_QUEUE_URL"),
        kms_key_id: env("KMS_KEY_ID"),
        identity_pool_id: env("IDENTITY_POOL_ID"),
        developer_provider_name: "login.mycompany.myapp".to_owned(),
        from_address: Some(SENDER.to_owned()),
        configuration_set: env("SES_CONFIGURATION_SET"),
    }
}

async fn diagnose_app(app: &TestApp, settings: &DoctorSettings) -> Report {
    diagnose(&Clients::new(&app.ctx.sdk), settings).await
}

fn fixes(report: &Report, subject: Subject) -> Vec<String> {
    report
        .about(subject)
        .filter_map(|finding| finding.fix.clone())
        .collect()
}

#[tokio::test]
async fn a_provisioned_stack_is_healthy_and_the_unknown_ses_account_is_not_a_failure() {
    let app = TestApp::spawn("doctor-good").await;
    let report = diagnose_app(&app, &settings_of(&app)).await;
    assert!(report.is_healthy(), "{report}");
    assert_eq!(
        report.verdict(Subject::SesAccount),
        Some(Verdict::Unknown),
        "{report}"
    );
    let unknown = report.about(Subject::SesAccount).next().unwrap();
    assert!(
        unknown.detail.contains("unknown on this endpoint"),
        "{report}"
    );
    for subject in [
        Subject::Sender,
        Subject::Table,
        Subject::Stream,
        Subject::TimeToLive,
        Subject::RetryQueue,
        Subject::DeadLetterQueue,
        Subject::Key,
        Subject::IdentityPool,
    ] {
        assert_eq!(report.verdict(subject), Some(Verdict::Ok), "{report}");
    }
}

#[tokio::test]
async fn a_missing_retry_queue_is_a_problem_with_its_fix() {
    let app = TestApp::spawn("doctor-noqueue").await;
    let sqs = aws_sdk_sqs::Client::new(&app.ctx.sdk);
    sqs.delete_queue()
        .queue_url(&app.env["RETRY_QUEUE_URL"])
        .send()
        .await
        .expect("deleted");
    let report = diagnose_app(&app, &settings_of(&app)).await;
    assert!(!report.is_healthy());
    assert_eq!(report.verdict(Subject::RetryQueue), Some(Verdict::Problem));
    assert!(
        fixes(&report, Subject::RetryQueue)
            .iter()
            .any(|fix| fix.contains("RetryQueueUrl")),
        "{report}"
    );
    assert_eq!(report.verdict(Subject::DeadLetterQueue), Some(Verdict::Ok));
}

#[tokio::test]
async fn unset_variables_are_each_named() {
    let app = TestApp::spawn("doctor-unset").await;
    let settings = DoctorSettings {
        retry_queue_url: None,
        kms_key_id: None,
        from_address: None,
        ..settings_of(&app)
    };
    let report = diagnose_app(&app, &settings).await;
    for (subject, variable) in [
        (Subject::RetryQueue, "RETRY_QUEUE_URL"),
        (Subject::Key, "KMS_KEY_ID"),
        (Subject::Sender, "FROM_ADDRESS"),
    ] {
        let finding = report.about(subject).next().expect("a finding");
        assert_eq!(finding.verdict, Verdict::Problem);
        assert!(finding.detail.contains(variable), "{report}");
    }
}

#[tokio::test]
async fn a_table_without_stream_or_ttl_is_found() {
    let app = TestApp::spawn("doctor-nostream").await;
    let table = app.ctx.name("bare");
    let key = |name: &str, kind| {
        aws_sdk_dynamodb::types::KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(kind)
            .build()
            .unwrap()
    };
    let attribute = |name: &str| {
        aws_sdk_dynamodb::types::AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(aws_sdk_dynamodb::types::ScalarAttributeType::S)
            .build()
            .unwrap()
    };
    app.dynamodb
        .create_table()
        .table_name(&table)
        .billing_mode(aws_sdk_dynamodb::types::BillingMode::PayPerRequest)
        .key_schema(key(PARTITION_KEY, aws_sdk_dynamodb::types::KeyType::Hash))
        .key_schema(key(SORT_KEY, aws_sdk_dynamodb::types::KeyType::Range))
        .attribute_definitions(attribute(PARTITION_KEY))
        .attribute_definitions(attribute(SORT_KEY))
        .send()
        .await
        .expect("created");
    let report = diagnose_app(
        &app,
        &DoctorSettings {
            outbox_table: table.clone(),
            ..settings_of(&app)
        },
    )
    .await;
    assert!(!report.is_healthy());
    assert_eq!(
        report.verdict(Subject::Table),
        Some(Verdict::Ok),
        "{report}"
    );
    assert_eq!(report.verdict(Subject::Stream), Some(Verdict::Problem));
    assert!(
        fixes(&report, Subject::Stream)
            .iter()
            .any(|fix| fix.contains("StreamViewType=NEW_IMAGE") && fix.contains(&table)),
        "{report}"
    );
    assert_eq!(report.verdict(Subject::TimeToLive), Some(Verdict::Problem));

    let missing = diagnose_app(
        &app,
        &DoctorSettings {
            table: app.ctx.name("absent"),
            outbox_table: app.ctx.name("absent-outbox"),
            ..settings_of(&app)
        },
    )
    .await;
    assert_eq!(missing.verdict(Subject::Table), Some(Verdict::Problem));
    assert_eq!(missing.verdict(Subject::Stream), None, "{missing}");
}

#[tokio::test]
async fn a_sender_that_is_no_ses_identity_is_a_problem() {
    let app = TestApp::spawn("doctor-sender").await;
    let address = format!("{}sender@unverified.example.org", app.ctx.prefix);
    let report = diagnose_app(
        &app,
        &DoctorSettings {
            from_address: Some(address.clone()),
            ..settings_of(&app)
        },
    )
    .await;
    assert!(!report.is_healthy());
    assert_eq!(report.verdict(Subject::Sender), Some(Verdict::Problem));
    assert!(
        fixes(&report, Subject::Sender)
            .iter()
            .any(|fix| fix.contains("create-email-identity") && fix.contains(&address)),
        "{report}"
    );
}

#[tokio::test]
async fn a_developer_provider_other_than_the_pools_is_a_problem() {
    let app = TestApp::spawn("doctor-provider").await;
    let report = diagnose_app(
        &app,
        &DoctorSettings {
            developer_provider_name: "login.other.app".to_owned(),
            ..settings_of(&app)
        },
    )
    .await;
    assert!(!report.is_healthy());
    assert_eq!(
        report.verdict(Subject::IdentityPool),
        Some(Verdict::Problem)
    );
    assert!(
        fixes(&report, Subject::IdentityPool)
            .iter()
            .any(|fix| fix.contains("DEVELOPER_PROVIDER_NAME=login.mycompany.myapp")),
        "{report}"
    );
}

#[tokio::test]
async fn a_disabled_key_is_a_problem_and_parked_mail_a_warning() {
    let app = TestApp::spawn("doctor-key").await;
    let kms = aws_sdk_kms::Client::new(&app.ctx.sdk);
    kms.disable_key()
        .key_id(&app.env["KMS_KEY_ID"])
        .send()
        .await
        .expect("disabled");
    aws_sdk_sqs::Client::new(&app.ctx.sdk)
        .send_message()
        .queue_url(&app.env["DEAD_LETTER_QUEUE_URL"])
        .message_body("{}")
        .send()
        .await
        .expect("parked");
    let report = diagnose_app(&app, &settings_of(&app)).await;
    assert_eq!(report.verdict(Subject::Key), Some(Verdict::Problem));
    assert!(
        fixes(&report, Subject::Key)
            .iter()
            .any(|fix| fix.starts_with("aws kms enable-key")),
        "{report}"
    );
    assert_eq!(
        report.verdict(Subject::DeadLetterQueue),
        Some(Verdict::Warning),
        "{report}"
    );
}

fn run_doctor(binary: &PathBuf, env: &HashMap<&str, String>) -> (i32, String) {
    let output = Command::new(binary)
        .arg("doctor")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(env)
        .output()
        .expect("run lambdauth doctor");
    (
        output.status.code().expect("an exit code"),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

#[tokio::test]
async fn the_command_exits_zero_when_healthy_and_one_when_not() {
    let app = TestApp::spawn("doctor-binary").await;
    let binary = PathBuf::from(env!("CARGO_BIN_EXE_lambdauth"));
    let mut env: HashMap<&str, String> = [
        (
            "AWS_ENDPOINT_URL",
            lambdauth_tests::emulator().endpoint().to_owned(),
        ),
        ("AWS_REGION", lambdauth_tests::region()),
        ("AWS_ACCESS_KEY_ID", "test".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", "test".to_owned()),
        ("TABLE_NAME", app.table.clone()),
        ("OUTBOX_TABLE_NAME", app.outbox_table.clone()),
        ("FROM_ADDRESS", SENDER.to_owned()),
        (
            "SES_CONFIGURATION_SET",
            app.env["SES_CONFIGURATION_SET"].clone(),
        ),
    ]
    .into_iter()
    .collect();
    for name in [
        "RETRY_QUEUE_URL",
        "DEAD_LETTER_QUEUE_URL",
        "KMS_KEY_ID",
        "IDENTITY_POOL_ID",
    ] {
        env.insert(name, app.env[name].clone());
    }
    let (code, shown) = tokio::task::spawn_blocking({
        let (binary, env) = (binary.clone(), env.clone());
        move || run_doctor(&binary, &env)
    })
    .await
    .expect("ran");
    assert_eq!(code, 0, "{shown}");
    assert!(shown.contains("0 problem(s)"), "{shown}");

    env.insert("DEVELOPER_PROVIDER_NAME", "login.other.app".to_owned());
    let (code, shown) = tokio::task::spawn_blocking(move || run_doctor(&binary, &env))
        .await
        .expect("ran");
    assert_eq!(code, 1, "{shown}");
    assert!(shown.contains("PROBLEM  identity pool"), "{shown}");
    assert!(
        shown.contains("fix: set DEVELOPER_PROVIDER_NAME=login.mycompany.myapp"),
        "{shown}"
    );
}
