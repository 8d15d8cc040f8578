//! The sample pages in headless Chromium (Debian's `chromium` and `chromium-driver`, driven over
//! `WebDriver`), served by the local runtime with the links taken from the mail it sent: the whole
//! journey a person makes, and the policy message a too-short password gets.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use lambdauth_local::dev::DevServer;
use lambdauth_local::emulator::{answers_on, free_port};
use lambdauth_local::proxy::SentMail;
use lambdauth_tests::TestContext;
use serde_json::json;

const FIRST: &str = "correct horse battery staple";
const SECOND: &str = "a second quite long passphrase";
const THIRD: &str = "and a third one for the reset";

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
