//! Creating what the functions need, idempotently: running it twice finds what the first run made.

use aws_sdk_cognitoidentity::Client as CognitoClient;
use aws_sdk_kms::Client as KmsClient;
use lambdauth_handlers::aws::{AwsFailure, classify};

/// The id of the KMS key behind `alias` (which starts with `alias/`), creating the key and the
/// alias when the alias does not exist yet.
pub async fn ensure_kms_key(client: &KmsClient, alias: &str) -> Result<String, AwsFailure> {
    let mut pages = client.list_aliases().into_paginator().items().send();
    while let Some(found) = pages.next().await {
        let found = found.map_err(|e| classify("KMS", &e))?;
        if found.alias_name() == Some(alias)
            && let Some(key_id) = found.target_key_id()
        {
            return Ok(key_id.to_owned());
        }
    }
    let created = client
        .create_key()
        .description("LambdAuth: encrypts the one-time tokens of mail links on outbox items")
        .send()
        .await
        .map_err(|e| classify("KMS", &e))?;
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
