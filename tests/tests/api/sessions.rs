//! Sessions against the emulator: access tokens checked by a standard JWT library against the
//! served key set, refresh-token rotation and reuse, logout, the session generation that a
//! password change, a reset and a logout everywhere bump, the device tokens that keep an
//! attacker from locking the owner out, and the local authorizer refusing forged tokens.

use std::collections::HashSet;
use std::sync::Arc;

use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::{KeySpec, KeyUsageType, MessageType, SigningAlgorithmSpec};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use lambdauth_accounts::tokens::PublicJwk;
use lambdauth_domain::Clock as _;
use lambdauth_functions as functions;
use lambdauth_tests::app::{Answer, TestApp};
use serde_json::{Value, json};
use tokio::task::JoinSet;

const EMAIL: &str = "sessions@example.com";
const PASSWORD: &str = "correct horse battery staple";
const NEW_PASSWORD: &str = "an entirely new long passphrase";

async fn refresh(app: &TestApp, token: &str) -> Answer {
    app.http(
        functions::REFRESH_TOKEN,
        &json!({ "refreshToken": token }).to_string(),
    )
    .await
}

async fn logout(app: &TestApp, token: &str, everywhere: bool) -> Answer {
    app.http(
        functions::LOGOUT,
        &json!({ "refreshToken": token, "everywhere": everywhere }).to_string(),
    )
    .await
}

async fn list(app: &TestApp, access_token: &str) -> Answer {
    let bearer = format!("Bearer {access_token}");
    app.route(
        functions::SESSIONS,
        "GET",
        "/sessions",
        None,
        &[("authorization", &bearer)],
    )
    .await
}

fn text(value: &Value, field: &str) -> String {
    value[field]
        .as_str()
        .unwrap_or_else(|| panic!("no {field} in {value}"))
        .to_owned()
}

fn assert_refused(answer: &Answer) {
    assert_eq!(answer.status, 401, "{}", answer.body);
    assert_eq!(answer.body["refreshed"], false);
    assert_eq!(answer.body["error"]["code"], "InvalidRefreshToken");
}

/// The key set the Jwks function serves, as a standard library reads it.
async fn served_key_set(app: &TestApp) -> JwkSet {
    let answer = app
        .route(functions::JWKS, "GET", "/.well-known/jwks.json", None, &[])
        .await;
    assert_eq!(answer.status, 200);
    let max_age: u64 = answer.headers["cache-control"]
        .split("max-age=")
        .nth(1)
        .and_then(|rest| rest.split(',').next())
        .and_then(|seconds| seconds.trim().parse().ok())
        .expect("a max-age");
    assert!(
        (3600..7200).contains(&max_age),
        "cached long, and less than the two hours a key is published before it signs: {max_age}"
    );
    serde_json::from_value(answer.body).expect("a JWK set")
}

fn verify_with_standard_library(
    jwt: &str,
    keys: &JwkSet,
    issuer: &str,
) -> jsonwebtoken::errors::Result<Value> {
    let header = jsonwebtoken::decode_header(jwt)?;
    let jwk = keys
        .find(header.kid.as_deref().unwrap_or_default())
        .ok_or(jsonwebtoken::errors::ErrorKind::InvalidKeyFormat)?;
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_issuer(&[issuer]);
    validation.set_audience(&["lambdauth"]);
    jsonwebtoken::decode::<Value>(jwt, &DecodingKey::from_jwk(jwk)?, &validation)
        .map(|data| data.claims)
}

#[tokio::test]
async fn a_login_starts_a_session_whose_access_token_a_standard_library_verifies() {
    let app = TestApp::spawn("sessions-login").await;
    app.verified_user(EMAIL, PASSWORD).await;
    let login = app.login_session(EMAIL, PASSWORD).await;
    for field in [
        "identityId",
        "token",
        "refreshToken",
        "sessionId",
        "deviceToken",
    ] {
        assert!(login[field].is_string(), "{field} in {login}");
    }
    assert_eq!(login["accessTokenExpiresIn"], 900);
    assert_eq!(login["refreshTokenExpiresIn"], 30 * 24 * 3600);

    let keys = served_key_set(&app).await;
    let issuer = &app.env["ISSUER_URL"];
    let claims = verify_with_standard_library(&text(&login, "accessToken"), &keys, issuer)
        .expect("the access token verifies");
    assert_eq!(claims["sid"], login["sessionId"]);
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        900
    );
    let subject = claims["sub"].as_str().unwrap();
    assert!(!subject.contains('@'), "sub is opaque, never the address");
    assert_eq!(subject.len(), 36, "a UUID");

    let configuration = app
        .route(
            functions::JWKS,
            "GET",
            "/.well-known/openid-configuration",
            None,
            &[],
        )
        .await;
    assert_eq!(configuration.body["issuer"], issuer.as_str());
    assert_eq!(
        configuration.body["jwks_uri"],
        format!("{issuer}/.well-known/jwks.json")
    );
    assert_eq!(
        configuration.body["id_token_signing_alg_values_supported"],
        json!(["RS256"])
    );

    // The same subject at the next login, and a direct invoke of the key set agrees.
    let again = app.login_session(EMAIL, PASSWORD).await;
    let claims_again =
        verify_with_standard_library(&text(&again, "accessToken"), &keys, issuer).unwrap();
    assert_eq!(claims_again["sub"], claims["sub"]);
    assert_ne!(again["sessionId"], login["sessionId"]);
    let direct = app.invoke(functions::JWKS, json!({})).await;
    assert_eq!(
        serde_json::from_value::<JwkSet>(direct).unwrap().keys.len(),
        1
    );
}

/// The claims of `jwt` verified against `keys` by a standard library for `audience`, with its
/// header.
fn verified_for(
    jwt: &str,
    keys: &JwkSet,
    issuer: &str,
    audience: &str,
) -> (jsonwebtoken::Header, Value) {
    let header = jsonwebtoken::decode_header(jwt).expect("a JWT header");
    let jwk = keys
        .find(header.kid.as_deref().unwrap_or_default())
        .expect("the token's kid is in the key set");
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_issuer(&[issuer]);
    validation.set_audience(&[audience]);
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    let claims =
        jsonwebtoken::decode::<Value>(jwt, &DecodingKey::from_jwk(jwk).unwrap(), &validation)
            .unwrap_or_else(|error| panic!("the token verifies for {audience}: {error}"))
            .claims;
    (header, claims)
}

#[tokio::test]
async fn an_access_token_is_an_rfc_9068_jwt_for_the_audience_the_client_names() {
    let app = TestApp::spawn_with(
        "sessions-audience",
        &[
            ("ACCESS_TOKEN_AUDIENCE", "orders,billing"),
            ("ACCESS_TOKEN_CLIENT_ID", "sample-pages"),
        ],
    )
    .await;
    app.verified_user(EMAIL, PASSWORD).await;
    let keys = served_key_set(&app).await;
    let issuer = &app.env["ISSUER_URL"];
    let login = async |audience: Option<&str>| {
        let mut body = json!({"email": EMAIL, "password": PASSWORD});
        if let Some(audience) = audience {
            body["audience"] = json!(audience);
        }
        app.http(functions::LOGIN, &body.to_string()).await
    };

    // No audience named: the first; its header and claims are RFC 9068's.
    let first = login(None).await;
    assert_eq!(first.status, 200, "{}", first.body);
    let (header, claims) = verified_for(&text(&first.body, "accessToken"), &keys, issuer, "orders");
    assert_eq!(header.typ.as_deref(), Some("at+jwt"));
    assert_eq!(claims["aud"], "orders");
    assert_eq!(claims["client_id"], "sample-pages");
    for claim in ["iss", "exp", "sub", "iat", "jti"] {
        assert!(!claims[claim].is_null(), "{claim} in {claims}");
    }

    // Another audience of the list, at login and at refresh.
    let billing = login(Some("billing")).await;
    assert_eq!(billing.status, 200, "{}", billing.body);
    let (_, claims) = verified_for(
        &text(&billing.body, "accessToken"),
        &keys,
        issuer,
        "billing",
    );
    assert_eq!(claims["aud"], "billing");
    let refreshed = app
        .http(
            functions::REFRESH_TOKEN,
            &json!({"refreshToken": text(&first.body, "refreshToken"), "audience": "billing"})
                .to_string(),
        )
        .await;
    assert_eq!(refreshed.status, 200, "{}", refreshed.body);
    let (_, claims) = verified_for(
        &text(&refreshed.body, "accessToken"),
        &keys,
        issuer,
        "billing",
    );
    assert_eq!(claims["sid"], first.body["sessionId"]);
    // This service's own routes, like their authorizer, take only its own audience (the
    // first): a token for the billing API does not list the user's sessions.
    assert_eq!(
        list(&app, &text(&first.body, "accessToken")).await.status,
        200
    );
    let foreign = list(&app, &text(&billing.body, "accessToken")).await;
    assert_eq!(foreign.status, 401, "{}", foreign.body);
    assert_eq!(foreign.body["error"]["code"], "InvalidAccessToken");

    // An audience the issuer does not serve is a 400, at login and at refresh, and spends
    // nothing: the refresh token it came with still refreshes.
    let refused = login(Some("shipping")).await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert_eq!(refused.body["error"]["code"], "InvalidAudience");
    let refused = app
        .http(
            functions::REFRESH_TOKEN,
            &json!({"refreshToken": text(&refreshed.body, "refreshToken"), "audience": "ship"})
                .to_string(),
        )
        .await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert_eq!(refused.body["error"]["code"], "InvalidAudience");
    assert_eq!(
        refresh(&app, &text(&refreshed.body, "refreshToken"))
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn a_refresh_rotates_and_a_retired_token_refreshes_only_inside_the_grace() {
    let app =
        TestApp::spawn_with("sessions-rotation", &[("REFRESH_REUSE_GRACE_SECONDS", "2")]).await;
    app.verified_user(EMAIL, PASSWORD).await;
    let login = app.login_session(EMAIL, PASSWORD).await;
    let first = text(&login, "refreshToken");

    let refreshed = refresh(&app, &first).await;
    assert_eq!(refreshed.status, 200, "{}", refreshed.body);
    assert_eq!(refreshed.body["refreshed"], true);
    assert_eq!(refreshed.body["sessionId"], login["sessionId"]);
    assert!(refreshed.body["identityId"].is_string());
    let second = text(&refreshed.body, "refreshToken");
    assert_ne!(second, first);
    let keys = served_key_set(&app).await;
    verify_with_standard_library(
        &text(&refreshed.body, "accessToken"),
        &keys,
        &app.env["ISSUER_URL"],
    )
    .expect("the refreshed access token verifies");

    // A client that lost the answer retries with the retired token inside the grace: it gets a
    // new successor, and the one it never received is dead.
    let retried = refresh(&app, &first).await;
    assert_eq!(retried.status, 200, "{}", retried.body);
    let third = text(&retried.body, "refreshToken");
    assert_refused(&refresh(&app, &second).await);

    // After the grace, the retired token is a thief's (or a replay): the whole session ends.
    tokio::time::sleep(std::time::Duration::from_millis(2_300)).await;
    assert_refused(&refresh(&app, &first).await);
    assert_refused(&refresh(&app, &third).await);
    assert_refused(&refresh(&app, "not-a-refresh-token").await);
    let malformed = app
        .http(functions::REFRESH_TOKEN, r#"{"refreshToken": 5}"#)
        .await;
    assert_eq!(malformed.status, 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_parallel_refreshes_of_one_token_leave_one_live_successor() {
    let app = Arc::new(TestApp::spawn("sessions-parallel").await);
    app.verified_user(EMAIL, PASSWORD).await;
    let login = app.login_session(EMAIL, PASSWORD).await;
    let token = text(&login, "refreshToken");
    let mut set = JoinSet::new();
    for _ in 0..50 {
        let (app, token) = (Arc::clone(&app), token.clone());
        set.spawn(async move { refresh(&app, &token).await });
    }
    let answers = set.join_all().await;
    let successors: Vec<String> = answers
        .iter()
        .filter(|answer| answer.status == 200)
        .map(|answer| text(&answer.body, "refreshToken"))
        .collect();
    let statuses: HashSet<u16> = answers.iter().map(|answer| answer.status).collect();
    assert!(!successors.is_empty(), "statuses {statuses:?}");
    assert!(
        statuses.is_subset(&HashSet::from([200, 429])),
        "statuses {statuses:?}"
    );
    let mut live = 0;
    for successor in &successors {
        if refresh(&app, successor).await.status == 200 {
            live += 1;
        }
    }
    assert_eq!(live, 1, "of {} successors handed out", successors.len());
}

#[tokio::test]
async fn logout_ends_its_session_and_logout_everywhere_ends_them_all() {
    let app = TestApp::spawn("sessions-logout").await;
    app.verified_user(EMAIL, PASSWORD).await;
    let (a, b, c) = (
        app.login_session(EMAIL, PASSWORD).await,
        app.login_session(EMAIL, PASSWORD).await,
        app.login_session(EMAIL, PASSWORD).await,
    );
    let listed = list(&app, &text(&b, "accessToken")).await;
    assert_eq!(listed.status, 200, "{}", listed.body);
    assert_eq!(listed.body["sessions"].as_array().unwrap().len(), 3);

    let out = logout(&app, &text(&a, "refreshToken"), false).await;
    assert_eq!((out.status, out.body), (200, json!({ "loggedOut": true })));
    assert_refused(&refresh(&app, &text(&a, "refreshToken")).await);
    assert_eq!(refresh(&app, &text(&b, "refreshToken")).await.status, 200);
    let listed = list(&app, &text(&c, "accessToken")).await;
    assert_eq!(listed.body["sessions"].as_array().unwrap().len(), 2);
    assert_eq!(
        list(&app, &text(&a, "accessToken")).await.status,
        401,
        "a's session ended"
    );

    // Unknown and ended tokens log out as well, and change nothing.
    for token in ["garbage", &text(&a, "refreshToken")] {
        let out = logout(&app, token, true).await;
        assert_eq!((out.status, out.body), (200, json!({ "loggedOut": true })));
    }
    assert_eq!(list(&app, &text(&c, "accessToken")).await.status, 200);

    let out = logout(&app, &text(&c, "refreshToken"), true).await;
    assert_eq!(out.status, 200);
    assert_refused(&refresh(&app, &text(&c, "refreshToken")).await);
    assert_refused(&refresh(&app, &text(&b, "refreshToken")).await);
    let listed = list(&app, &text(&c, "accessToken")).await;
    assert_eq!(listed.status, 401);
    assert_eq!(listed.body["error"]["code"], "InvalidAccessToken");

    // A login afterwards starts a session that works.
    let d = app.login_session(EMAIL, PASSWORD).await;
    assert_eq!(refresh(&app, &text(&d, "refreshToken")).await.status, 200);
}

#[tokio::test]
async fn a_password_change_and_a_reset_end_every_session() {
    let app = TestApp::spawn("sessions-password").await;
    app.verified_user(EMAIL, PASSWORD).await;
    let before = app.login_session(EMAIL, PASSWORD).await;
    let changed = app
        .http(
            functions::CHANGE_PASSWORD,
            &json!({"email": EMAIL, "oldPassword": PASSWORD, "newPassword": NEW_PASSWORD})
                .to_string(),
        )
        .await;
    assert_eq!(changed.status, 200);
    assert_refused(&refresh(&app, &text(&before, "refreshToken")).await);
    assert_eq!(list(&app, &text(&before, "accessToken")).await.status, 401);

    let between = app.login_session(EMAIL, NEW_PASSWORD).await;
    // The device token of the session before the change is no longer known either.
    let after_change = app
        .http(
            functions::LOGIN,
            &json!({"email": EMAIL, "password": NEW_PASSWORD, "deviceToken": before["deviceToken"]})
                .to_string(),
        )
        .await;
    assert_ne!(after_change.body["deviceToken"], before["deviceToken"]);

    let lost = app
        .http(
            functions::LOST_PASSWORD,
            &json!({"email": EMAIL}).to_string(),
        )
        .await;
    assert_eq!(lost.status, 200);
    let reset_token = app.last_mail(EMAIL, "password-reset").await.token.unwrap();
    let reset = app
        .http(
            functions::RESET_PASSWORD,
            &json!({"email": EMAIL, "lost": reset_token, "password": PASSWORD}).to_string(),
        )
        .await;
    assert_eq!(reset.status, 200, "{}", reset.body);
    assert_refused(&refresh(&app, &text(&between, "refreshToken")).await);
    assert_refused(&refresh(&app, &text(&after_change.body, "refreshToken")).await);
}

#[tokio::test]
async fn an_attacker_locks_unknown_devices_while_the_owners_device_still_logs_in() {
    let app = TestApp::spawn("sessions-device").await;
    app.verified_user(EMAIL, PASSWORD).await;
    let owner = app.login_session(EMAIL, PASSWORD).await;
    let device = text(&owner, "deviceToken");
    let login = |password: &'static str, device: Option<String>| {
        let mut body = json!({"email": EMAIL, "password": password});
        if let Some(device) = device {
            body["deviceToken"] = Value::String(device);
        }
        let body = body.to_string();
        let app = &app;
        async move { app.http(functions::LOGIN, &body).await }
    };
    // The attacker's guesses, with no device token or a made-up one, lock the account.
    let mut locked = false;
    for attempt in 0..8 {
        let made_up = (attempt % 2 == 0).then(|| "A".repeat(43));
        let answer = login("a wrong guess of a password", made_up).await;
        if answer.status == 429 {
            assert!(answer.headers.contains_key("retry-after"));
            locked = true;
        }
    }
    assert!(locked, "the account locked for unknown devices");
    assert_eq!(
        login(PASSWORD, None).await.status,
        429,
        "even the right password"
    );
    // The owner's known device is counted on its own.
    let from_device = login(PASSWORD, Some(device.clone())).await;
    assert_eq!(from_device.status, 200, "{}", from_device.body);
    assert_eq!(from_device.body["deviceToken"], device.as_str());
    // And its own failures lock it too.
    let mut device_locked = false;
    for _ in 0..8 {
        if login("a wrong guess of a password", Some(device.clone()))
            .await
            .status
            == 429
        {
            device_locked = true;
        }
    }
    assert!(device_locked);
}

/// An attacker's wrong guesses from no known device until the account answers 429.
async fn lock_the_account(app: &TestApp) {
    let mut locked = false;
    for _ in 0..10 {
        let guess = json!({"email": EMAIL, "password": "a wrong guess of a password"});
        if app.http(functions::LOGIN, &guess.to_string()).await.status == 429 {
            locked = true;
        }
    }
    assert!(locked, "the account locked for unknown devices");
}

#[tokio::test]
async fn the_owners_known_device_changes_the_password_while_a_stranger_keeps_it_locked() {
    let app = TestApp::spawn("sessions-change-device").await;
    app.verified_user(EMAIL, PASSWORD).await;
    let owner = app.login_session(EMAIL, PASSWORD).await;
    let device = text(&owner, "deviceToken");
    let other = app.login_session(EMAIL, PASSWORD).await;
    let other_device = text(&other, "deviceToken");
    assert_ne!(device, other_device);
    lock_the_account(&app).await;
    let change = |device: Option<&str>, old: &str, new: &str| {
        let mut body = json!({"email": EMAIL, "oldPassword": old, "newPassword": new});
        if let Some(device) = device {
            body["deviceToken"] = json!(device);
        }
        let body = body.to_string();
        let app = &app;
        async move { app.http(functions::CHANGE_PASSWORD, &body).await }
    };
    // Without its device token the owner is held out like anyone else...
    let refused = change(None, PASSWORD, NEW_PASSWORD).await;
    assert_eq!(refused.status, 429, "{}", refused.body);
    // ...and with it, the change goes through.
    let changed = change(Some(&device), PASSWORD, NEW_PASSWORD).await;
    assert_eq!(changed.status, 200, "{}", changed.body);
    assert_eq!(changed.body["changed"], true);
    // The device stays known: the new password logs in from it while strangers keep the account
    // locked; the other device was forgotten with the old password.
    lock_the_account(&app).await;
    let login = |device: &str| {
        let body =
            json!({"email": EMAIL, "password": NEW_PASSWORD, "deviceToken": device}).to_string();
        let app = &app;
        async move { app.http(functions::LOGIN, &body).await }
    };
    let from_device = login(&device).await;
    assert_eq!(from_device.status, 200, "{}", from_device.body);
    assert_eq!(from_device.body["deviceToken"], device.as_str());
    assert_eq!(login(&other_device).await.status, 429);
}

#[tokio::test]
async fn a_completed_reset_makes_the_resetting_browser_a_known_device() {
    let app = TestApp::spawn("sessions-reset-device").await;
    app.verified_user(EMAIL, PASSWORD).await;
    let lost = app
        .http(
            functions::LOST_PASSWORD,
            &json!({"email": EMAIL}).to_string(),
        )
        .await;
    assert_eq!(lost.status, 200, "{}", lost.body);
    let token = app.last_mail(EMAIL, "password-reset").await.token;
    let reset = app
        .http(
            functions::RESET_PASSWORD,
            &json!({"email": EMAIL, "lost": token.expect("a link"), "password": NEW_PASSWORD})
                .to_string(),
        )
        .await;
    assert_eq!(reset.status, 200, "{}", reset.body);
    let device = text(&reset.body, "deviceToken");
    // A stranger locks the account; the fresh browser that reset logs in all the same.
    lock_the_account(&app).await;
    let login = |device: Option<&str>| {
        let mut body = json!({"email": EMAIL, "password": NEW_PASSWORD});
        if let Some(device) = device {
            body["deviceToken"] = json!(device);
        }
        let body = body.to_string();
        let app = &app;
        async move { app.http(functions::LOGIN, &body).await }
    };
    assert_eq!(login(None).await.status, 429);
    let from_device = login(Some(&device)).await;
    assert_eq!(from_device.status, 200, "{}", from_device.body);
    assert_eq!(from_device.body["deviceToken"], device.as_str());
}

/// Signs `claims` under `header` with the KMS key `key_id`, as the service does, or as a forger
/// holding another key does.
async fn sign_with_kms(
    kms: &aws_sdk_kms::Client,
    key_id: &str,
    header: &Value,
    claims: &Value,
) -> String {
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let signature = kms
        .sign()
        .key_id(key_id)
        .message(Blob::new(input.as_bytes()))
        .message_type(MessageType::Raw)
        .signing_algorithm(SigningAlgorithmSpec::RsassaPkcs1V15Sha256)
        .send()
        .await
        .expect("sign")
        .signature
        .unwrap();
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature.as_ref()))
}

async fn kid_of(kms: &aws_sdk_kms::Client, key_id: &str) -> String {
    let der = kms
        .get_public_key()
        .key_id(key_id)
        .send()
        .await
        .expect("public key")
        .public_key
        .unwrap();
    PublicJwk::from_spki_der(der.as_ref()).unwrap().kid
}

/// Tokens a forger could try, each with what makes it bad: made with the service's own key
/// (`signing_key`) where only a claim is wrong, with another key, or not signed at all.
async fn forgeries(
    kms: &aws_sdk_kms::Client,
    signing_key: &str,
    access: &str,
    claims: &Value,
) -> Vec<(&'static str, Option<String>)> {
    let kid = kid_of(kms, signing_key).await;
    let now = lambdauth_domain::SystemClock.now().as_secs();
    let header = json!({"alg": "RS256", "typ": "at+jwt", "kid": kid});
    let with = |changes: Value| {
        let mut forged = claims.clone();
        for (name, value) in changes.as_object().unwrap() {
            forged[name] = value.clone();
        }
        forged
    };
    let other_key = kms
        .create_key()
        .key_spec(KeySpec::Rsa2048)
        .key_usage(KeyUsageType::SignVerify)
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap()
        .key_id;
    let other_header =
        json!({"alg": "RS256", "typ": "at+jwt", "kid": kid_of(kms, &other_key).await});
    let mut tampered = access.to_owned();
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    let forged_sub = {
        let parts: Vec<&str> = access.split('.').collect();
        let payload = URL_SAFE_NO_PAD
            .encode(with(json!({"sub": "00000000-0000-4000-8000-000000000000"})).to_string());
        format!("{}.{payload}.{}", parts[0], parts[2])
    };
    let none = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(json!({"alg": "none", "typ": "at+jwt", "kid": kid}).to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let forgeries = [
        ("no token", None),
        ("a tampered signature", Some(tampered)),
        ("a changed claim", Some(forged_sub)),
        ("alg none", Some(none)),
        (
            "an unknown kid",
            Some(sign_with_kms(kms, &other_key, &other_header, claims).await),
        ),
        (
            "an expired token",
            Some(
                sign_with_kms(
                    kms,
                    signing_key,
                    &header,
                    &with(json!({"iat": now - 1000, "nbf": now - 1000, "exp": now - 100})),
                )
                .await,
            ),
        ),
        (
            "a token not valid yet",
            Some(
                sign_with_kms(
                    kms,
                    signing_key,
                    &header,
                    &with(json!({"nbf": now + 600, "exp": now + 1200})),
                )
                .await,
            ),
        ),
        (
            "a wrong audience",
            Some(
                sign_with_kms(
                    kms,
                    signing_key,
                    &header,
                    &with(json!({"aud": "another-api"})),
                )
                .await,
            ),
        ),
        (
            "a wrong issuer",
            Some(
                sign_with_kms(
                    kms,
                    signing_key,
                    &header,
                    &with(json!({"iss": "https://evil.example.com"})),
                )
                .await,
            ),
        ),
    ];
    forgeries.into()
}

#[tokio::test]
async fn the_local_authorizer_and_the_function_refuse_forged_and_stale_tokens() {
    let app = TestApp::spawn("sessions-authorizer").await;
    app.verified_user(EMAIL, PASSWORD).await;
    let server = app.ctx.dev_server(&[]).await;
    let client = reqwest::Client::new();
    let login = login_over_http(&client, server.url()).await;
    let access = text(&login, "accessToken");
    let sessions = |token: Option<String>| {
        let mut request = client.get(format!("{}/sessions", server.url()));
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        async move {
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            (status, response.text().await.unwrap())
        }
    };
    let (status, body) = sessions(Some(access.clone())).await;
    assert_eq!(status, 200, "{body}");
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["sessions"][0]["current"], true);
    assert_eq!(body["sessions"][0]["id"], login["sessionId"]);

    // The served configuration names the server as the issuer, and a standard library agrees.
    let jwks: JwkSet = serde_json::from_str(
        &client
            .get(format!("{}/.well-known/jwks.json", server.url()))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    )
    .unwrap();
    let claims = verify_with_standard_library(&access, &jwks, server.url()).unwrap();

    let kms = aws_sdk_kms::Client::new(&app.ctx.sdk);
    let signing_key = &server.provisioned().signing_key_id;
    for (what, token) in forgeries(&kms, signing_key, &access, &claims).await {
        let (status, body) = sessions(token.clone()).await;
        assert_eq!(status, 401, "{what}: {body}");
        assert_eq!(body, r#"{"message":"Unauthorized"}"#, "{what}");
        // The function refuses it as well when called without the authorizer (a direct invoke).
        if let Some(token) = token {
            let direct = app
                .invoke(functions::SESSIONS, json!({ "accessToken": token }))
                .await;
            assert_eq!(direct["error"]["code"], "InvalidAccessToken", "{what}");
        }
    }
    // A token signed with the service's key, with the right claims, passes.
    let kid = kid_of(&kms, signing_key).await;
    let header = json!({"alg": "RS256", "typ": "at+jwt", "kid": kid});
    let good = sign_with_kms(&kms, signing_key, &header, &claims).await;
    assert_eq!(sessions(Some(good)).await.0, 200);
    // The same as another type of JWT: API Gateway does not look at `typ`, so the authorizer
    // lets it through, and the function refuses it (RFC 9068 §4).
    let other_type = json!({"alg": "RS256", "typ": "JWT", "kid": kid});
    let id_token_like = sign_with_kms(&kms, signing_key, &other_type, &claims).await;
    let (status, body) = sessions(Some(id_token_like)).await;
    assert_eq!(status, 401, "{body}");
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["error"]["code"], "InvalidAccessToken");

    server.stop().await;
}

/// Logs `EMAIL` in through the dev server at `url`: the answer's body.
async fn login_over_http(client: &reqwest::Client, url: &str) -> Value {
    let text = client
        .post(format!("{url}/login"))
        .header("content-type", "application/json")
        .body(json!({"email": EMAIL, "password": PASSWORD}).to_string())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    serde_json::from_str(&text).unwrap()
}

#[tokio::test]
async fn a_caller_ends_its_own_other_sessions_and_no_one_elses() {
    let app = TestApp::spawn("sessions-end").await;
    app.verified_user(EMAIL, PASSWORD).await;
    let server = app.ctx.dev_server(&[]).await;
    let client = reqwest::Client::new();
    let access = text(&login_over_http(&client, server.url()).await, "accessToken");
    let second = login_over_http(&client, server.url()).await;
    // 404 for an id that is not the caller's, 200 for one that is.
    let delete = |id: String| {
        let request = client
            .delete(format!("{}/sessions/{id}", server.url()))
            .header("authorization", format!("Bearer {access}"));
        async move { request.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(delete("AAAAAAAAAAAAAAAAAAAAAA".to_owned()).await, 404);
    assert_eq!(delete(text(&second, "sessionId")).await, 200);
    assert_eq!(delete(text(&second, "sessionId")).await, 404);
    let refreshed = client
        .post(format!("{}/token/refresh", server.url()))
        .body(json!({"refreshToken": second["refreshToken"]}).to_string())
        .send()
        .await
        .unwrap()
        .status()
        .as_u16();
    assert_eq!(
        refreshed, 401,
        "the ended session's refresh token is refused"
    );
    server.stop().await;
}
