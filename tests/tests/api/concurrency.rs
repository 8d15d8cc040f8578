//! Races: many requests at once on one account end as if they had come one by one.

use std::sync::Arc;
use std::time::Instant;

use lambdauth_functions as functions;
use lambdauth_runtime::function::Definition;
use lambdauth_tests::app::{Answer, TestApp};
use serde_json::json;
use tokio::task::JoinSet;

/// The races here are about one account, all from one source: the limits per source (tried in
/// `limits.rs`) would refuse most of them before they reach it.
const NO_SOURCE_LIMITS: &[(&str, &str)] = &[
    ("RATE_LIMIT_MAIL", "off"),
    ("RATE_LIMIT_PASSWORD", "off"),
    ("RATE_LIMIT_LINK", "off"),
];

async fn in_parallel(
    app: &Arc<TestApp>,
    function: &'static Definition,
    bodies: Vec<String>,
) -> Vec<Answer> {
    let mut set = JoinSet::new();
    for body in bodies {
        let app = Arc::clone(app);
        set.spawn(async move { app.http(function, &body).await });
    }
    set.join_all().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hundred_parallel_signups_for_one_address_make_one_user_and_one_mail() {
    let app = Arc::new(TestApp::spawn_with("signup-race", NO_SOURCE_LIMITS).await);
    let variants = [
        "race@example.com",
        "RACE@example.com",
        "Race@Example.Com",
        " race@EXAMPLE.com ",
    ];
    let bodies = (0..100)
        .map(|i| json!({"email": variants[i % variants.len()], "password": "correct horse battery staple"}).to_string())
        .collect();
    let answers = in_parallel(&app, functions::CREATE_USER, bodies).await;
    for answer in &answers {
        assert_eq!(
            (answer.status, &answer.body),
            (200, &json!({"created": true}))
        );
    }
    let users: Vec<_> = app
        .scan()
        .await
        .into_iter()
        .filter(|item| item["type"].as_s().is_ok_and(|t| t == "user"))
        .collect();
    assert_eq!(users.len(), 1, "{users:#?}");
    let mails = app.mails("race@example.com").await;
    assert_eq!(mails.iter().filter(|m| m.kind == "verification").count(), 1);
    assert!(
        mails
            .iter()
            .filter(|m| m.kind == "already-registered")
            .count()
            <= 1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hundred_parallel_redemptions_of_one_reset_token_succeed_once() {
    let app = Arc::new(TestApp::spawn_with("reset-race", NO_SOURCE_LIMITS).await);
    let email = "redeem@example.com";
    app.http(
        functions::CREATE_USER,
        &json!({"email": email, "password": "correct horse battery staple"}).to_string(),
    )
    .await;
    app.http(
        functions::LOST_PASSWORD,
        &json!({"email": email}).to_string(),
    )
    .await;
    let token = app.last_mail(email, "password-reset").await.token.unwrap();
    let bodies = (0..100)
        .map(|i| json!({"email": email, "lost": token, "password": format!("brand new password number {i}")}).to_string())
        .collect();
    let answers = in_parallel(&app, functions::RESET_PASSWORD, bodies).await;
    let successes = answers.iter().filter(|a| a.status == 200).count();
    assert_eq!(
        successes,
        1,
        "{:?}",
        answers.iter().map(|a| a.status).collect::<Vec<_>>()
    );
    assert!(
        answers
            .iter()
            .filter(|a| a.status != 200)
            .all(|a| a.body["error"]["code"] == "InvalidToken")
    );
    // Exactly one notice of the change, too.
    let notices = app
        .mails(email)
        .await
        .into_iter()
        .filter(|m| m.kind == "password-changed")
        .count();
    assert_eq!(notices, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hundred_parallel_wrong_passwords_get_no_more_checks_than_the_lockout_allows() {
    let app = Arc::new(TestApp::spawn_with("lockout-race", NO_SOURCE_LIMITS).await);
    let email = "locked@example.com";
    app.http(
        functions::CREATE_USER,
        &json!({"email": email, "password": "correct horse battery staple"}).to_string(),
    )
    .await;
    let started = Instant::now();
    let bodies = (0..100)
        .map(|i| json!({"email": email, "password": format!("wrong guess {i}")}).to_string())
        .collect();
    let answers = in_parallel(&app, functions::LOGIN, bodies).await;
    let elapsed = started.elapsed().as_secs_f64();

    // A password is checked only after an attempt is admitted and counted, and every checked
    // wrong password answers 401; so the 401s count the checks.
    let checked = answers.iter().filter(|a| a.status == 401).count();
    let locked = answers.iter().filter(|a| a.status == 429).count();
    assert_eq!(
        checked + locked,
        100,
        "{:?}",
        answers.iter().map(|a| a.status).collect::<Vec<_>>()
    );
    assert!(
        answers
            .iter()
            .filter(|a| a.status == 429)
            .all(|a| a.headers.contains_key("retry-after"))
    );

    // Five free failures, then one more each time a wait (1 s, 2 s, 4 s, …) runs out.
    let mut allowed = 5;
    let mut waited = 0.0;
    let mut wait = 1.0;
    while waited + wait <= elapsed {
        waited += wait;
        wait *= 2.0;
        allowed += 1;
    }
    assert!(checked >= 5, "only {checked} attempts were checked");
    assert!(
        checked <= allowed + 1,
        "{checked} checks in {elapsed:.1} s; the lockout allows {allowed}"
    );

    let item = app.user_item(email).await.unwrap();
    let counted: usize = item["failedLogins"].as_n().unwrap().parse().unwrap();
    assert_eq!(counted, checked, "every checked attempt is counted");
    // The last counted failure set a lock.
    let last: i64 = item["lastFailureAt"].as_n().unwrap().parse().unwrap();
    let until: i64 = item["lockedUntil"].as_n().unwrap().parse().unwrap();
    assert!(
        until >= last + 1000,
        "locked until {until}, last failure {last}"
    );
}
