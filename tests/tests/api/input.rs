//! Bad input of every kind is a 400 with its code, and leaves every stored item as it was.

use lambdauth_handlers::Function;
use lambdauth_tests::app::TestApp;
use serde_json::json;

#[tokio::test]
async fn bad_input_of_every_kind_is_a_400_with_its_code_and_changes_nothing() {
    let app = TestApp::spawn("bad-input").await;
    let email = "owner@example.com";
    let created = app
        .http(
            Function::CreateUser,
            &json!({"email": email, "password": "correct horse battery staple"}).to_string(),
        )
        .await;
    assert_eq!(created.status, 200);
    let before = app.scan().await;

    let long_body = json!({"email": email, "password": "x".repeat(20_000)}).to_string();
    let cases: Vec<(Function, String, &str)> = vec![
        (Function::CreateUser, "{not json".to_owned(), "InvalidJson"),
        (Function::CreateUser, String::new(), "InvalidJson"),
        (Function::Login, json!({"email": email, "password": "x", "admin": true}).to_string(), "UnknownField"),
        (Function::Login, json!({"email": email}).to_string(), "MissingField"),
        (Function::Login, json!({"email": email, "password": 12}).to_string(), "InvalidType"),
        (Function::VerifyUser, json!({"email": ["a"], "verify": "x"}).to_string(), "InvalidType"),
        (Function::CreateUser, long_body, "BodyTooLarge"),
        (Function::CreateUser, json!({"email": "not-an-address", "password": "correct horse battery staple"}).to_string(), "InvalidEmail"),
        (Function::LostPassword, json!({"email": "owner@localhost"}).to_string(), "InvalidEmail"),
        (Function::CreateUser, json!({"email": "new@example.com", "password": "too short"}).to_string(), "PasswordTooShort"),
        (Function::CreateUser, json!({"email": "new@example.com", "password": "é".repeat(600)}).to_string(), "PasswordTooLong"),
        (Function::CreateUser, json!({"email": "new@example.com", "password": "1q2w3e4r5t6y7u8i9o0p"}).to_string(), "PasswordTooCommon"),
        (Function::CreateUser, json!({"email": "someone@example.com", "password": "someone-likes-long-words"}).to_string(), "PasswordContainsEmail"),
        (Function::ChangePassword, json!({"email": email, "oldPassword": "correct horse battery staple", "newPassword": "short"}).to_string(), "PasswordTooShort"),
        (Function::ResetPassword, json!({"email": email, "lost": "too-short", "password": "a fine long new password"}).to_string(), "InvalidToken"),
        (Function::ResetPassword, json!({"email": email, "lost": "a".repeat(40), "password": "short"}).to_string(), "PasswordTooShort"),
        (Function::VerifyUser, json!({"email": email, "verify": "has spaces in it, not a token"}).to_string(), "InvalidToken"),
    ];
    for (function, body, code) in &cases {
        let answer = app.http(*function, body).await;
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
        .invoke(Function::Login, json!({"email": email, "passwd": "x"}))
        .await;
    assert_eq!(invoked["error"]["code"], "UnknownField");

    assert_eq!(app.scan().await, before, "bad input changed stored state");
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
        let answer = app.http(Function::Login, &body.to_string()).await;
        assert!(!answer.body.to_string().contains(secret), "{}", answer.body);
    }
}
