//! What a login costs apart from its password hash: decoding the API Gateway event and the JSON
//! body as the handler does, the domain's throttle and login decision with the password check
//! already made, and encoding the answer as the payload 2.0 response Lambda returns.
//!
//! `cargo bench -p lambdauth-accounts --bench login_request`
//!
//! The Argon2id verify that sits between admitting and concluding is left out on purpose (the
//! `hashing` bench of `lambdauth-domain` measures it); so are the DynamoDB and Cognito calls.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use lambdauth_accounts::login::LoginBody;
use lambdauth_domain::usecases::login::{self, LoginAnswer};
use lambdauth_domain::{
    DeveloperUserId, Email, Locale, LoginThrottle, MailLog, PasswordAttempt, PasswordCheck,
    Settings, StoredPassword, Timestamp, User,
};
use lambdauth_local::http_api_event;
use lambdauth_runtime::api::envelope::{Via, request_from_event, response_to_event};
use lambdauth_runtime::api::{ApiResponse, parse_body};
use serde_json::{Value, json};

const EMAIL: &str = "alice@example.com";
const PASSWORD: &str = "correct horse battery staple";

/// An OpenID token of the length Cognito issues (about a kilobyte), so that encoding the answer
/// copies as much as a real one.
fn cognito_like_token() -> String {
    format!("eyJraWQiOiJ1cy1lYXN0LTEifQ.{}.signature", "x".repeat(960))
}

/// The stored user a login is decided on: verified, no failures counted, an Argon2id hash with
/// the default parameters (never verified here).
fn stored_user(now: Timestamp) -> User {
    User {
        email: Email::parse(EMAIL).expect("email"),
        developer_user_id: DeveloperUserId::parse("0b6f5a1e-1b9c-4d7e-9b0a-6f1c2d3e4f50")
            .expect("developer user id"),
        password: StoredPassword::parse(
            "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
        )
        .expect("stored password"),
        verified: true,
        pending_signups: Vec::new(),
        contested: false,
        reset: None,
        throttle: LoginThrottle::default(),
        mail_log: MailLog::default(),
        locale: Locale::english(),
        created_at: now,
        updated_at: now,
        sessions: lambdauth_domain::UserSessions::default(),
        version: 3,
    }
}

/// The event as the Lambda runtime hands it over: JSON text.
fn login_event_text() -> String {
    let headers = [("content-type".to_owned(), "application/json".to_owned())];
    let body = json!({ "email": EMAIL, "password": PASSWORD }).to_string();
    http_api_event("/login", &headers, body.as_bytes(), "bench-request").to_string()
}

/// Event text → request → body → email and attempt, as the login handler parses them.
fn decode(event_text: &str) -> (Email, PasswordAttempt) {
    let event: Value = serde_json::from_str(event_text).expect("event JSON");
    let (request, _via) = request_from_event(event, "bench-request").expect("event");
    let body: LoginBody = parse_body(&request.body).expect("body");
    let email = Email::parse(&body.email).expect("email");
    let attempt = PasswordAttempt::new(&body.password).expect("attempt");
    (email, attempt)
}

/// Admit under the throttle, then conclude from a password check made elsewhere.
fn decide(user: &User, now: Timestamp, settings: &Settings) -> LoginAnswer {
    let admitted = login::admit(user, now, settings).expect("admitted");
    login::conclude(
        &admitted,
        PasswordCheck::Match,
        None,
        None,
        now,
        settings,
        &mut lambdauth_domain::OsRandomness,
    )
    .expect("randomness")
    .answer
}

/// The success answer as the handler builds it, wrapped and serialized for the runtime.
fn encode(answer: &LoginAnswer, token: &str) -> String {
    let LoginAnswer::LoggedIn {
        developer_user_id, ..
    } = answer
    else {
        panic!("the bench logs in");
    };
    let response = ApiResponse::ok(&json!({
        "login": true,
        "identityId": format!("us-east-1:{}", developer_user_id.as_str()),
        "token": token,
        "expiresIn": 900,
    }));
    response_to_event(response, Via::HttpApi).to_string()
}

fn login_request(c: &mut Criterion) {
    let now = Timestamp::from_millis(1_800_000_000_000);
    let settings = Settings::default();
    let user = stored_user(now);
    let event_text = login_event_text();
    let token = cognito_like_token();
    let answer = decide(&user, now, &settings);

    let mut group = c.benchmark_group("login_request");
    group.bench_function("decode", |b| b.iter(|| decode(black_box(&event_text))));
    group.bench_function("decide", |b| {
        b.iter(|| decide(black_box(&user), now, &settings));
    });
    group.bench_function("encode", |b| {
        b.iter(|| encode(black_box(&answer), black_box(&token)));
    });
    group.bench_function("decode_decide_encode", |b| {
        b.iter(|| {
            let (email, _attempt) = decode(black_box(&event_text));
            assert_eq!(email.as_str(), user.email.as_str());
            let answer = decide(black_box(&user), now, &settings);
            encode(&answer, black_box(&token))
        });
    });
    group.finish();
}

criterion_group!(benches, login_request);
criterion_main!(benches);
