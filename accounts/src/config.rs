//! The HTTP functions' configuration: what the rules, the hasher, Cognito, the access tokens and
//! sessions read, and one struct per function of the pieces it reads.

use std::time::Duration;

use lambdauth_domain::{
    HashingParams, LockoutPolicy, MailCooldowns, PasswordPolicy, SessionPolicy, Settings,
};
use lambdauth_runtime::config::{
    ConfigError, DEFAULT_TABLE_NAME, MISSING, OutboxConfig, Source, TableConfig, optional,
    required, seconds,
};
use lambdauth_runtime::function_config;

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

/// The default developer provider name of the identity pool, the original's. It cannot change
/// once a pool exists, so provisioning, `doctor` and login all take it from here.
pub const DEFAULT_DEVELOPER_PROVIDER_NAME: &str = "login.mycompany.myapp";

impl CoreConfig {
    /// Reads the variables every function shares.
    pub fn from_source(source: &(impl Source + ?Sized)) -> Result<Self, ConfigError> {
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
    pub fn from_source(source: &(impl Source + ?Sized)) -> Result<Self, ConfigError> {
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
    pub fn from_source(source: &(impl Source + ?Sized)) -> Result<Self, ConfigError> {
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
    pub fn from_source(source: &(impl Source + ?Sized)) -> Result<Self, ConfigError> {
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

/// What signs and checks access tokens (RFC 9068 JWTs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessTokenConfig {
    /// The issuer and its keys.
    pub keys: KeySetConfig,
    /// `ACCESS_TOKEN_AUDIENCE` (default `lambdauth`): the audiences a token may be for (its
    /// `aud`, which each API's authorizer checks), comma-separated; a login or a refresh names
    /// one, the first by default.
    pub audiences: Vec<String>,
    /// `ACCESS_TOKEN_CLIENT_ID` (default `lambdauth`): the `client_id` claim, the client the
    /// tokens are issued to.
    pub client_id: String,
    /// `ACCESS_TOKEN_TTL_SECONDS` (default 900, at most 3600).
    pub ttl: Duration,
}

/// The default `aud` of access tokens.
pub const DEFAULT_ACCESS_TOKEN_AUDIENCE: &str = "lambdauth";

/// The default `client_id` of access tokens.
pub const DEFAULT_ACCESS_TOKEN_CLIENT_ID: &str = "lambdauth";

impl AccessTokenConfig {
    /// This service's own audience, the first: the only one its own routes (`/sessions`, behind
    /// its authorizer) accept, so that a token handed to another API does not reach them.
    pub fn own_audience(&self) -> &[String] {
        &self.audiences[..1]
    }

    /// Reads the key set, `ACCESS_TOKEN_AUDIENCE`, `ACCESS_TOKEN_CLIENT_ID` and
    /// `ACCESS_TOKEN_TTL_SECONDS`.
    pub fn from_source(source: &(impl Source + ?Sized)) -> Result<Self, ConfigError> {
        let ttl = seconds(source, "ACCESS_TOKEN_TTL_SECONDS", Duration::from_mins(15))?;
        if !(1..=3600).contains(&ttl.as_secs()) {
            return Err(ConfigError {
                variable: "ACCESS_TOKEN_TTL_SECONDS",
                problem: "must be between 1 and 3600".to_owned(),
            });
        }
        let audiences: Vec<String> = optional(
            source,
            "ACCESS_TOKEN_AUDIENCE",
            DEFAULT_ACCESS_TOKEN_AUDIENCE.to_owned(),
        )?
        .split(',')
        .map(str::trim)
        .map(str::to_owned)
        .collect();
        if audiences.iter().any(String::is_empty) {
            return Err(ConfigError {
                variable: "ACCESS_TOKEN_AUDIENCE",
                problem: "is a comma-separated list of audiences, none of them empty".to_owned(),
            });
        }
        Ok(Self {
            keys: KeySetConfig::from_source(source)?,
            audiences,
            client_id: optional(
                source,
                "ACCESS_TOKEN_CLIENT_ID",
                DEFAULT_ACCESS_TOKEN_CLIENT_ID.to_owned(),
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
    pub fn from_source(source: &(impl Source + ?Sized)) -> Result<Self, ConfigError> {
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

function_config!(
    /// `LambdAuthCreateUser`.
    CreateUserConfig {
        core: CoreConfig,
        outbox: OutboxConfig,
        mailing: MailingConfig
    }
);
function_config!(
    /// `LambdAuthVerifyUser`.
    VerifyUserConfig { core: CoreConfig }
);
function_config!(
    /// `LambdAuthLogin`.
    LoginConfig {
        core: CoreConfig,
        identity: IdentityConfig,
        tokens: AccessTokenConfig,
        sessions: SessionConfig
    }
);
function_config!(
    /// `LambdAuthChangePassword`.
    ChangePasswordConfig {
        core: CoreConfig,
        outbox: OutboxConfig
    }
);
function_config!(
    /// `LambdAuthLostPassword`.
    LostPasswordConfig {
        core: CoreConfig,
        outbox: OutboxConfig,
        mailing: MailingConfig
    }
);
function_config!(
    /// `LambdAuthResetPassword`.
    ResetPasswordConfig {
        core: CoreConfig,
        outbox: OutboxConfig
    }
);
function_config!(
    /// `LambdAuthRefreshToken`.
    RefreshTokenConfig {
        table: TableConfig,
        identity: IdentityConfig,
        tokens: AccessTokenConfig,
        sessions: SessionConfig
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

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use lambdauth_runtime::config::Configuration as _;
    use lambdauth_runtime::config::DEFAULT_OUTBOX_TABLE_NAME;

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
    fn the_outbox_table_is_its_own_variable() {
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
        assert_eq!(config.tokens.audiences, [DEFAULT_ACCESS_TOKEN_AUDIENCE]);
        assert_eq!(config.tokens.client_id, DEFAULT_ACCESS_TOKEN_CLIENT_ID);
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

    #[test]
    fn the_audiences_are_a_list_of_names_none_empty() {
        let base = [
            ("SIGNING_KEY_IDS", "k"),
            ("ISSUER_URL", "https://auth.example.com"),
        ];
        let with = |audience: &'static str| {
            let mut pairs = base.to_vec();
            pairs.push(("ACCESS_TOKEN_AUDIENCE", audience));
            AccessTokenConfig::from_source(&env(&pairs))
        };
        let config = with("orders, billing").unwrap();
        assert_eq!(config.audiences, ["orders", "billing"]);
        for bad in ["orders,", ",orders", "orders,,billing"] {
            assert_eq!(
                with(bad).unwrap_err().variable,
                "ACCESS_TOKEN_AUDIENCE",
                "{bad}"
            );
        }
    }
}
