//! The harness for black-box tests against the local AWS emulator.
//!
//! One emulator serves a whole test binary: it is started on a free port the first time a test
//! asks for it (or the one named by `AWS_ENDPOINT_URL` is used) and stops by itself when the test
//! process ends. Each test gets its own resource prefix, so tests run in parallel without seeing
//! each other's tables, queues or keys.
//!
//! The tests print nothing of what the code logs unless asked to: see [`init_test_log`].

pub mod app;
pub mod clock;
pub mod legacy;
pub mod stats;
pub use lambdauth_local::proxy;

use std::ffi::OsStr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Once, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

use aws_config::SdkConfig;
use lambdauth_accounts::config::DEFAULT_DEVELOPER_PROVIDER_NAME;
use lambdauth_local::emulator::Emulator;
use lambdauth_local::provision::{LOCAL_PAGES, Resources};
use tracing_subscriber::EnvFilter;

/// Shows the `tracing` logs of the code under test (handlers, mailer, local runtime) when the
/// environment variable `TEST_LOG` is set to anything non-empty, filtered by `RUST_LOG` (`info`
/// when unset); otherwise the tests print nothing of them:
///
/// ```text
/// TEST_LOG=1 cargo test -p lambdauth-tests -- --nocapture
/// ```
///
/// [`emulator`] calls it, so every test that reaches the emulator gets it; only the first call
/// does anything. The logs go to the test writer, so without `--nocapture` the harness shows
/// them only for the tests that fail.
pub fn init_test_log() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        if !wants_logs(std::env::var_os("TEST_LOG").as_deref()) {
            return;
        }
        let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
        // A subscriber installed before (by a test of its own) stays: logs are a help when
        // debugging, not worth failing a test over.
        let _ = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_test_writer()
            .try_init();
    });
}

/// Whether the value of `TEST_LOG` asks for logs: `TEST_LOG=` counts as unset, as shells make
/// clearing a variable easier than removing it.
fn wants_logs(value: Option<&OsStr>) -> bool {
    value.is_some_and(|value| !value.is_empty())
}

/// The emulator for this test process, started on first use.
///
/// # Panics
/// When the emulator cannot be started: nothing else in the suite could run.
pub fn emulator() -> &'static Emulator {
    static EMULATOR: OnceLock<Emulator> = OnceLock::new();
    init_test_log();
    EMULATOR.get_or_init(|| {
        Emulator::for_this_process()
            .unwrap_or_else(|error| panic!("cannot start the AWS emulator: {error}"))
    })
}

/// SDK settings that reach this process's emulator.
pub async fn sdk_config() -> SdkConfig {
    lambdauth_local::emulator::sdk_config(emulator().endpoint()).await
}

/// The region the tests' clients use.
pub fn region() -> String {
    lambdauth_local::emulator::region()
}

/// A prefix no other test in any run shares: `lt<seconds><counter>-<label>-`, short enough for
/// every AWS resource name.
pub fn unique_prefix(label: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let seconds = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() % 1_000_000);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let label: String = label
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(16)
        .collect();
    format!("lt{seconds}{}{n}-{label}-", std::process::id() % 1000)
}

/// What one test works with.
pub struct TestContext {
    /// The prefix of every resource this test creates.
    pub prefix: String,
    /// SDK settings for the emulator.
    pub sdk: SdkConfig,
}

impl TestContext {
    /// A fresh context for the test named `label`.
    pub async fn new(label: &str) -> Self {
        Self {
            prefix: unique_prefix(label),
            sdk: sdk_config().await,
        }
    }

    /// The names of a whole stack under this test's prefix, sending from [`app::SENDER`].
    pub fn resources(&self) -> Resources {
        Resources {
            table: self.name("users"),
            outbox_table: self.name("outbox"),
            identity_pool: self.name("pool"),
            developer_provider: DEFAULT_DEVELOPER_PROVIDER_NAME.to_owned(),
            key_alias: format!("alias/{}key", self.prefix),
            signing_key_alias: format!("alias/{}signing", self.prefix),
            issuer: LOCAL_PAGES.to_owned(),
            retry_queue: self.name("retry"),
            dead_letter_queue: self.name("dlq"),
            sender: app::SENDER.to_owned(),
            configuration_set: self.name("mail"),
            verification_page: format!("{LOCAL_PAGES}/verify.html"),
            reset_page: format!("{LOCAL_PAGES}/reset.html"),
        }
    }

    /// The variables that name this test's stack, as `lambdauth dev` reads them; the page
    /// addresses and the issuer are left out, so that the mailed links lead to the local
    /// runtime's own pages and its tokens name it.
    pub fn environment(&self) -> std::collections::HashMap<String, String> {
        self.resources()
            .variables()
            .into_iter()
            .filter(|(name, _)| !matches!(*name, "VERIFICATION_PAGE" | "RESET_PAGE" | "ISSUER_URL"))
            .map(|(name, value)| (name.to_owned(), value))
            .collect()
    }

    /// The local runtime over this test's own resources on a free port, with cheap hashing and
    /// `extra` variables on top.
    ///
    /// # Panics
    /// When it cannot start.
    pub async fn dev_server(&self, extra: &[(&str, &str)]) -> lambdauth_local::dev::DevServer {
        let mut environment = self.environment();
        for (name, value) in [("ARGON2_MEMORY_KIB", "1024"), ("ARGON2_TIME_COST", "1")]
            .iter()
            .chain(extra)
        {
            environment.insert((*name).to_owned(), (*value).to_owned());
        }
        lambdauth_local::dev::DevServer::start(
            &self.sdk,
            lambdauth_local::dev::DevOptions {
                listen: std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
                www: lambdauth_local::dev::default_www(),
                environment,
                ses_rule: None,
            },
        )
        .await
        .expect("the local runtime")
    }

    /// `name` under this test's prefix.
    pub fn name(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }
}

#[cfg(test)]
mod tests {
    use std::ffi::OsStr;

    use super::wants_logs;

    #[test]
    fn test_log_asks_for_logs_only_when_set_to_something() {
        assert!(!wants_logs(None));
        assert!(!wants_logs(Some(OsStr::new(""))));
        assert!(wants_logs(Some(OsStr::new("1"))));
        assert!(wants_logs(Some(OsStr::new("0"))));
        assert!(wants_logs(Some(OsStr::new("debug"))));
    }
}
