//! The whole user journey through the six functions, over HTTP API events and over direct
//! invokes, with every link token taken from the outbox as the mailer would (decrypted by KMS).

use lambdauth_functions as functions;
use lambdauth_tests::app::TestApp;
use serde_json::json;

const FIRST: &str = "correct horse battery staple";
const SECOND: &str = "a second quite long passphrase";
const THIRD: &str = "and a third one for the reset";

/// A reset's answer: changed, with the resetting device's new device token.
fn assert_reset(answer: &serde_json::Value) {
    assert_eq!(answer["changed"], true, "{answer}");
    assert!(
        answer["deviceToken"].is_string(),
        "the resetting device is known: {answer}"
    );
}

#[tokio::test]
async fn the_whole_journey_over_http() {
    let app = TestApp::spawn("journey-http").await;
    let body = |v: serde_json::Value| v.to_string();

    let created = app
        .http_with(
            functions::CREATE_USER,
            &body(json!({"email": "  Journey@Example.COM ", "password": FIRST})),
            &[("accept-language", "de-DE,de;q=0.9")],
        )
        .await;
    assert_eq!(
        (created.status, created.body.clone()),
        (200, json!({"created": true}))
    );

    let email = "journey@example.com";
    let verification = app.last_mail(email, "verification").await;
    assert_eq!(verification.item["locale"].as_s().unwrap(), "de");
    assert_eq!(verification.item["status"].as_s().unwrap(), "pending");

    // Not verified yet: login fails.
    let early = app
        .http(
            functions::LOGIN,
            &body(json!({"email": email, "password": FIRST})),
        )
        .await;
    assert_eq!(early.status, 401);

    let verified = app
        .http(
            functions::VERIFY_USER,
            &body(json!({"email": "JOURNEY@example.com", "verify": verification.token.unwrap()})),
        )
        .await;
    assert_eq!(
        (verified.status, verified.body),
        (200, json!({"verified": true}))
    );

    let login = app
        .http(
            functions::LOGIN,
            &body(json!({"email": email, "password": FIRST})),
        )
        .await;
    assert_eq!(login.status, 200, "{}", login.body);
    assert_eq!(login.body["login"], true);
    assert!(
        login.body["identityId"]
            .as_str()
            .is_some_and(|id| !id.is_empty())
    );
    assert!(login.body["token"].as_str().is_some_and(|t| !t.is_empty()));
    assert_eq!(login.body["expiresIn"], 900);

    let changed = app
        .http(
            functions::CHANGE_PASSWORD,
            &body(json!({"email": email, "oldPassword": FIRST, "newPassword": SECOND})),
        )
        .await;
    assert_eq!(
        (changed.status, changed.body),
        (200, json!({"changed": true}))
    );
    app.last_mail(email, "password-changed").await;

    let lost = app
        .http(functions::LOST_PASSWORD, &body(json!({"email": email})))
        .await;
    assert_eq!((lost.status, lost.body), (200, json!({"sent": true})));
    let reset_mail = app.last_mail(email, "password-reset").await;

    let reset = app
        .http(
            functions::RESET_PASSWORD,
            &body(json!({"email": email, "lost": reset_mail.token.clone().unwrap(), "password": THIRD})),
        )
        .await;
    assert_reset(&reset.body);

    // The reset link works once.
    let again = app
        .http(
            functions::RESET_PASSWORD,
            &body(json!({"email": email, "lost": reset_mail.token.unwrap(), "password": THIRD})),
        )
        .await;
    assert_eq!(again.status, 400);
    assert_eq!(again.body["error"]["code"], "InvalidToken");

    let new_login = app
        .http(
            functions::LOGIN,
            &body(json!({"email": email, "password": THIRD})),
        )
        .await;
    assert_eq!(new_login.status, 200, "{}", new_login.body);
    for old in [FIRST, SECOND] {
        let refused = app
            .http(
                functions::LOGIN,
                &body(json!({"email": email, "password": old})),
            )
            .await;
        assert_eq!(refused.status, 401, "{old}");
        assert_eq!(refused.body["login"], false);
    }

    assert_no_secret_at_rest(&app, &[FIRST, SECOND, THIRD]).await;
}

#[tokio::test]
async fn the_whole_journey_by_direct_invoke() {
    let app = TestApp::spawn("journey-invoke").await;
    let email = "invoke@example.com";

    let created = app
        .invoke(
            functions::CREATE_USER,
            json!({"email": email, "password": FIRST}),
        )
        .await;
    assert_eq!(created, json!({"created": true}));
    let verification = app.last_mail(email, "verification").await;
    let verified = app
        .invoke(
            functions::VERIFY_USER,
            json!({"email": email, "verify": verification.token.unwrap()}),
        )
        .await;
    assert_eq!(verified, json!({"verified": true}));

    let login = app
        .invoke(functions::LOGIN, json!({"email": email, "password": FIRST}))
        .await;
    assert_eq!(login["login"], true, "{login}");
    assert!(login["identityId"].is_string() && login["token"].is_string());

    let changed = app
        .invoke(
            functions::CHANGE_PASSWORD,
            json!({"email": email, "oldPassword": FIRST, "newPassword": SECOND}),
        )
        .await;
    assert_eq!(changed, json!({"changed": true}));

    let lost = app
        .invoke(functions::LOST_PASSWORD, json!({"email": email}))
        .await;
    assert_eq!(lost, json!({"sent": true}));
    let reset_mail = app.last_mail(email, "password-reset").await;
    let reset = app
        .invoke(
            functions::RESET_PASSWORD,
            json!({"email": email, "lost": reset_mail.token.unwrap(), "password": THIRD}),
        )
        .await;
    assert_reset(&reset);

    let login = app
        .invoke(functions::LOGIN, json!({"email": email, "password": THIRD}))
        .await;
    assert_eq!(login["login"], true);
    let old = app
        .invoke(functions::LOGIN, json!({"email": email, "password": FIRST}))
        .await;
    assert_eq!(old["login"], false);
    assert_eq!(old["error"]["code"], "InvalidCredentials");

    assert_no_secret_at_rest(&app, &[FIRST, SECOND, THIRD]).await;
}

/// No item holds a password or a link token in clear: only Argon2id hashes, token hashes and
/// KMS ciphertext.
async fn assert_no_secret_at_rest(app: &TestApp, passwords: &[&str]) {
    let items = app.scan().await;
    assert!(!items.is_empty());
    let mut secrets: Vec<String> = passwords.iter().map(|p| (*p).to_owned()).collect();
    for item in items
        .iter()
        .filter(|item| item["type"].as_s().is_ok_and(|t| t == "user"))
    {
        let email = item["email"].as_s().unwrap();
        secrets.extend(
            app.mails(email)
                .await
                .into_iter()
                .filter_map(|mail| mail.token),
        );
    }
    assert!(secrets.len() > passwords.len(), "the journey mailed tokens");
    for item in &items {
        let dump = format!("{item:?}");
        for secret in &secrets {
            assert!(
                !dump.contains(secret.as_str()),
                "an item holds a secret in clear: {dump}"
            );
        }
        if let Some(password) = item.get("password") {
            assert!(password.as_s().unwrap().starts_with("$argon2id$"));
        }
    }
}
