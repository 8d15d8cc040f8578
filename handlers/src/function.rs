//! The HTTP functions by name and route: the original six's names and the session functions',
//! which the Lambda binaries, their logs, the template and the local runtime all use.

/// One of the functions that answer the API.
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
    /// `LambdAuthRefreshToken`: a refresh token rotated for new tokens.
    RefreshToken,
    /// `LambdAuthLogout`: one session, or all of a user's, ended.
    Logout,
    /// `LambdAuthSessions`: the caller's sessions listed or ended, behind the JWT authorizer.
    Sessions,
    /// `LambdAuthJwks`: the issuer's OpenID configuration and public keys.
    Jwks,
}

/// An HTTP route: a method and a path (API Gateway's route key without the space).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Route {
    /// `GET`, `POST` or `DELETE`.
    pub method: &'static str,
    /// The path, with `{name}` for a path parameter.
    pub path: &'static str,
    /// Whether API Gateway's JWT authorizer checks the caller's access token first.
    pub authorized: bool,
}

impl Route {
    /// A `POST` route without the authorizer.
    pub const fn post(path: &'static str) -> Self {
        Self {
            method: "POST",
            path,
            authorized: false,
        }
    }

    /// A `GET` route without the authorizer.
    pub const fn get(path: &'static str) -> Self {
        Self {
            method: "GET",
            path,
            authorized: false,
        }
    }

    /// A route API Gateway's JWT authorizer guards.
    pub const fn behind_authorizer(method: &'static str, path: &'static str) -> Self {
        Self {
            method,
            path,
            authorized: true,
        }
    }

    /// API Gateway's route key, `METHOD /path`.
    pub fn key(self) -> String {
        format!("{} {}", self.method, self.path)
    }
}

/// The mail pipeline's function, which answers no route.
pub const MAILER_NAME: &str = "LambdAuthMailer";

/// The path of the OpenID configuration, under the issuer URL.
pub const OPENID_CONFIGURATION_PATH: &str = "/.well-known/openid-configuration";
/// The path of the key set, under the issuer URL.
pub const JWKS_PATH: &str = "/.well-known/jwks.json";

impl Function {
    /// Every function that answers a route.
    pub const ALL: [Self; 10] = [
        Self::CreateUser,
        Self::VerifyUser,
        Self::Login,
        Self::ChangePassword,
        Self::LostPassword,
        Self::ResetPassword,
        Self::RefreshToken,
        Self::Logout,
        Self::Sessions,
        Self::Jwks,
    ];

    /// The original six, each one `POST` route.
    pub const ORIGINAL: [Self; 6] = [
        Self::CreateUser,
        Self::VerifyUser,
        Self::Login,
        Self::ChangePassword,
        Self::LostPassword,
        Self::ResetPassword,
    ];

    /// The function's name.
    pub fn name(self) -> &'static str {
        match self {
            Self::CreateUser => "LambdAuthCreateUser",
            Self::VerifyUser => "LambdAuthVerifyUser",
            Self::Login => "LambdAuthLogin",
            Self::ChangePassword => "LambdAuthChangePassword",
            Self::LostPassword => "LambdAuthLostPassword",
            Self::ResetPassword => "LambdAuthResetPassword",
            Self::RefreshToken => "LambdAuthRefreshToken",
            Self::Logout => "LambdAuthLogout",
            Self::Sessions => "LambdAuthSessions",
            Self::Jwks => "LambdAuthJwks",
        }
    }

    /// The routes the function answers.
    pub fn routes(self) -> &'static [Route] {
        match self {
            Self::CreateUser => const { &[Route::post("/users")] },
            Self::VerifyUser => const { &[Route::post("/users/verify")] },
            Self::Login => const { &[Route::post("/login")] },
            Self::ChangePassword => const { &[Route::post("/password/change")] },
            Self::LostPassword => const { &[Route::post("/password/lost")] },
            Self::ResetPassword => const { &[Route::post("/password/reset")] },
            Self::RefreshToken => const { &[Route::post("/token/refresh")] },
            Self::Logout => const { &[Route::post("/logout")] },
            Self::Sessions => {
                const {
                    &[
                        Route::behind_authorizer("GET", "/sessions"),
                        Route::behind_authorizer("DELETE", "/sessions/{id}"),
                    ]
                }
            }
            Self::Jwks => const { &[Route::get(OPENID_CONFIGURATION_PATH), Route::get(JWKS_PATH)] },
        }
    }

    /// The path of the function's first route.
    pub fn path(self) -> &'static str {
        self.routes()[0].path
    }

    /// The function serving `POST path`.
    pub fn for_path(path: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|function| {
            function
                .routes()
                .iter()
                .any(|route| route.method == "POST" && route.path == path)
        })
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
    fn names_and_routes_are_unique_and_found() {
        let mut keys = std::collections::HashSet::new();
        for function in Function::ALL {
            assert_eq!(Function::for_name(function.name()), Some(function));
            for route in function.routes() {
                assert!(keys.insert(route.key()), "{}", route.key());
            }
        }
        for function in Function::ORIGINAL {
            assert_eq!(Function::for_path(function.path()), Some(function));
        }
        assert_eq!(Function::for_path("/nope"), None);
        assert_eq!(Function::for_name(MAILER_NAME), None);
    }
}
