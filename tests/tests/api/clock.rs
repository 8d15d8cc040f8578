//! The functions read the time from the clock they are built with, never the system's: a test
//! sets it, and a verification link expires on it.

use std::sync::Arc;
use std::time::Duration;

use lambdauth_functions as functions;
use lambdauth_tests::app::TestApp;
use lambdauth_tests::clock::MovableClock;
use serde_json::json;

const PASSWORD: &str = "correct horse battery staple";

#[tokio::test]
async fn a_verification_link_expires_on_the_clock_the_functions_are_built_with() {
    let clock = Arc::new(MovableClock::default());
    let app = TestApp::spawn("clock").await.with_clock(clock.clone());
    let (early, late) = (app.address("early"), app.address("late"));
    app.signup(&early, PASSWORD).await;
    app.signup(&late, PASSWORD).await;
    let verify = |email: String, token: Option<String>| {
        json!({"email": email, "verify": token.expect("a link")}).to_string()
    };
    let early_token = app.last_mail(&early, "verification").await.token;
    let late_token = app.last_mail(&late, "verification").await.token;

    // A day is the verification link's lifetime: 23 hours on, it still verifies...
    clock.advance(Duration::from_hours(23));
    let verified = app
        .http(functions::VERIFY_USER, &verify(early, early_token))
        .await;
    assert_eq!(verified.status, 200, "{}", verified.body);
    // ...and 25 hours on, it has expired, though the system clock has moved only seconds.
    clock.advance(Duration::from_hours(2));
    let expired = app
        .http(functions::VERIFY_USER, &verify(late, late_token))
        .await;
    assert_eq!(expired.status, 400, "{}", expired.body);
    assert_eq!(expired.body["error"]["code"], "InvalidToken");
}
