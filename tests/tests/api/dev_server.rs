//! The dev server's HTTP edge tried as a client would: bytes that are not UTF-8, a JSON body
//! that is not an object, a body of megabytes, a path segment no file can have, CORS from
//! another local origin, the sent-mail pages reached under another host name, SES reached where
//! `AWS_ENDPOINT_URL_SESV2` says, and a port that is taken.

use std::time::Duration;

use lambdauth_local::dev::{DevOptions, DevServer, default_www};
use lambdauth_tests::TestContext;
use lambdauth_tests::proxy::FaultProxy;
use serde_json::{Value, json};

async fn post(url: &str, body: impl Into<reqwest::Body>) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("an answer");
    let status = response.status().as_u16();
    let text = response.text().await.unwrap_or_default();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

#[tokio::test]
async fn malformed_bodies_are_json_400s_with_their_codes() {
    let ctx = TestContext::new("dev-bodies").await;
    let server = ctx.dev_server(&[]).await;
    let login = format!("{}/login", server.url());

    let mut not_utf8 = br#"{"email":"a@example.com","password":"correct horse battery "#.to_vec();
    not_utf8.extend_from_slice(b"\xff\xfe\"}");
    let (status, body) = post(&login, not_utf8).await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (400, &json!("InvalidJson"))
    );

    let array = json!(["a@example.com", "correct horse battery staple"]).to_string();
    let (status, body) = post(&format!("{}/users", server.url()), array).await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (400, &json!("InvalidType"))
    );
    assert!(ctx_has_no_users(&ctx).await, "an array created a user");

    for size in [20_000, 3 * 1024 * 1024] {
        let huge = format!(
            r#"{{"email":"a@example.com","password":"{}"}}"#,
            "x".repeat(size)
        );
        let (status, body) = post(&login, huge).await;
        assert_eq!(
            (status, &body["error"]["code"]),
            (400, &json!("BodyTooLarge")),
            "{size} bytes"
        );
    }

    let twice = r#"{"email":"a@example.com","password":"p","password":"q"}"#;
    let (status, body) = post(&login, twice).await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (400, &json!("DuplicateField"))
    );

    let long_segment = format!("{}/{}", server.url(), "a".repeat(300));
    let status = reqwest::get(&long_segment)
        .await
        .expect("an answer")
        .status();
    assert_eq!(status.as_u16(), 404);
    server.stop().await;
}

async fn ctx_has_no_users(ctx: &TestContext) -> bool {
    let scan = aws_sdk_dynamodb::Client::new(&ctx.sdk)
        .scan()
        .table_name(ctx.name("users"))
        .send()
        .await
        .expect("scan");
    // The sources' buckets count requests; they are not users.
    scan.items()
        .iter()
        .all(|item| item["pk"].as_s().is_ok_and(|pk| pk.starts_with("SOURCE#")))
}

#[tokio::test]
async fn cors_follows_the_allowed_origin_setting() {
    let ctx = TestContext::new("dev-cors").await;
    let client = reqwest::Client::new();
    let page = "http://127.0.0.1:5173";
    for (allowed, expected) in [
        ("*", Some("*")),
        (page, Some(page)),
        ("https://auth.example.com", None),
    ] {
        let server = ctx.dev_server(&[("ALLOWED_ORIGIN", allowed)]).await;
        let preflight = client
            .request(reqwest::Method::OPTIONS, format!("{}/login", server.url()))
            .header("origin", page)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type")
            .send()
            .await
            .expect("a preflight answer");
        assert_eq!(preflight.status().as_u16(), 204, "{allowed}");
        let origin = |response: &reqwest::Response| {
            response
                .headers()
                .get("access-control-allow-origin")
                .map(|value| value.to_str().unwrap().to_owned())
        };
        assert_eq!(origin(&preflight).as_deref(), expected, "{allowed}");
        if expected.is_some() {
            assert_eq!(
                preflight.headers()["access-control-allow-methods"],
                "GET,POST,DELETE"
            );
            let headers = preflight.headers()["access-control-allow-headers"]
                .to_str()
                .unwrap();
            assert!(headers.contains("content-type") && headers.contains("authorization"));
        }
        let answer = client
            .post(format!("{}/password/lost", server.url()))
            .header("origin", page)
            .body(json!({"email": "nobody@example.com"}).to_string())
            .send()
            .await
            .expect("an answer");
        assert_eq!(answer.status().as_u16(), 200);
        assert_eq!(origin(&answer).as_deref(), expected, "{allowed}");
        server.stop().await;
    }
}

#[tokio::test]
async fn the_sent_mail_pages_answer_only_to_the_servers_own_address() {
    let ctx = TestContext::new("dev-host").await;
    let server = ctx.dev_server(&[]).await;
    let client = reqwest::Client::new();
    for path in ["/_dev/mail", "/_dev/mail.json"] {
        let own = client
            .get(format!("{}{path}", server.url()))
            .send()
            .await
            .expect("an answer");
        assert_eq!(own.status().as_u16(), 200, "{path}");
        let port = server.url().rsplit(':').next().unwrap().to_owned();
        let rebound = client
            .get(format!("{}{path}", server.url()))
            .header("host", format!("attacker.example:{port}"))
            .send()
            .await
            .expect("an answer");
        assert_eq!(rebound.status().as_u16(), 403, "{path}");
        let body = rebound.text().await.unwrap();
        assert!(!body.contains("mails"), "{path}: {body}");
    }
    server.stop().await;
}

#[tokio::test]
async fn mail_goes_where_aws_endpoint_url_sesv2_says() {
    let ctx = TestContext::new("dev-sesv2").await;
    let elsewhere = FaultProxy::failing(500, "InternalFailure").await;
    let server = ctx
        .dev_server(&[("AWS_ENDPOINT_URL_SESV2", elsewhere.url())])
        .await;
    let (status, _) = post(
        &format!("{}/users", server.url()),
        json!({"email": "sesv2@example.com", "password": "correct horse battery staple"})
            .to_string(),
    )
    .await;
    assert_eq!(status, 200);
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while elsewhere
        .counts()
        .transient
        .load(std::sync::atomic::Ordering::SeqCst)
        == 0
    {
        assert!(
            std::time::Instant::now() < deadline,
            "no SES request reached the endpoint"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(server.sent().is_empty(), "nothing was accepted");
    server.stop().await;
}

#[tokio::test]
async fn a_port_that_is_taken_is_an_error_not_a_panic() {
    let ctx = TestContext::new("dev-taken").await;
    let taken = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let mut environment = ctx.environment();
    environment.insert("ARGON2_MEMORY_KIB".to_owned(), "1024".to_owned());
    let started = DevServer::start(
        &ctx.sdk,
        DevOptions {
            listen: taken.local_addr().unwrap(),
            www: default_www(),
            environment,
            ses_rule: None,
        },
    )
    .await;
    let error = started.err().expect("the port is taken");
    assert!(error.to_string().contains("cannot listen"), "{error:#}");
}
