//! Takeover before signup, tried as an attacker would: a stranger signs the victim's address up
//! with the stranger's password before the victim does. Only the link mailed for a signup makes
//! its password the account's, so the victim's own signup and link win and the stranger's
//! password and link are worthless.

use lambdauth_handlers::Function;
use lambdauth_tests::app::{TestApp, run_until};
use serde_json::json;

const ATTACKERS: &str = "the attackers own long passphrase";
const VICTIMS: &str = "the victims own long passphrase";

async fn status(app: &TestApp, function: Function, body: serde_json::Value) -> u16 {
    app.http(function, &body.to_string()).await.status
}

#[tokio::test]
async fn a_stranger_who_signed_the_address_up_first_never_gets_the_account() {
    // No cooldown between verification mails, so the victim's signup mails a link at once.
    let app = TestApp::spawn_with("takeover", &[("VERIFICATION_COOLDOWN_SECONDS", "0")]).await;
    let victim = format!("{}victim@example.com", app.ctx.prefix);
    let signup = |password: &str| json!({"email": victim, "password": password});

    assert_eq!(
        status(&app, Function::CreateUser, signup(ATTACKERS)).await,
        200
    );
    let attackers_link = app.last_mail(&victim, "verification").await;
    assert_eq!(
        status(&app, Function::CreateUser, signup(VICTIMS)).await,
        200
    );
    let victims_link = app.last_mail(&victim, "verification").await;
    assert_ne!(victims_link.id, attackers_link.id);
    assert_eq!(
        victims_link.item["earlierSignupPending"].as_bool().ok(),
        Some(&true),
        "the victim's mail says an earlier signup was waiting"
    );

    // The victim follows their own link: their password is the account's.
    let verify = |link: &lambdauth_tests::app::Mail| json!({"email": victim, "verify": link.token.clone().unwrap()});
    assert_eq!(
        status(&app, Function::VerifyUser, verify(&victims_link)).await,
        200
    );
    let login = |password: &str| json!({"email": victim, "password": password});
    assert_eq!(status(&app, Function::Login, login(VICTIMS)).await, 200);
    assert_eq!(status(&app, Function::Login, login(ATTACKERS)).await, 401);
    // The stranger's link, followed later, does nothing.
    assert_eq!(
        status(&app, Function::VerifyUser, verify(&attackers_link)).await,
        400
    );
    assert_eq!(status(&app, Function::Login, login(ATTACKERS)).await, 401);
    assert_eq!(status(&app, Function::Login, login(VICTIMS)).await, 200);

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

#[tokio::test]
async fn whichever_signups_link_is_followed_first_sets_its_password_and_ends_the_others() {
    let app =
        TestApp::spawn_with("takeover-first", &[("VERIFICATION_COOLDOWN_SECONDS", "0")]).await;
    let victim = format!("{}victim@example.com", app.ctx.prefix);
    let signup = |password: &str| json!({"email": victim, "password": password});
    assert_eq!(
        status(&app, Function::CreateUser, signup(ATTACKERS)).await,
        200
    );
    let attackers_link = app.last_mail(&victim, "verification").await;
    assert_eq!(
        status(&app, Function::CreateUser, signup(VICTIMS)).await,
        200
    );
    let victims_link = app.last_mail(&victim, "verification").await;
    // Only someone who reads the victim's mailbox has either link: whichever is used first
    // applies its own password and ends the other.
    let verify = |link: &lambdauth_tests::app::Mail| json!({"email": victim, "verify": link.token.clone().unwrap()});
    assert_eq!(
        status(&app, Function::VerifyUser, verify(&attackers_link)).await,
        200
    );
    assert_eq!(
        status(&app, Function::VerifyUser, verify(&victims_link)).await,
        400
    );
    let login = |password: &str| json!({"email": victim, "password": password});
    assert_eq!(status(&app, Function::Login, login(ATTACKERS)).await, 200);
    assert_eq!(status(&app, Function::Login, login(VICTIMS)).await, 401);
}
