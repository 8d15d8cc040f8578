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
