//! One-time link tokens: 256 bits from the generator, URL-safe text in the mail, only a SHA-256
//! hash at rest, compared in constant time, with an expiry.

use std::fmt;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use thiserror::Error;
use zeroize::Zeroizing;

use crate::random::{Randomness, RandomnessUnavailable};
use crate::{ErrorCode, Timestamp};

/// Bytes of randomness in a token.
pub const TOKEN_BYTES: usize = 32;
/// The shortest token text accepted from a request.
pub const MIN_TOKEN_LENGTH: usize = 16;
/// The longest token text accepted from a request (LambdAuth's hex tokens are 256 characters).
pub const MAX_TOKEN_LENGTH: usize = 512;

/// A token in a request is malformed, unknown, used or expired. One error for all of these, so
/// that the answer says nothing about which.
#[derive(Debug, Error, Clone, Copy, PartialEq, Eq)]
#[error("the link is invalid or has expired")]
pub struct InvalidToken;

impl ErrorCode for InvalidToken {
    fn code(&self) -> &'static str {
        "InvalidToken"
    }
}

/// A token in clear: it only ever exists in memory, in a mail link and (encrypted) on an outbox
/// item.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(Zeroizing<String>);

impl Token {
    /// A fresh token: 32 random bytes as unpadded URL-safe Base64 (43 characters).
    pub fn generate(rng: &mut impl Randomness) -> Result<Self, RandomnessUnavailable> {
        let bytes: Zeroizing<[u8; TOKEN_BYTES]> = Zeroizing::new(rng.bytes()?);
        Ok(Self(Zeroizing::new(URL_SAFE_NO_PAD.encode(*bytes))))
    }

    /// A token from a request or an import. Any URL-safe text of a sane length is accepted, which
    /// covers both tokens made here and LambdAuth's hex tokens; whether it is *valid* is only
    /// known by comparing its hash.
    pub fn parse(text: &str) -> Result<Self, InvalidToken> {
        let well_formed = (MIN_TOKEN_LENGTH..=MAX_TOKEN_LENGTH).contains(&text.len())
            && text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if well_formed {
            Ok(Self(Zeroizing::new(text.to_owned())))
        } else {
            Err(InvalidToken)
        }
    }

    /// A token of text made here (a refresh token's whole text), taken without the checks of a
    /// request's.
    pub(crate) fn from_trusted(text: String) -> Self {
        Self(Zeroizing::new(text))
    }

    /// The text, for the link in a mail.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The SHA-256 of the text, the only form stored with the user.
    pub fn hash(&self) -> TokenHash {
        TokenHash(Sha256::digest(self.0.as_bytes()).into())
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(***)")
    }
}

/// The SHA-256 hash of a token.
#[derive(Clone, Copy, Eq)]
pub struct TokenHash([u8; 32]);

impl TokenHash {
    /// The hash as lower-case hex, for storage.
    pub fn to_hex(&self) -> String {
        use fmt::Write as _;
        self.0
            .iter()
            .fold(String::with_capacity(64), |mut out, byte| {
                let _ = write!(out, "{byte:02x}");
                out
            })
    }

    /// A hash read back from storage.
    pub fn from_hex(hex: &str) -> Option<Self> {
        if hex.len() != 64 {
            return None;
        }
        let mut out = [0u8; 32];
        for (slot, pair) in out.iter_mut().zip(hex.as_bytes().chunks(2)) {
            let text = std::str::from_utf8(pair).ok()?;
            *slot = u8::from_str_radix(text, 16).ok()?;
        }
        Some(Self(out))
    }
}

/// Equality is constant-time, so comparing a guess leaks nothing through timing.
impl PartialEq for TokenHash {
    fn eq(&self, other: &Self) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl fmt::Debug for TokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenHash(…)")
    }
}

/// A token waiting to be used: its hash and when it stops being valid.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PendingToken {
    /// SHA-256 of the token.
    pub hash: TokenHash,
    /// The first instant at which it is no longer accepted.
    pub expires_at: Timestamp,
}

impl PendingToken {
    /// Issues a new token valid for `ttl` from `now`: the clear token for the mail, and what to
    /// store.
    pub fn issue(
        rng: &mut impl Randomness,
        now: Timestamp,
        ttl: Duration,
    ) -> Result<(Token, Self), RandomnessUnavailable> {
        let token = Token::generate(rng)?;
        let pending = Self {
            hash: token.hash(),
            expires_at: now.plus(ttl),
        };
        Ok((token, pending))
    }

    /// Whether `candidate` is this token and has not expired at `now`.
    pub fn accepts(&self, candidate: &Token, now: Timestamp) -> bool {
        // Compare first and check the time after, so the work done does not depend on expiry.
        let same = self.hash == candidate.hash();
        same && now < self.expires_at
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::OsRandomness;
    use crate::random::testing::CountingRandomness;
    use proptest::prelude::*;

    #[test]
    fn a_generated_token_is_256_bits_of_url_safe_text() {
        let token = Token::generate(&mut OsRandomness).unwrap();
        assert_eq!(token.expose().len(), 43);
        assert!(Token::parse(token.expose()).is_ok());
        assert_ne!(token, Token::generate(&mut OsRandomness).unwrap());
    }

    #[test]
    fn a_token_is_accepted_until_it_expires() {
        let now = Timestamp::from_millis(1_000_000);
        let (token, pending) =
            PendingToken::issue(&mut CountingRandomness(1), now, Duration::from_hours(1)).unwrap();
        assert!(pending.accepts(&token, now));
        assert!(pending.accepts(&token, now.plus(Duration::from_secs(3599))));
        assert!(!pending.accepts(&token, now.plus(Duration::from_hours(1))));
        let (other, _) =
            PendingToken::issue(&mut CountingRandomness(2), now, Duration::from_hours(1)).unwrap();
        assert!(!pending.accepts(&other, now));
    }

    #[test]
    fn the_hash_is_sha256_of_the_text() {
        let token = Token::parse("abcdefghijklmnopqrstuvwxyz").unwrap();
        assert_eq!(
            token.hash().to_hex(),
            "71c480df93d6ae2f1efad1447c66c9525e316218cf51fc8d9ed832f2daf18b73"
        );
    }

    #[test]
    fn legacy_hex_tokens_parse() {
        assert!(Token::parse(&"4e1a6b33".repeat(32)).is_ok());
    }

    #[test]
    fn malformed_tokens_are_refused() {
        for bad in [
            "",
            "short",
            "has space in it padding",
            "emoji🔑🔑🔑🔑🔑🔑🔑🔑🔑",
            &"a".repeat(513),
        ] {
            assert_eq!(Token::parse(bad), Err(InvalidToken), "{bad}");
        }
        assert_eq!(InvalidToken.code(), "InvalidToken");
    }

    #[test]
    fn debug_output_hides_the_token() {
        let token = Token::parse("abcdefghijklmnopqrstuvwxyz").unwrap();
        assert_eq!(format!("{token:?}"), "Token(***)");
    }

    proptest! {
        #[test]
        fn hex_round_trips(bytes in proptest::array::uniform32(any::<u8>())) {
            let hash = TokenHash(bytes);
            prop_assert_eq!(TokenHash::from_hex(&hash.to_hex()), Some(hash));
        }

        #[test]
        fn parsing_never_panics(text in "\\PC{0,600}") {
            let _ = Token::parse(&text);
        }

        #[test]
        fn from_hex_never_panics(text in "\\PC{0,80}") {
            let _ = TokenHash::from_hex(&text);
        }
    }
}
