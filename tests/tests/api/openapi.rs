//! Real answers conform to `openapi.yaml`: the document has exactly the functions' routes,
//! every status a route answers is documented for it, every body matches the documented schema,
//! and every documented header is sent, with a value of its schema.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;

use lambdauth_functions as functions;
use lambdauth_runtime::function::Definition;
use lambdauth_runtime::function::Route;
use lambdauth_tests::TestContext;
use lambdauth_tests::app::{Answer, TestApp};
use lambdauth_tests::proxy::{Fault, FaultProxy, Seen};
use serde_json::{Value, json};

struct Contract {
    document: Value,
}

/// `segment` as a JSON pointer token inside a URI fragment (`/sessions/{id}` has braces).
fn escape(segment: &str) -> String {
    segment
        .replace('~', "~0")
        .replace('/', "~1")
        .replace('%', "%25")
        .replace('{', "%7B")
        .replace('}', "%7D")
}

/// A header's value as its schema sees it: a number when it is one, a string otherwise.
fn header_value(value: &str) -> Value {
    serde_json::from_str::<Value>(value)
        .ok()
        .filter(Value::is_number)
        .unwrap_or_else(|| Value::String(value.to_owned()))
}

/// The HTTP methods a path item of the document can have.
const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

impl Contract {
    fn load() -> Self {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../openapi.yaml");
        let text = std::fs::read_to_string(&path).expect("openapi.yaml");
        Self {
            document: serde_norway::from_str(&text).expect("openapi.yaml is YAML"),
        }
    }

    /// The operation of `route`.
    fn operation(&self, route: Route) -> &Value {
        &self.document["paths"][route.path][route.method.to_ascii_lowercase()]
    }

    /// Checks `instance` against the schema at `pointer` (a fragment of the document).
    fn validate(&self, pointer: &str, instance: &Value, what: &str) {
        let mut schema = self.document.clone();
        schema["$ref"] = json!(pointer);
        let validator = jsonschema::validator_for(&schema).expect("a valid schema");
        let errors: Vec<String> = validator
            .iter_errors(instance)
            .map(|e| e.to_string())
            .collect();
        assert!(
            errors.is_empty(),
            "{what} does not match openapi.yaml: {errors:?}\n{instance}"
        );
    }

    /// Checks one answer of `function` to a request of `route`.
    fn check(&self, function: &'static Definition, route: Route, answer: &Answer) {
        let status = answer.status.to_string();
        let method = route.method.to_ascii_lowercase();
        let what = format!("{} ({})", route.key(), function.name);
        assert!(
            self.operation(route).is_object(),
            "openapi.yaml does not document {what}"
        );
        let mut pointer = format!("#/paths/{}/{method}/responses/{status}", escape(route.path));
        let mut response = &self.operation(route)["responses"][&status];
        assert!(
            response.is_object(),
            "{what} answered {status}, which openapi.yaml does not document: {}",
            answer.body
        );
        if let Some(reference) = response["$ref"].as_str() {
            reference.clone_into(&mut pointer);
            let name = reference.rsplit('/').next().unwrap();
            response = &self.document["components"]["responses"][name];
        }
        if let Some(headers) = response["headers"].as_object() {
            for (name, header) in headers {
                let value = answer
                    .headers
                    .get(&name.to_ascii_lowercase())
                    .unwrap_or_else(|| {
                        panic!("{what} {status} lacks the documented header {name}")
                    });
                let header_pointer = header["$ref"].as_str().map_or_else(
                    || format!("{pointer}/headers/{}", escape(name)),
                    str::to_owned,
                );
                self.validate(
                    &format!("{header_pointer}/schema"),
                    &header_value(value),
                    &format!("{what} {status} header {name}"),
                );
            }
        }
        self.validate(
            &format!("{pointer}/content/application~1json/schema"),
            &answer.body,
            &format!("{what} {status}"),
        );
    }
}

/// Whether `path` is an instance of `template`, whose `{name}` segments match any segment.
/// The route of `function` that `method path` reaches.
fn route_of(function: &'static Definition, method: &str, path: &str) -> Route {
    let Some((route, _)) = lambdauth_tests::app::route_of(function, method, path) else {
        panic!("{} has no route for {method} {path}", function.name)
    };
    route
}

#[test]
fn the_document_has_exactly_the_routes_of_the_functions() {
    let contract = Contract::load();
    let documented: BTreeSet<String> = contract.document["paths"]
        .as_object()
        .expect("paths")
        .iter()
        .flat_map(|(path, item)| {
            METHODS
                .iter()
                .filter(|method| item.get(**method).is_some())
                .map(move |method| format!("{} {path}", method.to_ascii_uppercase()))
        })
        .collect();
    let served: BTreeSet<String> = functions::http()
        .flat_map(|function| function.routes.iter().map(|route| route.key()))
        .collect();
    assert_eq!(documented, served);
    for function in functions::http() {
        for route in function.routes {
            let operation = contract.operation(*route);
            let operation_id = operation["operationId"].as_str().unwrap_or_default();
            assert!(
                operation_id.starts_with(function.name),
                "{}: operationId {operation_id}",
                route.key()
            );
            assert_eq!(
                operation.get("security").cloned(),
                route.authorized.then(|| json!([{"AccessToken": []}])),
                "{}: the bearer token is required exactly behind the authorizer",
                route.key()
            );
        }
    }
}

const PASSWORD: &str = "correct horse battery staple";
const EMAIL: &str = "contract@example.com";
/// A refresh request's body.
fn refresh(token: &Value) -> Value {
    json!({ "refreshToken": token })
}

/// A refresh token of the right shape (user, session, secret) that no session has.
const UNKNOWN_REFRESH_TOKEN: &str = "00000000-0000-4000-8000-000000000000.AAAAAAAAAAAAAAAAAAAAAA.\
    ssssssssssssssssssssssssssssssssssssssssssss";

/// Calls functions and checks every answer against the contract.
struct Checker {
    contract: Contract,
    /// The route key and status of every answer checked.
    seen: Vec<(String, u16)>,
}

impl Checker {
    fn record(&mut self, function: &'static Definition, route: Route, answer: &Answer) {
        self.contract.check(function, route, answer);
        self.seen.push((route.key(), answer.status));
    }

    /// `POST`s `body` to `function`'s first route.
    async fn call(&mut self, app: &TestApp, function: &'static Definition, body: Value) -> Answer {
        let answer = Box::pin(app.http(function, &body.to_string())).await;
        self.record(function, function.routes[0], &answer);
        answer
    }

    /// Sends `method path` to `function`, checked against the route `path` is an instance of.
    async fn send(
        &mut self,
        app: &TestApp,
        function: &'static Definition,
        method: &str,
        path: &str,
        body: Option<&str>,
        headers: &[(&str, &str)],
    ) -> Answer {
        let route = route_of(function, method, path);
        let answer = Box::pin(app.route(function, method, path, body, headers)).await;
        self.record(function, route, &answer);
        answer
    }

    /// Signs `email` up and verifies it.
    async fn verified_user(&mut self, app: &TestApp, email: &str) {
        let signup = json!({"email": email, "password": PASSWORD});
        self.call(app, functions::CREATE_USER, signup).await;
        let token = app.last_mail(email, "verification").await.token.unwrap();
        let verified = self
            .call(
                app,
                functions::VERIFY_USER,
                json!({"email": email, "verify": token}),
            )
            .await;
        assert_eq!(verified.status, 200, "{}", verified.body);
    }

    /// Logs `email` in, with `device` as its device token when given.
    async fn login(&mut self, app: &TestApp, email: &str, device: Option<&str>) -> Value {
        let mut body = json!({"email": email, "password": PASSWORD});
        if let Some(device) = device {
            body["deviceToken"] = json!(device);
        }
        let answer = self.call(app, functions::LOGIN, body).await;
        assert_eq!(answer.status, 200, "{}", answer.body);
        answer.body
    }

    /// The journey with its refusals, existence errors prevented.
    async fn default_answers(&mut self) {
        let app = TestApp::spawn("openapi").await;
        self.call(
            &app,
            functions::CREATE_USER,
            json!({"email": EMAIL, "password": PASSWORD}),
        )
        .await;
        self.call(
            &app,
            functions::CREATE_USER,
            json!({"email": "nope", "password": PASSWORD}),
        )
        .await;
        self.call(
            &app,
            functions::VERIFY_USER,
            json!({"email": EMAIL, "verify": "b".repeat(43)}),
        )
        .await;
        let token = app.last_mail(EMAIL, "verification").await.token.unwrap();
        self.call(
            &app,
            functions::VERIFY_USER,
            json!({"email": EMAIL, "verify": token}),
        )
        .await;
        // An address signed up twice: its link asks for its signup's password.
        let contested = "contested@example.com";
        for _ in 0..2 {
            self.call(
                &app,
                functions::CREATE_USER,
                json!({"email": contested, "password": PASSWORD}),
            )
            .await;
        }
        let token = app
            .last_mail(contested, "verification")
            .await
            .token
            .unwrap();
        for password in [None, Some("not the password at all"), Some(PASSWORD)] {
            let mut body = json!({"email": contested, "verify": token});
            if let Some(password) = password {
                body["password"] = json!(password);
            }
            self.call(&app, functions::VERIFY_USER, body).await;
        }
        self.call(
            &app,
            functions::LOGIN,
            json!({"email": EMAIL, "password": PASSWORD}),
        )
        .await;
        self.call(
            &app,
            functions::LOGIN,
            json!({"email": EMAIL, "password": "wrong password here"}),
        )
        .await;
        self.call(
            &app,
            functions::LOGIN,
            json!({"email": EMAIL, "pass": PASSWORD}),
        )
        .await;
        let change = |old: &str| json!({"email": EMAIL, "oldPassword": old, "newPassword": "a new long passphrase"});
        self.call(&app, functions::CHANGE_PASSWORD, change("wrong one"))
            .await;
        self.call(&app, functions::CHANGE_PASSWORD, change(PASSWORD))
            .await;
        self.call(&app, functions::LOST_PASSWORD, json!({"email": EMAIL}))
            .await;
        self.call(&app, functions::LOST_PASSWORD, json!({"email": 7}))
            .await;
        let reset = |token: &str| json!({"email": EMAIL, "lost": token, "password": "yet another long one"});
        self.call(&app, functions::RESET_PASSWORD, reset(&"c".repeat(43)))
            .await;
        let token = app.last_mail(EMAIL, "password-reset").await.token.unwrap();
        self.call(&app, functions::RESET_PASSWORD, reset(&token))
            .await;
        // Wrong passwords until the lockout answers 429: after five, each wait doubles from one
        // second, so on a slow machine an attempt can land after a wait ran out and be admitted.
        for _ in 0..12 {
            let answer = self
                .call(
                    &app,
                    functions::LOGIN,
                    json!({"email": EMAIL, "password": "wrong again"}),
                )
                .await;
            if answer.status == 429 {
                break;
            }
        }
    }

    /// The original's refusals, existence errors not prevented.
    async fn seed_answers(&mut self) {
        let seed = TestApp::spawn_with(
            "openapi-seed",
            &[("PREVENT_USER_EXISTENCE_ERRORS", "false")],
        )
        .await;
        let signup = json!({"email": EMAIL, "password": PASSWORD});
        self.call(&seed, functions::CREATE_USER, signup.clone())
            .await;
        self.call(&seed, functions::CREATE_USER, signup.clone())
            .await;
        self.call(&seed, functions::LOGIN, signup).await;
        self.call(
            &seed,
            functions::LOST_PASSWORD,
            json!({"email": "nobody@example.com"}),
        )
        .await;
    }

    /// A throttling and a broken dependency.
    async fn fault_answers(&mut self) {
        let throttling = FaultProxy::failing(400, "TooManyRequestsException").await;
        let app = TestApp::spawn("openapi-503").await;
        self.verified_user(&app, EMAIL).await;
        let session = self.login(&app, EMAIL, None).await;
        let app = app.with_cognito_endpoint(throttling.url());
        self.call(
            &app,
            functions::LOGIN,
            json!({"email": EMAIL, "password": PASSWORD}),
        )
        .await;
        self.call(
            &app,
            functions::REFRESH_TOKEN,
            refresh(&session["refreshToken"]),
        )
        .await;

        // Every conditional write fails: another refresh changed the session each time. (The
        // source's bucket is a conditional write too: off here, so the session's answers.)
        let app = TestApp::spawn_with("openapi-429", &[("RATE_LIMIT_SESSION", "off")]).await;
        self.verified_user(&app, EMAIL).await;
        let session = self.login(&app, EMAIL, None).await;
        let contention = FaultProxy::start(
            lambdauth_tests::emulator().endpoint(),
            Arc::new(|seen: &Seen<'_>| {
                seen.body
                    .contains("ConditionExpression")
                    .then_some(Fault::Error {
                        status: 400,
                        error_type: "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException",
                    })
            }),
        )
        .await;
        let app = app.with_every_service_through(contention.url());
        let contended = self
            .call(
                &app,
                functions::REFRESH_TOKEN,
                refresh(&session["refreshToken"]),
            )
            .await;
        assert_eq!(contended.status, 429, "{}", contended.body);

        let missing_table = FaultProxy::failing(
            400,
            "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException",
        )
        .await;
        let app = TestApp::spawn("openapi-500")
            .await
            .with_dynamodb_endpoint(missing_table.url());
        self.call(&app, functions::LOST_PASSWORD, json!({"email": EMAIL}))
            .await;
        let app = TestApp::spawn("openapi-500-sessions")
            .await
            .with_every_service_through(missing_table.url());
        let token = json!({ "refreshToken": UNKNOWN_REFRESH_TOKEN });
        self.call(&app, functions::REFRESH_TOKEN, token.clone())
            .await;
        self.call(&app, functions::LOGOUT, token).await;
        for path in [
            "/.well-known/openid-configuration",
            "/.well-known/jwks.json",
        ] {
            self.send(&app, functions::JWKS, "GET", path, None, &[])
                .await;
        }
    }

    /// Sessions: login with and without a device token, refresh, the sessions routes, logout
    /// here and everywhere, and the issuer's documents.
    async fn session_answers(&mut self) {
        let app = TestApp::spawn("openapi-sessions").await;
        self.verified_user(&app, EMAIL).await;
        let [first, second, third] = self.session_logins(&app).await;
        let refreshed = self.refresh_answers(&app, &first).await;
        let access = format!("Bearer {}", refreshed["accessToken"].as_str().unwrap());
        self.sessions_route_answers(&app, &access, &second).await;
        self.logout_answers(&app, &access, &refreshed, &third).await;
        self.issuer_answers(&app).await;
    }

    /// Three sessions of [`EMAIL`]: without a device token, with its device token, and with an
    /// unknown one from a client that names itself; and a device token of the wrong type.
    async fn session_logins(&mut self, app: &TestApp) -> [Value; 3] {
        let first = self.login(app, EMAIL, None).await;
        let device = first["deviceToken"].as_str().unwrap();
        let second = self.login(app, EMAIL, Some(device)).await;
        let third = json!({"email": EMAIL, "password": PASSWORD, "deviceToken": "d".repeat(43)});
        let third = Box::pin(app.http_with(
            functions::LOGIN,
            &third.to_string(),
            &[("user-agent", "contract test")],
        ))
        .await;
        self.record(functions::LOGIN, functions::LOGIN.routes[0], &third);
        assert_eq!(third.status, 200, "{}", third.body);
        let malformed = self
            .call(
                app,
                functions::LOGIN,
                json!({"email": EMAIL, "password": PASSWORD, "deviceToken": 7}),
            )
            .await;
        assert_eq!(malformed.status, 400, "{}", malformed.body);
        let unknown_audience = self
            .call(
                app,
                functions::LOGIN,
                json!({"email": EMAIL, "password": PASSWORD, "audience": "another-api"}),
            )
            .await;
        assert_eq!(unknown_audience.status, 400, "{}", unknown_audience.body);
        assert_eq!(unknown_audience.body["error"]["code"], "InvalidAudience");
        [first, second, third.body]
    }

    /// Refreshes of `login`'s session, unknown tokens and malformed bodies; the refresh answer.
    async fn refresh_answers(&mut self, app: &TestApp, login: &Value) -> Value {
        let refreshed = self
            .call(
                app,
                functions::REFRESH_TOKEN,
                refresh(&login["refreshToken"]),
            )
            .await;
        assert_eq!(refreshed.status, 200, "{}", refreshed.body);
        for unknown in [UNKNOWN_REFRESH_TOKEN.to_owned(), "r".repeat(43)] {
            let unknown = self
                .call(app, functions::REFRESH_TOKEN, refresh(&json!(unknown)))
                .await;
            assert_eq!(unknown.status, 401, "{}", unknown.body);
        }
        let unknown_audience = self
            .call(
                app,
                functions::REFRESH_TOKEN,
                json!({"refreshToken": refreshed.body["refreshToken"], "audience": "another-api"}),
            )
            .await;
        assert_eq!(unknown_audience.status, 400, "{}", unknown_audience.body);
        assert_eq!(unknown_audience.body["error"]["code"], "InvalidAudience");
        for malformed in [
            json!({}),
            json!({"refreshToken": 7}),
            json!({"refreshToken": refreshed.body["refreshToken"], "scope": "all"}),
        ] {
            let answer = self.call(app, functions::REFRESH_TOKEN, malformed).await;
            assert_eq!(answer.status, 400, "{}", answer.body);
        }
        refreshed.body
    }

    /// The sessions routes with the `Authorization` value `access`: listed, refused without
    /// or with a bad token, `other`'s session ended, sessions that are not the caller's.
    async fn sessions_route_answers(&mut self, app: &TestApp, access: &str, other: &Value) {
        let bearer = [("authorization", access)];
        let listed = self
            .send(app, functions::SESSIONS, "GET", "/sessions", None, &bearer)
            .await;
        assert_eq!(listed.status, 200, "{}", listed.body);
        let listed = listed.body["sessions"].as_array().unwrap().clone();
        assert_eq!(listed.len(), 3);
        assert!(
            listed
                .iter()
                .any(|session| session["userAgent"] == "contract test")
        );
        for headers in [&[][..], &[("authorization", "Bearer not.a.token")][..]] {
            let refused = self
                .send(app, functions::SESSIONS, "GET", "/sessions", None, headers)
                .await;
            assert_eq!(refused.status, 401, "{}", refused.body);
        }
        // A body the route does not read.
        let ignored = self
            .send(
                app,
                functions::SESSIONS,
                "GET",
                "/sessions",
                Some(r#"{"end": 7}"#),
                &bearer,
            )
            .await;
        assert_eq!(ignored.status, 200, "{}", ignored.body);
        let other = format!("/sessions/{}", other["sessionId"].as_str().unwrap());
        for (path, headers, status) in [
            (other.as_str(), &[][..], 401),
            (other.as_str(), &bearer[..], 200),
            (other.as_str(), &bearer[..], 404),
            ("/sessions/no-such-session", &bearer[..], 404),
        ] {
            let answer = self
                .send(app, functions::SESSIONS, "DELETE", path, None, headers)
                .await;
            assert_eq!(answer.status, status, "DELETE {path}: {}", answer.body);
        }
        // Another user's session is not the caller's to end.
        let stranger = "stranger@example.com";
        self.verified_user(app, stranger).await;
        let strangers = self.login(app, stranger, None).await;
        let path = format!("/sessions/{}", strangers["sessionId"].as_str().unwrap());
        let answer = self
            .send(app, functions::SESSIONS, "DELETE", &path, None, &bearer)
            .await;
        assert_eq!(answer.status, 404, "{}", answer.body);
    }

    /// Logouts of `refreshed`'s session (the `Authorization` value `access`), twice, of an
    /// unknown token, of `last`'s session everywhere, malformed ones; then the ended sessions.
    async fn logout_answers(
        &mut self,
        app: &TestApp,
        access: &str,
        refreshed: &Value,
        last: &Value,
    ) {
        let logout = |token: &Value, everywhere: Value| json!({ "refreshToken": token, "everywhere": everywhere });
        for body in [
            logout(&refreshed["refreshToken"], json!(false)),
            json!({ "refreshToken": refreshed["refreshToken"] }),
            logout(&json!(UNKNOWN_REFRESH_TOKEN), json!(true)),
            logout(&last["refreshToken"], json!(true)),
        ] {
            let answer = self.call(app, functions::LOGOUT, body).await;
            assert_eq!(answer.status, 200, "{}", answer.body);
        }
        for malformed in [
            logout(&last["refreshToken"], json!("yes")),
            json!({"everywhere": true}),
        ] {
            let answer = self.call(app, functions::LOGOUT, malformed).await;
            assert_eq!(answer.status, 400, "{}", answer.body);
        }
        // Ended sessions: their access tokens are refused, their refresh tokens too.
        let bearer = [("authorization", access)];
        let ended = self
            .send(app, functions::SESSIONS, "GET", "/sessions", None, &bearer)
            .await;
        assert_eq!(ended.status, 401, "{}", ended.body);
        let ended = self
            .call(
                app,
                functions::REFRESH_TOKEN,
                refresh(&last["refreshToken"]),
            )
            .await;
        assert_eq!(ended.status, 401, "{}", ended.body);
    }

    /// The OpenID configuration and the key set.
    async fn issuer_answers(&mut self, app: &TestApp) {
        let configuration = self
            .send(
                app,
                functions::JWKS,
                "GET",
                "/.well-known/openid-configuration",
                None,
                &[],
            )
            .await;
        assert_eq!(configuration.status, 200, "{}", configuration.body);
        let issuer = configuration.body["issuer"].as_str().unwrap();
        assert_eq!(
            configuration.body["jwks_uri"],
            format!("{issuer}/.well-known/jwks.json")
        );
        let keys = self
            .send(
                app,
                functions::JWKS,
                "GET",
                "/.well-known/jwks.json",
                None,
                &[],
            )
            .await;
        assert_eq!(keys.status, 200, "{}", keys.body);
    }

    /// The JWT authorizer in front of the sessions routes, as `lambdauth dev` plays it.
    async fn authorizer_answers(&mut self) {
        let ctx = TestContext::new("openapi-authorizer").await;
        let server = ctx.dev_server(&[]).await;
        let client = reqwest::Client::new();
        let cases = [
            ("GET", "/sessions", Some("Bearer not.a.token")),
            ("GET", "/sessions", None),
            ("DELETE", "/sessions/some-session", None),
        ];
        for (method, path, authorization) in cases {
            let mut request = client.request(
                reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
                format!("{}{path}", server.url()),
            );
            if let Some(authorization) = authorization {
                request = request.header("authorization", authorization);
            }
            let response = request.send().await.expect("an answer");
            let status = response.status().as_u16();
            let headers = response
                .headers()
                .iter()
                .map(|(name, value)| {
                    (
                        name.as_str().to_owned(),
                        value.to_str().unwrap_or_default().to_owned(),
                    )
                })
                .collect();
            let text = response.text().await.expect("a body");
            let body = serde_json::from_str(&text).expect("a JSON body");
            let answer = Answer {
                status,
                headers,
                body,
            };
            assert_eq!(
                (answer.status, &answer.body),
                (401, &json!({"message": "Unauthorized"})),
                "{method} {path}"
            );
            self.record(
                functions::SESSIONS,
                route_of(functions::SESSIONS, method, path),
                &answer,
            );
        }
        server.stop().await;
    }
}

#[tokio::test]
async fn every_answer_conforms_to_the_openapi_document() {
    let mut checker = Checker {
        contract: Contract::load(),
        seen: Vec::new(),
    };
    // Each part on the heap: together their futures are too large for a test thread's stack.
    Box::pin(checker.default_answers()).await;
    Box::pin(checker.seed_answers()).await;
    Box::pin(checker.fault_answers()).await;
    Box::pin(checker.session_answers()).await;
    Box::pin(checker.authorizer_answers()).await;
    let statuses: BTreeSet<u16> = checker.seen.iter().map(|(_, status)| *status).collect();
    for status in [200, 400, 401, 403, 404, 409, 429, 500, 503] {
        assert!(
            statuses.contains(&status),
            "no answer with status {status} was checked"
        );
    }
    let expected = [
        ("POST /login", 200),
        ("POST /login", 400),
        ("POST /token/refresh", 200),
        ("POST /token/refresh", 400),
        ("POST /token/refresh", 401),
        ("POST /token/refresh", 429),
        ("POST /token/refresh", 500),
        ("POST /token/refresh", 503),
        ("POST /logout", 200),
        ("POST /logout", 400),
        ("POST /logout", 500),
        ("GET /.well-known/jwks.json", 500),
        ("GET /sessions", 200),
        ("GET /sessions", 401),
        ("DELETE /sessions/{id}", 200),
        ("DELETE /sessions/{id}", 401),
        ("DELETE /sessions/{id}", 404),
        ("GET /.well-known/openid-configuration", 200),
        ("GET /.well-known/jwks.json", 200),
    ];
    for (key, status) in expected {
        assert!(
            checker
                .seen
                .iter()
                .any(|seen| seen.0 == key && seen.1 == status),
            "no {status} of {key} was checked"
        );
    }
}
