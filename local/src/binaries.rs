//! The twelve Lambda binaries seen from outside, for the template checks: which configuration
//! each loads, and every environment variable that configuration reads, recorded from the code
//! itself so that the list cannot drift from what the functions read.

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};

use lambdauth_handlers::Function;
use lambdauth_handlers::config::{
    ChangePasswordConfig, ConfigError, CreateUserConfig, JwksConfig, LoginConfig, LogoutConfig,
    LostPasswordConfig, MISSING, MailFeedbackConfig, MailerConfig, RefreshTokenConfig,
    ResetPasswordConfig, SessionsConfig, Source, VerifyUserConfig,
};
use lambdauth_handlers::feedback::FUNCTION_NAME as MAIL_FEEDBACK_NAME;
use lambdauth_handlers::function::MAILER_NAME;

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
    load: impl Fn(&RecordingSource<HashMap<String, String>>) -> Result<C, ConfigError>,
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

/// One of the twelve Lambda binaries: a function that answers the API, the mailer, or the mail
/// feedback function.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Binary {
    /// One of the HTTP functions.
    Api(Function),
    /// `LambdAuthMailer`.
    Mailer,
    /// `LambdAuthMailFeedback`.
    MailFeedback,
}

/// The last segment of a type's path: `CreateUserConfig` for `…::config::CreateUserConfig`.
fn short_type_name<T>() -> &'static str {
    let full = std::any::type_name::<T>();
    full.rsplit("::").next().unwrap_or(full)
}

impl Binary {
    /// All twelve.
    pub fn all() -> impl Iterator<Item = Self> {
        Function::ALL
            .into_iter()
            .map(Self::Api)
            .chain([Self::Mailer, Self::MailFeedback])
    }

    /// The binary's (and the function's) name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Api(function) => function.name(),
            Self::Mailer => MAILER_NAME,
            Self::MailFeedback => MAIL_FEEDBACK_NAME,
        }
    }

    /// The binary named `name`.
    pub fn for_name(name: &str) -> Option<Self> {
        Self::all().find(|binary| binary.name() == name)
    }

    /// Loads this binary's configuration from `source`, answering it in its `Debug` form (two
    /// loads agree when their forms do). The one place that knows which binary loads which type.
    pub fn load(self, source: &impl Source) -> Result<String, ConfigError> {
        fn shown<C: std::fmt::Debug>(
            config: Result<C, ConfigError>,
        ) -> Result<String, ConfigError> {
            config.map(|config| format!("{config:?}"))
        }
        match self {
            Self::Api(Function::CreateUser) => shown(CreateUserConfig::from_source(source)),
            Self::Api(Function::VerifyUser) => shown(VerifyUserConfig::from_source(source)),
            Self::Api(Function::Login) => shown(LoginConfig::from_source(source)),
            Self::Api(Function::ChangePassword) => shown(ChangePasswordConfig::from_source(source)),
            Self::Api(Function::LostPassword) => shown(LostPasswordConfig::from_source(source)),
            Self::Api(Function::ResetPassword) => shown(ResetPasswordConfig::from_source(source)),
            Self::Api(Function::RefreshToken) => shown(RefreshTokenConfig::from_source(source)),
            Self::Api(Function::Logout) => shown(LogoutConfig::from_source(source)),
            Self::Api(Function::Sessions) => shown(SessionsConfig::from_source(source)),
            Self::Api(Function::Jwks) => shown(JwksConfig::from_source(source)),
            Self::Mailer => shown(MailerConfig::from_source(source)),
            Self::MailFeedback => shown(MailFeedbackConfig::from_source(source)),
        }
    }

    /// The name of the configuration type this binary's `main` must load (`CreateUserConfig`).
    pub fn config_type_name(self) -> &'static str {
        match self {
            Self::Api(Function::CreateUser) => short_type_name::<CreateUserConfig>(),
            Self::Api(Function::VerifyUser) => short_type_name::<VerifyUserConfig>(),
            Self::Api(Function::Login) => short_type_name::<LoginConfig>(),
            Self::Api(Function::ChangePassword) => short_type_name::<ChangePasswordConfig>(),
            Self::Api(Function::LostPassword) => short_type_name::<LostPasswordConfig>(),
            Self::Api(Function::ResetPassword) => short_type_name::<ResetPasswordConfig>(),
            Self::Api(Function::RefreshToken) => short_type_name::<RefreshTokenConfig>(),
            Self::Api(Function::Logout) => short_type_name::<LogoutConfig>(),
            Self::Api(Function::Sessions) => short_type_name::<SessionsConfig>(),
            Self::Api(Function::Jwks) => short_type_name::<JwksConfig>(),
            Self::Mailer => short_type_name::<MailerConfig>(),
            Self::MailFeedback => short_type_name::<MailFeedbackConfig>(),
        }
    }

    /// Every environment variable this binary's configuration reads, found by loading it.
    pub fn variables(self) -> Result<BTreeSet<String>, ConfigError> {
        variables_read(|source| self.load(source))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_variables_a_configuration_reads_are_recorded() {
        let login = Binary::Api(Function::Login).variables().unwrap();
        for name in [
            "TABLE_NAME",
            "PASSWORD_MIN_LENGTH",
            "ARGON2_MEMORY_KIB",
            "IDENTITY_POOL_ID",
            "DEVELOPER_PROVIDER_NAME",
            "TOKEN_DURATION_SECONDS",
        ] {
            assert!(login.contains(name), "{name} missing from {login:?}");
        }
        assert!(!login.contains("KMS_KEY_ID"));
        let mailer = Binary::Mailer.variables().unwrap();
        assert!(mailer.contains("SES_CONFIGURATION_SET"));
        assert!(mailer.contains("RESET_PAGE"));
        assert!(!mailer.contains("PASSWORD_MIN_LENGTH"));
        assert!(
            Binary::Api(Function::CreateUser)
                .variables()
                .unwrap()
                .contains("KMS_KEY_ID")
        );
    }

    #[test]
    fn only_the_mailing_functions_and_the_mailer_read_the_outbox_table_and_the_mailer_no_other() {
        let mailing = [
            Function::CreateUser,
            Function::LostPassword,
            Function::ChangePassword,
            Function::ResetPassword,
        ];
        for function in Function::ALL {
            let variables = Binary::Api(function).variables().unwrap();
            assert_eq!(
                variables.contains("OUTBOX_TABLE_NAME"),
                mailing.contains(&function),
                "{}: {variables:?}",
                function.name()
            );
        }
        let mailer = Binary::Mailer.variables().unwrap();
        assert!(mailer.contains("OUTBOX_TABLE_NAME"));
        assert!(!mailer.contains("TABLE_NAME"), "{mailer:?}");
    }

    #[test]
    fn binaries_are_found_by_name_and_name_their_configuration() {
        assert_eq!(Binary::all().count(), 12);
        assert_eq!(Binary::Mailer.config_type_name(), "MailerConfig");
        for binary in Binary::all() {
            assert_eq!(Binary::for_name(binary.name()), Some(binary));
            assert!(binary.config_type_name().ends_with("Config"));
        }
        assert_eq!(Binary::for_name("NoSuchFunction"), None);
    }

    #[test]
    fn the_feedback_function_reads_the_outbox_table_and_nothing_else() {
        let variables = Binary::MailFeedback.variables().unwrap();
        assert_eq!(
            variables,
            BTreeSet::from(["OUTBOX_TABLE_NAME".to_owned()]),
            "{variables:?}"
        );
    }
}
