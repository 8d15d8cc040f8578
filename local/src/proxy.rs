//! A fault-injecting proxy between a client and the emulator: each request is either forwarded
//! or answered with a fault chosen by a rule, so a test or a load run can make SES (or any
//! service) throttle, fail, time out or refuse, and count what happened. Every mail SES accepts
//! through it is recorded, which is how `lambdauth dev` shows the mail it sent.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;

/// What to do with one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// 429 `TooManyRequestsException`.
    Throttle,
    /// 503 `ServiceUnavailable`.
    ServerError,
    /// Hold the request unanswered for this long (the client times out first), never forwarding
    /// it.
    Timeout(Duration),
    /// 400 `MessageRejected`.
    Reject,
    /// 400 with a DynamoDB `ProvisionedThroughputExceededException`.
    DynamoDbThrottle,
    /// 400 `SendingPausedException`: the account may not send.
    Paused,
    /// HTTP `status` with the AWS error `error_type`.
    Error {
        /// The status.
        status: u16,
        /// The error type, as `x-amzn-ErrorType` and `__type`.
        error_type: &'static str,
    },
}

/// A request as the rule sees it.
pub struct Seen<'a> {
    /// The method.
    pub method: &'a Method,
    /// The path and query.
    pub uri: &'a Uri,
    /// The body, as text.
    pub body: &'a str,
}

/// Decides each request's fate: `None` forwards it.
pub type Rule = Arc<dyn Fn(&Seen<'_>) -> Option<Fault> + Send + Sync>;

/// A mail SES accepted through the proxy (it answered 200 to the `SendEmail` request).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentMail {
    /// SES's message id.
    pub id: String,
    /// The recipient.
    pub to: String,
    /// The subject.
    pub subject: String,
    /// The HTML part.
    pub html: String,
    /// The plain-text part.
    pub text: String,
}

impl SentMail {
    /// The link in the plain-text part (the mail's only URL).
    pub fn link(&self) -> Option<String> {
        self.text
            .split_whitespace()
            .find(|word| word.starts_with("http://") || word.starts_with("https://"))
            .map(str::to_owned)
    }

    /// The value of parameter `name` in the mail's link (in its fragment, or in the query of a
    /// link in the original's form), decoded.
    pub fn link_parameter(&self, name: &str) -> Option<String> {
        let link = self.link()?;
        let query = link.split_once('#').or_else(|| link.split_once('?'))?.1;
        query.split('&').find_map(|pair| {
            let (key, value) = pair.split_once('=')?;
            (key == name).then(|| value.replace("%40", "@").replace("%2B", "+"))
        })
    }
}

/// What passed through.
#[derive(Debug, Default)]
pub struct Counts {
    /// Requests forwarded.
    pub forwarded: AtomicUsize,
    /// Faults of the transient kinds injected (throttle, 5xx, timeout).
    pub transient: AtomicUsize,
    /// Rejections injected.
    pub rejected: AtomicUsize,
    /// The mails SES accepted.
    pub accepted: std::sync::Mutex<Vec<SentMail>>,
    /// Every request's operation, in the order they came: the `X-Amz-Target` of the JSON
    /// protocols (`DynamoDB_20120810.Query`, `TrentService.Encrypt`, …), `METHOD path` otherwise.
    pub operations: std::sync::Mutex<Vec<String>>,
    /// Each `TransactWriteItems` request's items, in the order they came: one `<kind> <table>`
    /// per item (`Put LambdAuthUsers`, `ConditionCheck LambdAuthOutbox`, …).
    pub transactions: std::sync::Mutex<Vec<Vec<String>>>,
}

impl Counts {
    /// The operations recorded since the last call, taken out.
    pub fn take_operations(&self) -> Vec<String> {
        self.operations
            .lock()
            .map(|mut operations| std::mem::take(&mut *operations))
            .unwrap_or_default()
    }

    /// The transactions recorded since the last call, taken out.
    pub fn take_transactions(&self) -> Vec<Vec<String>> {
        self.transactions
            .lock()
            .map(|mut transactions| std::mem::take(&mut *transactions))
            .unwrap_or_default()
    }
}

struct Shared {
    upstream: String,
    client: reqwest::Client,
    rule: Rule,
    counts: Arc<Counts>,
}

/// A running proxy.
pub struct FaultProxy {
    url: String,
    counts: Arc<Counts>,
}

impl FaultProxy {
    /// Starts a proxy to `upstream` applying `rule`.
    ///
    /// # Panics
    /// When no local port can be bound (for tests; [`FaultProxy::bind`] returns the error).
    pub async fn start(upstream: &str, rule: Rule) -> Self {
        Self::bind(upstream, rule).await.expect("bind a local port")
    }

    /// Starts a proxy to `upstream` applying `rule`, on a free local port.
    pub async fn bind(upstream: &str, rule: Rule) -> std::io::Result<Self> {
        let counts = Arc::new(Counts::default());
        let shared = Arc::new(Shared {
            upstream: upstream.trim_end_matches('/').to_owned(),
            client: reqwest::Client::new(),
            rule,
            counts: Arc::clone(&counts),
        });
        let app = Router::new().fallback(handle).with_state(shared);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        tokio::spawn(async move { axum::serve(listener, app).await });
        Ok(Self { url, counts })
    }

    /// A proxy that forwards everything: a recorder of what SES accepts.
    pub async fn recording(upstream: &str) -> std::io::Result<Self> {
        Self::bind(upstream, Arc::new(|_: &Seen<'_>| None)).await
    }

    /// An endpoint that answers every request with HTTP `status` and the AWS error
    /// `error_type`, forwarding nothing.
    pub async fn failing(status: u16, error_type: &'static str) -> Self {
        let fault = Fault::Error { status, error_type };
        // No request is ever forwarded, so there is no upstream.
        Self::start("", Arc::new(move |_: &Seen<'_>| Some(fault))).await
    }

    /// The proxy's URL, for `AWS_ENDPOINT_URL_<SERVICE>`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// What passed through so far.
    pub fn counts(&self) -> &Counts {
        &self.counts
    }

    /// The mails SES accepted so far through this proxy for `to`.
    pub fn sent_to(&self, to: &str) -> Vec<SentMail> {
        self.counts
            .accepted
            .lock()
            .map(|mails| mails.iter().filter(|m| m.to == to).cloned().collect())
            .unwrap_or_default()
    }

    /// Every mail SES accepted so far through this proxy.
    pub fn sent(&self) -> Vec<SentMail> {
        self.counts
            .accepted
            .lock()
            .map(|mails| mails.clone())
            .unwrap_or_default()
    }
}

fn error(status: StatusCode, error_type: &str, message: &str) -> Response {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .header("x-amzn-errortype", error_type)
        .body(Body::from(format!(
            r#"{{"__type":"{error_type}","message":"{message}"}}"#
        )))
        .unwrap_or_default()
}

async fn handle(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let Ok(body) = axum::body::to_bytes(body, 16 * 1024 * 1024).await else {
        return error(StatusCode::BAD_REQUEST, "BadRequest", "unreadable body");
    };
    let text = String::from_utf8_lossy(&body).into_owned();
    let operation = parts
        .headers
        .get("x-amz-target")
        .and_then(|target| target.to_str().ok())
        .map_or_else(
            || format!("{} {}", parts.method, parts.uri.path()),
            str::to_owned,
        );
    if operation == "DynamoDB_20120810.TransactWriteItems" {
        record_transaction(&shared.counts, &body);
    }
    if let Ok(mut operations) = shared.counts.operations.lock() {
        operations.push(operation);
    }
    let seen = Seen {
        method: &parts.method,
        uri: &parts.uri,
        body: &text,
    };
    match (shared.rule)(&seen) {
        Some(fault) => {
            let counter = if matches!(fault, Fault::Reject | Fault::Paused) {
                &shared.counts.rejected
            } else {
                &shared.counts.transient
            };
            counter.fetch_add(1, Ordering::SeqCst);
            match fault {
                Fault::Throttle => error(
                    StatusCode::TOO_MANY_REQUESTS,
                    "TooManyRequestsException",
                    "Maximum sending rate exceeded.",
                ),
                Fault::ServerError => error(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "ServiceUnavailable",
                    "Service unavailable.",
                ),
                Fault::Timeout(hold) => {
                    tokio::time::sleep(hold).await;
                    error(
                        StatusCode::GATEWAY_TIMEOUT,
                        "ServiceUnavailable",
                        "held too long",
                    )
                }
                Fault::Reject => error(
                    StatusCode::BAD_REQUEST,
                    "MessageRejected",
                    "Email address is on the suppression list.",
                ),
                Fault::Error { status, error_type } => error(
                    StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
                    error_type,
                    "injected",
                ),
                Fault::Paused => error(
                    StatusCode::BAD_REQUEST,
                    "SendingPausedException",
                    "Sending is paused for this account.",
                ),
                Fault::DynamoDbThrottle => error(
                    StatusCode::BAD_REQUEST,
                    "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
                    "Throughput exceeded",
                ),
            }
        }
        None => forward(&shared, &parts.method, &parts.uri, &parts.headers, body).await,
    }
}

/// Records the kind and table of each item of a `TransactWriteItems` request.
fn record_transaction(counts: &Counts, request: &[u8]) {
    let Ok(request) = serde_json::from_slice::<serde_json::Value>(request) else {
        return;
    };
    let items = request["TransactItems"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|item| {
            let (kind, body) = item.as_object()?.iter().next()?;
            let table = body["TableName"].as_str().unwrap_or("?");
            Some(format!("{kind} {table}"))
        })
        .collect();
    if let Ok(mut transactions) = counts.transactions.lock() {
        transactions.push(items);
    }
}

/// Records the mail of an accepted `SendEmail` request.
fn record_sent(counts: &Counts, request: &[u8], answer: &[u8]) {
    let (Ok(request), Ok(answer)) = (
        serde_json::from_slice::<serde_json::Value>(request),
        serde_json::from_slice::<serde_json::Value>(answer),
    ) else {
        return;
    };
    let simple = &request["Content"]["Simple"];
    let text = |value: &serde_json::Value| value.as_str().unwrap_or_default().to_owned();
    let recipients = request["Destination"]["ToAddresses"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if let Ok(mut accepted) = counts.accepted.lock() {
        for to in recipients {
            accepted.push(SentMail {
                id: text(&answer["MessageId"]),
                to: text(&to),
                subject: text(&simple["Subject"]["Data"]),
                html: text(&simple["Body"]["Html"]["Data"]),
                text: text(&simple["Body"]["Text"]["Data"]),
            });
        }
    }
}

async fn forward(
    shared: &Shared,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    let mut request = shared
        .client
        .request(method.clone(), format!("{}{path}", shared.upstream));
    for (name, value) in headers {
        if name != "host" && name != "content-length" {
            request = request.header(name, value);
        }
    }
    let Ok(answer) = request.body(body.clone()).send().await else {
        return error(
            StatusCode::BAD_GATEWAY,
            "ServiceUnavailable",
            "the emulator did not answer",
        );
    };
    shared.counts.forwarded.fetch_add(1, Ordering::SeqCst);
    let mut response = Response::builder().status(answer.status());
    for (name, value) in answer.headers() {
        if name != "content-length" && name != "transfer-encoding" {
            response = response.header(name, value);
        }
    }
    let status = answer.status();
    let bytes = answer.bytes().await.unwrap_or_default();
    if status.is_success() && uri.path().ends_with("/v2/email/outbound-emails") {
        record_sent(&shared.counts, &body, &bytes);
    }
    response.body(Body::from(bytes)).unwrap_or_default()
}
