//! With existence errors prevented (the default), no answer tells whether an address has an
//! account; with the setting off, the original's answers come back.

use lambdauth_functions as functions;
use lambdauth_tests::app::TestApp;
use serde_json::{Value, json};

const PASSWORD: &str = "correct horse battery staple";

async fn verified_user(app: &TestApp, email: &str) {
    app.http(
        functions::CREATE_USER,
        &json!({"email": email, "password": PASSWORD}).to_string(),
    )
    .await;
    let token = app.last_mail(email, "verification").await.token.unwrap();
    let verified = app
        .http(
            functions::VERIFY_USER,
            &json!({"email": email, "verify": token}).to_string(),
        )
        .await;
    assert_eq!(verified.status, 200);
}

fn login(email: &str, password: &str) -> String {
    json!({"email": email, "password": password}).to_string()
}

#[tokio::test]
async fn unknown_address_wrong_password_and_unverified_account_answer_alike() {
    let app = TestApp::spawn("existence").await;
    verified_user(&app, "known@example.com").await;
    app.http(
        functions::CREATE_USER,
        &login("pending@example.com", PASSWORD),
    )
    .await;

    let unknown = app
        .http(functions::LOGIN, &login("nobody@example.com", PASSWORD))
        .await;
    let wrong = app
        .http(
            functions::LOGIN,
            &login("known@example.com", "not the password at all"),
        )
        .await;
    let unverified = app
        .http(functions::LOGIN, &login("pending@example.com", PASSWORD))
        .await;
    assert_eq!(unknown.status, 401);
    assert_eq!((unknown.status, &unknown.body), (wrong.status, &wrong.body));
    assert_eq!(
        (unknown.status, &unknown.body),
        (unverified.status, &unverified.body)
    );
    assert_eq!(unknown.headers, wrong.headers);

    // Changing a password: the same.
    let change = |email: &str| {
        json!({"email": email, "oldPassword": "not the password at all", "newPassword": "a new long passphrase"}).to_string()
    };
    let a = app
        .http(functions::CHANGE_PASSWORD, &change("nobody@example.com"))
        .await;
    let b = app
        .http(functions::CHANGE_PASSWORD, &change("known@example.com"))
        .await;
    assert_eq!((a.status, &a.body), (b.status, &b.body));
}

#[tokio::test]
async fn signup_lost_password_and_verify_do_not_tell_either() {
    let app = TestApp::spawn("existence-mail").await;
    verified_user(&app, "known@example.com").await;

    let fresh = app
        .http(
            functions::CREATE_USER,
            &login("fresh@example.com", PASSWORD),
        )
        .await;
    let taken = app
        .http(
            functions::CREATE_USER,
            &login("known@example.com", PASSWORD),
        )
        .await;
    assert_eq!((fresh.status, &fresh.body), (taken.status, &taken.body));
    // The owner is told instead, once.
    app.last_mail("known@example.com", "already-registered")
        .await;
    app.http(
        functions::CREATE_USER,
        &login("KNOWN@example.com", PASSWORD),
    )
    .await;
    let notices = app
        .mails("known@example.com")
        .await
        .into_iter()
        .filter(|m| m.kind == "already-registered")
        .count();
    assert_eq!(notices, 1, "notices have a cooldown");

    let lost = |email: &str| json!({"email": email}).to_string();
    let known = app
        .http(functions::LOST_PASSWORD, &lost("known@example.com"))
        .await;
    let unknown = app
        .http(functions::LOST_PASSWORD, &lost("nobody@example.com"))
        .await;
    assert_eq!((known.status, &known.body), (unknown.status, &unknown.body));
    assert_eq!(known.body, json!({"sent": true}));

    let verify = |email: &str| json!({"email": email, "verify": "a".repeat(43)}).to_string();
    let known = app
        .http(functions::VERIFY_USER, &verify("known@example.com"))
        .await;
    let unknown = app
        .http(functions::VERIFY_USER, &verify("nobody@example.com"))
        .await;
    assert_eq!((known.status, &known.body), (unknown.status, &unknown.body));
}

#[tokio::test]
async fn without_prevention_the_original_answers_come_back() {
    let app = TestApp::spawn_with(
        "seed-answers",
        &[("PREVENT_USER_EXISTENCE_ERRORS", "false")],
    )
    .await;
    verified_user(&app, "known@example.com").await;
    app.http(
        functions::CREATE_USER,
        &login("pending@example.com", PASSWORD),
    )
    .await;

    let field = |v: &Value, name: &str| v[name].clone();
    let taken = app
        .invoke(
            functions::CREATE_USER,
            json!({"email": "known@example.com", "password": PASSWORD}),
        )
        .await;
    assert_eq!(field(&taken, "created"), json!(false));
    let lost = app
        .invoke(
            functions::LOST_PASSWORD,
            json!({"email": "nobody@example.com"}),
        )
        .await;
    assert_eq!(field(&lost, "sent"), json!(false));
    let verify = app
        .invoke(
            functions::VERIFY_USER,
            json!({"email": "pending@example.com", "verify": "a".repeat(43)}),
        )
        .await;
    assert_eq!(field(&verify, "verified"), json!(false));
    // The original said an already verified address is verified, whatever the token.
    let verify = app
        .invoke(
            functions::VERIFY_USER,
            json!({"email": "known@example.com", "verify": "a".repeat(43)}),
        )
        .await;
    assert_eq!(verify, json!({"verified": true}));
    let unverified = app
        .invoke(
            functions::LOGIN,
            json!({"email": "pending@example.com", "password": PASSWORD}),
        )
        .await;
    assert_eq!(
        (field(&unverified, "login"), field(&unverified, "verified")),
        (json!(false), json!(false))
    );

    let http = app
        .http(
            functions::CREATE_USER,
            &login("known@example.com", PASSWORD),
        )
        .await;
    assert_eq!(http.status, 409);
    assert_eq!(http.body["error"]["code"], "UserExists");
}
