//! Bad input of every kind is a 400 with its code, and leaves every stored item as it was.

use lambdauth_functions as functions;
use lambdauth_runtime::function::Definition;
use lambdauth_tests::app::TestApp;
use serde_json::json;

#[tokio::test]
async fn bad_input_of_every_kind_is_a_400_with_its_code_and_changes_nothing() {
    let app = TestApp::spawn("bad-input").await;
    let email = "owner@example.com";
    let created = app
        .http(
            functions::CREATE_USER,
            &json!({"email": email, "password": "correct horse battery staple"}).to_string(),
        )
        .await;
    assert_eq!(created.status, 200);
    let before = app.scan_state().await;

    let long_body = json!({"email": email, "password": "x".repeat(20_000)}).to_string();
    let cases: Vec<(&'static Definition, String, &str)> = vec![
        (functions::CREATE_USER, "{not json".to_owned(), "InvalidJson"),
        (functions::CREATE_USER, String::new(), "InvalidJson"),
        (functions::LOGIN, json!({"email": email, "password": "x", "admin": true}).to_string(), "UnknownField"),
        (functions::LOGIN, json!({"email": email}).to_string(), "MissingField"),
        (functions::LOGIN, json!({"email": email, "password": 12}).to_string(), "InvalidType"),
        (functions::VERIFY_USER, json!({"email": ["a"], "verify": "x"}).to_string(), "InvalidType"),
        (functions::CREATE_USER, long_body, "BodyTooLarge"),
        (functions::CREATE_USER, json!({"email": "not-an-address", "password": "correct horse battery staple"}).to_string(), "InvalidEmail"),
        (functions::LOST_PASSWORD, json!({"email": "owner@localhost"}).to_string(), "InvalidEmail"),
        (functions::CREATE_USER, json!({"email": "new@example.com", "password": "too short"}).to_string(), "PasswordTooShort"),
        (functions::CREATE_USER, json!({"email": "new@example.com", "password": "é".repeat(600)}).to_string(), "PasswordTooLong"),
        (functions::CREATE_USER, json!({"email": "new@example.com", "password": "1q2w3e4r5t6y7u8i9o0p"}).to_string(), "PasswordTooCommon"),
        (functions::CREATE_USER, json!({"email": "someone@example.com", "password": "someone-likes-long-words"}).to_string(), "PasswordContainsEmail"),
        (functions::CHANGE_PASSWORD, json!({"email": email, "oldPassword": "correct horse battery staple", "newPassword": "short"}).to_string(), "PasswordTooShort"),
        (functions::RESET_PASSWORD, json!({"email": email, "lost": "too-short", "password": "a fine long new password"}).to_string(), "InvalidToken"),
        (functions::RESET_PASSWORD, json!({"email": email, "lost": "a".repeat(40), "password": "short"}).to_string(), "PasswordTooShort"),
        (functions::VERIFY_USER, json!({"email": email, "verify": "has spaces in it, not a token"}).to_string(), "InvalidToken"),
        (functions::LOGIN, json!(["owner@example.com", "correct horse battery staple"]).to_string(), "InvalidType"),
        (functions::CREATE_USER, json!(["new@example.com", "correct horse battery staple"]).to_string(), "InvalidType"),
        (functions::LOGIN, r#"{"email":"owner@example.com","password":"a","password":"b"}"#.to_owned(), "DuplicateField"),
        (functions::CREATE_USER, json!({"email": "own\u{202E}er@example.com", "password": "correct horse battery staple"}).to_string(), "InvalidEmail"),
        (functions::CREATE_USER, json!({"email": "owner@exam\u{200B}ple.com", "password": "correct horse battery staple"}).to_string(), "InvalidEmail"),
        (functions::CREATE_USER, json!({"email": "owner@192.168.0.1", "password": "correct horse battery staple"}).to_string(), "InvalidEmail"),
        (functions::CREATE_USER, json!({"email": "owner@example.42", "password": "correct horse battery staple"}).to_string(), "InvalidEmail"),
        (functions::CREATE_USER, json!({"email": "e\u{0301}@example.com", "password": "correct horse battery staple"}).to_string(), "InvalidEmail"),
    ];
    for (function, body, code) in &cases {
        let answer = app.http(function, body).await;
        assert_eq!(answer.status, 400, "{function:?} {code}: {}", answer.body);
        assert_eq!(
            answer.body["error"]["code"], *code,
            "{function:?}: {}",
            answer.body
        );
        assert!(
            answer.body["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty())
        );
    }
    // A direct invoke gets the same object.
    let invoked = app
        .invoke(functions::LOGIN, json!({"email": email, "passwd": "x"}))
        .await;
    assert_eq!(invoked["error"]["code"], "UnknownField");

    assert_eq!(
        app.scan_state().await,
        before,
        "bad input changed stored state"
    );
}

#[tokio::test]
async fn a_body_that_is_not_utf_8_is_invalid_json_and_never_a_lossy_password() {
    let app = TestApp::spawn("not-utf8").await;
    let mut body = br#"{"email":"bytes@example.com","password":"correct horse battery "#.to_vec();
    body.extend_from_slice(b"\xff\xff\"}");
    let event = lambdauth_local::http_api_event(functions::CREATE_USER.path(), &[], &body, "r1");
    assert_eq!(event["isBase64Encoded"], true);
    let answer = app
        .functions
        .handle_event(functions::CREATE_USER, event, "r1")
        .await;
    assert_eq!(answer["statusCode"], 400);
    let body: serde_json::Value = serde_json::from_str(answer["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["error"]["code"], "InvalidJson");
    assert!(app.user_item("bytes@example.com").await.is_none());
}

#[tokio::test]
async fn every_unicode_spelling_of_one_mailbox_is_one_account() {
    let app = TestApp::spawn("one-mailbox").await;
    let password = "correct horse battery staple";
    let created = app
        .http(
            functions::CREATE_USER,
            &json!({"email": "bob@bu\u{0308}cher.example", "password": password}).to_string(),
        )
        .await;
    assert_eq!(created.status, 200);
    let stored = "bob@xn--bcher-kva.example";
    let verification = app.last_mail(stored, "verification").await;
    for spelling in [
        "bob@b\u{00FC}cher.example",
        "BOB@B\u{00DC}CHER.EXAMPLE",
        stored,
    ] {
        let again = app
            .http(
                functions::CREATE_USER,
                &json!({"email": spelling, "password": password}).to_string(),
            )
            .await;
        assert_eq!(again.status, 200, "{spelling}");
    }
    let users: Vec<_> = app
        .scan()
        .await
        .into_iter()
        .filter(|item| item["sk"].as_s().is_ok_and(|sk| sk == "USER"))
        .collect();
    assert_eq!(users.len(), 1, "{users:?}");
    assert_eq!(users[0]["pk"].as_s().unwrap(), stored);
    let verified = app
        .http(
            functions::VERIFY_USER,
            &json!({"email": "bob@b\u{00FC}cher.example", "verify": verification.token.unwrap(), "password": password})
                .to_string(),
        )
        .await;
    assert_eq!(verified.status, 200, "{}", verified.body);
}

#[tokio::test]
async fn an_answer_never_echoes_a_password_or_token() {
    let app = TestApp::spawn("no-echo").await;
    let secret = "my secret passphrase is long";
    for body in [
        json!({"email": "a@example.com", "password": secret, "extra": secret}),
        json!({"email": secret, "password": secret}),
        json!({"email": "a@example.com", "password": 5, "x": secret}),
    ] {
        let answer = app.http(functions::LOGIN, &body.to_string()).await;
        assert!(!answer.body.to_string().contains(secret), "{}", answer.body);
    }
}
