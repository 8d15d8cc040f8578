//! A whole LambdAuth stack for one test: its own table, KMS key and identity pool in the
//! emulator, and the six functions over them, called through the same event handling the Lambda
//! binaries use.

use std::collections::HashMap;

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;

use lambdauth_domain::Clock;
use lambdauth_functions as functions;
use lambdauth_local::Functions;
use lambdauth_local::functions::{ServiceEndpoints, context_like, with_service_endpoint};
use lambdauth_local::mappings::LocalMappings;
use lambdauth_local::provision::provision;
use lambdauth_local::route_event;
use lambdauth_local::simulator::{MailboxSimulator, Origin};
use lambdauth_mail::feedback::{MailFeedback, Recorded};
use lambdauth_mail::mailer::Mailer;
use lambdauth_mail::mailer::queue::MailQueue;
use lambdauth_runtime::function::{Context, Definition, Function as _, Route};
use lambdauth_runtime::sealer::TokenSealer;
use serde_json::{Value, json};

use crate::TestContext;
use crate::proxy::{FaultProxy, SentMail};

/// An item as the SDK returns it.
pub type Item = HashMap<String, AttributeValue>;

/// A response as a client sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    /// The HTTP status (200 for a direct invoke that did not fail).
    pub status: u16,
    /// The headers, lower-cased.
    pub headers: HashMap<String, String>,
    /// The JSON body.
    pub body: Value,
}

/// A mail in the outbox, with its link token decrypted.
#[derive(Debug, Clone)]
pub struct Mail {
    /// The mail id.
    pub id: String,
    /// The kind (`verification`, `password-reset`, …).
    pub kind: String,
    /// The token of its link, decrypted with KMS.
    pub token: Option<String>,
    /// The outbox item as stored.
    pub item: Item,
}

/// The verified SES sender of every test stack.
pub const SENDER: &str = "no-reply@lambdauth.example.com";

/// One test's stack.
pub struct TestApp {
    /// Names and SDK settings.
    pub ctx: TestContext,
    /// The HTTP functions, each built through its definition.
    pub functions: Functions,
    /// What the functions were built over (the SDK's settings and the clock).
    pub context: Context,
    /// The services reached through a proxy instead of the emulator.
    pub endpoints: ServiceEndpoints,
    /// The users table.
    pub table: String,
    /// The outbox table.
    pub outbox_table: String,
    /// The environment the functions were configured from.
    pub env: HashMap<String, String>,
    /// A DynamoDB client.
    pub dynamodb: aws_sdk_dynamodb::Client,
    /// The proxy [`TestApp::mailer`] reaches SES through, recording each accepted mail.
    pub ses: FaultProxy,
}

impl TestApp {
    /// A stack with the default settings (and cheap hashing: tests hash hundreds of passwords).
    pub async fn spawn(label: &str) -> Self {
        Self::spawn_with(label, &[]).await
    }

    /// A stack whose environment has `overrides` on top of the defaults.
    ///
    /// # Panics
    /// When the emulator refuses to create a resource.
    pub async fn spawn_with(label: &str, overrides: &[(&str, &str)]) -> Self {
        let ctx = TestContext::new(label).await;
        let dynamodb = aws_sdk_dynamodb::Client::new(&ctx.sdk);
        let provisioned = provision(&ctx.sdk, ctx.resources())
            .await
            .expect("provision");
        let table = provisioned.resources.table.clone();
        let outbox_table = provisioned.resources.outbox_table.clone();
        let mut env: HashMap<String, String> = provisioned
            .environment()
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .chain(
                [
                    ("ARGON2_MEMORY_KIB", "1024"),
                    ("ARGON2_TIME_COST", "1"),
                    ("RETRY_BASE_SECONDS", "1"),
                    ("MAIL_LEASE_SECONDS", "10"),
                ]
                .map(|(k, v)| (k.to_owned(), v.to_owned())),
            )
            .collect();
        for (name, value) in overrides {
            env.insert((*name).to_owned(), (*value).to_owned());
        }
        let context = Context::new(ctx.sdk.clone());
        let functions = Functions::start(&context, &env).expect("functions");
        let ses = FaultProxy::recording(crate::emulator().endpoint())
            .await
            .expect("SES proxy");
        Self {
            ctx,
            functions,
            context,
            endpoints: ServiceEndpoints::default(),
            table,
            outbox_table,
            env,
            dynamodb,
            ses,
        }
    }

    /// A stack with `overrides` whose functions reach every service through a recording proxy,
    /// and that proxy (its [`crate::proxy::Counts`] list each AWS call made).
    ///
    /// # Panics
    /// When the proxy cannot start or the emulator refuses to create a resource.
    pub async fn spawn_recorded(label: &str, overrides: &[(&str, &str)]) -> (Self, FaultProxy) {
        let proxy = FaultProxy::recording(crate::emulator().endpoint())
            .await
            .expect("a recording proxy");
        let app = Self::spawn_with(label, overrides)
            .await
            .with_every_service_through(proxy.url());
        (app, proxy)
    }

    /// An address unique to this stack: `name` under its prefix, at `example.com`.
    pub fn address(&self, name: &str) -> String {
        format!("{}{name}@example.com", self.ctx.prefix)
    }

    /// The same stack with every service the functions call reached through `endpoint` (a
    /// recording proxy in front of the emulator, say).
    ///
    /// # Panics
    /// When the configuration does not parse.
    #[must_use]
    pub fn with_every_service_through(self, endpoint: &str) -> Self {
        let sdk = self.context.aws.to_builder().endpoint_url(endpoint).build();
        let endpoints = self.endpoints.clone();
        self.rebuilt(sdk, endpoints)
    }

    /// The same stack with the service `service_id` (its SDK id: `DynamoDB`, `Cognito Identity`,
    /// …) reached through `endpoint` instead (to inject faults or record its calls).
    ///
    /// # Panics
    /// When the configuration does not parse.
    #[must_use]
    pub fn with_service_through(self, service_id: &str, endpoint: &str) -> Self {
        let (sdk, endpoints) =
            with_service_endpoint(&self.context.aws, &self.endpoints, service_id, endpoint);
        self.rebuilt(sdk, endpoints)
    }

    /// The same stack with every function reading `clock` instead of the system's.
    ///
    /// # Panics
    /// When the configuration does not parse.
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock + Send + Sync>) -> Self {
        self.context = Context::with_clock(self.context.aws.clone(), clock);
        self.functions = Functions::start(&self.context, &self.env).expect("functions");
        self
    }

    /// The functions built again over `sdk`, through their definitions.
    fn rebuilt(mut self, sdk: aws_config::SdkConfig, endpoints: ServiceEndpoints) -> Self {
        self.context = context_like(&self.context, sdk);
        self.endpoints = endpoints;
        self.functions = Functions::start(&self.context, &self.env).expect("functions");
        self
    }

    /// The same stack with DynamoDB reached through `endpoint` instead (to inject faults).
    ///
    /// # Panics
    /// When the configuration does not parse.
    #[must_use]
    pub fn with_dynamodb_endpoint(self, endpoint: &str) -> Self {
        self.with_service_through("DynamoDB", endpoint)
    }

    /// The same stack with Cognito reached through `endpoint` instead (to inject faults).
    ///
    /// # Panics
    /// When the configuration does not parse.
    #[must_use]
    pub fn with_cognito_endpoint(self, endpoint: &str) -> Self {
        self.with_service_through("Cognito Identity", endpoint)
    }

    /// The mailer over this stack, built through its definition, reaching SES and DynamoDB
    /// directly or through the given endpoints (fault proxies). SES gets one attempt per job and
    /// a one-second timeout (`SES_ATTEMPT_TIMEOUT_SECONDS=1`), as the function does with its own
    /// (the retry queue is the retry mechanism).
    ///
    /// # Panics
    /// When the configuration does not parse.
    pub fn mailer_with(
        &self,
        ses_endpoint: Option<&str>,
        dynamodb_endpoint: Option<&str>,
    ) -> Mailer {
        let mut sdk = self.context.aws.clone();
        let mut endpoints = self.endpoints.clone();
        for (service_id, endpoint) in [("SESv2", ses_endpoint), ("DynamoDB", dynamodb_endpoint)] {
            if let Some(endpoint) = endpoint {
                (sdk, endpoints) = with_service_endpoint(&sdk, &endpoints, service_id, endpoint);
            }
        }
        let mut env = self.env.clone();
        env.insert("SES_ATTEMPT_TIMEOUT_SECONDS".to_owned(), "1".to_owned());
        Mailer::start(&context_like(&self.context, sdk), &env).expect("the mailer")
    }

    /// The mailer over this stack, sending through a proxy that records what SES accepts.
    pub fn mailer(&self) -> Mailer {
        self.mailer_with(Some(self.ses.url()), None)
    }

    /// The local event source mappings of this stack's stream and retry queue.
    ///
    /// # Panics
    /// When the stream or queue cannot be found.
    pub async fn mappings(&self) -> LocalMappings {
        LocalMappings::for_stack(
            &self.ctx.sdk,
            &self.outbox_table,
            &self.env["RETRY_QUEUE_URL"],
            &crate::region(),
        )
        .await
        .expect("the stream and the retry queue")
    }

    /// The mails SES accepted for `to` from [`TestApp::mailer`].
    pub fn sent_mails(&self, to: &str) -> Vec<SentMail> {
        self.ses.sent_to(to)
    }

    /// `POST` `body` to `function`'s route, as API Gateway would deliver it.
    pub async fn http(&self, function: &'static Definition, body: &str) -> Answer {
        self.http_with(function, body, &[]).await
    }

    /// The same with extra request headers.
    ///
    /// # Panics
    /// When the response is not a payload 2.0 response with a JSON body.
    pub async fn http_with(
        &self,
        function: &'static Definition,
        body: &str,
        headers: &[(&str, &str)],
    ) -> Answer {
        self.route(function, "POST", function.path(), Some(body), headers)
            .await
    }

    /// `method path` (a path of one of `function`'s routes, such as `/sessions/abc` for
    /// `/sessions/{id}`) with `body` and extra `headers`, as API Gateway hands it to the
    /// function (without the authorizer in front: the function's own checks answer).
    ///
    /// # Panics
    /// When no route of `function` matches, or the response is not a payload 2.0 response with
    /// a JSON body.
    pub async fn route(
        &self,
        function: &'static Definition,
        method: &str,
        path: &str,
        body: Option<&str>,
        headers: &[(&str, &str)],
    ) -> Answer {
        let (route, parameters) = route_of(function, method, path)
            .unwrap_or_else(|| panic!("{} has no route {method} {path}", function.name));
        let content_type = body.map(|_| ("content-type", "application/json"));
        let headers: Vec<(String, String)> = content_type
            .into_iter()
            .chain(headers.iter().copied())
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        let event = route_event(
            route.method,
            route.path,
            path,
            &parameters,
            &headers,
            body.unwrap_or_default().as_bytes(),
            "test-request",
        );
        let response = self
            .functions
            .handle_event(function, event, "test-request")
            .await;
        let status =
            u16::try_from(response["statusCode"].as_u64().expect("statusCode")).expect("status");
        let headers = response["headers"]
            .as_object()
            .map(|h| {
                h.iter()
                    .map(|(k, v)| {
                        (
                            k.to_ascii_lowercase(),
                            v.as_str().unwrap_or_default().to_owned(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        let body =
            serde_json::from_str(response["body"].as_str().expect("body")).expect("JSON body");
        Answer {
            status,
            headers,
            body,
        }
    }

    /// Signs `email` up with `password` over HTTP, which must be answered 200.
    ///
    /// # Panics
    /// When it is not.
    pub async fn signup(&self, email: &str, password: &str) -> Answer {
        let created = self
            .http(
                functions::CREATE_USER,
                &json!({"email": email, "password": password}).to_string(),
            )
            .await;
        assert_eq!(created.status, 200, "{}", created.body);
        created
    }

    /// Signs `email` up with `password` and follows the mailed verification link.
    ///
    /// # Panics
    /// When a step does not answer 200.
    pub async fn verified_user(&self, email: &str, password: &str) {
        self.signup(email, password).await;
        let token = self.last_mail(email, "verification").await.token.unwrap();
        let verified = self
            .http(
                functions::VERIFY_USER,
                &json!({"email": email, "verify": token}).to_string(),
            )
            .await;
        assert_eq!(verified.status, 200, "{}", verified.body);
    }

    /// Logs `email` in with `password`: the answer's body, with its session's tokens.
    ///
    /// # Panics
    /// When the login does not answer 200.
    pub async fn login_session(&self, email: &str, password: &str) -> Value {
        let answer = self
            .http(
                functions::LOGIN,
                &json!({"email": email, "password": password}).to_string(),
            )
            .await;
        assert_eq!(answer.status, 200, "{}", answer.body);
        answer.body
    }

    /// Invoke `function` directly with `payload`, as the original pages did.
    pub async fn invoke(&self, function: &'static Definition, payload: Value) -> Value {
        self.functions
            .handle_event(function, payload, "test-invoke")
            .await
    }

    /// The user item of `email` (normalized), as stored.
    ///
    /// # Panics
    /// When the read fails.
    pub async fn user_item(&self, email: &str) -> Option<Item> {
        self.dynamodb
            .get_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(email.to_owned()))
            .key("sk", AttributeValue::S("USER".to_owned()))
            .consistent_read(true)
            .send()
            .await
            .expect("get user")
            .item
    }

    /// The outbox mails to `email` (normalized), oldest first, with their tokens decrypted.
    ///
    /// # Panics
    /// When a read or a decryption fails.
    pub async fn mails(&self, email: &str) -> Vec<Mail> {
        let items = self
            .dynamodb
            .query()
            .table_name(&self.outbox_table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :mail)")
            .expression_attribute_values(":pk", AttributeValue::S(email.to_owned()))
            .expression_attribute_values(":mail", AttributeValue::S("MAIL#".to_owned()))
            .consistent_read(true)
            .send()
            .await
            .expect("query mails")
            .items
            .unwrap_or_default();
        let mut mails = Vec::new();
        for item in items {
            let id = item["mailId"].as_s().expect("mailId").clone();
            let kind = item["kind"].as_s().expect("kind").clone();
            let token = match item.get("linkToken") {
                Some(AttributeValue::B(ciphertext)) => Some(
                    TokenSealer::decrypt_only(aws_sdk_kms::Client::new(&self.ctx.sdk))
                        .open(ciphertext.as_ref(), &id, email)
                        .await
                        .expect("decrypt")
                        .expose()
                        .to_owned(),
                ),
                _ => None,
            };
            mails.push(Mail {
                id,
                kind,
                token,
                item,
            });
        }
        mails
    }

    /// The newest mail of `kind` to `email`, which must exist.
    ///
    /// # Panics
    /// When there is none.
    pub async fn last_mail(&self, email: &str, kind: &str) -> Mail {
        self.mails(email)
            .await
            .into_iter()
            .rev()
            .find(|mail| mail.kind == kind)
            .unwrap_or_else(|| panic!("no {kind} mail to {email}"))
    }

    /// Every item in both tables: the users table's, then the outbox table's.
    ///
    /// # Panics
    /// When a scan fails.
    pub async fn scan(&self) -> Vec<Item> {
        let mut items = self.scan_table(&self.table).await;
        items.extend(self.scan_table(&self.outbox_table).await);
        items
    }

    /// Every item in both tables but the sources' buckets (which count requests, whatever they
    /// ask): the stored state a request may or may not change.
    ///
    /// # Panics
    /// When a scan fails.
    pub async fn scan_state(&self) -> Vec<Item> {
        let mut items = self.scan().await;
        items.retain(|item| {
            !item
                .get("pk")
                .and_then(|pk| pk.as_s().ok())
                .is_some_and(|pk| pk.starts_with("SOURCE#"))
        });
        items
    }

    /// Every item in `table`.
    ///
    /// # Panics
    /// When the scan fails.
    pub async fn scan_table(&self, table: &str) -> Vec<Item> {
        let mut items = Vec::new();
        let mut pages = self
            .dynamodb
            .scan()
            .table_name(table)
            .into_paginator()
            .items()
            .send();
        while let Some(item) = pages.next().await {
            items.push(item.expect("scan"));
        }
        items
    }
}

impl TestApp {
    /// This stack's dead-letter queue, through the mailer's own queue adapter.
    pub fn dead_letter_queue(&self) -> MailQueue {
        MailQueue::new(
            aws_sdk_sqs::Client::new(&self.ctx.sdk),
            &self.env["DEAD_LETTER_QUEUE_URL"],
        )
    }

    /// This stack's retry queue, through the mailer's own queue adapter.
    pub fn retry_queue(&self) -> MailQueue {
        MailQueue::new(
            aws_sdk_sqs::Client::new(&self.ctx.sdk),
            &self.env["RETRY_QUEUE_URL"],
        )
    }
}

impl TestApp {
    /// The mail feedback function over this stack's outbox table.
    ///
    /// # Panics
    /// When the configuration does not parse.
    pub fn feedback(&self) -> MailFeedback {
        MailFeedback::start(&self.context, &self.env).expect("the feedback function")
    }

    /// SES's mailbox simulator as this stack's configuration set would publish it.
    pub fn mailbox_simulator(&self) -> MailboxSimulator {
        MailboxSimulator::new(Origin {
            sender: SENDER.to_owned(),
            configuration_set: self.env.get("SES_CONFIGURATION_SET").cloned(),
            region: crate::region(),
        })
    }

    /// Hands [`TestApp::feedback`] what SES's mailbox simulator publishes for every mail SES
    /// accepted from [`TestApp::mailer`] that `simulator` has not played yet.
    ///
    /// # Panics
    /// When the feedback cannot be recorded.
    pub async fn play_feedback(&self, simulator: &mut MailboxSimulator) -> Recorded {
        simulator
            .play(&self.ses.sent(), &self.feedback())
            .await
            .expect("the feedback is recorded")
    }
}

/// Runs the mappings until `done` holds, or fails after `rounds`.
///
/// # Panics
/// When a round fails or `done` never holds.
pub async fn run_until(
    mappings: &mut LocalMappings,
    mailer: &Mailer,
    rounds: usize,
    mut done: impl AsyncFnMut() -> bool,
) {
    for _ in 0..rounds {
        mappings
            .round(mailer, Duration::ZERO)
            .await
            .expect("a round");
        if done().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the pipeline did not finish in {rounds} rounds");
}

/// The route of `function` that `method path` reaches, with its path parameters.
pub fn route_of(
    function: &'static Definition,
    method: &str,
    path: &str,
) -> Option<(Route, serde_json::Map<String, Value>)> {
    function
        .routes
        .iter()
        .filter(|route| route.method == method)
        .find_map(|route| Some((*route, match_path(route.path, path)?)))
}

/// The path parameters of `path` when it matches the route path `pattern` (`{name}` segments
/// match any one non-empty segment, as API Gateway's do).
fn match_path(pattern: &str, path: &str) -> Option<serde_json::Map<String, Value>> {
    let (pattern, path): (Vec<&str>, Vec<&str>) =
        (pattern.split('/').collect(), path.split('/').collect());
    if pattern.len() != path.len() {
        return None;
    }
    let mut parameters = serde_json::Map::new();
    for (expected, actual) in pattern.iter().zip(&path) {
        if let Some(name) = expected.strip_prefix('{').and_then(|n| n.strip_suffix('}'))
            && !actual.is_empty()
        {
            parameters.insert(name.to_owned(), Value::String((*actual).to_owned()));
        } else if expected != actual {
            return None;
        }
    }
    Some(parameters)
}
