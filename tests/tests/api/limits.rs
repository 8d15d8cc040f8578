//! The abuse limits per source, tried as an abuser would: a hundred parallel mail-sending
//! requests from one address, a neighbour in the same IPv6 /64, a garbage body, a direct invoke,
//! and the real loopback address of a client of `lambdauth dev`. Every request goes through a
//! recording proxy, so that the DynamoDB calls the bucket costs are counted, not guessed.

use lambdauth_functions as functions;
use lambdauth_local::functions::context_like;
use lambdauth_local::{Functions, http_api_event};
use lambdauth_runtime::function::Definition;
use lambdauth_tests::TestContext;
use lambdauth_tests::app::TestApp;
use lambdauth_tests::proxy::FaultProxy;
use serde_json::{Value, json};
use tokio::task::JoinSet;

const PASSWORD: &str = "correct horse battery staple";
const BUCKET_WRITE: &str = "DynamoDB_20120810.UpdateItem";

/// A stack whose functions reach every service through a recording proxy.
struct Recorded {
    app: TestApp,
    proxy: FaultProxy,
}

/// An answer: the status, the `Retry-After` header and the body.
#[derive(Debug)]
struct Answer {
    status: u16,
    retry_after: Option<u64>,
    body: Value,
}

impl Recorded {
    async fn spawn(label: &str, overrides: &[(&str, &str)]) -> Self {
        let (app, proxy) = TestApp::spawn_recorded(label, overrides).await;
        Self { app, proxy }
    }

    fn address(&self, name: &str) -> String {
        self.app.address(name)
    }

    /// Another instance of the functions over the same stack: it has seen no bucket yet.
    fn cold_instance(&self) -> Functions {
        let sdk = self
            .app
            .context
            .aws
            .to_builder()
            .endpoint_url(self.proxy.url())
            .build();
        Functions::start(&context_like(&self.app.context, sdk), &self.app.env).expect("functions")
    }

    /// `POST` `body` to `function` over HTTP from `source`.
    async fn post(&self, function: &'static Definition, source: &str, body: &str) -> Answer {
        post_with(&self.app.functions, function, source, body).await
    }

    /// A signup of `name` from `source`.
    async fn signup(&self, source: &str, name: &str) -> Answer {
        let body = json!({"email": self.address(name), "password": PASSWORD}).to_string();
        self.post(functions::CREATE_USER, source, &body).await
    }

    /// The same, with the operations it made.
    async fn signup_counted(&self, source: &str, name: &str) -> (Answer, Vec<String>) {
        self.proxy.counts().take_operations();
        let answer = self.signup(source, name).await;
        (answer, self.proxy.counts().take_operations())
    }
}

/// `POST` `body` to `function` of `functions` as API Gateway would deliver it from `source`.
async fn post_with(
    functions: &Functions,
    function: &'static Definition,
    source: &str,
    body: &str,
) -> Answer {
    let mut event = http_api_event(
        function.path(),
        &[("content-type".to_owned(), "application/json".to_owned())],
        body.as_bytes(),
        "limits",
    );
    event["requestContext"]["http"]["sourceIp"] = Value::String(source.to_owned());
    let response = functions.handle_event(function, event, "limits").await;
    Answer {
        status: u16::try_from(response["statusCode"].as_u64().expect("a status")).unwrap(),
        retry_after: response["headers"]["retry-after"]
            .as_str()
            .map(|value| value.parse().expect("Retry-After in whole seconds")),
        body: serde_json::from_str(response["body"].as_str().expect("a body")).expect("JSON"),
    }
}

fn bucket_writes(operations: &[String]) -> usize {
    operations.iter().filter(|op| *op == BUCKET_WRITE).count()
}

fn is_refusal(answer: &Answer) -> bool {
    answer.status == 429
        && answer.body["error"]["code"] == "TooManyRequests"
        && answer.retry_after.is_some_and(|seconds| seconds >= 1)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hundred_parallel_signups_from_one_source_admit_exactly_the_configured_number() {
    let stack = Recorded::spawn("limits-parallel", &[("RATE_LIMIT_MAIL", "10/3600")]).await;
    stack.proxy.counts().take_operations();
    let mut set = JoinSet::new();
    for i in 0..100 {
        let functions = stack.app.functions.clone();
        let body = json!({"email": stack.address(&format!("flood{i}")), "password": PASSWORD});
        set.spawn(async move {
            post_with(
                &functions,
                functions::CREATE_USER,
                "203.0.113.7",
                &body.to_string(),
            )
            .await
        });
    }
    let answers = set.join_all().await;
    let operations = stack.proxy.counts().take_operations();
    let admitted = answers.iter().filter(|a| a.status == 200).count();
    let refused = answers.iter().filter(|a| is_refusal(a)).count();
    let writes = bucket_writes(&operations);
    eprintln!(
        "100 parallel signups from one source: {admitted} admitted, {refused} refused (429 with \
         Retry-After), {writes} bucket writes for the 100 requests"
    );
    assert_eq!((admitted, refused), (10, 90), "{answers:#?}");
    assert!(writes <= 200, "{writes} writes: more than two a request");
    // The refused ones created nothing: only the admitted ten have a user item.
    let users = stack
        .app
        .scan()
        .await
        .into_iter()
        .filter(|item| {
            item.get("sk")
                .and_then(|sk| sk.as_s().ok())
                .is_some_and(|sk| sk == "USER")
        })
        .count();
    assert_eq!(users, 10);

    let other = stack.signup("203.0.113.8", "neighbour").await;
    assert_eq!(other.status, 200, "another source is unaffected: {other:?}");
    // Another class of the same source is unaffected too.
    let login = json!({"email": stack.address("flood0"), "password": PASSWORD}).to_string();
    let login = stack.post(functions::LOGIN, "203.0.113.7", &login).await;
    assert_ne!(login.status, 429, "{login:?}");
}

#[tokio::test]
async fn each_request_costs_one_bucket_write_and_a_refusal_nothing_else() {
    let stack = Recorded::spawn("limits-writes", &[("RATE_LIMIT_MAIL", "3/3600")]).await;
    let source = "198.51.100.1";

    let (first, operations) = stack.signup_counted(source, "a").await;
    assert_eq!(first.status, 200);
    assert_eq!(
        operations[0], BUCKET_WRITE,
        "the bucket comes first: {operations:?}"
    );
    assert_eq!(bucket_writes(&operations), 1, "from rest: {operations:?}");

    let (second, operations) = stack.signup_counted(source, "b").await;
    assert_eq!(second.status, 200);
    assert_eq!(
        bucket_writes(&operations),
        1,
        "in use, seen here: {operations:?}"
    );

    // An instance that has not seen the bucket guesses it rested, and learns otherwise.
    let cold = stack.cold_instance();
    stack.proxy.counts().take_operations();
    let body = json!({"email": stack.address("c"), "password": PASSWORD}).to_string();
    let third = post_with(&cold, functions::CREATE_USER, source, &body).await;
    let operations = stack.proxy.counts().take_operations();
    assert_eq!(third.status, 200);
    assert_eq!(
        bucket_writes(&operations),
        2,
        "in use, not seen: {operations:?}"
    );

    // Refused: one failed conditional write, no read, nothing else at all.
    let (fourth, operations) = stack.signup_counted(source, "d").await;
    assert!(is_refusal(&fourth), "{fourth:?}");
    assert_eq!(operations, [BUCKET_WRITE]);
    let body = json!({"email": stack.address("e"), "password": PASSWORD}).to_string();
    stack.proxy.counts().take_operations();
    let fifth = post_with(&cold, functions::CREATE_USER, source, &body).await;
    assert!(is_refusal(&fifth), "{fifth:?}");
    assert_eq!(stack.proxy.counts().take_operations(), [BUCKET_WRITE]);
}

#[tokio::test]
async fn the_limit_comes_before_the_body_and_says_nothing_about_accounts() {
    let stack = Recorded::spawn("limits-body", &[("RATE_LIMIT_MAIL", "1/3600")]).await;
    let source = "192.0.2.44";
    assert_eq!(stack.signup(source, "first").await.status, 200);
    // Garbage, a registered address and a new one: the same refusal, and the same calls.
    let registered = json!({"email": stack.address("first"), "password": PASSWORD}).to_string();
    let new = json!({"email": stack.address("new"), "password": PASSWORD}).to_string();
    let mut seen = Vec::new();
    for body in ["{not json", registered.as_str(), new.as_str()] {
        stack.proxy.counts().take_operations();
        let answer = stack.post(functions::CREATE_USER, source, body).await;
        assert!(is_refusal(&answer), "{body}: {answer:?}");
        seen.push((answer.body, stack.proxy.counts().take_operations()));
    }
    seen.dedup();
    assert_eq!(seen.len(), 1, "{seen:#?}");
}

#[tokio::test]
async fn ipv6_addresses_in_one_64_share_a_bucket() {
    let stack = Recorded::spawn("limits-ipv6", &[("RATE_LIMIT_MAIL", "2/3600")]).await;
    assert_eq!(stack.signup("2001:db8:1:2::1", "a").await.status, 200);
    assert_eq!(stack.signup("2001:db8:1:2:8000::2", "b").await.status, 200);
    let same_64 = stack.signup("2001:db8:1:2:ffff:ffff:ffff:fffe", "c").await;
    assert!(is_refusal(&same_64), "{same_64:?}");
    let next_64 = stack.signup("2001:db8:1:3::1", "d").await;
    assert_eq!(next_64.status, 200, "{next_64:?}");
}

#[tokio::test]
async fn a_bucket_refills_after_the_wait_it_names() {
    let stack = Recorded::spawn("limits-refill", &[("RATE_LIMIT_MAIL", "5/2")]).await;
    let source = "203.0.113.99";
    // Drained until refused: one request refills every 400 ms, so a slow machine may see more
    // than the burst of five admitted on the way.
    let mut admitted = 0;
    let refused = loop {
        let answer = stack.signup(source, &format!("burst{admitted}")).await;
        if answer.status != 200 {
            break answer;
        }
        admitted += 1;
        assert!(admitted < 100, "never refused");
    };
    assert!(admitted >= 5, "{admitted}");
    assert!(is_refusal(&refused), "{refused:?}");
    let wait = refused.retry_after.unwrap();
    assert_eq!(refused.body["error"]["retryAfter"], wait);

    tokio::time::sleep(std::time::Duration::from_secs(wait)).await;
    let after_wait = stack.signup(source, "after-wait").await;
    assert_eq!(after_wait.status, 200, "{after_wait:?}");

    // A whole period of rest later the whole burst is back.
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    for i in 0..5 {
        let answer = stack.signup(source, &format!("again{i}")).await;
        assert_eq!(answer.status, 200, "{i}: {answer:?}");
    }
}

#[tokio::test]
async fn a_direct_invoke_has_no_source_and_is_not_limited() {
    let stack = Recorded::spawn("limits-invoke", &[("RATE_LIMIT_MAIL", "1/3600")]).await;
    assert_eq!(stack.signup("127.0.0.1", "http").await.status, 200);
    assert!(is_refusal(&stack.signup("127.0.0.1", "http-again").await));
    let answer = stack
        .app
        .invoke(
            functions::CREATE_USER,
            json!({"email": stack.address("invoked"), "password": PASSWORD}),
        )
        .await;
    assert_eq!(answer["created"], true, "{answer}");
}

#[tokio::test]
async fn lambdauth_dev_counts_each_client_by_its_real_loopback_address() {
    let ctx = TestContext::new("limits-dev").await;
    let server = ctx.dev_server(&[("RATE_LIMIT_MAIL", "2/3600")]).await;
    let url = format!("{}/users", server.url());
    let client_from = |last: u8| {
        reqwest::Client::builder()
            .local_address(std::net::IpAddr::from([127, 0, 0, last]))
            .build()
            .expect("a client")
    };
    let signup = |client: reqwest::Client, name: String| {
        let url = url.clone();
        async move {
            let body = json!({"email": format!("{name}@example.com"), "password": PASSWORD});
            client
                .post(&url)
                .header("content-type", "application/json")
                .body(body.to_string())
                .send()
                .await
                .expect("an answer")
        }
    };
    let two = client_from(2);
    for i in 0..2 {
        let response = signup(two.clone(), ctx.name(&format!("two{i}"))).await;
        assert_eq!(response.status(), 200);
    }
    let refused = signup(two.clone(), ctx.name("two-over")).await;
    assert_eq!(refused.status(), 429);
    let wait: u64 = refused.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(wait >= 1);
    let three = signup(client_from(3), ctx.name("three")).await;
    assert_eq!(three.status(), 200, "127.0.0.3 has a bucket of its own");
}
