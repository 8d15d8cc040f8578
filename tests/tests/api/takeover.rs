//! Takeover before signup, tried as an attacker would: a stranger signs the victim's address up
//! with the stranger's password before the victim does. Only the link mailed for a signup makes
//! its password the account's, and once an address is signed up twice a link verifies only with
//! the password of its own signup: the victim's own signup and link win, and following the
//! stranger's link (which came first, or was the only one inside the cooldown) applies nothing.

use std::time::Duration;

use lambdauth_functions as functions;
use lambdauth_runtime::function::Definition;
use lambdauth_tests::app::{Answer, Mail, TestApp, run_until};
use serde_json::json;

const ATTACKERS: &str = "the attackers own long passphrase";
const VICTIMS: &str = "the victims own long passphrase";

async fn call(app: &TestApp, function: &'static Definition, body: serde_json::Value) -> Answer {
    app.http(function, &body.to_string()).await
}

fn verify(victim: &str, link: &Mail, password: Option<&str>) -> serde_json::Value {
    let mut body = json!({"email": victim, "verify": link.token.clone().unwrap()});
    if let Some(password) = password {
        body["password"] = json!(password);
    }
    body
}

fn login(victim: &str, password: &str) -> serde_json::Value {
    json!({"email": victim, "password": password})
}

/// The stranger signs the victim's address up, then the victim does; the stranger's link.
async fn the_stranger_then_the_victim_sign_up(app: &TestApp, victim: &str) -> Mail {
    let signup = |password: &str| json!({"email": victim, "password": password});
    assert_eq!(
        call(app, functions::CREATE_USER, signup(ATTACKERS))
            .await
            .status,
        200
    );
    let attackers_link = app.last_mail(victim, "verification").await;
    assert_eq!(
        call(app, functions::CREATE_USER, signup(VICTIMS))
            .await
            .status,
        200
    );
    attackers_link
}

/// The victim follows their own link with their password: the account opens with the victim's
/// password, not with the stranger's.
async fn the_victim_verifies_and_owns_the_account(app: &TestApp, victim: &str, link: &Mail) {
    let verified = call(
        app,
        functions::VERIFY_USER,
        verify(victim, link, Some(VICTIMS)),
    )
    .await;
    assert_eq!(verified.status, 200, "{}", verified.body);
    let opens = |password: &str| call(app, functions::LOGIN, login(victim, password));
    assert_eq!(opens(VICTIMS).await.status, 200);
    assert_eq!(opens(ATTACKERS).await.status, 401);
}

#[tokio::test]
async fn a_stranger_who_signed_the_address_up_first_never_gets_the_account() {
    // No cooldown between verification mails, so the victim's signup mails a link at once.
    let app = TestApp::spawn_with("takeover", &[("VERIFICATION_COOLDOWN_SECONDS", "0")]).await;
    let victim = format!("{}victim@example.com", app.ctx.prefix);
    let attackers_link = the_stranger_then_the_victim_sign_up(&app, &victim).await;
    let victims_link = app.last_mail(&victim, "verification").await;
    assert_ne!(victims_link.id, attackers_link.id);
    assert_eq!(
        victims_link.item["earlierSignupPending"].as_bool().ok(),
        Some(&true),
        "the victim's mail says an earlier signup was waiting"
    );

    // The victim follows their own link with their password: it is the account's.
    the_victim_verifies_and_owns_the_account(&app, &victim, &victims_link).await;
    // The stranger's link, followed later with any password, does nothing.
    for password in [None, Some(ATTACKERS), Some(VICTIMS)] {
        let late = call(
            &app,
            functions::VERIFY_USER,
            verify(&victim, &attackers_link, password),
        )
        .await;
        assert_eq!(late.status, 400, "{}", late.body);
    }
    assert_eq!(
        call(&app, functions::LOGIN, login(&victim, ATTACKERS))
            .await
            .status,
        401
    );
    assert_eq!(
        call(&app, functions::LOGIN, login(&victim, VICTIMS))
            .await
            .status,
        200
    );

    // The mail the victim received explains the earlier signup in words.
    let mailer = app.mailer();
    let mut mappings = app.mappings().await;
    run_until(&mut mappings, &mailer, 50, async || {
        app.sent_mails(&victim).len() >= 2
    })
    .await;
    let sent = app.sent_mails(&victim);
    assert!(
        sent.iter()
            .any(|mail| mail.text.contains("already signed up once")),
        "{sent:?}"
    );
}

/// The victim signs up inside the cooldown of the stranger's mail: no second mail goes out, and
/// the only link in the victim's inbox is the stranger's. Following it, as a victim who thinks
/// it is theirs would, applies nothing: it asks for the password of the stranger's signup.
#[tokio::test]
async fn the_strangers_link_asks_for_the_strangers_password_once_the_address_is_contested() {
    let app = TestApp::spawn_with(
        "takeover-cooldown",
        &[("VERIFICATION_COOLDOWN_SECONDS", "3")],
    )
    .await;
    let victim = format!("{}victim@example.com", app.ctx.prefix);
    let attackers_link = the_stranger_then_the_victim_sign_up(&app, &victim).await;
    assert_eq!(
        app.mails(&victim).await.len(),
        1,
        "no mail inside the cooldown"
    );

    let without = call(
        &app,
        functions::VERIFY_USER,
        verify(&victim, &attackers_link, None),
    )
    .await;
    assert_eq!(without.status, 401, "{}", without.body);
    assert_eq!(without.body["verified"], false);
    assert_eq!(without.body["error"]["code"], "PasswordRequired");
    let victims_password = call(
        &app,
        functions::VERIFY_USER,
        verify(&victim, &attackers_link, Some(VICTIMS)),
    )
    .await;
    assert_eq!(victims_password.status, 401, "{}", victims_password.body);
    assert_eq!(victims_password.body["error"]["code"], "InvalidCredentials");
    // Nothing was verified: neither password opens the account.
    for password in [ATTACKERS, VICTIMS] {
        assert_eq!(
            call(&app, functions::LOGIN, login(&victim, password))
                .await
                .status,
            401
        );
    }

    // After the cooldown the victim signs up again and verifies with their own link.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        call(
            &app,
            functions::CREATE_USER,
            json!({"email": victim, "password": VICTIMS})
        )
        .await
        .status,
        200
    );
    let victims_link = app.last_mail(&victim, "verification").await;
    assert_ne!(victims_link.id, attackers_link.id);
    the_victim_verifies_and_owns_the_account(&app, &victim, &victims_link).await;
}

/// A stranger who keeps signing the address up after its owner, a minute apart (each past the
/// verification mail's cooldown), cannot push the owner's waiting signup out: its link still
/// verifies with the owner's password, and opens the account with it.
#[tokio::test]
async fn later_signups_of_a_stranger_cannot_push_out_the_owners_waiting_signup() {
    let clock = std::sync::Arc::new(lambdauth_tests::clock::MovableClock::default());
    let app = TestApp::spawn("takeover-flood")
        .await
        .with_clock(clock.clone());
    let victim = app.address("victim");
    let signup = |password: &str| json!({"email": victim, "password": password});
    assert_eq!(
        call(&app, functions::CREATE_USER, signup(VICTIMS))
            .await
            .status,
        200
    );
    let victims_link = app.last_mail(&victim, "verification").await;
    for _ in 0..6 {
        clock.advance(Duration::from_secs(61));
        let answer = call(&app, functions::CREATE_USER, signup(ATTACKERS)).await;
        assert_eq!(answer.status, 200, "{}", answer.body);
    }
    // Two of the stranger's signups found a place and were mailed; the rest got no link.
    let verification_mails = app
        .mails(&victim)
        .await
        .into_iter()
        .filter(|mail| mail.kind == "verification")
        .count();
    assert_eq!(verification_mails, 3);
    the_victim_verifies_and_owns_the_account(&app, &victim, &victims_link).await;
}
