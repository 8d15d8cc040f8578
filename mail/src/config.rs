//! The mail side's configuration: the mailer's (its queues, sender, pages, lease, retries and the
//! global cap) and the feedback function's.

use std::time::Duration;

use lambdauth_domain::MailCap;
use lambdauth_domain::mail_cap::DEFAULT_CAP_PER_HOUR;
use lambdauth_runtime::config::Configuration;
use lambdauth_runtime::config::{ConfigError, OutboxConfig, Source, optional, required, seconds};
use lambdauth_runtime::function_config;

/// The default product name the mails speak of, the original's.
pub const DEFAULT_PRODUCT_NAME: &str = "My Authentication";

/// How long one SES call may take by default.
pub const DEFAULT_SES_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5);

/// `LambdAuthMailer`. It reads the outbox table only: it has no business with the users table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailerConfig {
    /// `OUTBOX_TABLE_NAME` (default `LambdAuthOutbox`).
    pub outbox_table_name: String,
    /// `RETRY_QUEUE_URL`: where transient failures wait for another try.
    pub retry_queue_url: String,
    /// `DEAD_LETTER_QUEUE_URL`: where permanent failures wait for an operator.
    pub dead_letter_queue_url: String,
    /// `FROM_ADDRESS`: the verified SES sender.
    pub from_address: String,
    /// `PRODUCT_NAME` (default `My Authentication`, the original's).
    pub product_name: String,
    /// `VERIFICATION_PAGE`: the page verification links open.
    pub verification_page: String,
    /// `RESET_PAGE`: the page reset links open.
    pub reset_page: String,
    /// `SES_CONFIGURATION_SET` (optional).
    pub configuration_set: Option<String>,
    /// `MAIL_LEASE_SECONDS` (default 60): how long a claim holds; longer than a send takes.
    pub lease: Duration,
    /// `RETRY_BASE_SECONDS` (default 30): the first retry's delay, doubled each time.
    pub retry_base: Duration,
    /// `SES_ATTEMPT_TIMEOUT_SECONDS` (default 5): how long one SES call may take before it
    /// counts as a transient failure (SES answers in well under a second; a hung connection
    /// must not eat the function's 30 s).
    pub ses_attempt_timeout: Duration,
    /// `MAX_SEND_ATTEMPTS` (default 8): transient failures before a mail is given up.
    pub max_attempts: u32,
    /// `MAIL_HOURLY_CAP` (default 1000 of each kind; `kind=number,…` or `off`) over
    /// `MAIL_CAP_WINDOW_SECONDS` (default 3600): mails past it wait for the next window.
    pub cap: MailCap,
}

impl Configuration for MailerConfig {
    fn from_source(source: &(impl Source + ?Sized)) -> Result<Self, ConfigError> {
        let configuration_set = source
            .get("SES_CONFIGURATION_SET")
            .filter(|v| !v.trim().is_empty());
        Ok(Self {
            outbox_table_name: OutboxConfig::from_source(source)?.table_name,
            retry_queue_url: required(source, "RETRY_QUEUE_URL")?,
            dead_letter_queue_url: required(source, "DEAD_LETTER_QUEUE_URL")?,
            from_address: required(source, "FROM_ADDRESS")?,
            product_name: optional(source, "PRODUCT_NAME", DEFAULT_PRODUCT_NAME.to_owned())?,
            verification_page: required(source, "VERIFICATION_PAGE")?,
            reset_page: required(source, "RESET_PAGE")?,
            configuration_set,
            lease: seconds(source, "MAIL_LEASE_SECONDS", Duration::from_mins(1))?,
            retry_base: seconds(source, "RETRY_BASE_SECONDS", Duration::from_secs(30))?,
            ses_attempt_timeout: ses_attempt_timeout(source)?,
            max_attempts: optional(source, "MAX_SEND_ATTEMPTS", 8)?,
            cap: mail_cap(source)?,
        })
    }
}

/// `SES_ATTEMPT_TIMEOUT_SECONDS`: at least one second (at zero every send would time out), and
/// at most the mailer's 30 s function timeout.
fn ses_attempt_timeout(source: &(impl Source + ?Sized)) -> Result<Duration, ConfigError> {
    let timeout = seconds(
        source,
        "SES_ATTEMPT_TIMEOUT_SECONDS",
        DEFAULT_SES_ATTEMPT_TIMEOUT,
    )?;
    if !(1..=30).contains(&timeout.as_secs()) {
        return Err(ConfigError {
            variable: "SES_ATTEMPT_TIMEOUT_SECONDS",
            problem: "must be between 1 and 30 (the mailer's timeout)".to_owned(),
        });
    }
    Ok(timeout)
}

/// The mailer's global cap: `MAIL_HOURLY_CAP` over `MAIL_CAP_WINDOW_SECONDS`.
fn mail_cap(source: &(impl Source + ?Sized)) -> Result<MailCap, ConfigError> {
    let window = seconds(source, "MAIL_CAP_WINDOW_SECONDS", Duration::from_hours(1))?;
    if window.is_zero() {
        return Err(ConfigError {
            variable: "MAIL_CAP_WINDOW_SECONDS",
            problem: "must be at least 1".to_owned(),
        });
    }
    match source.get("MAIL_HOURLY_CAP") {
        Some(text) if !text.trim().is_empty() => {
            MailCap::parse(&text, window, DEFAULT_CAP_PER_HOUR).map_err(|e| ConfigError {
                variable: "MAIL_HOURLY_CAP",
                problem: e.to_string(),
            })
        }
        _ => Ok(MailCap::uniform(window, DEFAULT_CAP_PER_HOUR)),
    }
}

function_config!(
    /// `LambdAuthMailFeedback`: it writes the outbox table's feedback records, nothing else.
    MailFeedbackConfig { outbox: OutboxConfig }
);

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use lambdauth_runtime::config::OutboxConfig;

    use super::*;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn the_mail_cap_is_read_per_kind_and_a_bad_one_is_named() {
        let mailer = [
            ("OUTBOX_TABLE_NAME", "o"),
            ("RETRY_QUEUE_URL", "r"),
            ("DEAD_LETTER_QUEUE_URL", "d"),
            ("FROM_ADDRESS", "f@example.com"),
            ("VERIFICATION_PAGE", "v"),
            ("RESET_PAGE", "p"),
        ];
        let with = |extra: &[(&'static str, &'static str)]| {
            let mut pairs = mailer.to_vec();
            pairs.extend_from_slice(extra);
            MailerConfig::from_source(&env(&pairs))
        };
        let default = with(&[]).unwrap().cap;
        assert_eq!(default, MailCap::default());
        let cap = with(&[
            ("MAIL_HOURLY_CAP", "verification=5"),
            ("MAIL_CAP_WINDOW_SECONDS", "60"),
        ])
        .unwrap()
        .cap;
        assert_eq!(cap.of(lambdauth_domain::MailKind::Verification), Some(5));
        assert_eq!(cap.window, Duration::from_mins(1));
        for (variable, value) in [
            ("MAIL_HOURLY_CAP", "verification=many"),
            ("MAIL_HOURLY_CAP", "newsletter=5"),
            ("MAIL_CAP_WINDOW_SECONDS", "0"),
        ] {
            assert_eq!(with(&[(variable, value)]).unwrap_err().variable, variable);
        }
    }

    #[test]
    fn an_ses_attempt_may_take_one_to_thirty_seconds() {
        let base = [
            ("RETRY_QUEUE_URL", "r"),
            ("DEAD_LETTER_QUEUE_URL", "d"),
            ("FROM_ADDRESS", "f@example.com"),
            ("VERIFICATION_PAGE", "v"),
            ("RESET_PAGE", "p"),
        ];
        let with = |seconds: &'static str| {
            let mut pairs = base.to_vec();
            pairs.push(("SES_ATTEMPT_TIMEOUT_SECONDS", seconds));
            MailerConfig::from_source(&env(&pairs))
        };
        assert_eq!(
            with("1").unwrap().ses_attempt_timeout,
            Duration::from_secs(1)
        );
        assert_eq!(
            MailerConfig::from_source(&env(&base))
                .unwrap()
                .ses_attempt_timeout,
            DEFAULT_SES_ATTEMPT_TIMEOUT
        );
        for bad in ["0", "31"] {
            assert_eq!(
                with(bad).unwrap_err().variable,
                "SES_ATTEMPT_TIMEOUT_SECONDS"
            );
        }
    }

    #[test]
    fn the_mailer_reads_the_outbox_table_and_no_users_table() {
        let mailer = MailerConfig::from_source(&env(&[
            ("TABLE_NAME", "users"),
            ("OUTBOX_TABLE_NAME", "outbox"),
            ("RETRY_QUEUE_URL", "r"),
            ("DEAD_LETTER_QUEUE_URL", "d"),
            ("FROM_ADDRESS", "f@example.com"),
            ("VERIFICATION_PAGE", "v"),
            ("RESET_PAGE", "p"),
        ]))
        .unwrap();
        assert_eq!(mailer.outbox_table_name, "outbox");
        let _ = OutboxConfig::from_source(&env(&[])).unwrap();
    }
}
