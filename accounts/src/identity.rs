//! Cognito developer-authenticated identities: the OpenID token a login hands out.

use std::time::Duration;

use aws_sdk_cognitoidentity::Client;
use lambdauth_domain::DeveloperUserId;

use lambdauth_runtime::aws_error::{AwsFailure, classify};

use crate::config::IdentityConfig;

/// A Cognito identity and its OpenID token.
#[derive(Clone, PartialEq, Eq)]
pub struct OpenIdToken {
    /// The IdentityId.
    pub identity_id: String,
    /// The OpenID Connect token.
    pub token: String,
    /// How long the token is valid.
    pub expires_in: Duration,
}

impl std::fmt::Debug for OpenIdToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenIdToken")
            .field("identity_id", &self.identity_id)
            .finish_non_exhaustive()
    }
}

/// Obtains tokens from one identity pool for one developer provider.
#[derive(Debug, Clone)]
pub struct IdentityIssuer {
    client: Client,
    config: IdentityConfig,
}

impl IdentityIssuer {
    /// An issuer for the pool and provider in `config`.
    pub fn new(client: Client, config: IdentityConfig) -> Self {
        Self { client, config }
    }

    /// `GetOpenIdTokenForDeveloperIdentity` for `user`.
    pub async fn issue(&self, user: &DeveloperUserId) -> Result<OpenIdToken, AwsFailure> {
        let duration = i64::try_from(self.config.token_duration.as_secs()).unwrap_or(900);
        let output = self
            .client
            .get_open_id_token_for_developer_identity()
            .identity_pool_id(&self.config.identity_pool_id)
            .logins(&self.config.developer_provider_name, user.as_str())
            .token_duration(duration)
            .send()
            .await
            .map_err(|e| classify("Cognito", &e))?;
        match (output.identity_id, output.token) {
            (Some(identity_id), Some(token)) => Ok(OpenIdToken {
                identity_id,
                token,
                expires_in: self.config.token_duration,
            }),
            _ => Err(AwsFailure::Unexpected {
                service: "Cognito",
                detail: "no IdentityId or Token in the answer".to_owned(),
            }),
        }
    }
}
