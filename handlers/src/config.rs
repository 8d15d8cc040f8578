//! Configuration from environment variables: one typed struct per function, read once at start-up,
//! with an error that names the variable when one is missing or malformed.
//!
//! Endpoints and credentials are not here: the AWS SDK reads its own standard variables
//! (`AWS_REGION`, `AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_<SERVICE>`, …) unchanged.

use std::collections::HashMap;
use std::str::FromStr;
use std::time::Duration;

use lambdauth_domain::mail_cap::DEFAULT_CAP_PER_HOUR;
use lambdauth_domain::{
    HashingParams, LockoutPolicy, MailCap, MailCooldowns, PasswordPolicy, Rate, RouteClass,
    SessionPolicy, Settings,
};
use thiserror::Error;

/// A variable is missing or malformed.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[error("environment variable {variable}: {problem}")]
pub struct ConfigError {
    /// The variable's name.
    pub variable: &'static str,
    /// What is wrong with it.
    pub problem: String,
}

/// Where variables are read from: the process environment, or a map in tests and the local
/// runtime.
pub trait Source {
    /// The value of `name`, if set.
    fn get(&self, name: &str) -> Option<String>;
}

/// The process environment.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcessEnv;

impl Source for ProcessEnv {
    fn get(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

impl<S: std::hash::BuildHasher> Source for HashMap<String, String, S> {
    fn get(&self, name: &str) -> Option<String> {
        HashMap::get(self, name).cloned()
    }
}

/// The problem of a required variable that is not set.
pub const MISSING: &str = "is not set";

fn required(source: &impl Source, variable: &'static str) -> Result<String, ConfigError> {
    match source.get(variable) {
        Some(value) if !value.trim().is_empty() => Ok(value.trim().to_owned()),
        _ => Err(ConfigError {
            variable,
            problem: MISSING.to_owned(),
        }),
    }
}

fn optional<T: FromStr>(
    source: &impl Source,
    variable: &'static str,
    default: T,
) -> Result<T, ConfigError> {
    match source.get(variable) {
        Some(value) if !value.trim().is_empty() => value.trim().parse().map_err(|_| ConfigError {
            variable,
            problem: format!("`{value}` is not a valid {}", std::any::type_name::<T>()),
        }),
        _ => Ok(default),
    }
}

fn seconds(
    source: &impl Source,
    variable: &'static str,
    default: Duration,
) -> Result<Duration, ConfigError> {
    optional(source, variable, default.as_secs()).map(Duration::from_secs)
}

/// What every function reads: the table, the rules' knobs and the hashing cost.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoreConfig {
    /// `TABLE_NAME` (default `LambdAuthUsers`).
    pub table_name: String,
    /// `PREVENT_USER_EXISTENCE_ERRORS` (default true), `PASSWORD_MIN_LENGTH` (15),
    /// `VERIFICATION_TTL_SECONDS` (86400), `RESET_TTL_SECONDS` (3600),
    /// `VERIFICATION_COOLDOWN_SECONDS` (60), `RESET_COOLDOWN_SECONDS` (60),
    /// `NOTICE_COOLDOWN_SECONDS` (3600), `LOCKOUT_FREE_FAILURES` (5),
    /// `LOCKOUT_MAX_WAIT_SECONDS` (900), `LOCKOUT_IDLE_RESET_SECONDS` (900, counted from the end
    /// of the last lock).
    pub settings: Settings,
    /// `ARGON2_MEMORY_KIB` (19456), `ARGON2_TIME_COST` (2), `ARGON2_PARALLELISM` (1).
    pub hashing: HashingParams,
}

/// The default table name, the original's.
pub const DEFAULT_TABLE_NAME: &str = "LambdAuthUsers";

/// The default name of the outbox table.
pub const DEFAULT_OUTBOX_TABLE_NAME: &str = "LambdAuthOutbox";

/// The default developer provider name of the identity pool, the original's. It cannot change
/// once a pool exists, so provisioning, `doctor` and login all take it from here.
pub const DEFAULT_DEVELOPER_PROVIDER_NAME: &str = "login.mycompany.myapp";

/// The default product name the mails speak of, the original's.
pub const DEFAULT_PRODUCT_NAME: &str = "My Authentication";

impl CoreConfig {
    /// Reads the variables every function shares.
    pub fn from_source(source: &impl Source) -> Result<Self, ConfigError> {
        let defaults = Settings::default();
        let lockout = LockoutPolicy::default();
        let cooldowns = MailCooldowns::default();
        let hashing = HashingParams::default();
        let table_name = optional(source, "TABLE_NAME", DEFAULT_TABLE_NAME.to_owned())?;
        let min_length = optional(
            source,
            "PASSWORD_MIN_LENGTH",
            PasswordPolicy::default().min_length(),
        )?;
        let settings = Settings {
            prevent_user_existence_errors: optional(
                source,
                "PREVENT_USER_EXISTENCE_ERRORS",
                defaults.prevent_user_existence_errors,
            )?,
            password_policy: PasswordPolicy::with_min_length(min_length),
            verification_ttl: seconds(
                source,
                "VERIFICATION_TTL_SECONDS",
                defaults.verification_ttl,
            )?,
            reset_ttl: seconds(source, "RESET_TTL_SECONDS", defaults.reset_ttl)?,
            cooldowns: MailCooldowns {
                verification: seconds(
                    source,
                    "VERIFICATION_COOLDOWN_SECONDS",
                    cooldowns.verification,
                )?,
                reset: seconds(source, "RESET_COOLDOWN_SECONDS", cooldowns.reset)?,
                notice: seconds(source, "NOTICE_COOLDOWN_SECONDS", cooldowns.notice)?,
            },
            lockout: LockoutPolicy {
                free_failures: optional(source, "LOCKOUT_FREE_FAILURES", lockout.free_failures)?,
                max_wait: seconds(source, "LOCKOUT_MAX_WAIT_SECONDS", lockout.max_wait)?,
                idle_reset: seconds(source, "LOCKOUT_IDLE_RESET_SECONDS", lockout.idle_reset)?,
                ..lockout
            },
        };
        if settings.lockout.idle_reset.is_zero() {
            return Err(ConfigError {
                variable: "LOCKOUT_IDLE_RESET_SECONDS",
                problem: "must be at least 1: at 0 every lock's end would forget the failures"
                    .to_owned(),
            });
        }
        let hashing = HashingParams {
            memory_kib: optional(source, "ARGON2_MEMORY_KIB", hashing.memory_kib)?,
            time_cost: optional(source, "ARGON2_TIME_COST", hashing.time_cost)?,
            parallelism: optional(source, "ARGON2_PARALLELISM", hashing.parallelism)?,
        };
        Ok(Self {
            table_name,
            settings,
            hashing,
        })
    }
}

/// What the functions that write a mail with a link read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailingConfig {
    /// `KMS_KEY_ID`: the key (id, ARN or `alias/…`) that encrypts link tokens on outbox items.
    pub kms_key_id: String,
}

impl MailingConfig {
    /// Reads `KMS_KEY_ID`.
    pub fn from_source(source: &impl Source) -> Result<Self, ConfigError> {
        Ok(Self {
            kms_key_id: required(source, "KMS_KEY_ID")?,
        })
    }
}

/// What login reads to obtain a Cognito token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityConfig {
    /// `IDENTITY_POOL_ID`.
    pub identity_pool_id: String,
    /// `DEVELOPER_PROVIDER_NAME` (default `login.mycompany.myapp`, the original's).
    pub developer_provider_name: String,
    /// `TOKEN_DURATION_SECONDS` (default 900; Cognito accepts 1 to 86400).
    pub token_duration: Duration,
}

impl IdentityConfig {
    /// Reads the identity pool settings.
    pub fn from_source(source: &impl Source) -> Result<Self, ConfigError> {
        let token_duration = seconds(source, "TOKEN_DURATION_SECONDS", Duration::from_mins(15))?;
        if !(1..=86_400).contains(&token_duration.as_secs()) {
            return Err(ConfigError {
                variable: "TOKEN_DURATION_SECONDS",
                problem: "must be between 1 and 86400".to_owned(),
            });
        }
        Ok(Self {
            identity_pool_id: required(source, "IDENTITY_POOL_ID")?,
            developer_provider_name: optional(
                source,
                "DEVELOPER_PROVIDER_NAME",
                DEFAULT_DEVELOPER_PROVIDER_NAME.to_owned(),
            )?,
            token_duration,
        })
    }
}

/// What the functions that put mail items read: the outbox table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxConfig {
    /// `OUTBOX_TABLE_NAME` (default `LambdAuthOutbox`).
    pub table_name: String,
}

impl OutboxConfig {
    /// Reads `OUTBOX_TABLE_NAME`.
    pub fn from_source(source: &impl Source) -> Result<Self, ConfigError> {
        Ok(Self {
            table_name: optional(
                source,
                "OUTBOX_TABLE_NAME",
                DEFAULT_OUTBOX_TABLE_NAME.to_owned(),
            )?,
        })
    }
}

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
    /// `MAX_SEND_ATTEMPTS` (default 8): transient failures before a mail is given up.
    pub max_attempts: u32,
    /// `MAIL_HOURLY_CAP` (default 1000 of each kind; `kind=number,…` or `off`) over
    /// `MAIL_CAP_WINDOW_SECONDS` (default 3600): mails past it wait for the next window.
    pub cap: MailCap,
}

impl MailerConfig {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_source(&ProcessEnv)
    }

    /// Reads `source`.
    pub fn from_source(source: &impl Source) -> Result<Self, ConfigError> {
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
            max_attempts: optional(source, "MAX_SEND_ATTEMPTS", 8)?,
            cap: mail_cap(source)?,
        })
    }
}

/// The mailer's global cap: `MAIL_HOURLY_CAP` over `MAIL_CAP_WINDOW_SECONDS`.
fn mail_cap(source: &impl Source) -> Result<MailCap, ConfigError> {
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

/// What every function that reads or writes the table without hashing reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableConfig {
    /// `TABLE_NAME` (default `LambdAuthUsers`).
    pub table_name: String,
}

impl TableConfig {
    /// Reads `TABLE_NAME`.
    pub fn from_source(source: &impl Source) -> Result<Self, ConfigError> {
        Ok(Self {
            table_name: optional(source, "TABLE_NAME", DEFAULT_TABLE_NAME.to_owned())?,
        })
    }
}

/// The issuer and its keys: what the key set publishes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeySetConfig {
    /// `SIGNING_KEY_IDS`: KMS keys (ids, ARNs or `alias/…`), comma-separated; the first signs,
    /// every one is published, so a new key can be published before it signs.
    pub signing_key_ids: Vec<String>,
    /// `ISSUER_URL`: the `iss` of access tokens (the API's URL or its custom domain), without a
    /// trailing slash; the key set is served under it.
    pub issuer: String,
}

impl KeySetConfig {
    /// Reads `SIGNING_KEY_IDS` and `ISSUER_URL`.
    pub fn from_source(source: &impl Source) -> Result<Self, ConfigError> {
        let signing_key_ids: Vec<String> = required(source, "SIGNING_KEY_IDS")?
            .split(',')
            .map(str::trim)
            .filter(|id| !id.is_empty())
            .map(str::to_owned)
            .collect();
        if signing_key_ids.is_empty() {
            return Err(ConfigError {
                variable: "SIGNING_KEY_IDS",
                problem: MISSING.to_owned(),
            });
        }
        let issuer = required(source, "ISSUER_URL")?;
        let issuer = issuer.trim_end_matches('/').to_owned();
        if !(issuer.starts_with("https://") || issuer.starts_with("http://")) {
            return Err(ConfigError {
                variable: "ISSUER_URL",
                problem: format!("`{issuer}` is not an http(s) URL"),
            });
        }
        Ok(Self {
            signing_key_ids,
            issuer,
        })
    }
}

/// What signs and checks access tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessTokenConfig {
    /// The issuer and its keys.
    pub keys: KeySetConfig,
    /// `ACCESS_TOKEN_AUDIENCE` (default `lambdauth`): the `aud` claim, which an authorizer checks.
    pub audience: String,
    /// `ACCESS_TOKEN_TTL_SECONDS` (default 900, at most 3600).
    pub ttl: Duration,
}

/// The default `aud` of access tokens.
pub const DEFAULT_ACCESS_TOKEN_AUDIENCE: &str = "lambdauth";

impl AccessTokenConfig {
    /// Reads the key set, `ACCESS_TOKEN_AUDIENCE` and `ACCESS_TOKEN_TTL_SECONDS`.
    pub fn from_source(source: &impl Source) -> Result<Self, ConfigError> {
        let ttl = seconds(source, "ACCESS_TOKEN_TTL_SECONDS", Duration::from_mins(15))?;
        if !(1..=3600).contains(&ttl.as_secs()) {
            return Err(ConfigError {
                variable: "ACCESS_TOKEN_TTL_SECONDS",
                problem: "must be between 1 and 3600".to_owned(),
            });
        }
        Ok(Self {
            keys: KeySetConfig::from_source(source)?,
            audience: optional(
                source,
                "ACCESS_TOKEN_AUDIENCE",
                DEFAULT_ACCESS_TOKEN_AUDIENCE.to_owned(),
            )?,
            ttl,
        })
    }
}

/// How long sessions live: `SESSION_IDLE_SECONDS` (default 30 days), `SESSION_MAX_SECONDS`
/// (90 days), `REFRESH_REUSE_GRACE_SECONDS` (30).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionConfig {
    /// The rules' knobs.
    pub policy: SessionPolicy,
}

impl SessionConfig {
    /// Reads the three variables.
    pub fn from_source(source: &impl Source) -> Result<Self, ConfigError> {
        let defaults = SessionPolicy::default();
        let policy = SessionPolicy {
            idle: seconds(source, "SESSION_IDLE_SECONDS", defaults.idle)?,
            max: seconds(source, "SESSION_MAX_SECONDS", defaults.max)?,
            reuse_grace: seconds(source, "REFRESH_REUSE_GRACE_SECONDS", defaults.reuse_grace)?,
        };
        if policy.idle.is_zero() || policy.max.is_zero() {
            return Err(ConfigError {
                variable: if policy.idle.is_zero() {
                    "SESSION_IDLE_SECONDS"
                } else {
                    "SESSION_MAX_SECONDS"
                },
                problem: "must be at least 1".to_owned(),
            });
        }
        Ok(Self { policy })
    }
}

/// The abuse limits per source address and route class: `RATE_LIMIT_MAIL` (default `30/300`,
/// signup and lost password), `RATE_LIMIT_PASSWORD` (`30/300`, login and password change),
/// `RATE_LIMIT_LINK` (`30/300`, verification and reset), `RATE_LIMIT_SESSION` (`150/300`,
/// refresh); each `<count>/<seconds>` or `off`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimitConfig {
    rates: [Option<Rate>; 4],
}

impl RateLimitConfig {
    /// The variable that sets the rate of `class`.
    pub fn variable(class: RouteClass) -> &'static str {
        match class {
            RouteClass::Mail => "RATE_LIMIT_MAIL",
            RouteClass::Password => "RATE_LIMIT_PASSWORD",
            RouteClass::Link => "RATE_LIMIT_LINK",
            RouteClass::Session => "RATE_LIMIT_SESSION",
        }
    }

    /// Reads the four variables.
    pub fn from_source(source: &impl Source) -> Result<Self, ConfigError> {
        let mut rates = [None; 4];
        for (slot, class) in rates.iter_mut().zip(RouteClass::ALL) {
            let variable = Self::variable(class);
            *slot = match source.get(variable) {
                Some(text) if !text.trim().is_empty() => {
                    Rate::parse_setting(&text).map_err(|e| ConfigError {
                        variable,
                        problem: e.to_string(),
                    })?
                }
                _ => Some(class.default_rate()),
            };
        }
        Ok(Self { rates })
    }

    /// The rate of `class`; `None` when it is `off`.
    pub fn rate(&self, class: RouteClass) -> Option<Rate> {
        RouteClass::ALL
            .iter()
            .position(|c| *c == class)
            .and_then(|index| self.rates[index])
    }
}

macro_rules! function_config {
    ($(#[$doc:meta])* $name:ident { $($field:ident : $ty:ty),* }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $name {
            $(
                #[allow(missing_docs)]
                pub $field: $ty,
            )*
        }

        impl $name {
            /// Reads the process environment.
            pub fn from_env() -> Result<Self, ConfigError> {
                Self::from_source(&ProcessEnv)
            }

            /// Reads `source`.
            pub fn from_source(source: &impl Source) -> Result<Self, ConfigError> {
                Ok(Self {
                    $($field: <$ty>::from_source(source)?,)*
                })
            }
        }
    };
}

function_config!(
    /// `LambdAuthCreateUser`.
    CreateUserConfig {
        core: CoreConfig,
        outbox: OutboxConfig,
        mailing: MailingConfig,
        limits: RateLimitConfig
    }
);
function_config!(
    /// `LambdAuthVerifyUser`.
    VerifyUserConfig { core: CoreConfig, limits: RateLimitConfig }
);
function_config!(
    /// `LambdAuthLogin`.
    LoginConfig {
        core: CoreConfig,
        identity: IdentityConfig,
        tokens: AccessTokenConfig,
        sessions: SessionConfig,
        limits: RateLimitConfig
    }
);
function_config!(
    /// `LambdAuthChangePassword`.
    ChangePasswordConfig {
        core: CoreConfig,
        outbox: OutboxConfig,
        limits: RateLimitConfig
    }
);
function_config!(
    /// `LambdAuthLostPassword`.
    LostPasswordConfig {
        core: CoreConfig,
        outbox: OutboxConfig,
        mailing: MailingConfig,
        limits: RateLimitConfig
    }
);
function_config!(
    /// `LambdAuthResetPassword`.
    ResetPasswordConfig {
        core: CoreConfig,
        outbox: OutboxConfig,
        limits: RateLimitConfig
    }
);
function_config!(
    /// `LambdAuthRefreshToken`.
    RefreshTokenConfig {
        table: TableConfig,
        identity: IdentityConfig,
        tokens: AccessTokenConfig,
        sessions: SessionConfig,
        limits: RateLimitConfig
    }
);
function_config!(
    /// `LambdAuthLogout`.
    LogoutConfig { table: TableConfig, sessions: SessionConfig }
);
function_config!(
    /// `LambdAuthSessions`.
    SessionsConfig {
        table: TableConfig,
        tokens: AccessTokenConfig,
        sessions: SessionConfig
    }
);
function_config!(
    /// `LambdAuthJwks`.
    JwksConfig { keys: KeySetConfig }
);
function_config!(
    /// `LambdAuthMailFeedback`: it writes the outbox table's feedback records, nothing else.
    MailFeedbackConfig { outbox: OutboxConfig }
);

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn defaults_are_the_documented_ones() {
        let config = VerifyUserConfig::from_source(&env(&[])).unwrap();
        assert_eq!(config.core.table_name, DEFAULT_TABLE_NAME);
        assert_eq!(config.core.settings, Settings::default());
        assert_eq!(config.core.hashing, HashingParams::default());
    }

    #[test]
    fn a_missing_variable_is_named() {
        let error = LoginConfig::from_source(&env(&[])).unwrap_err();
        assert_eq!(error.variable, "IDENTITY_POOL_ID");
        assert_eq!(
            error.to_string(),
            "environment variable IDENTITY_POOL_ID: is not set"
        );
        let error = CreateUserConfig::from_source(&env(&[])).unwrap_err();
        assert_eq!(error.variable, "KMS_KEY_ID");
    }

    #[test]
    fn a_malformed_variable_is_named() {
        let error =
            VerifyUserConfig::from_source(&env(&[("PREVENT_USER_EXISTENCE_ERRORS", "yes")]))
                .unwrap_err();
        assert_eq!(error.variable, "PREVENT_USER_EXISTENCE_ERRORS");
        let error =
            VerifyUserConfig::from_source(&env(&[("ARGON2_MEMORY_KIB", "-1")])).unwrap_err();
        assert_eq!(error.variable, "ARGON2_MEMORY_KIB");
        let error = LoginConfig::from_source(&env(&[
            ("IDENTITY_POOL_ID", "p"),
            ("TOKEN_DURATION_SECONDS", "0"),
        ]))
        .unwrap_err();
        assert_eq!(error.variable, "TOKEN_DURATION_SECONDS");
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
    fn session_knobs_are_bounded() {
        let base = [
            ("SIGNING_KEY_IDS", "k"),
            ("ISSUER_URL", "https://auth.example.com"),
        ];
        let with = |extra: (&'static str, &'static str)| {
            let mut pairs = base.to_vec();
            pairs.push(extra);
            JwksConfig::from_source(&env(&pairs))
                .and_then(|_| SessionsConfig::from_source(&env(&pairs)))
                .unwrap_err()
                .variable
        };
        assert_eq!(
            with(("ACCESS_TOKEN_TTL_SECONDS", "3601")),
            "ACCESS_TOKEN_TTL_SECONDS"
        );
        assert_eq!(with(("SESSION_MAX_SECONDS", "0")), "SESSION_MAX_SECONDS");
        assert_eq!(with(("ISSUER_URL", "auth.example.com")), "ISSUER_URL");
        assert_eq!(
            JwksConfig::from_source(&env(&[("SIGNING_KEY_IDS", " , ")]))
                .unwrap_err()
                .variable,
            "SIGNING_KEY_IDS"
        );
    }

    #[test]
    fn rate_limits_default_to_thirty_per_five_minutes_and_can_be_set_or_turned_off() {
        let config = RateLimitConfig::from_source(&env(&[])).unwrap();
        for class in RouteClass::ALL {
            assert_eq!(config.rate(class), Some(class.default_rate()));
        }
        let config = RateLimitConfig::from_source(&env(&[
            ("RATE_LIMIT_MAIL", "5/2"),
            ("RATE_LIMIT_SESSION", "off"),
        ]))
        .unwrap();
        assert_eq!(
            config.rate(RouteClass::Mail),
            Some(Rate::new(5, Duration::from_secs(2)).unwrap())
        );
        assert_eq!(config.rate(RouteClass::Session), None);
        let error =
            VerifyUserConfig::from_source(&env(&[("RATE_LIMIT_LINK", "30 per 300")])).unwrap_err();
        assert_eq!(error.variable, "RATE_LIMIT_LINK");
    }

    #[test]
    fn the_outbox_table_is_its_own_variable_and_the_mailer_reads_no_users_table() {
        let config = ResetPasswordConfig::from_source(&env(&[])).unwrap();
        assert_eq!(config.outbox.table_name, DEFAULT_OUTBOX_TABLE_NAME);
        let config = ResetPasswordConfig::from_source(&env(&[
            ("TABLE_NAME", "users"),
            ("OUTBOX_TABLE_NAME", "outbox"),
        ]))
        .unwrap();
        assert_eq!(
            (
                config.core.table_name.as_str(),
                config.outbox.table_name.as_str()
            ),
            ("users", "outbox")
        );
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
    }

    #[test]
    fn an_idle_reset_of_zero_is_refused() {
        let error = VerifyUserConfig::from_source(&env(&[("LOCKOUT_IDLE_RESET_SECONDS", "0")]))
            .unwrap_err();
        assert_eq!(error.variable, "LOCKOUT_IDLE_RESET_SECONDS");
    }

    #[test]
    fn knobs_are_read() {
        let config = LoginConfig::from_source(&env(&[
            ("TABLE_NAME", "t"),
            ("IDENTITY_POOL_ID", "us-east-1:pool"),
            ("PREVENT_USER_EXISTENCE_ERRORS", "false"),
            ("PASSWORD_MIN_LENGTH", "10"),
            ("TOKEN_DURATION_SECONDS", "3600"),
            ("SIGNING_KEY_IDS", "alias/new, alias/old"),
            ("ISSUER_URL", "https://auth.example.com/"),
            ("SESSION_IDLE_SECONDS", "60"),
        ]))
        .unwrap();
        assert_eq!(config.core.table_name, "t");
        assert_eq!(
            config.tokens.keys.signing_key_ids,
            ["alias/new", "alias/old"]
        );
        assert_eq!(config.tokens.keys.issuer, "https://auth.example.com");
        assert_eq!(config.tokens.audience, DEFAULT_ACCESS_TOKEN_AUDIENCE);
        assert_eq!(config.tokens.ttl, Duration::from_mins(15));
        assert_eq!(config.sessions.policy.idle, Duration::from_mins(1));
        assert!(!config.core.settings.prevent_user_existence_errors);
        assert_eq!(config.core.settings.password_policy.min_length(), 10);
        assert_eq!(config.identity.token_duration, Duration::from_hours(1));
        assert_eq!(
            config.identity.developer_provider_name,
            DEFAULT_DEVELOPER_PROVIDER_NAME
        );
    }
}
