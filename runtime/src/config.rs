//! Configuration from environment variables: one typed struct per function, read once at start-up,
//! with an error that names the variable when one is missing or malformed.
//!
//! Endpoints and credentials are not here: the AWS SDK reads its own standard variables
//! (`AWS_REGION`, `AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_<SERVICE>`, …) unchanged.

use std::collections::HashMap;
use std::str::FromStr;
use std::time::Duration;

use lambdauth_domain::{Rate, RouteClass};
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

/// The value of `variable`, which must be set.
pub fn required(
    source: &(impl Source + ?Sized),
    variable: &'static str,
) -> Result<String, ConfigError> {
    match source.get(variable) {
        Some(value) if !value.trim().is_empty() => Ok(value.trim().to_owned()),
        _ => Err(ConfigError {
            variable,
            problem: MISSING.to_owned(),
        }),
    }
}

/// The value of `variable` parsed, or `default` when it is not set.
pub fn optional<T: FromStr>(
    source: &(impl Source + ?Sized),
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

/// A whole number of seconds from `variable`, or `default`.
pub fn seconds(
    source: &(impl Source + ?Sized),
    variable: &'static str,
    default: Duration,
) -> Result<Duration, ConfigError> {
    optional(source, variable, default.as_secs()).map(Duration::from_secs)
}

/// A configuration type: read once at start-up from the environment (or a map), with an error
/// that names the variable.
pub trait Configuration: Sized + std::fmt::Debug {
    /// Reads `source`.
    fn from_source(source: &(impl Source + ?Sized)) -> Result<Self, ConfigError>;
}

/// The default table name, the original's.
pub const DEFAULT_TABLE_NAME: &str = "LambdAuthUsers";

/// The default name of the outbox table.
pub const DEFAULT_OUTBOX_TABLE_NAME: &str = "LambdAuthOutbox";

/// What every function that reads or writes the table without hashing reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableConfig {
    /// `TABLE_NAME` (default `LambdAuthUsers`).
    pub table_name: String,
}

impl TableConfig {
    /// Reads `TABLE_NAME`.
    pub fn from_source(source: &(impl Source + ?Sized)) -> Result<Self, ConfigError> {
        Ok(Self {
            table_name: optional(source, "TABLE_NAME", DEFAULT_TABLE_NAME.to_owned())?,
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
    pub fn from_source(source: &(impl Source + ?Sized)) -> Result<Self, ConfigError> {
        Ok(Self {
            table_name: optional(
                source,
                "OUTBOX_TABLE_NAME",
                DEFAULT_OUTBOX_TABLE_NAME.to_owned(),
            )?,
        })
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
    pub fn from_source(source: &(impl Source + ?Sized)) -> Result<Self, ConfigError> {
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

/// The pieces read here are configurations of their own too, so a function whose
/// configuration is one piece names it directly.
macro_rules! piece_configuration {
    ($($piece:ty),*) => {
        $(
            impl Configuration for $piece {
                fn from_source(source: &(impl Source + ?Sized)) -> Result<Self, ConfigError> {
                    <$piece>::from_source(source)
                }
            }
        )*
    };
}

piece_configuration!(TableConfig, OutboxConfig, RateLimitConfig);

/// A function's configuration: a struct of the configuration pieces it reads, each read by its
/// own `from_source`.
#[macro_export]
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

        impl $crate::config::Configuration for $name {
            fn from_source(
                source: &(impl $crate::config::Source + ?Sized),
            ) -> Result<Self, $crate::config::ConfigError> {
                Ok(Self {
                    $($field: <$ty>::from_source(source)?,)*
                })
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn a_missing_variable_is_named() {
        let error = required(&env(&[]), "KMS_KEY_ID").unwrap_err();
        assert_eq!(error.variable, "KMS_KEY_ID");
        assert_eq!(
            error.to_string(),
            "environment variable KMS_KEY_ID: is not set"
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
            RateLimitConfig::from_source(&env(&[("RATE_LIMIT_LINK", "30 per 300")])).unwrap_err();
        assert_eq!(error.variable, "RATE_LIMIT_LINK");
    }

    #[test]
    fn the_tables_default_to_their_documented_names() {
        assert_eq!(
            TableConfig::from_source(&env(&[])).unwrap().table_name,
            DEFAULT_TABLE_NAME
        );
        assert_eq!(
            OutboxConfig::from_source(&env(&[("OUTBOX_TABLE_NAME", "outbox")]))
                .unwrap()
                .table_name,
            "outbox"
        );
    }
}
