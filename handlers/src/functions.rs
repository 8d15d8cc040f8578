//! The six functions by name and route, and all of them together over one set of clients: what
//! the local runtime serves and the integration tests call.

use aws_config::SdkConfig;

use crate::config::{ConfigError, CoreConfig, IdentityConfig, MailingConfig, Source};
use crate::error::HandlerError;
use crate::identity::IdentityIssuer;
use crate::operations::{self, Outcome, Request};
use crate::sealer::TokenSealer;
use crate::service::Core;
use crate::store::UserStore;

/// Why the functions could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// A variable is missing or malformed.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The hashing settings were refused.
    #[error(transparent)]
    Core(#[from] HandlerError),
}

/// One of the six functions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Function {
    /// `LambdAuthCreateUser`.
    CreateUser,
    /// `LambdAuthVerifyUser`.
    VerifyUser,
    /// `LambdAuthLogin`.
    Login,
    /// `LambdAuthChangePassword`.
    ChangePassword,
    /// `LambdAuthLostPassword`.
    LostPassword,
    /// `LambdAuthResetPassword`.
    ResetPassword,
}

impl Function {
    /// All six.
    pub const ALL: [Self; 6] = [
        Self::CreateUser,
        Self::VerifyUser,
        Self::Login,
        Self::ChangePassword,
        Self::LostPassword,
        Self::ResetPassword,
    ];

    /// The function's name, the original's.
    pub fn name(self) -> &'static str {
        match self {
            Self::CreateUser => "LambdAuthCreateUser",
            Self::VerifyUser => "LambdAuthVerifyUser",
            Self::Login => "LambdAuthLogin",
            Self::ChangePassword => "LambdAuthChangePassword",
            Self::LostPassword => "LambdAuthLostPassword",
            Self::ResetPassword => "LambdAuthResetPassword",
        }
    }

    /// The HTTP route's path (every route is a `POST`).
    pub fn path(self) -> &'static str {
        match self {
            Self::CreateUser => "/users",
            Self::VerifyUser => "/users/verify",
            Self::Login => "/login",
            Self::ChangePassword => "/password/change",
            Self::LostPassword => "/password/lost",
            Self::ResetPassword => "/password/reset",
        }
    }

    /// The function serving `POST path`.
    pub fn for_path(path: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|function| function.path() == path)
    }

    /// The function named `name`.
    pub fn for_name(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|function| function.name() == name)
    }
}

/// All six functions over one set of clients.
#[derive(Debug, Clone)]
pub struct Functions {
    /// The shared part.
    pub core: Core,
    /// KMS, for the mails with links.
    pub sealer: TokenSealer,
    /// Cognito, for login.
    pub identity: IdentityIssuer,
}

impl Functions {
    /// All six over clients built from `aws`, configured from `source` with the variables the
    /// six Lambdas read (the local runtime's one process stands in for all of them).
    pub fn from_source(aws: &SdkConfig, source: &impl Source) -> Result<Self, StartError> {
        let core = CoreConfig::from_source(source)?;
        let store = UserStore::new(aws_sdk_dynamodb::Client::new(aws), &core.table_name);
        Ok(Self {
            core: Core::new(&core, store)?,
            sealer: TokenSealer::new(
                aws_sdk_kms::Client::new(aws),
                MailingConfig::from_source(source)?.kms_key_id,
            ),
            identity: IdentityIssuer::new(
                aws_sdk_cognitoidentity::Client::new(aws),
                IdentityConfig::from_source(source)?,
            ),
        })
    }

    /// Runs `function` on `request`, as its Lambda would.
    pub async fn call(&self, function: Function, request: Request) -> Outcome {
        match function {
            Function::CreateUser => {
                operations::create_user(&self.core, &self.sealer, request).await
            }
            Function::VerifyUser => operations::verify_user(&self.core, request).await,
            Function::Login => operations::login(&self.core, &self.identity, request).await,
            Function::ChangePassword => operations::change_password(&self.core, request).await,
            Function::LostPassword => {
                operations::lost_password(&self.core, &self.sealer, request).await
            }
            Function::ResetPassword => operations::reset_password(&self.core, request).await,
        }
    }

    /// Handles a Lambda event (HTTP API or direct invoke) for `function`, as its Lambda would.
    pub async fn handle_event(
        &self,
        function: Function,
        event: serde_json::Value,
        request_id: &str,
    ) -> serde_json::Value {
        crate::lambda::handle_event(function.name(), event, request_id, |request| {
            self.call(function, request)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_paths_are_unique_and_found() {
        for function in Function::ALL {
            assert_eq!(Function::for_path(function.path()), Some(function));
            assert_eq!(Function::for_name(function.name()), Some(function));
        }
        assert_eq!(Function::for_path("/nope"), None);
    }
}
