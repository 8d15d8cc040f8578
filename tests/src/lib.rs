//! The harness for black-box tests against the local AWS emulator.
//!
//! One emulator serves a whole test binary: it is started on a free port the first time a test
//! asks for it (or the one named by `AWS_ENDPOINT_URL` is used) and stops by itself when the test
//! process ends. Each test gets its own resource prefix, so tests run in parallel without seeing
//! each other's tables, queues or keys.

pub mod app;
pub mod legacy;
pub mod stats;
pub use lambdauth_local::proxy;

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use aws_config::SdkConfig;
use lambdauth_handlers::config::DEFAULT_DEVELOPER_PROVIDER_NAME;
use lambdauth_local::emulator::Emulator;
use lambdauth_local::provision::{LOCAL_PAGES, Resources};

/// The emulator for this test process, started on first use.
///
/// # Panics
/// When the emulator cannot be started: nothing else in the suite could run.
pub fn emulator() -> &'static Emulator {
    static EMULATOR: OnceLock<Emulator> = OnceLock::new();
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
            identity_pool: self.name("pool"),
            developer_provider: DEFAULT_DEVELOPER_PROVIDER_NAME.to_owned(),
            key_alias: format!("alias/{}key", self.prefix),
            retry_queue: self.name("retry"),
            dead_letter_queue: self.name("dlq"),
            sender: app::SENDER.to_owned(),
            verification_page: format!("{LOCAL_PAGES}/verify.html"),
            reset_page: format!("{LOCAL_PAGES}/reset.html"),
        }
    }

    /// The variables that name this test's stack, as `lambdauth dev` reads them; the page
    /// addresses are left out, so that the mailed links lead to the local runtime's own pages.
    pub fn environment(&self) -> std::collections::HashMap<String, String> {
        self.resources()
            .variables()
            .into_iter()
            .filter(|(name, _)| !matches!(*name, "VERIFICATION_PAGE" | "RESET_PAGE"))
            .map(|(name, value)| (name.to_owned(), value))
            .collect()
    }

    /// `name` under this test's prefix.
    pub fn name(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }
}
