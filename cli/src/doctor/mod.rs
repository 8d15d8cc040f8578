//! `lambdauth doctor`: whether a stack is present and wired as the functions need it, asked of
//! the configured endpoint with the variables the functions read. It looks at the SES account,
//! sender and configuration set (and its feedback destination), the users and outbox tables (keys, stream, TTL), the retry and dead-letter queues (the redrive
//! between them), the link-token key and the identity pool (its developer provider), and gives a
//! report with a one-line fix for every problem.

mod identity_pool;
mod key;
mod queues;
mod report;
mod ses;
mod table;

use std::fmt;

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};

pub use report::{Finding, Report, Subject, Verdict};
pub use ses::{IdentityState, account_findings, sender_finding};

/// What to check: the same names and variables the functions use. Unset ones are reported as
/// problems, not refused, so that one run shows everything that is missing.
#[derive(Debug, Clone, PartialEq, Eq, clap::Args)]
pub struct DoctorSettings {
    /// The users table.
    #[arg(long, env = "TABLE_NAME", default_value = lambdauth_runtime::config::DEFAULT_TABLE_NAME)]
    pub table: String,
    /// The outbox table.
    #[arg(
        long,
        env = "OUTBOX_TABLE_NAME",
        default_value = lambdauth_runtime::config::DEFAULT_OUTBOX_TABLE_NAME
    )]
    pub outbox_table: String,
    /// The mail retry queue's URL.
    #[arg(long, env = "RETRY_QUEUE_URL")]
    pub retry_queue_url: Option<String>,
    /// The mail dead-letter queue's URL.
    #[arg(long, env = "DEAD_LETTER_QUEUE_URL")]
    pub dead_letter_queue_url: Option<String>,
    /// The key that encrypts link tokens (id, ARN or alias).
    #[arg(long, env = "KMS_KEY_ID")]
    pub kms_key_id: Option<String>,
    /// The Cognito identity pool.
    #[arg(long, env = "IDENTITY_POOL_ID")]
    pub identity_pool_id: Option<String>,
    /// The developer provider name login uses.
    #[arg(
        long,
        env = "DEVELOPER_PROVIDER_NAME",
        default_value = lambdauth_accounts::config::DEFAULT_DEVELOPER_PROVIDER_NAME
    )]
    pub developer_provider_name: String,
    /// The address mail is sent from.
    #[arg(long, env = "FROM_ADDRESS")]
    pub from_address: Option<String>,
    /// The SES configuration set mail is sent through (its feedback suppresses addresses).
    #[arg(long, env = "SES_CONFIGURATION_SET")]
    pub configuration_set: Option<String>,
}

/// The clients the checks use, built once from the SDK's settings.
#[derive(Debug, Clone)]
pub struct Clients {
    ses: aws_sdk_sesv2::Client,
    dynamodb: aws_sdk_dynamodb::Client,
    sqs: aws_sdk_sqs::Client,
    kms: aws_sdk_kms::Client,
    cognito: aws_sdk_cognitoidentity::Client,
}

impl Clients {
    /// Clients for the endpoint and region in `sdk`.
    pub fn new(sdk: &aws_config::SdkConfig) -> Self {
        Self {
            ses: aws_sdk_sesv2::Client::new(sdk),
            dynamodb: aws_sdk_dynamodb::Client::new(sdk),
            sqs: aws_sdk_sqs::Client::new(sdk),
            kms: aws_sdk_kms::Client::new(sdk),
            cognito: aws_sdk_cognitoidentity::Client::new(sdk),
        }
    }
}

/// Checks everything `settings` names and reports what was found.
pub async fn diagnose(clients: &Clients, settings: &DoctorSettings) -> Report {
    let mut findings = Vec::new();
    findings.extend(ses::account(&clients.ses).await);
    findings.push(ses::sender(&clients.ses, settings.from_address.as_deref()).await);
    findings
        .extend(ses::configuration_set(&clients.ses, settings.configuration_set.as_deref()).await);
    findings.extend(table::check(&clients.dynamodb, &settings.table, table::Role::Users).await);
    findings.extend(
        table::check(
            &clients.dynamodb,
            &settings.outbox_table,
            table::Role::Outbox,
        )
        .await,
    );
    let dead_letter =
        queues::dead_letter_queue(&clients.sqs, settings.dead_letter_queue_url.as_deref()).await;
    findings.extend(
        queues::retry_queue(
            &clients.sqs,
            settings.retry_queue_url.as_deref(),
            dead_letter.arn.as_deref(),
        )
        .await,
    );
    findings.extend(dead_letter.findings);
    findings.extend(key::check(&clients.kms, settings.kms_key_id.as_deref()).await);
    findings.extend(
        identity_pool::check(
            &clients.cognito,
            settings.identity_pool_id.as_deref(),
            &settings.developer_provider_name,
        )
        .await,
    );
    Report { findings }
}

/// What an SDK error says, in one line.
fn describe<E, R>(error: &SdkError<E, R>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: fmt::Debug,
{
    match error.as_service_error() {
        Some(service) => format!(
            "{}: {}",
            service.code().unwrap_or("error"),
            service.message().unwrap_or("no message")
        ),
        None => aws_sdk_dynamodb::error::DisplayErrorContext(error).to_string(),
    }
}

/// Whether the endpoint does not have the operation at all (an emulator answering 404 or 501
/// with no AWS error code), as opposed to refusing it.
fn not_implemented<E: ProvideErrorMetadata>(
    error: &SdkError<E, aws_sdk_sesv2::config::http::HttpResponse>,
) -> bool {
    let status = error.raw_response().map(|raw| raw.status().as_u16());
    matches!(status, Some(404 | 501))
        && error.as_service_error().is_none_or(|service| {
            service
                .code()
                .is_none_or(|code| code == "404" || code == "501")
        })
}

/// Why a fetch came back without the thing it asked for, kept as plain data so that the
/// findings on it are tested without an endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Unread {
    /// There is no such thing.
    Missing,
    /// The call failed; what its error says.
    Failed(String),
}
