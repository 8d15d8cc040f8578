//! Creating what the functions need, idempotently: running it twice finds what the first run
//! made. [`provision`] makes all of it and answers the environment a function needs to run
//! against it; the `ensure_*` functions each make one piece.

use aws_config::SdkConfig;
use aws_sdk_cognitoidentity::Client as CognitoClient;
use aws_sdk_dynamodb::Client as DynamoDbClient;
use aws_sdk_kms::Client as KmsClient;
use lambdauth_runtime::aws_error::{AwsFailure, classify};
use lambdauth_runtime::config::{DEFAULT_OUTBOX_TABLE_NAME, DEFAULT_TABLE_NAME, Source};
use lambdauth_runtime::store::schema;

/// The names of everything [`provision`] makes, and the settings it hands on to the functions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resources {
    /// `TABLE_NAME` (default `LambdAuthUsers`, the original's): users, throttles, sessions.
    pub table: String,
    /// `OUTBOX_TABLE_NAME` (default `LambdAuthOutbox`): the mail items, with the stream.
    pub outbox_table: String,
    /// `IDENTITY_POOL_NAME` (default `LambdAuth`, the original's).
    pub identity_pool: String,
    /// `DEVELOPER_PROVIDER_NAME` (default `login.mycompany.myapp`, the original's).
    pub developer_provider: String,
    /// `KMS_KEY_ALIAS` (default `alias/LambdAuth`).
    pub key_alias: String,
    /// `SIGNING_KEY_ALIAS` (default `alias/LambdAuthSigning`): the RSA key access tokens are
    /// signed with.
    pub signing_key_alias: String,
    /// `ISSUER_URL` (default where the sample pages and the API are served).
    pub issuer: String,
    /// `RETRY_QUEUE_NAME` (default `LambdAuthMailRetry`).
    pub retry_queue: String,
    /// `DEAD_LETTER_QUEUE_NAME` (default `LambdAuthMailDeadLetter`).
    pub dead_letter_queue: String,
    /// `FROM_ADDRESS`, the SES sender (default `no-reply@example.com`).
    pub sender: String,
    /// `SES_CONFIGURATION_SET` (default `LambdAuth`): the configuration set mail is sent through,
    /// whose feedback the mailbox simulator plays locally.
    pub configuration_set: String,
    /// `VERIFICATION_PAGE` (default the local sample page).
    pub verification_page: String,
    /// `RESET_PAGE` (default the local sample page).
    pub reset_page: String,
}

const TABLE_NAME: &str = "TABLE_NAME";
const OUTBOX_TABLE_NAME: &str = "OUTBOX_TABLE_NAME";
const SES_CONFIGURATION_SET: &str = "SES_CONFIGURATION_SET";

/// The sample pages' address when `lambdauth dev` serves them on its default port.
pub const LOCAL_PAGES: &str = "http://127.0.0.1:3000";

impl Resources {
    /// The names from the environment the functions read, with the original's defaults.
    pub fn from_source(source: &impl Source) -> Self {
        Self::from_source_with_pages(source, LOCAL_PAGES)
    }

    /// The same, with the sample pages at `pages` unless the page variables say otherwise.
    pub fn from_source_with_pages(source: &impl Source, pages: &str) -> Self {
        let get = |name: &str, default: &str| {
            source
                .get(name)
                .map(|value| value.trim().to_owned())
                .filter(|value| !value.is_empty())
                .unwrap_or_else(|| default.to_owned())
        };
        let pages = pages.trim_end_matches('/');
        Self {
            table: get(TABLE_NAME, DEFAULT_TABLE_NAME),
            outbox_table: get(OUTBOX_TABLE_NAME, DEFAULT_OUTBOX_TABLE_NAME),
            identity_pool: get("IDENTITY_POOL_NAME", "LambdAuth"),
            developer_provider: get("DEVELOPER_PROVIDER_NAME", "login.mycompany.myapp"),
            key_alias: get("KMS_KEY_ALIAS", "alias/LambdAuth"),
            signing_key_alias: get("SIGNING_KEY_ALIAS", "alias/LambdAuthSigning"),
            issuer: get("ISSUER_URL", pages),
            retry_queue: get("RETRY_QUEUE_NAME", "LambdAuthMailRetry"),
            dead_letter_queue: get("DEAD_LETTER_QUEUE_NAME", "LambdAuthMailDeadLetter"),
            sender: get("FROM_ADDRESS", "no-reply@example.com"),
            configuration_set: get(SES_CONFIGURATION_SET, "LambdAuth"),
            verification_page: get("VERIFICATION_PAGE", &format!("{pages}/verify.html")),
            reset_page: get("RESET_PAGE", &format!("{pages}/reset.html")),
        }
    }
}

impl Resources {
    /// The variables that name these resources, as [`Resources::from_source`] reads them.
    pub fn variables(&self) -> Vec<(&'static str, String)> {
        vec![
            (TABLE_NAME, self.table.clone()),
            (OUTBOX_TABLE_NAME, self.outbox_table.clone()),
            ("IDENTITY_POOL_NAME", self.identity_pool.clone()),
            ("DEVELOPER_PROVIDER_NAME", self.developer_provider.clone()),
            ("KMS_KEY_ALIAS", self.key_alias.clone()),
            ("SIGNING_KEY_ALIAS", self.signing_key_alias.clone()),
            ("ISSUER_URL", self.issuer.clone()),
            ("RETRY_QUEUE_NAME", self.retry_queue.clone()),
            ("DEAD_LETTER_QUEUE_NAME", self.dead_letter_queue.clone()),
            ("FROM_ADDRESS", self.sender.clone()),
            (SES_CONFIGURATION_SET, self.configuration_set.clone()),
            ("VERIFICATION_PAGE", self.verification_page.clone()),
            ("RESET_PAGE", self.reset_page.clone()),
        ]
    }
}

/// What [`provision`] made or found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provisioned {
    /// The names it was given.
    pub resources: Resources,
    /// The KMS key's id.
    pub key_id: String,
    /// The signing key's id.
    pub signing_key_id: String,
    /// The identity pool's id.
    pub identity_pool_id: String,
    /// The queues.
    pub queues: Queues,
}

impl Provisioned {
    /// The variables a function needs to run against what was provisioned, in a stable order:
    /// every one the seven functions require, and the names they would otherwise default.
    pub fn environment(&self) -> Vec<(&'static str, String)> {
        let r = &self.resources;
        vec![
            (TABLE_NAME, r.table.clone()),
            (OUTBOX_TABLE_NAME, r.outbox_table.clone()),
            ("KMS_KEY_ID", self.key_id.clone()),
            ("SIGNING_KEY_IDS", self.signing_key_id.clone()),
            ("ISSUER_URL", r.issuer.clone()),
            ("IDENTITY_POOL_ID", self.identity_pool_id.clone()),
            ("DEVELOPER_PROVIDER_NAME", r.developer_provider.clone()),
            ("RETRY_QUEUE_URL", self.queues.retry_url.clone()),
            ("DEAD_LETTER_QUEUE_URL", self.queues.dead_letter_url.clone()),
            ("FROM_ADDRESS", r.sender.clone()),
            (SES_CONFIGURATION_SET, r.configuration_set.clone()),
            ("VERIFICATION_PAGE", r.verification_page.clone()),
            ("RESET_PAGE", r.reset_page.clone()),
        ]
    }
}

/// Creates, or finds, everything the functions need: the users table and the outbox table (with
/// its stream; both with TTL), the KMS key and its alias, the identity pool with its developer provider, the retry queue and
/// its dead-letter queue, and the SES sender identity.
pub async fn provision(aws: &SdkConfig, resources: Resources) -> Result<Provisioned, AwsFailure> {
    let dynamodb = aws_sdk_dynamodb::Client::new(aws);
    ensure_table(&dynamodb, &resources.table, TableKind::Users).await?;
    ensure_table(&dynamodb, &resources.outbox_table, TableKind::Outbox).await?;
    let kms = KmsClient::new(aws);
    let key_id = ensure_kms_key(&kms, &resources.key_alias, KeyPurpose::LinkTokens).await?;
    let signing_key_id = ensure_kms_key(
        &kms,
        &resources.signing_key_alias,
        KeyPurpose::AccessTokenSigning,
    )
    .await?;
    let identity_pool_id = ensure_identity_pool(
        &CognitoClient::new(aws),
        &resources.identity_pool,
        &resources.developer_provider,
    )
    .await?;
    let queues = ensure_queues(
        &aws_sdk_sqs::Client::new(aws),
        &resources.retry_queue,
        &resources.dead_letter_queue,
    )
    .await?;
    let ses = aws_sdk_sesv2::Client::new(aws);
    ensure_sender(&ses, &resources.sender).await?;
    ensure_configuration_set(&ses, &resources.configuration_set).await?;
    Ok(Provisioned {
        resources,
        key_id,
        signing_key_id,
        identity_pool_id,
        queues,
    })
}

/// What a KMS key is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyPurpose {
    /// A symmetric key that encrypts the tokens of mail links.
    LinkTokens,
    /// An `RSA_2048` `SIGN_VERIFY` key that signs access tokens (RS256).
    AccessTokenSigning,
}

/// The id of the KMS key behind `alias` (which starts with `alias/`), creating a key for
/// `purpose` and the alias when the alias does not exist yet.
pub async fn ensure_kms_key(
    client: &KmsClient,
    alias: &str,
    purpose: KeyPurpose,
) -> Result<String, AwsFailure> {
    let mut pages = client.list_aliases().into_paginator().items().send();
    while let Some(found) = pages.next().await {
        let found = found.map_err(|e| classify("KMS", &e))?;
        if found.alias_name() == Some(alias)
            && let Some(key_id) = found.target_key_id()
        {
            return Ok(key_id.to_owned());
        }
    }
    let request = match purpose {
        KeyPurpose::LinkTokens => client
            .create_key()
            .description("LambdAuth: encrypts the one-time tokens of mail links on outbox items"),
        KeyPurpose::AccessTokenSigning => client
            .create_key()
            .description("LambdAuth: signs access tokens (RS256)")
            .key_spec(aws_sdk_kms::types::KeySpec::Rsa2048)
            .key_usage(aws_sdk_kms::types::KeyUsageType::SignVerify),
    };
    let created = request.send().await.map_err(|e| classify("KMS", &e))?;
    let key_id = created
        .key_metadata()
        .map(|metadata| metadata.key_id().to_owned())
        .ok_or_else(|| AwsFailure::Unexpected {
            service: "KMS",
            detail: "CreateKey returned no key id".to_owned(),
        })?;
    client
        .create_alias()
        .alias_name(alias)
        .target_key_id(&key_id)
        .send()
        .await
        .map_err(|e| classify("KMS", &e))?;
    Ok(key_id)
}

/// The id of the identity pool named `name`, creating it (with `developer_provider` as its
/// developer provider, unauthenticated identities off) when there is none.
pub async fn ensure_identity_pool(
    client: &CognitoClient,
    name: &str,
    developer_provider: &str,
) -> Result<String, AwsFailure> {
    let mut next_token = None;
    loop {
        let page = client
            .list_identity_pools()
            .max_results(60)
            .set_next_token(next_token)
            .send()
            .await
            .map_err(|e| classify("Cognito", &e))?;
        if let Some(pool) = page
            .identity_pools()
            .iter()
            .find(|pool| pool.identity_pool_name() == Some(name))
            && let Some(id) = pool.identity_pool_id()
        {
            return Ok(id.to_owned());
        }
        match page.next_token {
            Some(token) if !token.is_empty() => next_token = Some(token),
            _ => break,
        }
    }
    let created = client
        .create_identity_pool()
        .identity_pool_name(name)
        .allow_unauthenticated_identities(false)
        .developer_provider_name(developer_provider)
        .send()
        .await
        .map_err(|e| classify("Cognito", &e))?;
    Ok(created.identity_pool_id().to_owned())
}

/// The retry queue and its dead-letter queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Queues {
    /// The retry queue's URL.
    pub retry_url: String,
    /// The dead-letter queue's URL.
    pub dead_letter_url: String,
    /// The dead-letter queue's ARN.
    pub dead_letter_arn: String,
}

/// How many times the retry queue delivers a message before moving it to the dead-letter queue.
pub const MAX_RECEIVE_COUNT: u32 = 5;
/// How long a received retry message stays invisible: six times the mailer's timeout (30 s).
pub const VISIBILITY_TIMEOUT_SECONDS: u32 = 180;
/// How long the dead-letter queue keeps a message: 14 days, SQS's maximum.
pub const DEAD_LETTER_RETENTION_SECONDS: u32 = 14 * 24 * 3600;

/// Creates (or finds) the dead-letter queue `dead_letter_name` and the retry queue `retry_name`,
/// whose redrive policy moves a message there after [`MAX_RECEIVE_COUNT`] receives.
pub async fn ensure_queues(
    client: &aws_sdk_sqs::Client,
    retry_name: &str,
    dead_letter_name: &str,
) -> Result<Queues, AwsFailure> {
    use aws_sdk_sqs::types::QueueAttributeName;
    let dead_letter_url = client
        .create_queue()
        .queue_name(dead_letter_name)
        .attributes(
            QueueAttributeName::MessageRetentionPeriod,
            DEAD_LETTER_RETENTION_SECONDS.to_string(),
        )
        .send()
        .await
        .map_err(|e| classify("SQS", &e))?
        .queue_url
        .unwrap_or_default();
    let dead_letter_arn = queue_arn(client, &dead_letter_url).await?;
    let redrive = serde_json::json!({
        "deadLetterTargetArn": dead_letter_arn,
        "maxReceiveCount": MAX_RECEIVE_COUNT,
    });
    let retry_url = client
        .create_queue()
        .queue_name(retry_name)
        .attributes(
            QueueAttributeName::VisibilityTimeout,
            VISIBILITY_TIMEOUT_SECONDS.to_string(),
        )
        .attributes(QueueAttributeName::RedrivePolicy, redrive.to_string())
        .send()
        .await
        .map_err(|e| classify("SQS", &e))?
        .queue_url
        .unwrap_or_default();
    Ok(Queues {
        retry_url,
        dead_letter_url,
        dead_letter_arn,
    })
}

/// Creates the SES identity of the sender `address` unless it exists.
pub async fn ensure_sender(
    client: &aws_sdk_sesv2::Client,
    address: &str,
) -> Result<(), AwsFailure> {
    if client
        .get_email_identity()
        .email_identity(address)
        .send()
        .await
        .is_ok()
    {
        return Ok(());
    }
    match client.create_email_identity().email_identity(address).send().await {
        Ok(_) => Ok(()),
        Err(error)
            if error
                .as_service_error()
                .is_some_and(aws_sdk_sesv2::operation::create_email_identity::CreateEmailIdentityError::is_already_exists_exception) =>
        {
            Ok(())
        }
        Err(error) => Err(classify("SES", &error)),
    }
}

/// Creates the SES configuration set `name` unless it exists. Its event destination (SNS, in
/// the stack) has no local counterpart: the mailbox simulator (`crate::simulator`) plays the
/// feedback it would carry.
pub async fn ensure_configuration_set(
    client: &aws_sdk_sesv2::Client,
    name: &str,
) -> Result<(), AwsFailure> {
    if configuration_set_exists(client, name).await? {
        return Ok(());
    }
    // Sending enabled, as the stack's: said explicitly, so that the set reads back with it.
    let sending = aws_sdk_sesv2::types::SendingOptions::builder()
        .sending_enabled(true)
        .build();
    match client
        .create_configuration_set()
        .configuration_set_name(name)
        .sending_options(sending)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        // Made meanwhile by another run (its "already exists" error is not typed alike by every
        // endpoint): what we want.
        Err(_) if configuration_set_exists(client, name).await? => Ok(()),
        Err(error) => Err(classify("SES", &error)),
    }
}

/// Whether SES has a configuration set named `name`, found by listing them (moto 5.2.5 answers
/// `GetConfigurationSet` with a body the SDK cannot read, while its listing is sound).
pub async fn configuration_set_exists(
    client: &aws_sdk_sesv2::Client,
    name: &str,
) -> Result<bool, AwsFailure> {
    let mut pages = client.list_configuration_sets().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| classify("SES", &e))?;
        if page.configuration_sets().iter().any(|set| set == name) {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The ARN of the queue at `url`.
pub async fn queue_arn(client: &aws_sdk_sqs::Client, url: &str) -> Result<String, AwsFailure> {
    use aws_sdk_sqs::types::QueueAttributeName;
    Ok(client
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .map_err(|e| classify("SQS", &e))?
        .attributes
        .and_then(|mut attributes| attributes.remove(&QueueAttributeName::QueueArn))
        .unwrap_or_default())
}

/// Which of the two tables.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TableKind {
    /// Users, login throttles, sessions, rate buckets: no stream, so no password hash ever
    /// leaves the table through one.
    Users,
    /// The mail items and what the mail pipeline keeps per recipient and per kind: a stream of
    /// new images feeds the mailer.
    Outbox,
}

/// Creates the table if it does not exist: `pk`/`sk` keys, on-demand billing, the TTL attribute
/// and, for the outbox, a stream of new images (the mailer's feed). Returns once the table is
/// active. An existing table is left as it is.
pub async fn ensure_table(
    client: &DynamoDbClient,
    table: &str,
    kind: TableKind,
) -> Result<(), AwsFailure> {
    use aws_sdk_dynamodb::client::Waiters as _;
    use aws_sdk_dynamodb::types::{
        AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
        StreamSpecification, StreamViewType, TimeToLiveSpecification,
    };
    let attribute = |name: &str| {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(ScalarAttributeType::S)
            .build()
    };
    let key = |name: &str, kind: KeyType| {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(kind)
            .build()
    };
    let definition_error = |e: aws_sdk_dynamodb::error::BuildError| AwsFailure::Unexpected {
        service: "DynamoDB",
        detail: e.to_string(),
    };
    let stream = match kind {
        TableKind::Users => None,
        TableKind::Outbox => Some(
            StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(StreamViewType::NewImage)
                .build()
                .map_err(definition_error)?,
        ),
    };
    let created = client
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attribute(schema::PARTITION_KEY).map_err(definition_error)?)
        .attribute_definitions(attribute(schema::SORT_KEY).map_err(definition_error)?)
        .key_schema(key(schema::PARTITION_KEY, KeyType::Hash).map_err(definition_error)?)
        .key_schema(key(schema::SORT_KEY, KeyType::Range).map_err(definition_error)?)
        .set_stream_specification(stream)
        .send()
        .await;
    match created {
        Ok(_) => {}
        Err(error)
            if error
                .as_service_error()
                .is_some_and(aws_sdk_dynamodb::operation::create_table::CreateTableError::is_resource_in_use_exception) => {}
        Err(error) => return Err(classify("DynamoDB", &error)),
    }
    client
        .wait_until_table_exists()
        .table_name(table)
        .wait(std::time::Duration::from_mins(2))
        .await
        .map_err(|e| AwsFailure::Unexpected {
            service: "DynamoDB",
            detail: format!("the table did not become active: {e}"),
        })?;
    let ttl = client
        .update_time_to_live()
        .table_name(table)
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .attribute_name(schema::TTL_ATTRIBUTE)
                .enabled(true)
                .build()
                .map_err(definition_error)?,
        )
        .send()
        .await;
    match ttl {
        Ok(_) => Ok(()),
        Err(error) => match classify("DynamoDB", &error) {
            // Enabling TTL twice is refused; that is the state we want.
            AwsFailure::Unexpected { detail, .. } if detail.contains("already enabled") => Ok(()),
            failure => Err(failure),
        },
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    #[test]
    fn the_defaults_are_the_originals_and_the_pages_follow_the_server() {
        let resources =
            Resources::from_source_with_pages(&HashMap::new(), "http://127.0.0.1:4000/");
        assert_eq!(resources.table, "LambdAuthUsers");
        assert_eq!(resources.outbox_table, "LambdAuthOutbox");
        assert_eq!(resources.identity_pool, "LambdAuth");
        assert_eq!(resources.developer_provider, "login.mycompany.myapp");
        assert_eq!(
            resources.verification_page,
            "http://127.0.0.1:4000/verify.html"
        );
        assert_eq!(resources.reset_page, "http://127.0.0.1:4000/reset.html");
    }

    #[test]
    fn the_variables_read_back_as_the_same_resources() {
        let resources = Resources {
            table: "t".to_owned(),
            outbox_table: "o".to_owned(),
            identity_pool: "p".to_owned(),
            developer_provider: "login.example".to_owned(),
            key_alias: "alias/k".to_owned(),
            signing_key_alias: "alias/s".to_owned(),
            issuer: "https://auth.example.com".to_owned(),
            retry_queue: "r".to_owned(),
            dead_letter_queue: "d".to_owned(),
            sender: "s@example.com".to_owned(),
            configuration_set: "c".to_owned(),
            verification_page: "https://example.com/v".to_owned(),
            reset_page: "https://example.com/r".to_owned(),
        };
        let variables: HashMap<String, String> = resources
            .variables()
            .into_iter()
            .map(|(name, value)| (name.to_owned(), value))
            .collect();
        assert_eq!(Resources::from_source(&variables), resources);
    }
}
