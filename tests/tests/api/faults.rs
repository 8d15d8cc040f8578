//! A throttling dependency is a 503 the client may retry, and costs the caller nothing.

use lambdauth_functions as functions;
use lambdauth_tests::app::TestApp;
use lambdauth_tests::proxy::FaultProxy;
use serde_json::json;

const PASSWORD: &str = "correct horse battery staple";

#[tokio::test]
async fn a_throttling_cognito_is_a_503_and_no_failed_attempt() {
    let app = TestApp::spawn("cognito-throttle").await;
    let email = "throttled@example.com";
    app.http(
        functions::CREATE_USER,
        &json!({"email": email, "password": PASSWORD}).to_string(),
    )
    .await;
    let token = app.last_mail(email, "verification").await.token.unwrap();
    app.http(
        functions::VERIFY_USER,
        &json!({"email": email, "verify": token}).to_string(),
    )
    .await;

    let failing = FaultProxy::failing(400, "TooManyRequestsException").await;
    let app = app.with_cognito_endpoint(failing.url());
    let answer = app
        .http(
            functions::LOGIN,
            &json!({"email": email, "password": PASSWORD}).to_string(),
        )
        .await;
    assert_eq!(answer.status, 503, "{}", answer.body);
    assert_eq!(answer.body["error"]["code"], "ServiceUnavailable");
    assert_eq!(
        answer.headers.get("retry-after").map(String::as_str),
        Some("1")
    );
    let item = app.user_item(email).await.unwrap();
    assert_eq!(item["failedLogins"].as_n().unwrap(), "0");
}

#[tokio::test]
async fn a_throttling_table_is_a_503_and_writes_nothing() {
    let app = TestApp::spawn("dynamodb-throttle").await;
    let failing = FaultProxy::failing(
        400,
        "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
    )
    .await;
    let throttled = TestApp::spawn("dynamodb-throttle-b")
        .await
        .with_dynamodb_endpoint(failing.url());
    let answer = throttled
        .http(
            functions::CREATE_USER,
            &json!({"email": "x@example.com", "password": PASSWORD}).to_string(),
        )
        .await;
    assert_eq!(answer.status, 503, "{}", answer.body);
    assert!(throttled.scan().await.is_empty());
    assert!(app.scan().await.is_empty());
}

#[tokio::test]
async fn an_internal_failure_is_a_500_with_a_request_id_and_nothing_else() {
    let failing = FaultProxy::failing(
        400,
        "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException",
    )
    .await;
    let app = TestApp::spawn("internal")
        .await
        .with_dynamodb_endpoint(failing.url());
    let answer = app
        .http(
            functions::LOST_PASSWORD,
            &json!({"email": "x@example.com"}).to_string(),
        )
        .await;
    assert_eq!(answer.status, 500);
    assert_eq!(answer.body["error"]["code"], "InternalError");
    assert_eq!(answer.body["error"]["requestId"], "test-request");
    assert!(!answer.body.to_string().contains("ResourceNotFound"));
}
