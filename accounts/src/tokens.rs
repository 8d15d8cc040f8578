//! Access tokens: RS256 JWTs signed by an asymmetric KMS key, whose private half never leaves
//! KMS, and the key set (JWKS) that lets anyone check them.
//!
//! Signing is assembled here because no JWT crate signs through a remote signer: the header and
//! claims are serialized, the signing input is sent to KMS `Sign` (RSASSA-PKCS1-v1_5 with
//! SHA-256 over the RAW message, as RS256 is), and its signature appended. Checking uses the
//! `jsonwebtoken` crate, and the public keys are converted from KMS's DER with `rsa`.

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_kms::Client;
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::{MessageType, SigningAlgorithmSpec};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use lambdauth_domain::random::RandomnessUnavailable;
use lambdauth_domain::{OsRandomness, Randomness, SessionId, SubjectId, Timestamp};
use rsa::pkcs8::DecodePublicKey as _;
use rsa::traits::PublicKeyParts as _;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::sync::OnceCell;

use lambdauth_runtime::api::HandlerError;
use lambdauth_runtime::aws_error::{AwsFailure, classify};
use lambdauth_runtime::function::JWKS_PATH;

use crate::config::{AccessTokenConfig, KeySetConfig};

/// Why a key could not be read or a token signed.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// KMS failed.
    #[error(transparent)]
    Aws(#[from] AwsFailure),
    /// KMS holds a key that is not an RSA public key.
    #[error("the signing key is not an RSA public key")]
    NotRsa(#[source] rsa::pkcs8::spki::Error),
    /// `GetPublicKey` answered without a key.
    #[error("GetPublicKey answered no key")]
    NoPublicKey,
    /// No key is configured to sign with.
    #[error("no signing key is configured")]
    NoSigningKey,
    /// The claims did not serialize.
    #[error("the claims do not serialize")]
    Claims(#[source] serde_json::Error),
    /// The OS gave no randomness for the token id.
    #[error(transparent)]
    Randomness(#[from] RandomnessUnavailable),
}

impl From<KeyError> for HandlerError {
    fn from(error: KeyError) -> Self {
        match error {
            KeyError::Aws(failure) => Self::Aws(failure),
            other => Self::internal("reading the signing keys or signing a token", other),
        }
    }
}

/// One public key of the set, as a JWK (RFC 7517) of an RS256 signing key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicJwk {
    /// `RSA`.
    pub kty: String,
    /// The RFC 7638 thumbprint of the key: stable for the key, whatever KMS calls it.
    pub kid: String,
    /// `sig`.
    #[serde(rename = "use")]
    pub usage: String,
    /// `RS256`.
    pub alg: String,
    /// The modulus, unsigned big-endian, Base64url.
    pub n: String,
    /// The public exponent, likewise.
    pub e: String,
}

impl PublicJwk {
    /// The JWK of a public key in KMS's form (DER `SubjectPublicKeyInfo`).
    pub fn from_spki_der(der: &[u8]) -> Result<Self, KeyError> {
        let key = rsa::PublicKey::from_public_key_der(der).map_err(KeyError::NotRsa)?;
        let n = URL_SAFE_NO_PAD.encode(key.n_bytes());
        let e = URL_SAFE_NO_PAD.encode(key.e_bytes());
        // RFC 7638: the SHA-256 of the required members, in lexicographic order, no spaces.
        let canonical = format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#);
        let kid = URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()));
        Ok(Self {
            kty: "RSA".to_owned(),
            kid,
            usage: "sig".to_owned(),
            alg: "RS256".to_owned(),
            n,
            e,
        })
    }
}

/// The issuer's public keys: the first one signs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeySet {
    /// The keys, in the order of `SIGNING_KEY_IDS`.
    pub keys: Vec<PublicJwk>,
}

impl KeySet {
    /// The JWKS document.
    pub fn to_json(&self) -> Value {
        json!({ "keys": self.keys })
    }
}

/// The OpenID configuration of `issuer`: where its keys are and how it signs.
pub fn openid_configuration(issuer: &str) -> Value {
    json!({
        "issuer": issuer,
        "jwks_uri": format!("{issuer}{JWKS_PATH}"),
        "id_token_signing_alg_values_supported": ["RS256"],
        "subject_types_supported": ["public"],
        "response_types_supported": ["token"],
        "claims_supported": ["iss", "aud", "client_id", "sub", "sid", "iat", "nbf", "exp", "jti"],
    })
}

/// The public keys of `SIGNING_KEY_IDS`, read from KMS once per container.
#[derive(Debug, Clone)]
pub struct KmsKeys {
    client: Client,
    config: KeySetConfig,
    cached: Arc<OnceCell<KeySet>>,
}

impl KmsKeys {
    /// The keys named by `config`, not read yet.
    pub fn new(client: Client, config: KeySetConfig) -> Self {
        Self {
            client,
            config,
            cached: Arc::new(OnceCell::new()),
        }
    }

    /// The issuer URL.
    pub fn issuer(&self) -> &str {
        &self.config.issuer
    }

    /// The key set: `GetPublicKey` of each key at the first call, the cached set after.
    pub async fn key_set(&self) -> Result<&KeySet, KeyError> {
        self.cached
            .get_or_try_init(|| async {
                let mut keys = Vec::with_capacity(self.config.signing_key_ids.len());
                for key_id in &self.config.signing_key_ids {
                    let output = self
                        .client
                        .get_public_key()
                        .key_id(key_id)
                        .send()
                        .await
                        .map_err(|e| classify("KMS", &e))?;
                    let der = output.public_key.ok_or(KeyError::NoPublicKey)?;
                    keys.push(PublicJwk::from_spki_der(der.as_ref())?);
                }
                Ok(KeySet { keys })
            })
            .await
    }
}

impl KmsKeys {
    /// The RS256 signature (RSASSA-PKCS1-v1_5 with SHA-256 over the RAW message) of `message`
    /// by the first key, the one that signs.
    async fn sign(&self, message: &[u8]) -> Result<Vec<u8>, KeyError> {
        let output = self
            .client
            .sign()
            .key_id(&self.config.signing_key_ids[0])
            .message(Blob::new(message))
            .message_type(MessageType::Raw)
            .signing_algorithm(SigningAlgorithmSpec::RsassaPkcs1V15Sha256)
            .send()
            .await
            .map_err(|e| classify("KMS", &e))?;
        output.signature.map(Blob::into_inner).ok_or_else(|| {
            KeyError::Aws(AwsFailure::Unexpected {
                service: "KMS",
                detail: "Sign answered no signature".to_owned(),
            })
        })
    }
}

/// The JOSE `typ` of an access token (RFC 9068 §2.1), which a resource server checks so that no
/// other kind of JWT passes for one.
pub const ACCESS_TOKEN_TYPE: &str = "at+jwt";

/// Whether a JOSE `typ` names an access token: `at+jwt`, or `application/at+jwt` in full, in
/// any case (RFC 9068 §4, RFC 7515 §4.1.9).
fn is_access_token_type(typ: &str) -> bool {
    let typ = typ
        .get(..12)
        .filter(|prefix| prefix.eq_ignore_ascii_case("application/"))
        .map_or(typ, |_| &typ[12..]);
    typ.eq_ignore_ascii_case(ACCESS_TOKEN_TYPE)
}

/// The claims of an access token (RFC 9068 §2.2, and the session it belongs to).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    /// The issuer URL.
    pub iss: String,
    /// The audience: the API the token is for.
    pub aud: String,
    /// The client the token was issued to (absent from tokens issued before RFC 9068's form,
    /// which API Gateway's authorizer still accepts until they expire).
    #[serde(default)]
    pub client_id: String,
    /// The user's opaque id.
    pub sub: String,
    /// The session.
    pub sid: String,
    /// Issued at (seconds since the epoch).
    pub iat: i64,
    /// Not before.
    pub nbf: i64,
    /// Expires.
    pub exp: i64,
    /// The token's own id.
    pub jti: String,
}

/// A signed access token and how long it lives.
#[derive(Clone, PartialEq, Eq)]
pub struct AccessToken {
    /// The JWT.
    pub jwt: String,
    /// Its lifetime.
    pub expires_in: Duration,
}

impl std::fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AccessToken(***)")
    }
}

/// Signs access tokens with the first key of `SIGNING_KEY_IDS`.
#[derive(Debug, Clone)]
pub struct AccessTokenSigner {
    keys: KmsKeys,
    audiences: Vec<String>,
    client_id: String,
    ttl: Duration,
}

/// An audience the issuer does not serve was asked for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the audience is not one this issuer serves")]
pub struct UnknownAudience;

impl From<UnknownAudience> for lambdauth_runtime::api::ApiError {
    fn from(_: UnknownAudience) -> Self {
        Self::bad_request(
            "InvalidAudience",
            "audience must be one of the audiences this issuer serves",
        )
    }
}

impl AccessTokenSigner {
    /// A signer configured by `config`.
    pub fn new(client: Client, config: AccessTokenConfig) -> Self {
        Self {
            keys: KmsKeys::new(client, config.keys),
            audiences: config.audiences,
            client_id: config.client_id,
            ttl: config.ttl,
        }
    }

    /// The audience a token is signed for when a client asks for `requested`: it, when the
    /// issuer serves it; the first of `ACCESS_TOKEN_AUDIENCE` when none is asked for.
    pub fn audience(&self, requested: Option<&str>) -> Result<Audience, UnknownAudience> {
        match requested {
            None => self.audiences.first(),
            Some(requested) => self
                .audiences
                .iter()
                .find(|audience| *audience == requested),
        }
        .map(|audience| Audience(audience.clone()))
        .ok_or(UnknownAudience)
    }

    /// An access token for `subject` in session `session` meant for `audience`, issued at
    /// `now`.
    pub async fn sign(
        &self,
        subject: &SubjectId,
        session: &SessionId,
        audience: &Audience,
        now: Timestamp,
    ) -> Result<AccessToken, KeyError> {
        let key_set = self.keys.key_set().await?;
        let kid = &key_set.keys.first().ok_or(KeyError::NoSigningKey)?.kid;
        let jti: [u8; 16] = OsRandomness.bytes()?;
        let iat = now.as_secs();
        let ttl = i64::try_from(self.ttl.as_secs()).unwrap_or(900);
        let claims = AccessClaims {
            iss: self.keys.issuer().to_owned(),
            aud: audience.0.clone(),
            client_id: self.client_id.clone(),
            sub: subject.as_str().to_owned(),
            sid: session.as_str().to_owned(),
            iat,
            nbf: iat,
            exp: iat + ttl,
            jti: URL_SAFE_NO_PAD.encode(jti),
        };
        let header = json!({ "alg": "RS256", "typ": ACCESS_TOKEN_TYPE, "kid": kid });
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).map_err(KeyError::Claims)?)
        );
        let signature = self.keys.sign(signing_input.as_bytes()).await?;
        Ok(AccessToken {
            jwt: format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature)),
            expires_in: self.ttl,
        })
    }
}

/// Why an access token was refused (never told to the client beyond "invalid").
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid access token: {0}")]
pub struct InvalidAccessToken(pub &'static str);

/// An audience the issuer serves, checked against `ACCESS_TOKEN_AUDIENCE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Audience(String);

impl Audience {
    /// The audience's name, its `aud`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Checks access tokens as API Gateway's JWT authorizer does (RS256 only, a `kid` of the key
/// set, the signature, `iss`, an `aud` among the audiences, `exp` and `nbf`, no leeway), and, as
/// RFC 9068 §4 asks of a resource server, a `typ` of `at+jwt` (API Gateway does not look at
/// `typ`, so [`AccessTokenVerifier::as_api_gateway`] leaves it out).
#[derive(Debug, Clone)]
pub struct AccessTokenVerifier {
    issuer: String,
    audiences: Vec<String>,
    checks_type: bool,
}

impl AccessTokenVerifier {
    /// A resource server's verifier for tokens of `issuer` meant for one of `audiences`.
    pub fn new(issuer: impl Into<String>, audiences: &[String]) -> Self {
        Self {
            issuer: issuer.into(),
            audiences: audiences.to_vec(),
            checks_type: true,
        }
    }

    /// The same checks as API Gateway's JWT authorizer makes them: without `typ`.
    #[must_use]
    pub fn as_api_gateway(self) -> Self {
        Self {
            checks_type: false,
            ..self
        }
    }

    /// The claims of `token` if `keys` verify it.
    pub fn verify(&self, token: &str, keys: &KeySet) -> Result<AccessClaims, InvalidAccessToken> {
        let header =
            jsonwebtoken::decode_header(token).map_err(|_| InvalidAccessToken("header"))?;
        if header.alg != Algorithm::RS256 {
            return Err(InvalidAccessToken("alg"));
        }
        if self.checks_type && !header.typ.as_deref().is_some_and(is_access_token_type) {
            return Err(InvalidAccessToken("typ"));
        }
        let kid = header.kid.ok_or(InvalidAccessToken("no kid"))?;
        let key = keys
            .keys
            .iter()
            .find(|key| key.kid == kid)
            .ok_or(InvalidAccessToken("unknown kid"))?;
        let decoding = DecodingKey::from_rsa_components(&key.n, &key.e)
            .map_err(|_| InvalidAccessToken("key"))?;
        let mut validation = Validation::new(Algorithm::RS256);
        validation.leeway = 0;
        validation.validate_nbf = true;
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&self.audiences);
        validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
        jsonwebtoken::decode::<AccessClaims>(token, &decoding, &validation)
            .map(|data| data.claims)
            .map_err(|_| InvalidAccessToken("claims or signature"))
    }
}

/// The bearer token of an `Authorization` header.
pub fn bearer(header: Option<&str>) -> Option<&str> {
    let header = header?.trim();
    let (scheme, token) = header.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|token| !token.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer_for(audiences: &[&str]) -> AccessTokenSigner {
        let kms = Client::from_conf(
            aws_sdk_kms::Config::builder()
                .behavior_version(aws_sdk_kms::config::BehaviorVersion::latest())
                .build(),
        );
        AccessTokenSigner::new(
            kms,
            AccessTokenConfig {
                keys: KeySetConfig {
                    signing_key_ids: vec!["alias/signing".to_owned()],
                    issuer: "https://auth.example.com".to_owned(),
                },
                audiences: audiences.iter().map(|a| (*a).to_owned()).collect(),
                client_id: "lambdauth".to_owned(),
                ttl: Duration::from_mins(15),
            },
        )
    }

    #[test]
    fn an_access_token_type_is_at_jwt_in_short_or_full_in_any_case() {
        for typ in [
            "at+jwt",
            "AT+JWT",
            "application/at+jwt",
            "Application/At+Jwt",
        ] {
            assert!(is_access_token_type(typ), "{typ}");
        }
        for typ in [
            "JWT",
            "application/jwt",
            "at+jwt2",
            "application/",
            "",
            "x-at+jwt",
        ] {
            assert!(!is_access_token_type(typ), "{typ}");
        }
    }

    #[test]
    fn a_token_is_for_the_audience_named_among_those_served_or_the_first() {
        let signer = signer_for(&["orders", "billing"]);
        assert_eq!(signer.audience(None).unwrap().as_str(), "orders");
        assert_eq!(
            signer.audience(Some("billing")).unwrap().as_str(),
            "billing"
        );
        assert_eq!(signer.audience(Some("shipping")), Err(UnknownAudience));
        assert_eq!(
            signer.audience(Some("orders,billing")),
            Err(UnknownAudience)
        );
        assert_eq!(signer.audience(Some("")), Err(UnknownAudience));
    }

    #[test]
    fn bearer_tokens_are_read_from_the_header() {
        assert_eq!(bearer(Some("Bearer abc")), Some("abc"));
        assert_eq!(bearer(Some("bearer  abc ")), Some("abc"));
        assert_eq!(bearer(Some("Basic abc")), None);
        assert_eq!(bearer(Some("Bearer ")), None);
        assert_eq!(bearer(None), None);
    }

    #[test]
    fn the_openid_configuration_points_at_the_key_set() {
        let document = openid_configuration("https://auth.example.com");
        assert_eq!(
            document["jwks_uri"],
            "https://auth.example.com/.well-known/jwks.json"
        );
        assert_eq!(
            document["id_token_signing_alg_values_supported"][0],
            "RS256"
        );
    }
}
