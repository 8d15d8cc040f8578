//! Real answers conform to `openapi.yaml`: every status a route answers is documented for it,
//! every body matches the documented schema, and every documented header is sent.

use std::path::PathBuf;

use lambdauth_handlers::Function;
use lambdauth_tests::app::{Answer, TestApp};
use lambdauth_tests::proxy::FaultProxy;
use serde_json::{Value, json};

struct Contract {
    document: Value,
}

fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

impl Contract {
    fn load() -> Self {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../openapi.yaml");
        let text = std::fs::read_to_string(&path).expect("openapi.yaml");
        Self {
            document: serde_norway::from_str(&text).expect("openapi.yaml is YAML"),
        }
    }

    /// Checks one answer of `function`.
    fn check(&self, function: Function, answer: &Answer) {
        let status = answer.status.to_string();
        let responses = &self.document["paths"][function.path()]["post"]["responses"];
        let mut pointer = format!(
            "#/paths/{}/post/responses/{status}",
            escape(function.path())
        );
        let mut response = &responses[&status];
        assert!(
            response.is_object(),
            "{} answered {status}, which openapi.yaml does not document: {}",
            function.name(),
            answer.body
        );
        if let Some(reference) = response["$ref"].as_str() {
            reference.clone_into(&mut pointer);
            let name = reference.rsplit('/').next().unwrap();
            response = &self.document["components"]["responses"][name];
        }
        if let Some(headers) = response["headers"].as_object() {
            for header in headers.keys() {
                assert!(
                    answer.headers.contains_key(&header.to_ascii_lowercase()),
                    "{} {status} lacks the documented header {header}",
                    function.name()
                );
            }
        }
        let mut schema = self.document.clone();
        schema["$ref"] = json!(format!("{pointer}/content/application~1json/schema"));
        let validator = jsonschema::validator_for(&schema).expect("a valid schema");
        let errors: Vec<String> = validator
            .iter_errors(&answer.body)
            .map(|e| e.to_string())
            .collect();
        assert!(
            errors.is_empty(),
            "{} {status} does not match openapi.yaml: {errors:?}\n{}",
            function.name(),
            answer.body
        );
    }
}

const PASSWORD: &str = "correct horse battery staple";
const EMAIL: &str = "contract@example.com";

/// Calls functions and checks every answer against the contract.
struct Checker {
    contract: Contract,
    seen: Vec<u16>,
}

impl Checker {
    async fn call(&mut self, app: &TestApp, function: Function, body: Value) -> Answer {
        let answer = app.http(function, &body.to_string()).await;
        self.contract.check(function, &answer);
        self.seen.push(answer.status);
        answer
    }

    /// The journey with its refusals, existence errors prevented.
    async fn default_answers(&mut self) {
        let app = TestApp::spawn("openapi").await;
        self.call(
            &app,
            Function::CreateUser,
            json!({"email": EMAIL, "password": PASSWORD}),
        )
        .await;
        self.call(
            &app,
            Function::CreateUser,
            json!({"email": "nope", "password": PASSWORD}),
        )
        .await;
        self.call(
            &app,
            Function::VerifyUser,
            json!({"email": EMAIL, "verify": "b".repeat(43)}),
        )
        .await;
        let token = app.last_mail(EMAIL, "verification").await.token.unwrap();
        self.call(
            &app,
            Function::VerifyUser,
            json!({"email": EMAIL, "verify": token}),
        )
        .await;
        // An address signed up twice: its link asks for its signup's password.
        let contested = "contested@example.com";
        for _ in 0..2 {
            self.call(
                &app,
                Function::CreateUser,
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
            self.call(&app, Function::VerifyUser, body).await;
        }
        self.call(
            &app,
            Function::Login,
            json!({"email": EMAIL, "password": PASSWORD}),
        )
        .await;
        self.call(
            &app,
            Function::Login,
            json!({"email": EMAIL, "password": "wrong password here"}),
        )
        .await;
        self.call(
            &app,
            Function::Login,
            json!({"email": EMAIL, "pass": PASSWORD}),
        )
        .await;
        let change = |old: &str| json!({"email": EMAIL, "oldPassword": old, "newPassword": "a new long passphrase"});
        self.call(&app, Function::ChangePassword, change("wrong one"))
            .await;
        self.call(&app, Function::ChangePassword, change(PASSWORD))
            .await;
        self.call(&app, Function::LostPassword, json!({"email": EMAIL}))
            .await;
        self.call(&app, Function::LostPassword, json!({"email": 7}))
            .await;
        let reset = |token: &str| json!({"email": EMAIL, "lost": token, "password": "yet another long one"});
        self.call(&app, Function::ResetPassword, reset(&"c".repeat(43)))
            .await;
        let token = app.last_mail(EMAIL, "password-reset").await.token.unwrap();
        self.call(&app, Function::ResetPassword, reset(&token))
            .await;
        // Wrong passwords until the lockout answers 429: after five, each wait doubles from one
        // second, so on a slow machine an attempt can land after a wait ran out and be admitted.
        for _ in 0..12 {
            let answer = self
                .call(
                    &app,
                    Function::Login,
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
        self.call(&seed, Function::CreateUser, signup.clone()).await;
        self.call(&seed, Function::CreateUser, signup.clone()).await;
        self.call(&seed, Function::Login, signup).await;
        self.call(
            &seed,
            Function::LostPassword,
            json!({"email": "nobody@example.com"}),
        )
        .await;
    }

    /// A throttling and a broken dependency.
    async fn fault_answers(&mut self) {
        let throttling = FaultProxy::failing(400, "TooManyRequestsException").await;
        let app = TestApp::spawn("openapi-503").await;
        self.call(
            &app,
            Function::CreateUser,
            json!({"email": EMAIL, "password": PASSWORD}),
        )
        .await;
        let token = app.last_mail(EMAIL, "verification").await.token.unwrap();
        self.call(
            &app,
            Function::VerifyUser,
            json!({"email": EMAIL, "verify": token}),
        )
        .await;
        let app = app.with_cognito_endpoint(throttling.url());
        self.call(
            &app,
            Function::Login,
            json!({"email": EMAIL, "password": PASSWORD}),
        )
        .await;

        let missing_table = FaultProxy::failing(
            400,
            "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException",
        )
        .await;
        let app = TestApp::spawn("openapi-500")
            .await
            .with_dynamodb_endpoint(missing_table.url());
        self.call(&app, Function::LostPassword, json!({"email": EMAIL}))
            .await;
    }
}

#[tokio::test]
async fn every_answer_conforms_to_the_openapi_document() {
    let mut checker = Checker {
        contract: Contract::load(),
        seen: Vec::new(),
    };
    checker.default_answers().await;
    checker.seed_answers().await;
    checker.fault_answers().await;
    for status in [200, 400, 401, 403, 404, 409, 429, 500, 503] {
        assert!(
            checker.seen.contains(&status),
            "no answer with status {status} was checked"
        );
    }
}
