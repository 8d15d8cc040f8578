//! The six HTTP functions by name and route: the original's names, which the Lambda binaries,
//! their logs, the template and the local runtime all use.

/// One of the six functions that answer the API.
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

/// The mail pipeline's function, which answers no route.
pub const MAILER_NAME: &str = "LambdAuthMailer";

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
        assert_eq!(Function::for_name(MAILER_NAME), None);
    }
}
