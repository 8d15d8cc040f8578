//! Moving a LambdAuth table in: the fixture scan (and the same rows in a live table of
//! LambdAuth's shape) imported into a stack, after which every user logs in with their old
//! password (rehashed to Argon2id on the way), every link the old system mailed works once, and
//! importing again changes nothing.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use lambdauth::import::{ImportError, ImportOptions, ImportSummary, LegacySource, import_legacy};
use lambdauth_accounts::config::CoreConfig;
use lambdauth_accounts::core::{CheckedLogin, Core};
use lambdauth_accounts::login::Login;
use lambdauth_domain::usecases::login::LoginAnswer;
use lambdauth_domain::{Email, PasswordAttempt};
use lambdauth_functions as functions;
use lambdauth_runtime::function::Function as _;
use lambdauth_tests::app::{Item, TestApp};
use lambdauth_tests::legacy::{
    create_legacy_table, passwords, put_items, scan_file, scan_items, sdk_item, sorted_scan,
};
use lambdauth_tests::proxy::{Fault, FaultProxy, Rule};
use serde_json::{Value, json};

/// A password that passes today's policy, for resets and changes.
const NEW_PASSWORD: &str = "a brand new passphrase after the move";

async fn import(app: &TestApp, source: LegacySource) -> ImportSummary {
    let settings = CoreConfig::from_source(&app.env).expect("config").settings;
    let options = ImportOptions::new(source, &app.table, settings);
    import_legacy(&app.dynamodb, &options)
        .await
        .expect("the import runs")
}

async fn import_scan_file(app: &TestApp) -> ImportSummary {
    import(app, LegacySource::ScanFile(scan_file())).await
}

/// The fixture row of the legacy address `email`.
fn scan_row(email: &str) -> Value {
    scan_items()
        .into_iter()
        .find(|item| item["email"]["S"] == email)
        .unwrap_or_else(|| panic!("no row for {email}"))
}

fn legacy_text(email: &str, attribute: &str) -> Option<String> {
    scan_row(email)[attribute]["S"].as_str().map(str::to_owned)
}

fn stored_password(item: &Item) -> &str {
    item["password"].as_s().expect("password")
}

async fn login(app: &TestApp, email: &str, password: &str) -> u16 {
    app.http(
        functions::LOGIN,
        &json!({"email": email, "password": password}).to_string(),
    )
    .await
    .status
}

async fn user(app: &TestApp, legacy_email: &str) -> Item {
    let email = Email::parse(legacy_email).expect("a valid address");
    app.user_item(email.as_str())
        .await
        .unwrap_or_else(|| panic!("{legacy_email} was not imported"))
}

fn assert_complete_import(summary: &ImportSummary, imported: usize) {
    assert_eq!(summary.imported, imported, "{summary}");
    assert_eq!(summary.rows_read, scan_items().len(), "{summary}");
    assert!(summary.skipped.is_empty(), "{summary}");
    assert!(summary.is_complete(), "{summary}");
}

#[tokio::test]
async fn an_imported_user_gets_sessions_with_an_opaque_subject() {
    let app = TestApp::spawn("legacy-sessions").await;
    assert_complete_import(&import_scan_file(&app).await, passwords().len());
    let (legacy_email, password) = passwords()
        .into_iter()
        .find(|(email, _)| scan_row(email)["verified"]["BOOL"] == true)
        .expect("a verified legacy user");
    let login = app.login_session(&legacy_email, &password).await;
    let refresh_token = login["refreshToken"].as_str().expect("a refresh token");
    let item = user(&app, &legacy_email).await;
    let subject = item["subject"]
        .as_s()
        .expect("a subject given at the first login");
    assert!(
        !subject.contains('@'),
        "the subject is not the legacy identifier"
    );
    assert!(refresh_token.starts_with(subject.as_str()));
    let refreshed = app
        .http(
            functions::REFRESH_TOKEN,
            &json!({ "refreshToken": refresh_token }).to_string(),
        )
        .await;
    assert_eq!(refreshed.status, 200, "{}", refreshed.body);
    // A Cognito token again (the emulator hands out a new IdentityId per call; AWS keeps one
    // per developer user id, which a refresh passes unchanged).
    assert!(refreshed.body["token"].is_string());
}

#[tokio::test]
async fn every_imported_user_logs_in_with_their_legacy_password_and_is_rehashed_to_argon2id() {
    let app = TestApp::spawn("legacy-login").await;
    assert_complete_import(&import_scan_file(&app).await, passwords().len());
    for (legacy_email, password) in passwords() {
        let verified = scan_row(&legacy_email)["verified"]["BOOL"] == true;
        let before = user(&app, &legacy_email).await;
        assert!(
            stored_password(&before).starts_with("$pbkdf2-sha1$i=4096,l=128$"),
            "{legacy_email}"
        );
        assert_eq!(
            before["developerUserId"].as_s().unwrap(),
            &legacy_email,
            "the Cognito identifier is the address exactly as LambdAuth stored it"
        );
        assert_eq!(*before["verified"].as_bool().unwrap(), verified);

        let shouted = legacy_email.to_uppercase();
        assert_eq!(
            login(&app, &shouted, &format!("{password}!")).await,
            401,
            "{legacy_email} logged in with a wrong password"
        );
        if !verified {
            assert_eq!(login(&app, &shouted, &password).await, 401);
            assert!(stored_password(&user(&app, &legacy_email).await).starts_with("$pbkdf2"));
            continue;
        }
        assert_eq!(
            login(&app, &shouted, &password).await,
            200,
            "{legacy_email}"
        );
        let after = user(&app, &legacy_email).await;
        assert!(
            stored_password(&after).starts_with("$argon2id$"),
            "{legacy_email} was not rehashed"
        );
        // Now through the Argon2id hash.
        assert_eq!(login(&app, &legacy_email, &password).await, 200);
        assert_eq!(login(&app, &legacy_email, "not the password").await, 401);
        assert_eq!(
            after["developerUserId"], before["developerUserId"],
            "a rehash keeps the identity"
        );
    }
}

#[tokio::test]
async fn a_pending_legacy_verify_token_verifies_its_user_once() {
    let app = TestApp::spawn("legacy-verify").await;
    import_scan_file(&app).await;
    let (legacy_email, password) = ("dave@example.com", "short");
    let token = legacy_text(legacy_email, "verifyToken").expect("dave has a pending link");
    let verify = |token: String| json!({"email": legacy_email, "verify": token}).to_string();
    // Below today's policy, and still the account's password.
    assert_eq!(login(&app, legacy_email, password).await, 401);
    let wrong = app
        .http(functions::VERIFY_USER, &verify("0".repeat(256)))
        .await;
    assert_eq!(wrong.status, 400);
    let verified = app
        .http(functions::VERIFY_USER, &verify(token.clone()))
        .await;
    assert_eq!(
        (verified.status, verified.body),
        (200, json!({"verified": true}))
    );
    let again = app.http(functions::VERIFY_USER, &verify(token)).await;
    assert_eq!(again.status, 400);
    assert_eq!(again.body["error"]["code"], "InvalidToken");
    assert_eq!(login(&app, legacy_email, password).await, 200);
    assert!(stored_password(&user(&app, legacy_email).await).starts_with("$argon2id$"));
}

#[tokio::test]
async fn a_pending_legacy_lost_token_resets_the_password_once() {
    let app = TestApp::spawn("legacy-reset").await;
    import_scan_file(&app).await;
    for (legacy_email, old_password) in [
        ("Bob.Smith@Example.org", "hunter2"),
        // Unverified too: the reset proves the mailbox, so it verifies the account.
        (
            "frank@example.com",
            passwords()["frank@example.com"].as_str(),
        ),
    ] {
        let token = legacy_text(legacy_email, "lostToken").expect("a pending reset link");
        let reset = |token: &str| {
            json!({"email": legacy_email, "lost": token, "password": NEW_PASSWORD}).to_string()
        };
        let changed = app.http(functions::RESET_PASSWORD, &reset(&token)).await;
        assert_eq!(changed.status, 200, "{legacy_email}: {}", changed.body);
        assert_eq!(changed.body["changed"], true, "{legacy_email}");
        let again = app.http(functions::RESET_PASSWORD, &reset(&token)).await;
        assert_eq!(again.status, 400, "{legacy_email}");
        assert_eq!(login(&app, legacy_email, old_password).await, 401);
        assert_eq!(login(&app, legacy_email, NEW_PASSWORD).await, 200);
        let after = user(&app, legacy_email).await;
        assert!(stored_password(&after).starts_with("$argon2id$"));
        assert_eq!(after["developerUserId"].as_s().unwrap(), legacy_email);
    }
}

#[tokio::test]
async fn a_second_import_changes_nothing_even_for_a_user_rehashed_in_between() {
    let app = TestApp::spawn("legacy-twice").await;
    assert_complete_import(&import_scan_file(&app).await, passwords().len());
    assert_eq!(
        login(&app, "alice@example.com", "correct horse battery staple").await,
        200
    );
    let rehashed = user(&app, "alice@example.com").await;
    assert!(stored_password(&rehashed).starts_with("$argon2id$"));
    let first = sorted_scan(&app.dynamodb, &app.table).await;

    let second = import_scan_file(&app).await;
    assert_complete_import(&second, 0);
    assert_eq!(second.already_present, passwords().len(), "{second}");
    assert_eq!(sorted_scan(&app.dynamodb, &app.table).await, first);
    assert_eq!(user(&app, "alice@example.com").await, rehashed);
}

#[tokio::test]
async fn an_import_from_a_live_legacy_table_carries_every_user_over() {
    let app = TestApp::spawn("legacy-table").await;
    let legacy_table = app.ctx.name("legacy");
    create_legacy_table(&app.dynamodb, &legacy_table).await;
    put_items(
        &app.dynamodb,
        &legacy_table,
        scan_items().iter().map(sdk_item).collect(),
    )
    .await;
    let source = LegacySource::Table {
        name: legacy_table.clone(),
        segments: 3,
    };
    assert_complete_import(&import(&app, source.clone()).await, passwords().len());
    for (legacy_email, password) in passwords() {
        let item = user(&app, &legacy_email).await;
        let row = scan_row(&legacy_email);
        assert_eq!(item["developerUserId"].as_s().unwrap(), &legacy_email);
        assert_eq!(
            *item["verified"].as_bool().unwrap(),
            row["verified"]["BOOL"] == true
        );
        assert_eq!(
            item.contains_key("resetTokenHash"),
            row.get("lostToken").is_some()
        );
        if row["verified"]["BOOL"] == true {
            assert_eq!(
                login(&app, &legacy_email.to_lowercase(), &password).await,
                200
            );
        }
    }
    let token = legacy_text("frank@example.com", "verifyToken").unwrap();
    let verified = app
        .http(
            functions::VERIFY_USER,
            &json!({"email": "FRANK@example.com", "verify": token}).to_string(),
        )
        .await;
    assert_eq!(verified.status, 200);

    let before = sorted_scan(&app.dynamodb, &app.table).await;
    let again = import(&app, source).await;
    assert_eq!(again.already_present, passwords().len(), "{again}");
    assert_eq!(again.imported, 0, "{again}");
    assert_eq!(sorted_scan(&app.dynamodb, &app.table).await, before);
    // The legacy table is only read.
    assert_eq!(
        sorted_scan(&app.dynamodb, &legacy_table).await.len(),
        scan_items().len()
    );
}

#[tokio::test]
async fn case_duplicates_and_bad_rows_in_a_legacy_table_are_reported_and_the_verified_row_wins() {
    let app = TestApp::spawn("legacy-dups").await;
    let legacy_table = app.ctx.name("legacy");
    create_legacy_table(&app.dynamodb, &legacy_table).await;
    let alice = scan_row("alice@example.com");
    let bob = scan_row("Bob.Smith@Example.org");
    let row = |email: &str, from: &Value, verified: bool| {
        let mut row = from.clone();
        row["email"] = json!({"S": email});
        row["verified"] = json!({"BOOL": verified});
        row.as_object_mut().unwrap().remove("lostToken");
        sdk_item(&row)
    };
    let mut no_hash = row("nohash@example.com", &alice, true);
    no_hash.remove("passwordHash");
    put_items(
        &app.dynamodb,
        &legacy_table,
        vec![
            row("Zed@Example.com", &alice, false),
            row("zed@example.com", &bob, true),
            row("ZED@EXAMPLE.COM", &alice, false),
            row("not an address", &alice, true),
            no_hash,
        ],
    )
    .await;
    let summary = import(
        &app,
        LegacySource::Table {
            name: legacy_table,
            segments: 2,
        },
    )
    .await;
    assert_eq!(
        (summary.rows_read, summary.imported, summary.skipped.len()),
        (5, 1, 4),
        "{summary}"
    );
    let report = summary.to_string();
    for line in [
        "skipped  Zed@Example.com: the same address as `zed@example.com` once normalized",
        "skipped  ZED@EXAMPLE.COM: the same address as `zed@example.com` once normalized",
        "skipped  not an address: the email address is not accepted",
        "skipped  nohash@example.com: `passwordHash` is missing",
    ] {
        assert!(report.contains(line), "{line}\n{report}");
    }
    let zed = user(&app, "zed@example.com").await;
    assert_eq!(zed["developerUserId"].as_s().unwrap(), "zed@example.com");
    assert_eq!(login(&app, "Zed@Example.com", "hunter2").await, 200);
    assert_eq!(
        login(&app, "zed@example.com", "correct horse battery staple").await,
        401
    );
}

/// A login of an imported user stopped after its password was checked, for a test to change
/// the account before [`Core::finish_login`].
async fn half_login(core: &Core, email: &str, password: &str) -> CheckedLogin {
    core.check_login(
        &Email::parse(email).unwrap(),
        PasswordAttempt::new(password).unwrap(),
        None,
        None,
    )
    .await
    .unwrap()
    .expect("the user was imported")
}

/// Two logins with the right password that both rehash the legacy hash: the one that finishes
/// second finds the hash rehashed by the first, checks again and logs in too (it used to answer
/// 401 with the right password).
#[tokio::test]
async fn two_logins_that_both_rehash_the_same_password_both_succeed() {
    let app = TestApp::spawn("legacy-race-twice").await;
    import_scan_file(&app).await;
    let login_function = Login::start(&app.context, &app.env).expect("the login function");
    let core = &login_function.core;
    let (legacy_email, password) = ("alice@example.com", "correct horse battery staple");
    let first = half_login(core, legacy_email, password).await;
    let second = half_login(core, legacy_email, password).await;
    assert!(first.rehashed() && second.rehashed());
    for half in [first, second] {
        let concluded = core.finish_login(half).await.unwrap();
        assert!(
            matches!(concluded, Some(LoginAnswer::LoggedIn { .. })),
            "{concluded:?}"
        );
    }
    // The same over the API, at once.
    let (other, other_password) = ("carol@example.net", "pässwörd-ünïcødé-🔑");
    let (a, b) = tokio::join!(
        login(&app, other, other_password),
        login(&app, other, other_password)
    );
    assert_eq!((a, b), (200, 200));
}

/// The rehash at login is written on the condition that the user is still the version that was
/// read: a password changed in between wins, while a mere failed attempt in between does not
/// stop the rehash.
#[tokio::test]
async fn a_password_changed_while_a_login_rehashes_wins_over_the_rehash() {
    let app = TestApp::spawn("legacy-race").await;
    import_scan_file(&app).await;
    let login_function = Login::start(&app.context, &app.env).expect("the login function");
    let core = &login_function.core;
    let (legacy_email, password) = ("alice@example.com", "correct horse battery staple");

    // A login gets as far as a checked password and a rehash...
    let half = half_login(core, legacy_email, password).await;
    assert!(half.matched());
    assert!(half.rehashed());
    // ...when the owner changes the password.
    let changed = app
        .http(
            functions::CHANGE_PASSWORD,
            &json!({"email": legacy_email, "oldPassword": password, "newPassword": NEW_PASSWORD})
                .to_string(),
        )
        .await;
    assert_eq!(changed.status, 200, "{}", changed.body);
    let after_change = user(&app, legacy_email).await;

    let concluded = core.finish_login(half).await.unwrap();
    assert_eq!(
        concluded, None,
        "the login must not succeed over a new password"
    );
    assert_eq!(user(&app, legacy_email).await, after_change);
    assert_eq!(login(&app, legacy_email, password).await, 401);
    assert_eq!(login(&app, legacy_email, NEW_PASSWORD).await, 200);
}

#[tokio::test]
async fn a_failed_attempt_while_a_login_rehashes_does_not_stop_the_rehash() {
    let app = TestApp::spawn("legacy-race-fail").await;
    import_scan_file(&app).await;
    let login_function = Login::start(&app.context, &app.env).expect("the login function");
    let core = &login_function.core;
    let (legacy_email, password) = ("carol@example.net", "pässwörd-ünïcødé-🔑");
    let half = half_login(core, legacy_email, password).await;
    // Someone else's wrong guess bumps the version in between.
    assert_eq!(login(&app, legacy_email, "a wrong guess").await, 401);
    let concluded = core.finish_login(half).await.unwrap();
    assert!(matches!(concluded, Some(LoginAnswer::LoggedIn { .. })));
    let after = user(&app, legacy_email).await;
    assert!(stored_password(&after).starts_with("$argon2id$"));
    assert_eq!(after["failedLogins"].as_n().unwrap(), "0");
    assert_eq!(login(&app, legacy_email, password).await, 200);
}

#[tokio::test]
async fn the_lambdauth_binary_reports_a_dry_run_then_imports_then_finds_everyone_present() {
    let app = Arc::new(TestApp::spawn("legacy-cli").await);
    let binary = std::path::PathBuf::from(env!("CARGO_BIN_EXE_lambdauth"));
    let run = |extra: &'static [&'static str]| {
        let binary = binary.clone();
        let app = Arc::clone(&app);
        async move {
            let output = tokio::process::Command::new(&binary)
                .arg("import-legacy")
                .arg("--scan-file")
                .arg(scan_file())
                .args(["--table", &app.table, "--concurrency", "4"])
                .args(extra)
                .env("AWS_ENDPOINT_URL", lambdauth_tests::emulator().endpoint())
                .env("AWS_REGION", lambdauth_tests::region())
                .env("AWS_ACCESS_KEY_ID", "test")
                .env("AWS_SECRET_ACCESS_KEY", "test")
                .env_remove("AWS_PROFILE")
                .output()
                .await
                .expect("run lambdauth");
            let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
            let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
            assert!(output.status.success(), "{stdout}\n{stderr}");
            stdout
        }
    };
    let users = |app: Arc<TestApp>| async move {
        app.scan()
            .await
            .into_iter()
            .filter(|item| {
                item.get("type")
                    .and_then(|t| t.as_s().ok())
                    .is_some_and(|t| t == "user")
            })
            .count()
    };

    let dry = run(&["--dry-run"]).await;
    for line in [
        "(dry run: nothing was written)",
        "rows read:        6",
        "would import:     6",
        "already present:  0",
        "skipped:          0",
    ] {
        assert!(dry.contains(line), "{line}\n{dry}");
    }
    assert_eq!(users(Arc::clone(&app)).await, 0);

    let real = run(&[]).await;
    assert!(real.contains("imported:         6"), "{real}");
    assert!(!real.contains("dry run"), "{real}");
    assert_eq!(users(Arc::clone(&app)).await, 6);

    let again = run(&["--dry-run"]).await;
    assert!(again.contains("would import:     0"), "{again}");
    assert!(again.contains("already present:  6"), "{again}");
    let again = run(&[]).await;
    assert!(again.contains("imported:         0"), "{again}");
    assert!(again.contains("already present:  6"), "{again}");
}

#[tokio::test]
async fn an_import_into_a_missing_table_is_refused_but_its_dry_run_still_reports() {
    let app = TestApp::spawn("legacy-no-table").await;
    let settings = CoreConfig::from_source(&app.env).expect("config").settings;
    let mut options = ImportOptions::new(
        LegacySource::ScanFile(scan_file()),
        app.ctx.name("absent"),
        settings,
    );
    let refused = import_legacy(&app.dynamodb, &options).await.unwrap_err();
    assert!(
        matches!(refused, ImportError::TargetTableMissing(ref table) if *table == options.target_table),
        "{refused}"
    );
    options.dry_run = true;
    let summary = import_legacy(&app.dynamodb, &options).await.unwrap();
    assert_eq!(summary.imported, passwords().len(), "{summary}");
    assert_eq!(summary.warnings.len(), 1, "{summary}");
}

#[tokio::test]
async fn a_scan_file_that_is_not_a_scan_is_a_clear_error() {
    let app = TestApp::spawn("legacy-bad-file").await;
    let settings = CoreConfig::from_source(&app.env).expect("config").settings;
    let path = std::env::temp_dir().join(format!("{}scan.json", app.ctx.prefix));
    std::fs::write(&path, r#"{"Count": 0}"#).unwrap();
    let options = ImportOptions::new(LegacySource::ScanFile(path.clone()), &app.table, settings);
    let error = import_legacy(&app.dynamodb, &options).await.unwrap_err();
    std::fs::remove_file(&path).unwrap();
    assert!(
        matches!(error, ImportError::MalformedScanFile { .. }),
        "{error}"
    );
    assert!(error.to_string().contains("no `Items` array"), "{error}");
    let missing = ImportOptions::new(LegacySource::ScanFile(path), &app.table, settings);
    let error = import_legacy(&app.dynamodb, &missing).await.unwrap_err();
    assert!(matches!(error, ImportError::ReadScanFile { .. }), "{error}");
}

/// A DynamoDB client for `app` that reaches the emulator through `proxy` and does not retry by
/// itself, so every throttle the proxy answers reaches the import's own back-off.
fn client_through(app: &TestApp, proxy: &FaultProxy) -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::from_conf(
        aws_sdk_dynamodb::config::Builder::from(&app.ctx.sdk)
            .endpoint_url(proxy.url())
            .retry_config(aws_config::retry::RetryConfig::disabled())
            .build(),
    )
}

#[tokio::test]
async fn throttled_writes_are_retried_and_a_user_still_throttled_is_finished_by_a_second_run() {
    let app = TestApp::spawn("legacy-throttle").await;
    let settings = CoreConfig::from_source(&app.env).expect("config").settings;
    let mut options = ImportOptions::new(LegacySource::ScanFile(scan_file()), &app.table, settings);
    options.concurrency = 2;

    // The first eight conditional writes are throttled: fewer than the attempts a user gets.
    let throttled = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&throttled);
    let rule: Rule = Arc::new(move |seen| {
        (seen.body.contains("attribute_not_exists")
            && counter
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                    (n < 8).then_some(n + 1)
                })
                .is_ok())
        .then_some(Fault::DynamoDbThrottle)
    });
    let proxy = FaultProxy::start(lambdauth_tests::emulator().endpoint(), rule).await;
    let summary = import_legacy(&client_through(&app, &proxy), &options)
        .await
        .unwrap();
    assert_eq!(throttled.load(Ordering::SeqCst), 8);
    assert_complete_import(&summary, passwords().len());

    // One user throttled on every attempt is reported, and running again finishes the job.
    let app = TestApp::spawn("legacy-throttle-again").await;
    options.target_table.clone_from(&app.table);
    let rule: Rule = Arc::new(|seen| {
        (seen.body.contains("attribute_not_exists") && seen.body.contains("carol@example.net"))
            .then_some(Fault::DynamoDbThrottle)
    });
    let proxy = FaultProxy::start(lambdauth_tests::emulator().endpoint(), rule).await;
    let first = import_legacy(&client_through(&app, &proxy), &options)
        .await
        .unwrap();
    assert_eq!(first.imported, passwords().len() - 1, "{first}");
    assert_eq!(
        first
            .failed
            .iter()
            .map(|(email, _)| email.as_str())
            .collect::<Vec<_>>(),
        vec!["carol@example.net"],
        "{first}"
    );
    assert!(!first.is_complete());
    assert!(
        first.to_string().contains("run the same command again"),
        "{first}"
    );
    let second = import_legacy(&app.dynamodb, &options).await.unwrap();
    assert_eq!(
        (second.imported, second.already_present),
        (1, passwords().len() - 1),
        "{second}"
    );
    assert!(second.is_complete(), "{second}");
}
