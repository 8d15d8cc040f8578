//! `lambdauth doctor`: whether a stack is present and wired as the functions need it, asked of
//! the configured endpoint with the variables the functions read. It looks at the SES account
//! and sender, the table (keys, stream, TTL), the retry and dead-letter queues (the redrive
//! between them), the link-token key and the identity pool (its developer provider), and gives a
//! report with a one-line fix for every problem.

use std::fmt;

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sqs::types::QueueAttributeName;
use lambdauth_handlers::store::schema::{PARTITION_KEY, SORT_KEY, TTL_ATTRIBUTE};

use lambdauth_local::provision::{
    DEAD_LETTER_RETENTION_SECONDS, MAX_RECEIVE_COUNT, VISIBILITY_TIMEOUT_SECONDS,
};

/// What to check: the same names and variables the functions use. Unset ones are reported as
/// problems, not refused, so that one run shows everything that is missing.
#[derive(Debug, Clone, PartialEq, Eq, clap::Args)]
pub struct DoctorSettings {
    /// The user table.
    #[arg(long, env = "TABLE_NAME", default_value = lambdauth_handlers::config::DEFAULT_TABLE_NAME)]
    pub table: String,
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
        default_value = lambdauth_handlers::config::DEFAULT_DEVELOPER_PROVIDER_NAME
    )]
    pub developer_provider_name: String,
    /// The address mail is sent from.
    #[arg(long, env = "FROM_ADDRESS")]
    pub from_address: Option<String>,
}

/// What a finding is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Subject {
    /// The SES account: sending enabled, sandbox, quota.
    SesAccount,
    /// The SES identity of the sender.
    Sender,
    /// The user table.
    Table,
    /// The table's stream, which feeds the mailer.
    Stream,
    /// The table's TTL.
    TimeToLive,
    /// The retry queue and its redrive.
    RetryQueue,
    /// The dead-letter queue.
    DeadLetterQueue,
    /// The link-token key.
    Key,
    /// The identity pool.
    IdentityPool,
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::SesAccount => "SES account",
            Self::Sender => "sender",
            Self::Table => "table",
            Self::Stream => "stream",
            Self::TimeToLive => "TTL",
            Self::RetryQueue => "retry queue",
            Self::DeadLetterQueue => "dead-letter queue",
            Self::Key => "KMS key",
            Self::IdentityPool => "identity pool",
        })
    }
}

/// How a finding stands, best first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Verdict {
    /// As the functions need it.
    Ok,
    /// The endpoint cannot say (an emulator that lacks the call).
    Unknown,
    /// Works, but needs attention.
    Warning,
    /// Something the functions need is missing or wrong.
    Problem,
}

/// One thing found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// What it is about.
    pub subject: Subject,
    /// How it stands.
    pub verdict: Verdict,
    /// What was found.
    pub detail: String,
    /// How to fix it, in one line (warnings and problems).
    pub fix: Option<String>,
}

impl Finding {
    fn ok(subject: Subject, detail: impl Into<String>) -> Self {
        Self {
            subject,
            verdict: Verdict::Ok,
            detail: detail.into(),
            fix: None,
        }
    }

    fn unknown(subject: Subject, detail: impl Into<String>) -> Self {
        Self {
            subject,
            verdict: Verdict::Unknown,
            detail: detail.into(),
            fix: None,
        }
    }

    fn warning(subject: Subject, detail: impl Into<String>, fix: impl Into<String>) -> Self {
        Self {
            subject,
            verdict: Verdict::Warning,
            detail: detail.into(),
            fix: Some(fix.into()),
        }
    }

    fn problem(subject: Subject, detail: impl Into<String>, fix: impl Into<String>) -> Self {
        Self {
            subject,
            verdict: Verdict::Problem,
            detail: detail.into(),
            fix: Some(fix.into()),
        }
    }

    fn not_set(subject: Subject, variable: &str, flag: &str, output: &str) -> Self {
        Self::problem(
            subject,
            format!("{variable} is not set"),
            format!("set {variable} or pass --{flag} (the stack's {output} output)"),
        )
    }
}

/// Everything found, in the order checked.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Report {
    /// The findings.
    pub findings: Vec<Finding>,
}

impl Report {
    /// True when nothing is a problem (warnings and unknowns allowed).
    pub fn is_healthy(&self) -> bool {
        self.findings
            .iter()
            .all(|finding| finding.verdict != Verdict::Problem)
    }

    /// The worst verdict on `subject`, if anything was found about it.
    pub fn verdict(&self, subject: Subject) -> Option<Verdict> {
        self.about(subject).map(|finding| finding.verdict).max()
    }

    /// The findings about `subject`.
    pub fn about(&self, subject: Subject) -> impl Iterator<Item = &Finding> {
        self.findings
            .iter()
            .filter(move |finding| finding.subject == subject)
    }

    fn count(&self, verdict: Verdict) -> usize {
        self.findings
            .iter()
            .filter(|finding| finding.verdict == verdict)
            .count()
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for finding in &self.findings {
            let verdict = match finding.verdict {
                Verdict::Ok => "ok",
                Verdict::Unknown => "unknown",
                Verdict::Warning => "warning",
                Verdict::Problem => "PROBLEM",
            };
            let subject = finding.subject.to_string();
            writeln!(f, "{verdict:<8} {subject:<18} {}", finding.detail)?;
            if let Some(fix) = &finding.fix {
                writeln!(f, "{:<8} {:<18} fix: {fix}", "", "")?;
            }
        }
        let problems = self.count(Verdict::Problem);
        let warnings = self.count(Verdict::Warning);
        let unknown = self.count(Verdict::Unknown);
        writeln!(
            f,
            "\n{problems} problem(s), {warnings} warning(s), {unknown} unknown: {}",
            if problems == 0 {
                "the stack is ready"
            } else {
                "fix the problems above"
            }
        )
    }
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
    findings.extend(ses_account(&clients.ses).await);
    findings.push(sender(&clients.ses, settings.from_address.as_deref()).await);
    findings.extend(table(&clients.dynamodb, &settings.table).await);
    let dead_letter =
        dead_letter_queue(&clients.sqs, settings.dead_letter_queue_url.as_deref()).await;
    findings.extend(
        retry_queue(
            &clients.sqs,
            settings.retry_queue_url.as_deref(),
            dead_letter.arn.as_deref(),
        )
        .await,
    );
    findings.extend(dead_letter.findings);
    findings.extend(key(&clients.kms, settings.kms_key_id.as_deref()).await);
    findings.extend(
        identity_pool(
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

async fn ses_account(ses: &aws_sdk_sesv2::Client) -> Vec<Finding> {
    match ses.get_account().send().await {
        Ok(account) => account_findings(
            account.sending_enabled(),
            account.production_access_enabled(),
            account
                .send_quota()
                .map(|quota| (quota.sent_last24_hours(), quota.max24_hour_send())),
        ),
        Err(error) if not_implemented(&error) => vec![Finding::unknown(
            Subject::SesAccount,
            "unknown on this endpoint (it does not implement SES v2 GetAccount)",
        )],
        Err(error) => vec![Finding::problem(
            Subject::SesAccount,
            format!("cannot read the account: {}", describe(&error)),
            "run with credentials allowed ses:GetAccount in this region",
        )],
    }
}

/// The findings on an SES account: sending paused, the sandbox, the 24-hour quota (sent, max).
pub fn account_findings(
    sending_enabled: bool,
    production_access: bool,
    quota: Option<(f64, f64)>,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    if !sending_enabled {
        findings.push(Finding::problem(
            Subject::SesAccount,
            "sending is paused for the account: every mail is parked in the dead-letter queue",
            "resolve the cause on the SES console's reputation page, then: aws sesv2 put-account-sending-attributes --sending-enabled",
        ));
    }
    if !production_access {
        findings.push(Finding::warning(
            Subject::SesAccount,
            "in the SES sandbox: mail reaches only verified addresses, 200 a day",
            "request production access: aws sesv2 put-account-details (or the SES console's \"Get set up\" page)",
        ));
    }
    match quota {
        Some((sent, max)) if max >= 0.0 && sent >= max => findings.push(Finding::problem(
            Subject::SesAccount,
            format!("the 24-hour quota is used up ({sent:.0} of {max:.0} sent)"),
            "wait for the 24-hour window to move on, or ask for a higher quota in the SES console",
        )),
        Some((sent, max)) if findings.is_empty() => findings.push(Finding::ok(
            Subject::SesAccount,
            if max < 0.0 {
                "sending enabled, production access, no 24-hour quota".to_owned()
            } else {
                format!(
                    "sending enabled, production access, {:.0} of {max:.0} mails left for the next 24 hours",
                    max - sent
                )
            },
        )),
        _ if findings.is_empty() => findings.push(Finding::ok(
            Subject::SesAccount,
            "sending enabled, production access",
        )),
        _ => {}
    }
    findings
}

/// What SES says about one identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityState {
    /// The identity (the address, or its domain).
    pub identity: String,
    /// `VerificationStatus` (`SUCCESS`, `PENDING`, …), when given.
    pub verification_status: Option<String>,
    /// `VerifiedForSendingStatus`.
    pub verified_for_sending: bool,
}

async fn sender(ses: &aws_sdk_sesv2::Client, address: Option<&str>) -> Finding {
    let Some(address) = address else {
        return Finding::not_set(
            Subject::Sender,
            "FROM_ADDRESS",
            "from-address",
            "FromAddress",
        );
    };
    let domain = address.rsplit_once('@').map(|(_, domain)| domain);
    let mut found = None;
    for identity in std::iter::once(address).chain(domain) {
        match ses.get_email_identity().email_identity(identity).send().await {
            Ok(output) => {
                let state = IdentityState {
                    identity: identity.to_owned(),
                    verification_status: output
                        .verification_status()
                        .map(|status| status.as_str().to_owned()),
                    verified_for_sending: output.verified_for_sending_status(),
                };
                let verified = sender_finding(address, Some(&state)).verdict == Verdict::Ok;
                found = Some(state);
                if verified {
                    break;
                }
            }
            Err(error)
                if error
                    .as_service_error()
                    .is_some_and(aws_sdk_sesv2::operation::get_email_identity::GetEmailIdentityError::is_not_found_exception) => {}
            Err(error) => {
                return Finding::problem(
                    Subject::Sender,
                    format!("cannot read the identity {identity}: {}", describe(&error)),
                    "run with credentials allowed ses:GetEmailIdentity in this region",
                );
            }
        }
    }
    sender_finding(address, found.as_ref())
}

/// The finding on the sender `address`, given what SES says of its identity (`None`: neither
/// the address nor its domain is an identity).
pub fn sender_finding(address: &str, identity: Option<&IdentityState>) -> Finding {
    let Some(identity) = identity else {
        return Finding::problem(
            Subject::Sender,
            format!(
                "{address} is not an SES identity, nor is its domain: SES refuses to send from it"
            ),
            format!(
                "aws sesv2 create-email-identity --email-identity {address}, then open the link SES mails to it"
            ),
        );
    };
    // SES reports both; `VerificationStatus` is the newer, precise one (PENDING, SUCCESS,
    // FAILED, …), and identities from before it only have the flag.
    let verified = match identity.verification_status.as_deref() {
        Some(status) => status == "SUCCESS",
        None => identity.verified_for_sending,
    };
    if verified {
        return Finding::ok(
            Subject::Sender,
            format!(
                "{address} may send (identity {} verified)",
                identity.identity
            ),
        );
    }
    let status = identity
        .verification_status
        .as_deref()
        .unwrap_or("not verified");
    let fix = if identity.identity.contains('@') {
        format!(
            "open the verification link SES mailed to {address} (to get a new one, delete and create the identity again)"
        )
    } else {
        format!(
            "publish the DNS records the SES console shows for {}",
            identity.identity
        )
    };
    Finding::problem(
        Subject::Sender,
        format!(
            "the identity {} is {status}: SES refuses to send from {address}",
            identity.identity
        ),
        fix,
    )
}

async fn table(dynamodb: &aws_sdk_dynamodb::Client, name: &str) -> Vec<Finding> {
    let described = match dynamodb.describe_table().table_name(name).send().await {
        Ok(described) => described,
        Err(error)
            if error
                .as_service_error()
                .is_some_and(aws_sdk_dynamodb::operation::describe_table::DescribeTableError::is_resource_not_found_exception) =>
        {
            return vec![Finding::problem(
                Subject::Table,
                format!("there is no table {name}"),
                "set TABLE_NAME or pass --table (the stack's TableName output), or deploy the stack",
            )];
        }
        Err(error) => {
            return vec![Finding::problem(
                Subject::Table,
                format!("cannot describe {name}: {}", describe(&error)),
                "run with credentials allowed dynamodb:DescribeTable on the table",
            )];
        }
    };
    let Some(table) = described.table() else {
        return vec![Finding::problem(
            Subject::Table,
            format!("DescribeTable returned nothing for {name}"),
            "run again; if it persists, the endpoint is not DynamoDB",
        )];
    };
    let mut findings = Vec::new();
    let keys: Vec<(&str, &str)> = table
        .key_schema()
        .iter()
        .map(|key| (key.attribute_name(), key.key_type().as_str()))
        .collect();
    if keys == [(PARTITION_KEY, "HASH"), (SORT_KEY, "RANGE")] {
        let status = table
            .table_status()
            .map_or("of unknown status", |status| status.as_str());
        findings.push(Finding::ok(
            Subject::Table,
            format!("{name}: {status}, keys {PARTITION_KEY}/{SORT_KEY}"),
        ));
    } else {
        findings.push(Finding::problem(
            Subject::Table,
            format!(
                "{name} has the keys {keys:?}, not {PARTITION_KEY} (HASH) and {SORT_KEY} (RANGE)"
            ),
            "this is not a LambdAuth table: set TABLE_NAME to the stack's TableName output",
        ));
    }
    findings.push(stream_finding(name, table.stream_specification()));
    findings.push(time_to_live(dynamodb, name).await);
    findings
}

fn stream_finding(
    table: &str,
    stream: Option<&aws_sdk_dynamodb::types::StreamSpecification>,
) -> Finding {
    use aws_sdk_dynamodb::types::StreamViewType;
    match stream.filter(|stream| stream.stream_enabled()) {
        None => Finding::problem(
            Subject::Stream,
            format!("{table} has no stream: the mailer never hears of new mail"),
            format!(
                "aws dynamodb update-table --table-name {table} --stream-specification StreamEnabled=true,StreamViewType=NEW_IMAGE, then sam deploy to attach the mailer"
            ),
        ),
        Some(stream) => match stream.stream_view_type() {
            Some(view @ (StreamViewType::NewImage | StreamViewType::NewAndOldImages)) => {
                Finding::ok(Subject::Stream, format!("enabled, {}", view.as_str()))
            }
            view => Finding::problem(
                Subject::Stream,
                format!(
                    "the stream carries {}, not the new images the mailer reads",
                    view.map_or("nothing", StreamViewType::as_str)
                ),
                format!(
                    "a view type cannot change: disable the stream of {table}, enable it with NEW_IMAGE, then sam deploy"
                ),
            ),
        },
    }
}

async fn time_to_live(dynamodb: &aws_sdk_dynamodb::Client, table: &str) -> Finding {
    use aws_sdk_dynamodb::types::TimeToLiveStatus;
    let enable = format!(
        "aws dynamodb update-time-to-live --table-name {table} --time-to-live-specification Enabled=true,AttributeName={TTL_ATTRIBUTE}"
    );
    let described = match dynamodb
        .describe_time_to_live()
        .table_name(table)
        .send()
        .await
    {
        Ok(described) => described,
        Err(error) => {
            return Finding::problem(
                Subject::TimeToLive,
                format!("cannot read the TTL of {table}: {}", describe(&error)),
                "run with credentials allowed dynamodb:DescribeTimeToLive on the table",
            );
        }
    };
    let description = described.time_to_live_description();
    let status = description.and_then(|d| d.time_to_live_status());
    let attribute = description.and_then(|d| d.attribute_name());
    match (status, attribute) {
        (Some(TimeToLiveStatus::Enabled | TimeToLiveStatus::Enabling), Some(TTL_ATTRIBUTE)) => {
            Finding::ok(Subject::TimeToLive, format!("on {TTL_ATTRIBUTE}"))
        }
        (Some(TimeToLiveStatus::Enabled | TimeToLiveStatus::Enabling), Some(other)) => {
            Finding::problem(
                Subject::TimeToLive,
                format!("TTL is on {other}, not {TTL_ATTRIBUTE}: expired items are never deleted"),
                format!(
                    "disable TTL on {table}, then (an hour later, as DynamoDB requires) {enable}"
                ),
            )
        }
        _ => Finding::problem(
            Subject::TimeToLive,
            format!("TTL is off: expired mail and throttle items of {table} are never deleted"),
            enable,
        ),
    }
}

/// A queue's attributes by name, or `None` when there is no queue at `url`.
async fn queue_attributes(
    sqs: &aws_sdk_sqs::Client,
    url: &str,
) -> Result<Option<std::collections::HashMap<QueueAttributeName, String>>, String> {
    match sqs
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::All)
        .send()
        .await
    {
        Ok(output) => Ok(Some(output.attributes.unwrap_or_default())),
        Err(error)
            if error.as_service_error().is_some_and(|service| {
                service.is_queue_does_not_exist()
                    || service
                        .code()
                        .is_some_and(|code| code.contains("NonExistentQueue"))
            }) =>
        {
            Ok(None)
        }
        Err(error) => Err(describe(&error)),
    }
}

/// The dead-letter queue's findings and its ARN (for the retry queue's redrive check).
struct DeadLetterCheck {
    findings: Vec<Finding>,
    arn: Option<String>,
}

async fn dead_letter_queue(sqs: &aws_sdk_sqs::Client, url: Option<&str>) -> DeadLetterCheck {
    let subject = Subject::DeadLetterQueue;
    let Some(url) = url else {
        return DeadLetterCheck {
            findings: vec![Finding::not_set(
                subject,
                "DEAD_LETTER_QUEUE_URL",
                "dead-letter-queue-url",
                "DeadLetterQueueUrl",
            )],
            arn: None,
        };
    };
    let attributes = match queue_attributes(sqs, url).await {
        Ok(Some(attributes)) => attributes,
        Ok(None) => {
            return DeadLetterCheck {
                findings: vec![Finding::problem(
                    subject,
                    format!("there is no queue at {url}"),
                    "set DEAD_LETTER_QUEUE_URL to the stack's DeadLetterQueueUrl output, or deploy the stack",
                )],
                arn: None,
            };
        }
        Err(detail) => {
            return DeadLetterCheck {
                findings: vec![Finding::problem(
                    subject,
                    format!("cannot read {url}: {detail}"),
                    "run with credentials allowed sqs:GetQueueAttributes on the queue",
                )],
                arn: None,
            };
        }
    };
    let number = |name: QueueAttributeName| -> u64 {
        attributes
            .get(&name)
            .and_then(|value| value.parse().ok())
            .unwrap_or_default()
    };
    let mut findings = Vec::new();
    let parked = number(QueueAttributeName::ApproximateNumberOfMessages);
    let retention = number(QueueAttributeName::MessageRetentionPeriod);
    if parked > 0 {
        findings.push(Finding::warning(
            subject,
            format!("{parked} job(s) parked: mail that could not be delivered"),
            "see why with `lambdauth dlq list`; once the cause is fixed, `lambdauth dlq redrive`",
        ));
    }
    if retention < u64::from(DEAD_LETTER_RETENTION_SECONDS) {
        findings.push(Finding::warning(
            subject,
            format!("keeps a parked job {retention} s, less than 14 days: it may vanish before anyone looks"),
            format!("aws sqs set-queue-attributes --queue-url {url} --attributes MessageRetentionPeriod={DEAD_LETTER_RETENTION_SECONDS}"),
        ));
    }
    if findings.is_empty() {
        findings.push(Finding::ok(
            subject,
            format!("empty, keeps jobs {} days", retention / 86_400),
        ));
    }
    DeadLetterCheck {
        findings,
        arn: attributes.get(&QueueAttributeName::QueueArn).cloned(),
    }
}

async fn retry_queue(
    sqs: &aws_sdk_sqs::Client,
    url: Option<&str>,
    dead_letter_arn: Option<&str>,
) -> Vec<Finding> {
    let subject = Subject::RetryQueue;
    let Some(url) = url else {
        return vec![Finding::not_set(
            subject,
            "RETRY_QUEUE_URL",
            "retry-queue-url",
            "RetryQueueUrl",
        )];
    };
    let attributes = match queue_attributes(sqs, url).await {
        Ok(Some(attributes)) => attributes,
        Ok(None) => {
            return vec![Finding::problem(
                subject,
                format!(
                    "there is no queue at {url}: mail that fails for a moment is never retried"
                ),
                "set RETRY_QUEUE_URL to the stack's RetryQueueUrl output, or deploy the stack",
            )];
        }
        Err(detail) => {
            return vec![Finding::problem(
                subject,
                format!("cannot read {url}: {detail}"),
                "run with credentials allowed sqs:GetQueueAttributes on the queue",
            )];
        }
    };
    let redeploy = "sam deploy (the template sets the redrive and the visibility timeout)";
    let redrive: Option<serde_json::Value> = attributes
        .get(&QueueAttributeName::RedrivePolicy)
        .and_then(|policy| serde_json::from_str(policy).ok());
    let Some(redrive) = redrive else {
        return vec![Finding::problem(
            subject,
            "no redrive policy: a job that keeps failing is never parked for an operator",
            redeploy,
        )];
    };
    let mut findings = Vec::new();
    let target = redrive["deadLetterTargetArn"].as_str().unwrap_or_default();
    if let Some(expected) = dead_letter_arn
        && target != expected
    {
        findings.push(Finding::problem(
            subject,
            format!("redrives to {target}, not to the dead-letter queue {expected}"),
            format!("point DEAD_LETTER_QUEUE_URL at the queue of {target}, or {redeploy}"),
        ));
    }
    // SQS gives the count as a number or as a string, depending on who set it.
    let max_receive_count = redrive["maxReceiveCount"]
        .as_u64()
        .or_else(|| redrive["maxReceiveCount"].as_str()?.parse().ok())
        .unwrap_or_default();
    if max_receive_count < u64::from(MAX_RECEIVE_COUNT) {
        findings.push(Finding::warning(
            subject,
            format!("a job is parked after {max_receive_count} receive(s), fewer than {MAX_RECEIVE_COUNT}"),
            redeploy,
        ));
    }
    let visibility: u64 = attributes
        .get(&QueueAttributeName::VisibilityTimeout)
        .and_then(|value| value.parse().ok())
        .unwrap_or_default();
    if visibility < u64::from(VISIBILITY_TIMEOUT_SECONDS) {
        findings.push(Finding::warning(
            subject,
            format!("visibility timeout {visibility} s, under {VISIBILITY_TIMEOUT_SECONDS} s (six times the mailer's timeout): a job may be handled twice"),
            redeploy,
        ));
    }
    if findings.is_empty() {
        findings.push(Finding::ok(
            subject,
            format!("redrives to the dead-letter queue after {max_receive_count} receives"),
        ));
    }
    findings
}

async fn key(kms: &aws_sdk_kms::Client, key_id: Option<&str>) -> Vec<Finding> {
    use aws_sdk_kms::types::KeyState;
    let subject = Subject::Key;
    let Some(key_id) = key_id else {
        return vec![Finding::not_set(
            subject,
            "KMS_KEY_ID",
            "kms-key-id",
            "KmsKeyId",
        )];
    };
    let metadata = match kms.describe_key().key_id(key_id).send().await {
        Ok(output) => output.key_metadata,
        Err(error)
            if error.as_service_error().is_some_and(
                aws_sdk_kms::operation::describe_key::DescribeKeyError::is_not_found_exception,
            ) =>
        {
            return vec![Finding::problem(
                subject,
                format!("there is no key {key_id}: no verification or reset mail can be written"),
                "set KMS_KEY_ID to the stack's KmsKeyId output, or deploy the stack",
            )];
        }
        Err(error) => {
            return vec![Finding::problem(
                subject,
                format!("cannot describe {key_id}: {}", describe(&error)),
                "run with credentials allowed kms:DescribeKey on the key",
            )];
        }
    };
    let Some(metadata) = metadata else {
        return vec![Finding::problem(
            subject,
            format!("DescribeKey returned nothing for {key_id}"),
            "run again; if it persists, the endpoint is not KMS",
        )];
    };
    let id = metadata.key_id().to_owned();
    let mut findings = Vec::new();
    match metadata.key_state() {
        Some(KeyState::Enabled) => {}
        Some(KeyState::Disabled) => findings.push(Finding::problem(
            subject,
            format!("{id} is disabled: link tokens can be neither written nor read"),
            format!("aws kms enable-key --key-id {id}"),
        )),
        Some(KeyState::PendingDeletion) => findings.push(Finding::problem(
            subject,
            format!("{id} is scheduled for deletion: link tokens can be neither written nor read"),
            format!(
                "aws kms cancel-key-deletion --key-id {id} && aws kms enable-key --key-id {id}"
            ),
        )),
        state => findings.push(Finding::problem(
            subject,
            format!(
                "{id} is {}, not enabled",
                state.map_or("in an unknown state", KeyState::as_str)
            ),
            "use an enabled key: set KMS_KEY_ID to the stack's KmsKeyId output",
        )),
    }
    let aliases = match kms.list_aliases().key_id(&id).send().await {
        Ok(output) => output
            .aliases()
            .iter()
            .filter_map(|alias| alias.alias_name().map(str::to_owned))
            .collect::<Vec<_>>(),
        Err(error) => {
            findings.push(Finding::problem(
                subject,
                format!("cannot list the aliases of {id}: {}", describe(&error)),
                "run with credentials allowed kms:ListAliases",
            ));
            return findings;
        }
    };
    if aliases.is_empty() {
        findings.push(Finding::warning(
            subject,
            format!("{id} has no alias: operators cannot tell what it is for"),
            format!(
                "aws kms create-alias --alias-name alias/lambdauth-link-tokens --target-key-id {id}"
            ),
        ));
    }
    if findings.is_empty() {
        findings.push(Finding::ok(
            subject,
            format!("{id}: enabled, {}", aliases.join(", ")),
        ));
    }
    findings
}

async fn identity_pool(
    cognito: &aws_sdk_cognitoidentity::Client,
    pool_id: Option<&str>,
    provider: &str,
) -> Vec<Finding> {
    let subject = Subject::IdentityPool;
    let Some(pool_id) = pool_id else {
        return vec![Finding::not_set(
            subject,
            "IDENTITY_POOL_ID",
            "identity-pool-id",
            "IdentityPoolId",
        )];
    };
    let pool = match cognito
        .describe_identity_pool()
        .identity_pool_id(pool_id)
        .send()
        .await
    {
        Ok(pool) => pool,
        Err(error)
            if error
                .as_service_error()
                .is_some_and(aws_sdk_cognitoidentity::operation::describe_identity_pool::DescribeIdentityPoolError::is_resource_not_found_exception) =>
        {
            return vec![Finding::problem(
                subject,
                format!("there is no identity pool {pool_id}: no login can succeed"),
                "set IDENTITY_POOL_ID to the stack's IdentityPoolId output, or deploy the stack",
            )];
        }
        Err(error) => {
            return vec![Finding::problem(
                subject,
                format!("cannot describe {pool_id}: {}", describe(&error)),
                "run with credentials allowed cognito-identity:DescribeIdentityPool on the pool",
            )];
        }
    };
    let mut findings = Vec::new();
    match pool.developer_provider_name() {
        Some(name) if name == provider => {}
        Some(name) => findings.push(Finding::problem(
            subject,
            format!("the pool's developer provider is {name}, the functions use {provider}: every login fails"),
            format!("set DEVELOPER_PROVIDER_NAME={name} on the login function (a pool's provider cannot change once set)"),
        )),
        None => findings.push(Finding::problem(
            subject,
            format!("the pool has no developer provider: logins as {provider} fail"),
            format!(
                "aws cognito-identity update-identity-pool --identity-pool-id {pool_id} --identity-pool-name '{}' --no-allow-unauthenticated-identities --developer-provider-name {provider}",
                pool.identity_pool_name()
            ),
        )),
    }
    if pool.allow_unauthenticated_identities() {
        findings.push(Finding::warning(
            subject,
            "the pool hands out identities to anyone, logged in or not",
            format!(
                "aws cognito-identity update-identity-pool --identity-pool-id {pool_id} --identity-pool-name '{}' --no-allow-unauthenticated-identities --developer-provider-name {provider}",
                pool.identity_pool_name()
            ),
        ));
    }
    if findings.is_empty() {
        findings.push(Finding::ok(
            subject,
            format!("{pool_id}: developer provider {provider}"),
        ));
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity(status: Option<&str>, flag: bool) -> IdentityState {
        IdentityState {
            identity: "no-reply@example.com".to_owned(),
            verification_status: status.map(str::to_owned),
            verified_for_sending: flag,
        }
    }

    #[test]
    fn a_sender_is_verified_by_its_verification_status() {
        let address = "no-reply@example.com";
        assert_eq!(
            sender_finding(address, Some(&identity(Some("SUCCESS"), true))).verdict,
            Verdict::Ok
        );
        let pending = sender_finding(address, Some(&identity(Some("PENDING"), false)));
        assert_eq!(pending.verdict, Verdict::Problem);
        assert!(pending.detail.contains("PENDING"), "{pending:?}");
        assert!(pending.fix.unwrap().contains("verification link"));
        assert_eq!(
            sender_finding(address, Some(&identity(None, true))).verdict,
            Verdict::Ok
        );
        assert_eq!(
            sender_finding(address, Some(&identity(None, false))).verdict,
            Verdict::Problem
        );
        let missing = sender_finding(address, None);
        assert_eq!(missing.verdict, Verdict::Problem);
        assert!(missing.fix.unwrap().contains("create-email-identity"));
    }

    #[test]
    fn a_pending_domain_is_fixed_in_dns() {
        let domain = IdentityState {
            identity: "example.com".to_owned(),
            verification_status: Some("PENDING".to_owned()),
            verified_for_sending: false,
        };
        let finding = sender_finding("no-reply@example.com", Some(&domain));
        assert_eq!(finding.verdict, Verdict::Problem);
        assert!(finding.fix.unwrap().contains("DNS"));
    }

    #[test]
    fn the_account_is_judged_on_sending_the_sandbox_and_the_quota() {
        let healthy = account_findings(true, true, Some((10.0, 50_000.0)));
        assert_eq!(healthy.len(), 1);
        assert_eq!(healthy[0].verdict, Verdict::Ok);
        assert!(healthy[0].detail.contains("49990 of 50000"), "{healthy:?}");

        let sandbox = account_findings(true, false, Some((0.0, 200.0)));
        assert_eq!(sandbox.len(), 1);
        assert_eq!(sandbox[0].verdict, Verdict::Warning);

        let paused = account_findings(false, true, Some((0.0, 200.0)));
        assert_eq!(paused[0].verdict, Verdict::Problem);

        let used_up = account_findings(true, true, Some((200.0, 200.0)));
        assert_eq!(used_up[0].verdict, Verdict::Problem);

        let unlimited = account_findings(true, true, Some((5.0, -1.0)));
        assert_eq!(unlimited[0].verdict, Verdict::Ok);
    }

    #[test]
    fn a_report_is_healthy_without_problems_and_shows_each_fix() {
        let mut report = Report {
            findings: vec![
                Finding::ok(Subject::Table, "t: ACTIVE"),
                Finding::unknown(Subject::SesAccount, "unknown on this endpoint"),
                Finding::warning(
                    Subject::DeadLetterQueue,
                    "1 job(s) parked",
                    "lambdauth dlq list",
                ),
            ],
        };
        assert!(report.is_healthy());
        assert_eq!(
            report.verdict(Subject::DeadLetterQueue),
            Some(Verdict::Warning)
        );
        assert_eq!(report.verdict(Subject::Key), None);
        report.findings.push(Finding::problem(
            Subject::Key,
            "k is disabled",
            "aws kms enable-key --key-id k",
        ));
        assert!(!report.is_healthy());
        let shown = report.to_string();
        assert!(shown.contains("PROBLEM  KMS key"), "{shown}");
        assert!(
            shown.contains("fix: aws kms enable-key --key-id k"),
            "{shown}"
        );
        assert!(
            shown.contains("1 problem(s), 1 warning(s), 1 unknown"),
            "{shown}"
        );
    }
}
