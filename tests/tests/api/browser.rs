//! The sample pages in headless Chromium (Debian's `chromium` and `chromium-driver`, driven over
//! `WebDriver`), served by the local runtime with the links taken from the mail it sent: the whole
//! journey a person makes, and the policy message a too-short password gets; and a session kept
//! by the pages past its access token's expiry, listed, ended on another device, and logged out
//! everywhere.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use lambdauth_local::dev::DevServer;
use lambdauth_local::emulator::{answers_on, free_port};
use lambdauth_local::proxy::SentMail;
use lambdauth_tests::TestContext;
use reqwest::Method;
use serde_json::{Value, json};

const FIRST: &str = "correct horse battery staple";
const SECOND: &str = "a second quite long passphrase";
const THIRD: &str = "and a third one for the reset";

/// The lifetime of access tokens in the sessions test, in seconds: short, so that the pages must
/// refresh them while the test runs.
const ACCESS_TOKEN_TTL: u64 = 3;
/// The `User-Agent` of the sign-ins the sessions test makes over plain HTTP, as other devices.
const OTHER_DEVICE: &str = "LambdAuthTestClient/1.0 (another device)";
/// The longest wait for anything in the browser or the service.
const PATIENCE: Duration = Duration::from_secs(30);

/// `chromedriver` on a free port, killed when dropped.
struct Driver {
    process: Child,
    url: String,
    profile: std::path::PathBuf,
}

impl Driver {
    fn start() -> Self {
        let port = free_port().expect("free port");
        let process = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver (Debian package chromium-driver) must be installed");
        let started = Instant::now();
        while !answers_on(port) {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "chromedriver did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        let profile = std::env::temp_dir().join(format!("lambdauth-chromium-{port}"));
        Self {
            process,
            url: format!("http://127.0.0.1:{port}"),
            profile,
        }
    }

    async fn browser(&self) -> Client {
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".to_owned(),
            json!({
                "binary": "/usr/bin/chromium",
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-quic", "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync",
                    format!("--user-data-dir={}", self.profile.display()),
                ],
            }),
        );
        ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(capabilities)
            .connect(&self.url)
            .await
            .expect("a Chromium session")
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// One page's form: fills `fields` (by id), submits, and answers the message's state and words.
async fn submit(browser: &Client, fields: &[(&str, &str)]) -> (String, String) {
    for (id, value) in fields {
        let input = browser.find(Locator::Id(id)).await.expect(id);
        input.clear().await.expect("clear");
        input.send_keys(value).await.expect("type");
    }
    browser
        .find(Locator::Id("submit"))
        .await
        .expect("submit button")
        .click()
        .await
        .expect("click");
    answer(browser).await
}

/// The state and words of the page's message, once it has an answer.
async fn answer(browser: &Client) -> (String, String) {
    let message = browser
        .wait()
        .at_most(Duration::from_secs(30))
        .for_element(Locator::Css(
            "#message[data-state='ok'], #message[data-state='error']",
        ))
        .await
        .expect("an answer on the page");
    let state = message
        .attr("data-state")
        .await
        .expect("state")
        .unwrap_or_default();
    (state, message.text().await.expect("message text"))
}

async fn open(browser: &Client, url: &str) {
    browser.goto(url).await.expect("page");
}

/// The newest mail to `to` whose link carries `parameter`, waiting for the pipeline.
async fn mail_with(server: &DevServer, to: &str, parameter: &str) -> SentMail {
    let started = Instant::now();
    loop {
        if let Some(mail) = server
            .sent()
            .into_iter()
            .rev()
            .find(|mail| mail.to == to && mail.link_parameter(parameter).is_some())
        {
            return mail;
        }
        assert!(
            started.elapsed() < Duration::from_mins(1),
            "no mail with `{parameter}` reached {to}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The identity id the login page shows.
async fn identity_shown(browser: &Client) -> String {
    browser
        .find(Locator::Id("identity-id"))
        .await
        .expect("identity id")
        .text()
        .await
        .expect("text")
}

#[tokio::test]
async fn the_journey_through_the_sample_pages() {
    let ctx = TestContext::new("browser").await;
    let server = ctx.dev_server(&[]).await;
    let site = server.url().to_owned();
    let driver = Driver::start();
    let browser = driver.browser().await;
    let email = format!("{}walker@example.com", ctx.prefix);

    // A password below the policy gets the policy's words, and no account.
    open(&browser, &format!("{site}/signup.html")).await;
    let (state, words) = submit(
        &browser,
        &[
            ("email", &email),
            ("password", "too short"),
            ("confirm", "too short"),
        ],
    )
    .await;
    assert_eq!(state, "error", "{words}");
    assert!(words.contains("at least 15 characters"), "{words}");

    let (state, words) = submit(
        &browser,
        &[("email", &email), ("password", FIRST), ("confirm", FIRST)],
    )
    .await;
    assert_eq!(state, "ok", "{words}");

    // The link from the mail; loading the page consumes nothing, the button does.
    let verification = mail_with(&server, &email, "verify").await;
    let link = verification.link().expect("a link");
    // The token travels in the fragment, which no server sees, and leaves the address bar.
    assert!(link.starts_with(&format!("{site}/verify.html#")), "{link}");
    open(&browser, &link).await;
    let shown = browser.find(Locator::Id("email")).await.expect("email");
    assert_eq!(shown.text().await.expect("text"), email);
    let current = browser.current_url().await.expect("the page's address");
    assert_eq!(current.fragment(), None, "{current}");
    let (state, words) = submit(&browser, &[]).await;
    assert_eq!(state, "ok", "{words}");

    open(&browser, &format!("{site}/login.html")).await;
    let (state, words) = submit(
        &browser,
        &[("email", &email.to_uppercase()), ("password", FIRST)],
    )
    .await;
    assert_eq!(state, "ok", "{words}");
    let identity = identity_shown(&browser).await;
    assert!(identity.contains(':'), "an identity id: {identity}");

    open(&browser, &format!("{site}/changePassword.html")).await;
    let (state, words) = submit(
        &browser,
        &[
            ("email", &email),
            ("old-password", FIRST),
            ("new-password", SECOND),
            ("confirm", SECOND),
        ],
    )
    .await;
    assert_eq!(state, "ok", "{words}");

    open(&browser, &format!("{site}/lostPassword.html")).await;
    let (state, words) = submit(&browser, &[("email", &email)]).await;
    assert_eq!(state, "ok", "{words}");
    // A link in the original's query form (mailed before, or imported) still works.
    let reset = mail_with(&server, &email, "lost").await;
    let query_form = reset.link().expect("a link").replacen('#', "?", 1);
    open(&browser, &query_form).await;
    let (state, words) = submit(&browser, &[("new-password", THIRD), ("confirm", THIRD)]).await;
    assert_eq!(state, "ok", "{words}");

    // Only the newest password opens the account.
    open(&browser, &format!("{site}/login.html")).await;
    let (state, words) = submit(&browser, &[("email", &email), ("password", SECOND)]).await;
    assert_eq!(state, "error", "{words}");
    let (state, words) = submit(&browser, &[("email", &email), ("password", THIRD)]).await;
    assert_eq!(state, "ok", "{words}");
    assert!(!identity_shown(&browser).await.is_empty());

    // An address signed up twice: its link asks for the password of its own signup.
    let twice = format!("{}twice@example.com", ctx.prefix);
    for _ in 0..2 {
        open(&browser, &format!("{site}/signup.html")).await;
        let (state, words) = submit(
            &browser,
            &[("email", &twice), ("password", FIRST), ("confirm", FIRST)],
        )
        .await;
        assert_eq!(state, "ok", "{words}");
    }
    let link = mail_with(&server, &twice, "verify").await;
    open(&browser, &link.link().expect("a link")).await;
    let (state, words) = submit(&browser, &[]).await;
    assert_eq!(state, "error", "{words}");
    assert!(words.contains("signed up more than once"), "{words}");
    let (state, words) = submit(&browser, &[("password", FIRST)]).await;
    assert_eq!(state, "ok", "{words}");

    browser.close().await.expect("close the browser");
    server.stop().await;
}

/// One call to the API over plain HTTP, as another device makes it: `body` as JSON, `bearer` as
/// the access token.
async fn call(
    site: &str,
    method: Method,
    path: &str,
    body: Option<&Value>,
    bearer: Option<&str>,
) -> (u16, Value) {
    let mut request = reqwest::Client::new()
        .request(method, format!("{site}{path}"))
        .header("user-agent", OTHER_DEVICE);
    if let Some(body) = body {
        request = request
            .header("content-type", "application/json")
            .body(body.to_string());
    }
    if let Some(token) = bearer {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let response = request.send().await.expect("an answer");
    let status = response.status().as_u16();
    let text = response.text().await.unwrap_or_default();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// An account for `email`, signed up and verified over plain HTTP.
async fn verified_account(server: &DevServer, email: &str, password: &str) {
    let site = server.url();
    let credentials = json!({"email": email, "password": password});
    let (status, body) = call(site, Method::POST, "/users", Some(&credentials), None).await;
    assert_eq!((status, &body), (200, &json!({"created": true})));
    let token = mail_with(server, email, "verify")
        .await
        .link_parameter("verify")
        .expect("a verification token");
    let verify = json!({"email": email, "verify": token});
    let (status, body) = call(site, Method::POST, "/users/verify", Some(&verify), None).await;
    assert_eq!((status, &body), (200, &json!({"verified": true})));
}

/// A sign-in over plain HTTP: the login answer.
async fn http_login(site: &str, email: &str, password: &str) -> Value {
    let credentials = json!({"email": email, "password": password});
    let (status, body) = call(site, Method::POST, "/login", Some(&credentials), None).await;
    assert_eq!((status, &body["login"]), (200, &json!(true)), "{body}");
    body
}

/// What `POST /token/refresh` answers for `token`.
async fn refresh_answer(site: &str, token: &Value) -> (u16, Value) {
    let body = json!({"refreshToken": token});
    call(site, Method::POST, "/token/refresh", Some(&body), None).await
}

/// The JSON the pages keep in `localStorage` under `key` (null when nothing is kept).
async fn kept(browser: &Client, key: &str) -> Value {
    let text = browser
        .execute(
            "return window.localStorage.getItem(arguments[0]);",
            vec![json!(key)],
        )
        .await
        .expect("localStorage");
    text.as_str().map_or(Value::Null, |text| {
        serde_json::from_str(text).expect("JSON")
    })
}

/// The session the pages keep, once they keep one that differs from `other` (by access token).
async fn session_other_than(browser: &Client, other: &Value) -> Value {
    let started = Instant::now();
    loop {
        let session = kept(browser, "lambdauth.session").await;
        if session["accessToken"].is_string() && session["accessToken"] != other["accessToken"] {
            return session;
        }
        assert!(
            started.elapsed() < PATIENCE,
            "the pages kept no new session"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// One row of the sessions page: the session's id, whether it is this browser's, its words.
struct Row {
    id: String,
    current: bool,
    text: String,
}

/// The message's state and words and the sessions page's rows, read at one moment.
async fn page_state(browser: &Client) -> (String, String, Vec<Row>) {
    let read = browser
        .execute(
            "const message = document.getElementById('message');
             const rows = [...document.querySelectorAll('#sessions li[data-session-id]')];
             return [message.dataset.state || '', message.textContent,
                     rows.map((li) => [li.dataset.sessionId, li.dataset.current, li.innerText])];",
            vec![],
        )
        .await
        .expect("the page's state");
    let text = |value: &Value| value.as_str().unwrap_or_default().to_owned();
    let rows = read[2]
        .as_array()
        .expect("rows")
        .iter()
        .map(|row| Row {
            id: text(&row[0]),
            current: row[1] == "true",
            text: text(&row[2]),
        })
        .collect();
    (text(&read[0]), text(&read[1]), rows)
}

/// The rows of the sessions page once it says it listed `count` of them.
async fn listed(browser: &Client, count: usize) -> Vec<Row> {
    let started = Instant::now();
    loop {
        let (state, words, rows) = page_state(browser).await;
        assert_ne!(state, "error", "{words}");
        if state == "ok" && rows.len() == count {
            return rows;
        }
        assert!(
            started.elapsed() < PATIENCE,
            "the sessions page did not list {count} sessions: {words}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The state and words of the page's message once `done` accepts them.
async fn message_when(browser: &Client, done: impl Fn(&str, &str) -> bool) -> (String, String) {
    let started = Instant::now();
    loop {
        let (state, words, _) = page_state(browser).await;
        if done(&state, &words) {
            return (state, words);
        }
        assert!(started.elapsed() < PATIENCE, "{state}: {words}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn click(browser: &Client, id: &str) {
    browser
        .find(Locator::Id(id))
        .await
        .expect(id)
        .click()
        .await
        .expect("click");
}

/// The refresh answer to each of `tokens` is 401 `InvalidRefreshToken`.
async fn refused(site: &str, tokens: &[&Value]) {
    for token in tokens {
        let (status, body) = refresh_answer(site, token).await;
        assert_eq!(
            (status, &body["refreshed"], &body["error"]["code"]),
            (401, &json!(false), &json!("InvalidRefreshToken")),
            "{body}"
        );
    }
}

/// Signs in on the login page: the session the pages keep.
async fn sign_in(browser: &Client, site: &str, email: &str) -> Value {
    open(browser, &format!("{site}/login.html")).await;
    let (state, words) = submit(browser, &[("email", email), ("password", FIRST)]).await;
    assert_eq!(state, "ok", "{words}");
    let session = session_other_than(browser, &Value::Null).await;
    assert_eq!(
        session["email"],
        json!(email),
        "the session of this sign-in"
    );
    session
}

/// Another device's sign-in over plain HTTP, whose fresh access token lists the account's
/// sessions with its own as the current one.
async fn another_device(site: &str, email: &str) -> Value {
    let device = http_login(site, email, FIRST).await;
    let bearer = device["accessToken"].as_str();
    let (status, listing) = call(site, Method::GET, "/sessions", None, bearer).await;
    assert_eq!(status, 200, "{listing}");
    let current: Vec<_> = listing["sessions"]
        .as_array()
        .expect("sessions")
        .iter()
        .filter(|session| session["current"] == json!(true))
        .map(|session| session["id"].clone())
        .collect();
    assert_eq!(current, [device["sessionId"].clone()], "{listing}");
    device
}

/// Waits until `/sessions` refuses `session`'s access token: it has expired.
async fn expired(site: &str, session: &Value) {
    let started = Instant::now();
    loop {
        let bearer = session["accessToken"].as_str();
        let (status, body) = call(site, Method::GET, "/sessions", None, bearer).await;
        if status == 401 {
            return;
        }
        assert_eq!(status, 200, "{body}");
        assert!(
            started.elapsed() < PATIENCE,
            "an access token of {ACCESS_TOKEN_TTL} s still works after {:?}",
            started.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The browser is away for longer than its access token lives; back on the sessions page, the
/// list still comes, through a refresh, and the page keeps refreshing while it stays open.
/// Answers the newest session the page keeps.
async fn outlive_the_access_token(
    browser: &Client,
    site: &str,
    signed_in: &Value,
    phone: &Value,
) -> Value {
    open(browser, &format!("{site}/sessions.html")).await;
    listed(browser, 2).await;
    let before = session_other_than(browser, &Value::Null).await;
    open(browser, "about:blank").await;
    expired(site, &before).await;
    open(browser, &format!("{site}/sessions.html")).await;
    let rows = listed(browser, 2).await;
    let after = session_other_than(browser, &before).await;
    assert_ne!(after["refreshToken"], before["refreshToken"], "rotated");
    assert_eq!(after["sessionId"], signed_in["sessionId"], "one session");
    let mine = rows.iter().find(|row| row.current).expect("a current row");
    assert_eq!(json!(mine.id), signed_in["sessionId"]);
    let other = rows.iter().find(|row| !row.current).expect("another row");
    assert_eq!(json!(other.id), phone["sessionId"]);
    assert!(other.text.contains("LambdAuthTestClient"), "{}", other.text);

    // No token or device token is ever written into the page.
    let source = browser.source().await.expect("the page's source");
    let devices = kept(browser, "lambdauth.devices").await;
    let device = &devices[signed_in["email"].as_str().expect("email")];
    for secret in [&after["accessToken"], &after["refreshToken"], device] {
        let secret = secret.as_str().expect("a token");
        assert!(!source.contains(secret), "a token is on the page");
    }

    // While the page stays open, it refreshes by itself before the access token expires.
    let kept_open = session_other_than(browser, &after).await;
    click(browser, "reload").await;
    listed(browser, 2).await;
    kept_open
}

/// Ends the other device's session from its row: it leaves the list, and its refresh token is
/// refused.
async fn end_the_other_device(browser: &Client, site: &str, phone: &Value) {
    let end = browser
        .find_all(Locator::Css(
            "#sessions li[data-current='false'] button.end",
        ))
        .await
        .expect("end buttons");
    assert_eq!(end.len(), 1);
    end[0].click().await.expect("click");
    let rows = listed(browser, 1).await;
    assert!(rows[0].current);
    refused(site, &[&phone["refreshToken"]]).await;
}

/// Logs out everywhere on the sessions page: the page forgets the session but not the device
/// token, and says so. Answers the session the page kept last.
async fn log_out_everywhere(browser: &Client, email: &str) -> Value {
    let last = session_other_than(browser, &Value::Null).await;
    click(browser, "logout-everywhere").await;
    let (state, words) = message_when(browser, |state, words| {
        state == "error" || (state == "ok" && words.contains("everywhere"))
    })
    .await;
    assert_eq!(state, "ok", "{words}");
    assert_signed_out(browser).await;
    assert_eq!(kept(browser, "lambdauth.session").await, Value::Null);
    assert!(
        kept(browser, "lambdauth.devices").await[email].is_string(),
        "the device token outlives the logout"
    );
    last
}

/// The sessions page shows no session and says the browser is signed out.
async fn assert_signed_out(browser: &Client) {
    let signed_out = browser
        .find(Locator::Id("signed-out"))
        .await
        .expect("signed-out");
    assert!(signed_out.is_displayed().await.expect("displayed"));
    let rows = browser
        .find_all(Locator::Css("#sessions li"))
        .await
        .expect("rows");
    assert!(rows.is_empty());
}

#[tokio::test]
async fn a_session_outlives_its_access_token_and_ends_everywhere() {
    let ctx = TestContext::new("browser-sessions").await;
    let ttl = ACCESS_TOKEN_TTL.to_string();
    let server = ctx
        .dev_server(&[("ACCESS_TOKEN_TTL_SECONDS", ttl.as_str())])
        .await;
    let site = server.url().to_owned();
    let email = format!("{}keeper@example.com", ctx.prefix);
    verified_account(&server, &email, FIRST).await;
    let driver = Driver::start();
    let browser = driver.browser().await;

    let signed_in = sign_in(&browser, &site, &email).await;
    let devices = kept(&browser, "lambdauth.devices").await;
    assert!(devices[&email].is_string(), "the device token is kept");
    let phone = another_device(&site, &email).await;
    let kept_open = outlive_the_access_token(&browser, &site, &signed_in, &phone).await;
    end_the_other_device(&browser, &site, &phone).await;

    // Logging out everywhere ends this browser's session and a third device's: no refresh
    // token of the account works any more, and the sessions page lists nothing.
    let tablet = another_device(&site, &email).await;
    click(&browser, "reload").await;
    listed(&browser, 2).await;
    let last = log_out_everywhere(&browser, &email).await;
    let tokens = [&signed_in, &kept_open, &last, &tablet].map(|session| &session["refreshToken"]);
    refused(&site, &tokens).await;
    open(&browser, &format!("{site}/sessions.html")).await;
    assert_signed_out(&browser).await;

    // Signing in again from this browser (now with its device token) works.
    sign_in(&browser, &site, &email).await;

    browser.close().await.expect("close the browser");
    server.stop().await;
}
