//! Every LambdAuth function by name: the registry that the one Lambda binary, the dev server,
//! the tests, the benchmarks and the template checks all read. Adding a function is its module,
//! one line here, and its resource in the template.

use lambdauth_accounts::change_password::ChangePassword;
use lambdauth_accounts::create_user::CreateUser;
use lambdauth_accounts::jwks::Jwks;
use lambdauth_accounts::login::Login;
use lambdauth_accounts::logout::Logout;
use lambdauth_accounts::lost_password::LostPassword;
use lambdauth_accounts::refresh_token::RefreshTokenFunction;
use lambdauth_accounts::reset_password::ResetPassword;
use lambdauth_accounts::sessions::Sessions;
use lambdauth_accounts::verify_user::VerifyUser;
use lambdauth_mail::feedback::MailFeedback;
use lambdauth_mail::mailer::Mailer;
use lambdauth_runtime::function::{Definition, Route};

/// `LambdAuthCreateUser` (`POST /users`).
pub const CREATE_USER: &Definition = &Definition::http::<CreateUser>();
/// `LambdAuthVerifyUser` (`POST /users/verify`).
pub const VERIFY_USER: &Definition = &Definition::http::<VerifyUser>();
/// `LambdAuthLogin` (`POST /login`).
pub const LOGIN: &Definition = &Definition::http::<Login>();
/// `LambdAuthChangePassword` (`POST /password/change`).
pub const CHANGE_PASSWORD: &Definition = &Definition::http::<ChangePassword>();
/// `LambdAuthLostPassword` (`POST /password/lost`).
pub const LOST_PASSWORD: &Definition = &Definition::http::<LostPassword>();
/// `LambdAuthResetPassword` (`POST /password/reset`).
pub const RESET_PASSWORD: &Definition = &Definition::http::<ResetPassword>();
/// `LambdAuthRefreshToken` (`POST /token/refresh`).
pub const REFRESH_TOKEN: &Definition = &Definition::http::<RefreshTokenFunction>();
/// `LambdAuthLogout` (`POST /logout`).
pub const LOGOUT: &Definition = &Definition::http::<Logout>();
/// `LambdAuthSessions` (`GET /sessions`, `DELETE /sessions/{id}`).
pub const SESSIONS: &Definition = &Definition::http::<Sessions>();
/// `LambdAuthJwks` (the OpenID configuration and the key set).
pub const JWKS: &Definition = &Definition::http::<Jwks>();
/// `LambdAuthMailer` (the outbox stream and the retry queue).
pub const MAILER: &Definition = &Definition::event::<Mailer>();
/// `LambdAuthMailFeedback` (SES feedback through its SNS topic).
pub const MAIL_FEEDBACK: &Definition = &Definition::event::<MailFeedback>();

/// Every function, in the template's order.
pub const ALL: &[&Definition] = &[
    CREATE_USER,
    VERIFY_USER,
    LOGIN,
    CHANGE_PASSWORD,
    LOST_PASSWORD,
    RESET_PASSWORD,
    REFRESH_TOKEN,
    LOGOUT,
    SESSIONS,
    JWKS,
    MAILER,
    MAIL_FEEDBACK,
];

/// Every function that answers HTTP routes.
pub fn http() -> impl Iterator<Item = &'static Definition> {
    ALL.iter().copied().filter(|function| function.is_http())
}

/// The function named `name`, as the binary finds it by its handler.
pub fn named(name: &str) -> Option<&'static Definition> {
    lambdauth_runtime::bootstrap::find(ALL, name).ok()
}

/// The function answering `method path` (the route's own path, `/sessions/{id}`), and the
/// route.
pub fn for_route(method: &str, path: &str) -> Option<(&'static Definition, &'static Route)> {
    http().find_map(|function| {
        function
            .routes
            .iter()
            .find(|route| route.method == method && route.path == path)
            .map(|route| (function, route))
    })
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use lambdauth_domain::RouteClass;
    use lambdauth_runtime::bootstrap;

    use super::*;

    #[test]
    fn names_and_routes_are_unique_and_found() {
        let mut names = HashSet::new();
        let mut keys = HashSet::new();
        for function in ALL {
            assert!(names.insert(function.name), "{}", function.name);
            assert_eq!(named(function.name), Some(*function));
            assert_eq!(
                bootstrap::find(ALL, function.name).ok(),
                Some(*function),
                "the binary finds {} by its handler",
                function.name
            );
            for route in function.routes {
                assert!(keys.insert(route.key()), "{}", route.key());
                assert_eq!(
                    for_route(route.method, route.path),
                    Some((*function, route))
                );
            }
        }
        assert_eq!(for_route("POST", "/nope"), None);
        assert!(bootstrap::find(ALL, "NoSuchFunction").is_err());
        assert_eq!(http().count(), 10);
    }

    #[test]
    fn every_http_function_but_the_key_set_and_ending_sessions_is_limited_per_source() {
        let unlimited = [JWKS, LOGOUT, SESSIONS];
        for function in http() {
            assert_eq!(
                function.limit.is_none(),
                unlimited.contains(&function),
                "{}",
                function.name
            );
        }
        let class = |function: &Definition| function.limit;
        assert_eq!(class(CREATE_USER), Some(RouteClass::Mail));
        assert_eq!(class(LOST_PASSWORD), Some(RouteClass::Mail));
        assert_eq!(class(LOGIN), Some(RouteClass::Password));
        assert_eq!(class(CHANGE_PASSWORD), Some(RouteClass::Password));
        assert_eq!(class(VERIFY_USER), Some(RouteClass::Link));
        assert_eq!(class(RESET_PASSWORD), Some(RouteClass::Link));
        assert_eq!(class(REFRESH_TOKEN), Some(RouteClass::Session));
        assert_eq!(class(MAILER), None);
    }

    #[test]
    fn the_sessions_routes_alone_are_behind_the_authorizer() {
        for function in http() {
            for route in function.routes {
                assert_eq!(route.authorized, *function == *SESSIONS, "{}", route.key());
            }
        }
    }
}
