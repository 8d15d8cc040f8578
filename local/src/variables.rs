//! The functions seen from outside, for the template checks: every environment variable a
//! function's definition reads, recorded from the code itself so that the list cannot drift
//! from what the functions read.

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};

use lambdauth_runtime::config::{ConfigError, MISSING, Source};
use lambdauth_runtime::function::Definition;

/// A [`Source`] that remembers every name it is asked for, answering from `inner`: loading a
/// configuration through it lists the variables that configuration reads.
#[derive(Debug, Default)]
pub struct RecordingSource<S> {
    inner: S,
    asked: RefCell<BTreeSet<String>>,
}

impl<S: Source> RecordingSource<S> {
    /// Records the names asked of `inner`.
    pub fn new(inner: S) -> Self {
        Self {
            inner,
            asked: RefCell::default(),
        }
    }

    /// Every name asked for so far.
    pub fn asked(&self) -> BTreeSet<String> {
        self.asked.borrow().clone()
    }
}

impl<S: Source> Source for RecordingSource<S> {
    fn get(&self, name: &str) -> Option<String> {
        self.asked.borrow_mut().insert(name.to_owned());
        self.inner.get(name)
    }
}

/// Every variable `load` reads. A required variable that is missing stops a load early, so each
/// one the load names as missing gets a stand-in value and the load runs again, until it reads
/// everything it would read in a function.
///
/// Fails when the load fails for another reason than a missing variable (a default that does not
/// parse, say) or does not settle.
pub fn variables_read<C>(
    load: impl Fn(&dyn Source) -> Result<C, ConfigError>,
) -> Result<BTreeSet<String>, ConfigError> {
    let mut stand_ins = HashMap::new();
    loop {
        let recorder = RecordingSource::new(stand_ins.clone());
        match load(&recorder) {
            Ok(_) => return Ok(recorder.asked()),
            Err(error) if error.problem == MISSING && !stand_ins.contains_key(error.variable) => {
                // A URL, so that a variable that must be one (ISSUER_URL) takes it too.
                stand_ins.insert(
                    error.variable.to_owned(),
                    "https://stand-in.example".to_owned(),
                );
            }
            Err(error) => return Err(error),
        }
    }
}

/// Every environment variable `function` reads (its configuration, and its limiter's), found
/// by loading it.
pub fn variables(function: &Definition) -> Result<BTreeSet<String>, ConfigError> {
    variables_read(|source| function.load(source))
}

#[cfg(test)]
mod tests {
    use lambdauth_functions::{
        ALL, CHANGE_PASSWORD, CREATE_USER, LOGIN, LOST_PASSWORD, MAIL_FEEDBACK, MAILER,
        RESET_PASSWORD,
    };

    use super::*;

    #[test]
    fn the_variables_a_configuration_reads_are_recorded() {
        let login = variables(LOGIN).unwrap();
        for name in [
            "TABLE_NAME",
            "PASSWORD_MIN_LENGTH",
            "ARGON2_MEMORY_KIB",
            "IDENTITY_POOL_ID",
            "DEVELOPER_PROVIDER_NAME",
            "TOKEN_DURATION_SECONDS",
            "RATE_LIMIT_PASSWORD",
        ] {
            assert!(login.contains(name), "{name} missing from {login:?}");
        }
        assert!(!login.contains("KMS_KEY_ID"));
        let mailer = variables(MAILER).unwrap();
        assert!(mailer.contains("SES_CONFIGURATION_SET"));
        assert!(mailer.contains("RESET_PAGE"));
        assert!(!mailer.contains("PASSWORD_MIN_LENGTH"));
        assert!(variables(CREATE_USER).unwrap().contains("KMS_KEY_ID"));
    }

    #[test]
    fn only_the_mailing_functions_and_the_mailer_read_the_outbox_table_and_the_mailer_no_other() {
        let mailing = [CREATE_USER, LOST_PASSWORD, CHANGE_PASSWORD, RESET_PASSWORD];
        for function in lambdauth_functions::http() {
            let variables = variables(function).unwrap();
            assert_eq!(
                variables.contains("OUTBOX_TABLE_NAME"),
                mailing.contains(&function),
                "{}: {variables:?}",
                function.name
            );
        }
        let mailer = variables(MAILER).unwrap();
        assert!(mailer.contains("OUTBOX_TABLE_NAME"));
        assert!(!mailer.contains("TABLE_NAME"), "{mailer:?}");
    }

    #[test]
    fn every_function_names_its_configuration() {
        assert_eq!(ALL.len(), 12);
        assert_eq!(MAILER.config_type(), "MailerConfig");
        for function in ALL {
            assert!(function.config_type().ends_with("Config"), "{function:?}");
        }
    }

    #[test]
    fn the_feedback_function_reads_the_outbox_table_and_nothing_else() {
        let variables = variables(MAIL_FEEDBACK).unwrap();
        assert_eq!(
            variables,
            BTreeSet::from(["OUTBOX_TABLE_NAME".to_owned()]),
            "{variables:?}"
        );
    }
}
