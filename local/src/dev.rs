//! `lambdauth dev`: the whole service in one process on a developer's machine.
//!
//! It provisions what the functions need at the emulator, then serves the HTTP API by turning each
//! request into the API Gateway v2 event the Lambda would get and calling the same handler code;
//! serves the sample pages; and runs the mailer's two event source mappings (the table's stream
//! and the retry queue) against the same mailer code, sending through a recording proxy so that
//! each mail's subject and link reach the console and `/_dev/mail`.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::Functions;
use crate::functions::http_api_event;
use anyhow::{Context, Result};
use aws_config::SdkConfig;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use lambdauth_handlers::Function;
use lambdauth_handlers::config::MailerConfig;
use lambdauth_handlers::mailer::{Mailer, Overrides};
use serde_json::{Value, json};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tower_http::services::ServeDir;

use crate::mappings::LocalMappings;
use crate::provision::{Provisioned, Resources, provision};
use crate::proxy::{FaultProxy, Rule, SentMail};

/// How often the mappings look for new stream records and queue messages. Short polls, never
/// long ones: the bundled emulator answers one request at a time, so a waiting receive would
/// hold up every other call.
const POLL_INTERVAL: Duration = Duration::from_millis(250);
/// How many mails `/_dev/mail` lists.
const RECENT_MAILS: usize = 50;

/// The sample pages in this checkout.
pub fn default_www() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../www"))
}

/// How to run.
pub struct DevOptions {
    /// The address to listen on (`127.0.0.1:0` for any free port).
    pub listen: std::net::SocketAddr,
    /// The folder of sample pages to serve.
    pub www: PathBuf,
    /// The settings of the functions (everything the Lambdas read from their environment);
    /// what provisioning makes is added on top.
    pub environment: HashMap<String, String>,
    /// What happens to each SES request (faults injected for load runs); `None` forwards all.
    pub ses_rule: Option<Rule>,
}

/// A running local service.
pub struct DevServer {
    url: String,
    provisioned: Provisioned,
    ses: Arc<FaultProxy>,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

struct AppState {
    functions: Functions,
    ses: Arc<FaultProxy>,
    requests: AtomicU64,
}

impl DevServer {
    /// Provisions at the endpoint of `aws`, starts the mappings and starts serving.
    pub async fn start(aws: &SdkConfig, options: DevOptions) -> Result<Self> {
        let listener = tokio::net::TcpListener::bind(options.listen)
            .await
            .with_context(|| format!("cannot listen on {}", options.listen))?;
        let url = format!("http://{}", listener.local_addr()?);

        let resources = Resources::from_source_with_pages(&options.environment, &url);
        let provisioned = provision(aws, resources)
            .await
            .context("provisioning at the emulator failed (is it an AWS emulator answering?)")?;
        let mut environment = options.environment;
        environment.extend(
            provisioned
                .environment()
                .into_iter()
                .map(|(name, value)| (name.to_owned(), value)),
        );

        let functions =
            Functions::from_source(aws, &environment).context("configuring the functions")?;
        let region = aws
            .region()
            .map_or_else(|| "us-east-1".to_owned(), ToString::to_string);
        // Mail goes through a local proxy to the emulator's SES; the proxy speaks plain HTTP and
        // does not re-sign requests, which only an emulator accepts.
        let upstream = aws
            .endpoint_url()
            .context("the local runtime needs an emulator's endpoint (AWS_ENDPOINT_URL)")?;
        let ses = FaultProxy::bind(
            upstream,
            options
                .ses_rule
                .unwrap_or_else(|| Arc::new(|_: &crate::proxy::Seen<'_>| None)),
        )
        .await
        .context("starting the SES proxy")?;
        let mailer = mailer(aws, &environment, ses.url())?;
        let mappings = LocalMappings::for_stack(
            aws,
            &provisioned.resources.table,
            &provisioned.queues.retry_url,
            &region,
        )
        .await
        .context("reading the table's stream and finding the retry queue")?;

        let (stop, stopped) = watch::channel(false);
        let ses = Arc::new(ses);
        let state = Arc::new(AppState {
            functions,
            ses: Arc::clone(&ses),
            requests: AtomicU64::new(0),
        });
        let app = router(state, &options.www);
        let mut server_stopped = stopped.clone();
        let server = tokio::spawn(async move {
            let shutdown = async move {
                let _ = server_stopped.wait_for(|stop| *stop).await;
            };
            if let Err(error) = axum::serve(listener, app)
                .with_graceful_shutdown(shutdown)
                .await
            {
                tracing::error!(%error, "the HTTP server stopped");
            }
        });
        let pump = tokio::spawn(run_mappings(mappings, mailer, Arc::clone(&ses), stopped));
        Ok(Self {
            url,
            provisioned,
            ses,
            stop,
            tasks: vec![server, pump],
        })
    }

    /// Where it listens (`http://127.0.0.1:PORT`).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// What was provisioned.
    pub fn provisioned(&self) -> &Provisioned {
        &self.provisioned
    }

    /// The mails SES accepted so far, oldest first.
    pub fn sent(&self) -> Vec<SentMail> {
        self.ses.sent()
    }

    /// Stops serving and polling, and waits until both have ended.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        for task in self.tasks {
            let _ = task.await;
        }
    }
}

fn mailer(aws: &SdkConfig, environment: &HashMap<String, String>, ses: &str) -> Result<Mailer> {
    let config = MailerConfig::from_source(environment).context("configuring the mailer")?;
    let overrides = Overrides {
        ses_endpoint: Some(ses),
        ..Overrides::default()
    };
    Mailer::assemble(aws, config, overrides).context("loading the mail templates")
}

/// Feeds the mailer from both sources until told to stop, printing each mail SES accepted.
async fn run_mappings(
    mut mappings: LocalMappings,
    mailer: Mailer,
    ses: Arc<FaultProxy>,
    mut stopped: watch::Receiver<bool>,
) {
    let mut reported = 0;
    loop {
        tokio::select! {
            _ = stopped.wait_for(|stop| *stop) => break,
            () = tokio::time::sleep(POLL_INTERVAL) => {}
        }
        if let Err(error) = mappings.round(&mailer, Duration::ZERO).await {
            tracing::warn!(%error, "polling the stream or the retry queue failed; trying again");
        }
        let sent = ses.sent();
        for mail in sent.iter().skip(reported) {
            tracing::info!(
                to = %mail.to,
                subject = %mail.subject,
                link = mail.link().as_deref().unwrap_or("-"),
                "mail sent"
            );
        }
        reported = sent.len();
    }
}

fn router(state: Arc<AppState>, www: &std::path::Path) -> Router {
    let mut router = Router::new()
        .route("/_dev/mail", get(mail_page))
        .route("/_dev/mail.json", get(mail_json));
    for function in Function::ALL {
        router = router.route(
            function.path(),
            post(
                move |state: State<Arc<AppState>>, headers: HeaderMap, body: Bytes| {
                    call(state, function, headers, body)
                },
            ),
        );
    }
    router
        .fallback_service(ServeDir::new(www))
        .with_state(state)
}

/// One API request: the event API Gateway would send, through the function's own handling.
async fn call(
    State(state): State<Arc<AppState>>,
    function: Function,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let number = state.requests.fetch_add(1, Ordering::Relaxed);
    let request_id = format!("dev-{}-{number}", std::process::id());
    let headers: Vec<(String, String)> = headers
        .iter()
        .filter_map(|(name, value)| {
            Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned()))
        })
        .collect();
    // A body that is not UTF-8 cannot be JSON; the function answers InvalidJson for it.
    let body = String::from_utf8_lossy(&body);
    let event = http_api_event(function.path(), &headers, &body, &request_id);
    let answer = state
        .functions
        .handle_event(function, event, &request_id)
        .await;
    http_response(&answer)
}

/// The HTTP response API Gateway makes of a payload 2.0 answer.
fn http_response(answer: &Value) -> Response {
    let status = answer["statusCode"]
        .as_u64()
        .and_then(|status| u16::try_from(status).ok())
        .and_then(|status| StatusCode::from_u16(status).ok())
        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (
        status,
        answer["body"].as_str().unwrap_or_default().to_owned(),
    )
        .into_response();
    if let Some(headers) = answer["headers"].as_object() {
        for (name, value) in headers {
            if let (Ok(name), Some(Ok(value))) = (
                HeaderName::from_bytes(name.as_bytes()),
                value.as_str().map(HeaderValue::from_str),
            ) {
                response.headers_mut().insert(name, value);
            }
        }
    }
    response
}

fn recent(ses: &FaultProxy) -> Vec<SentMail> {
    ses.sent().into_iter().rev().take(RECENT_MAILS).collect()
}

/// The recent mails, newest first, as JSON (for scripts and tests).
async fn mail_json(State(state): State<Arc<AppState>>) -> axum::Json<Value> {
    let mails: Vec<Value> = recent(&state.ses)
        .iter()
        .map(|mail| {
            json!({
                "id": mail.id,
                "to": mail.to,
                "subject": mail.subject,
                "link": mail.link(),
                "text": mail.text,
            })
        })
        .collect();
    axum::Json(json!({ "mails": mails }))
}

/// The recent mails, newest first, as a page.
async fn mail_page(State(state): State<Arc<AppState>>) -> Html<String> {
    let mut rows = String::new();
    for mail in recent(&state.ses) {
        let link = mail.link().unwrap_or_default();
        let _ = writeln!(
            rows,
            "<tr><td>{}</td><td>{}</td><td><a href=\"{link}\">{link}</a></td><td><pre>{}</pre></td></tr>",
            escape(&mail.to),
            escape(&mail.subject),
            escape(&mail.text),
            link = escape(&link),
        );
    }
    if rows.is_empty() {
        rows.push_str("<tr><td colspan=\"4\">No mail sent yet.</td></tr>");
    }
    Html(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Sent mail</title>\
         <link rel=\"stylesheet\" href=\"/style.css\"><meta http-equiv=\"refresh\" content=\"5\"></head>\
         <body><main class=\"wide\"><h1>Sent mail</h1><p>The last {RECENT_MAILS} mails the local mailer sent, newest first.</p>\
         <table><thead><tr><th>To</th><th>Subject</th><th>Link</th><th>Text</th></tr></thead>\
         <tbody>{rows}</tbody></table></main></body></html>"
    ))
}

/// Text made safe to place in HTML.
fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            c => escaped.push(c),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_leaves_no_markup() {
        assert_eq!(
            escape(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }

    #[test]
    fn an_answer_becomes_its_status_headers_and_body() {
        let response = http_response(&json!({
            "statusCode": 429,
            "headers": {"retry-after": "3", "content-type": "application/json"},
            "body": "{\"error\":{}}",
        }));
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers()["retry-after"], "3");
        assert_eq!(response.headers()["content-type"], "application/json");
    }
}
