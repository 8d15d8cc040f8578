//! `lambdauth dev`: the whole service in one process on a developer's machine.
//!
//! It provisions what the functions need at the emulator, then serves the HTTP API by turning each
//! request into the API Gateway v2 event the Lambda would get and calling the same handler code;
//! serves the sample pages; and runs the mailer's two event source mappings (the outbox table's
//! stream and the retry queue) against the same mailer code, sending through a recording proxy so
//! that each mail's subject and link reach the console and `/_dev/mail`. Mail to SES's mailbox
//! simulator addresses (`bounce@simulator.amazonses.com`, …) then gets the feedback SES would
//! publish, handed to the feedback function's own code ([`crate::simulator`]).

mod http;
mod mail_pages;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use anyhow::{Context, Result};
use aws_config::SdkConfig;
use lambdauth_accounts::config::AccessTokenConfig;
use lambdauth_accounts::tokens::{AccessTokenVerifier, KmsKeys};
use lambdauth_mail::feedback::MailFeedback;
use lambdauth_mail::mailer::Mailer;
use lambdauth_runtime::function::{Context as FunctionContext, Function as _};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::Functions;
use crate::functions::{ServiceEndpoints, context_like, with_service_endpoint};
use crate::mappings::LocalMappings;
use crate::provision::{Provisioned, Resources, provision};
use crate::proxy::{FaultProxy, Rule, SentMail};
use crate::simulator::{MailboxSimulator, Origin};

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

/// The variable naming the origin CORS allows, as the template's `AllowedOrigin` parameter.
pub const ALLOWED_ORIGIN_VARIABLE: &str = "ALLOWED_ORIGIN";

struct AppState {
    functions: Functions,
    /// What stands in for API Gateway's JWT authorizer.
    authorizer: LocalAuthorizer,
    ses: Arc<FaultProxy>,
    requests: AtomicU64,
    /// Where the server listens: the only `Host` the sent-mail pages answer.
    listen: SocketAddr,
    /// `ALLOWED_ORIGIN` (default `*`, the template's default).
    allowed_origin: String,
}

impl DevServer {
    /// Provisions at the endpoint of `aws`, starts the mappings and starts serving.
    pub async fn start(aws: &SdkConfig, options: DevOptions) -> Result<Self> {
        let listener = tokio::net::TcpListener::bind(options.listen)
            .await
            .with_context(|| format!("cannot listen on {}", options.listen))?;
        let listen = listener.local_addr()?;
        let url = format!("http://{listen}");

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

        let context = FunctionContext::new(aws.clone());
        let functions =
            Functions::start(&context, &environment).context("configuring the functions")?;
        let authorizer = LocalAuthorizer::from_source(&context, &environment)?;
        let region = aws
            .region()
            .map_or_else(|| "us-east-1".to_owned(), ToString::to_string);
        // Mail goes through a local proxy to SES where the deployed mailer would send it:
        // `AWS_ENDPOINT_URL_SESV2` when set, else the emulator. The proxy speaks plain HTTP and
        // does not re-sign requests, which only an emulator accepts.
        let upstream = match environment.get("AWS_ENDPOINT_URL_SESV2") {
            Some(endpoint) if !endpoint.trim().is_empty() => endpoint.trim(),
            _ => aws
                .endpoint_url()
                .context("the local runtime needs an emulator's endpoint (AWS_ENDPOINT_URL)")?,
        };
        let ses = FaultProxy::bind(
            upstream,
            options
                .ses_rule
                .unwrap_or_else(|| Arc::new(|_: &crate::proxy::Seen<'_>| None)),
        )
        .await
        .context("starting the SES proxy")?;
        let (through_proxy, _) =
            with_service_endpoint(aws, &ServiceEndpoints::default(), "SESv2", ses.url());
        let mailer = Mailer::start(&context_like(&context, through_proxy), &environment)
            .context("configuring the mailer")?;
        let feedback = MailFeedback::start(&context, &environment)
            .context("configuring the mail feedback function")?;
        let simulator = MailboxSimulator::new(Origin {
            sender: provisioned.resources.sender.clone(),
            configuration_set: Some(provisioned.resources.configuration_set.clone()),
            region: region.clone(),
        });
        let mappings = LocalMappings::for_stack(
            aws,
            &provisioned.resources.outbox_table,
            &provisioned.queues.retry_url,
            &region,
        )
        .await
        .context("reading the outbox table's stream and finding the retry queue")?;

        let (stop, stopped) = watch::channel(false);
        let ses = Arc::new(ses);
        let state = Arc::new(AppState {
            functions,
            authorizer,
            ses: Arc::clone(&ses),
            requests: AtomicU64::new(0),
            listen,
            allowed_origin: environment
                .get(ALLOWED_ORIGIN_VARIABLE)
                .filter(|origin| !origin.trim().is_empty())
                .map_or_else(|| "*".to_owned(), |origin| origin.trim().to_owned()),
        });
        let app = http::router(state, &options.www);
        let mut server_stopped = stopped.clone();
        let server = tokio::spawn(async move {
            let shutdown = async move {
                let _ = server_stopped.wait_for(|stop| *stop).await;
            };
            let app = app.into_make_service_with_connect_info::<SocketAddr>();
            if let Err(error) = axum::serve(listener, app)
                .with_graceful_shutdown(shutdown)
                .await
            {
                tracing::error!(%error, "the HTTP server stopped");
            }
        });
        let pump = tokio::spawn(run_mappings(
            mappings,
            mailer,
            (feedback, simulator),
            Arc::clone(&ses),
            stopped,
        ));
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

/// API Gateway's JWT authorizer, as the dev server plays it: the issuer's key set and the
/// token checks the functions make themselves.
struct LocalAuthorizer {
    keys: KmsKeys,
    verifier: AccessTokenVerifier,
}

impl LocalAuthorizer {
    fn from_source(
        context: &FunctionContext,
        environment: &HashMap<String, String>,
    ) -> Result<Self> {
        let tokens = AccessTokenConfig::from_source(environment)
            .context("configuring the local authorizer")?;
        Ok(Self {
            verifier: AccessTokenVerifier::new(&tokens.keys.issuer, tokens.own_audience())
                .as_api_gateway(),
            keys: KmsKeys::new(aws_sdk_kms::Client::new(&context.aws), tokens.keys),
        })
    }
}

/// Feeds the mailer from both sources until told to stop, printing each mail SES accepted, and
/// hands the feedback function what SES's mailbox simulator would publish for it.
async fn run_mappings(
    mut mappings: LocalMappings,
    mailer: Mailer,
    (feedback, mut simulator): (MailFeedback, MailboxSimulator),
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
        match simulator.play(&sent, &feedback).await {
            Ok(done) if done.recorded > 0 => {
                tracing::info!(
                    recorded = done.recorded,
                    "mailbox simulator feedback recorded"
                );
            }
            Ok(_) => {}
            Err(error) => {
                tracing::warn!(%error, "recording the mailbox simulator's feedback failed; trying again");
            }
        }
    }
}
