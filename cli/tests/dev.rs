//! `lambdauth dev` as a developer runs it: the binary starts its own emulator, serves the pages
//! and the API, delivers mail, and on Ctrl-C leaves nothing running.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use lambdauth_local::emulator::{answers_on, free_port};
use serde_json::{Value, json};

const PASSWORD: &str = "correct horse battery staple";

/// The running command, killed if the test fails before stopping it.
struct Dev(Child);

impl Drop for Dev {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn wait_until(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < limit, "{what} within {limit:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

async fn post(client: &reqwest::Client, url: &str, body: Value) -> (u16, Value) {
    let answer = client
        .post(url)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .expect("an answer");
    let status = answer.status().as_u16();
    let text = answer.text().await.expect("a body");
    (status, serde_json::from_str(&text).expect("JSON"))
}

async fn get(client: &reqwest::Client, url: &str) -> (u16, String) {
    let answer = client.get(url).send().await.expect("an answer");
    (
        answer.status().as_u16(),
        answer.text().await.expect("a body"),
    )
}

/// The link of the first mail to `to` listed at `/_dev/mail.json`, waiting for it.
async fn sent_link(client: &reqwest::Client, site: &str, to: &str) -> String {
    let started = Instant::now();
    loop {
        assert!(
            started.elapsed() < Duration::from_mins(1),
            "a mail was sent"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
        let (_, mails) = get(client, &format!("{site}/_dev/mail.json")).await;
        let mails: Value = serde_json::from_str(&mails).expect("JSON");
        if let Some(link) = mails["mails"]
            .as_array()
            .and_then(|mails| mails.iter().find(|mail| mail["to"] == to))
            .and_then(|mail| mail["link"].as_str())
        {
            return link.to_owned();
        }
    }
}

/// `lambdauth dev` on `port`, starting its own emulator on `emulator_port`.
fn dev_command(port: u16, emulator_port: u16) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_lambdauth"));
    command
        .args([
            "dev",
            "--port",
            &port.to_string(),
            "--emulator-port",
            &emulator_port.to_string(),
        ])
        .env_remove("AWS_ENDPOINT_URL");
    command
}

#[tokio::test(flavor = "multi_thread")]
async fn dev_serves_the_service_and_stops_everything_it_started() {
    let port = free_port().expect("a port");
    let emulator_port = free_port().expect("a port");
    let child = dev_command(port, emulator_port)
        // Cheap hashing: this checks the wiring, not the cost.
        .env("ARGON2_MEMORY_KIB", "1024")
        .env("ARGON2_TIME_COST", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("lambdauth dev");
    let mut dev = Dev(child);
    wait_until("listening", Duration::from_mins(2), || answers_on(port));
    assert!(answers_on(emulator_port), "it started the emulator");

    let site = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let (status, page) = get(&client, &format!("{site}/")).await;
    assert_eq!(status, 200);
    assert!(page.contains("signup.html"), "the index page");
    let (status, _) = get(
        &client,
        &format!("{site}/verify.html?email=a%40b.co&verify=x"),
    )
    .await;
    assert_eq!(status, 200, "a page with a query string");

    let email = "dev.walker@example.com";
    let (status, body) = post(
        &client,
        &format!("{site}/users"),
        json!({"email": "Dev.Walker@Example.com", "password": PASSWORD}),
    )
    .await;
    assert_eq!((status, body), (200, json!({"created": true})));
    let (status, body) = post(
        &client,
        &format!("{site}/users"),
        json!({"email": "not an address", "password": PASSWORD}),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["code"], "InvalidEmail");

    // The mailer runs behind the stream; its mail shows at /_dev/mail.
    let link = sent_link(&client, &site, email).await;
    let token = link
        .split_once("verify=")
        .map(|(_, token)| token.to_owned())
        .expect("a token");
    let (status, page) = get(&client, &format!("{site}/_dev/mail")).await;
    assert_eq!(status, 200);
    assert!(page.contains(email), "the mail page lists the mail");

    let (status, body) = post(
        &client,
        &format!("{site}/users/verify"),
        json!({"email": email, "verify": token}),
    )
    .await;
    assert_eq!((status, body), (200, json!({"verified": true})));
    let (status, body) = post(
        &client,
        &format!("{site}/login"),
        json!({"email": email, "password": PASSWORD}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["login"], true);

    // Ctrl-C: the server, the pipeline and the emulator it started all stop.
    let interrupted = Command::new("kill")
        .args(["-INT", &dev.0.id().to_string()])
        .status()
        .expect("kill");
    assert!(interrupted.success());
    let mut exit = None;
    wait_until("exit after Ctrl-C", Duration::from_secs(30), || {
        exit = dev.0.try_wait().expect("status");
        exit.is_some()
    });
    assert!(exit.is_some_and(|status| status.success()), "{exit:?}");
    assert!(!answers_on(port), "the server stopped");
    wait_until("the emulator stopped", Duration::from_secs(10), || {
        !answers_on(emulator_port)
    });
}

/// `AWS_ENDPOINT_URL_<SERVICE>` overrides the emulator for its service, as it does for the
/// deployed functions: with DynamoDB sent to a port where nothing listens, provisioning fails
/// and says so, and the emulator it started is stopped again.
#[test]
fn a_service_endpoint_variable_wins_over_the_emulator_for_its_service() {
    let port = free_port().expect("a port");
    let emulator_port = free_port().expect("a port");
    let nowhere = free_port().expect("a port");
    let child = dev_command(port, emulator_port)
        .env(
            "AWS_ENDPOINT_URL_DYNAMODB",
            format!("http://127.0.0.1:{nowhere}"),
        )
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("lambdauth dev");
    let mut dev = Dev(child);
    // Were the variable ignored, provisioning would reach the emulator and dev would serve for
    // ever: the wait is bounded so that the test fails instead of hanging.
    let mut status = None;
    wait_until("dev gave up", Duration::from_mins(2), || {
        status = dev.0.try_wait().expect("dev's state");
        status.is_some()
    });
    let errors = std::io::read_to_string(dev.0.stderr.take().expect("piped")).unwrap_or_default();
    assert!(!status.expect("exited").success(), "{errors}");
    assert!(errors.contains("provisioning"), "{errors}");
    assert!(!answers_on(port), "nothing serves");
    wait_until("the emulator stopped", Duration::from_secs(30), || {
        !answers_on(emulator_port)
    });
}
