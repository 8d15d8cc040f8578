//! Link tokens under KMS: a mail's token is encrypted before the outbox item is written, bound by
//! the encryption context to that mail and its recipient, so that the table and its stream hold
//! ciphertext only and a ciphertext moved to another item does not decrypt.

use aws_sdk_kms::Client;
use aws_sdk_kms::primitives::Blob;
use lambdauth_domain::random::RandomnessUnavailable;
use lambdauth_domain::{Email, MailId, OsRandomness, OutgoingMail, Timestamp, Token};

use crate::aws_error::{AwsFailure, classify};

/// Encrypts (and, for the mailer, decrypts) link tokens with one KMS key.
#[derive(Debug, Clone)]
pub struct TokenSealer {
    client: Client,
    /// The key to encrypt with; the mailer, which only decrypts, has none.
    key_id: Option<String>,
}

/// The encryption context of `mail_id`'s token to `recipient`.
fn context(mail_id: &str, recipient: &str) -> [(&'static str, String); 2] {
    [
        ("mailId", mail_id.to_owned()),
        ("recipient", recipient.to_owned()),
    ]
}

impl TokenSealer {
    /// A sealer using `key_id` (id, ARN or alias).
    pub fn new(client: Client, key_id: impl Into<String>) -> Self {
        Self {
            client,
            key_id: Some(key_id.into()),
        }
    }

    /// A sealer that can only decrypt (KMS finds the key from the ciphertext).
    pub fn decrypt_only(client: Client) -> Self {
        Self {
            client,
            key_id: None,
        }
    }

    /// The ciphertext of `mail`'s link token, or `None` when the mail carries no link.
    pub async fn seal(&self, mail: &OutgoingMail) -> Result<Option<Vec<u8>>, AwsFailure> {
        let Some(link) = &mail.link else {
            return Ok(None);
        };
        self.encrypt(&link.token, mail.id.as_str(), mail.recipient.as_str())
            .await
            .map(Some)
    }

    /// Seals `mail`'s link token when it has one; otherwise encrypts a throwaway token of the
    /// same size under the same key and discards it. A request that may mail calls this on every
    /// path, so whether it mailed a link (and so whether the address has an account) does not
    /// show in the calls it makes. `now` dates the throwaway's mail id.
    pub async fn seal_every_time(
        &self,
        mail: Option<&OutgoingMail>,
        recipient: &Email,
        now: Timestamp,
    ) -> Result<Option<Vec<u8>>, AwsFailure> {
        if let Some(mail) = mail.filter(|mail| mail.link.is_some()) {
            return self.seal(mail).await;
        }
        let unavailable = |e: RandomnessUnavailable| AwsFailure::Unexpected {
            service: "KMS",
            detail: e.to_string(),
        };
        let throwaway = Token::generate(&mut OsRandomness).map_err(unavailable)?;
        let mail_id = MailId::generate(now, &mut OsRandomness).map_err(unavailable)?;
        self.encrypt(&throwaway, mail_id.as_str(), recipient.as_str())
            .await
            .map(|_| None)
    }

    async fn encrypt(
        &self,
        token: &Token,
        mail_id: &str,
        recipient: &str,
    ) -> Result<Vec<u8>, AwsFailure> {
        let Some(key_id) = &self.key_id else {
            return Err(AwsFailure::Unexpected {
                service: "KMS",
                detail: "no key to encrypt with".to_owned(),
            });
        };
        let mut request = self
            .client
            .encrypt()
            .key_id(key_id)
            .plaintext(Blob::new(token.expose().as_bytes()));
        for (name, value) in context(mail_id, recipient) {
            request = request.encryption_context(name, value);
        }
        let output = request.send().await.map_err(|e| classify("KMS", &e))?;
        let ciphertext = output
            .ciphertext_blob
            .ok_or_else(|| AwsFailure::Unexpected {
                service: "KMS",
                detail: "Encrypt returned no ciphertext".to_owned(),
            })?;
        Ok(ciphertext.into_inner())
    }

    /// The token sealed for mail `mail_id` to `recipient`. A ciphertext taken from another mail
    /// fails here, by KMS's check of the context.
    pub async fn open(
        &self,
        ciphertext: &[u8],
        mail_id: &str,
        recipient: &str,
    ) -> Result<Token, AwsFailure> {
        let mut request = self.client.decrypt().ciphertext_blob(Blob::new(ciphertext));
        for (name, value) in context(mail_id, recipient) {
            request = request.encryption_context(name, value);
        }
        let output = request.send().await.map_err(|e| classify("KMS", &e))?;
        let plaintext = output.plaintext.ok_or_else(|| AwsFailure::Unexpected {
            service: "KMS",
            detail: "Decrypt returned no plaintext".to_owned(),
        })?;
        std::str::from_utf8(plaintext.as_ref())
            .ok()
            .and_then(|text| Token::parse(text).ok())
            .ok_or_else(|| AwsFailure::Unexpected {
                service: "KMS",
                detail: "the decrypted token is malformed".to_owned(),
            })
    }
}
