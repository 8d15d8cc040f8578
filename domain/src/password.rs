//! Passwords as secrets: normalization, the policy a new password must pass, and the size limit
//! every password attempt must pass before any hashing.

use std::fmt;

use thiserror::Error;
use unicode_normalization::UnicodeNormalization;
use zeroize::Zeroizing;

use crate::{Email, ErrorCode, common_passwords};

/// The longest password accepted, in bytes of UTF-8, checked before any hashing so that a huge
/// body cannot buy a huge amount of CPU.
pub const MAX_PASSWORD_BYTES: usize = 1024;
/// The default minimum length in code points (NIST SP 800-63B-4 for a single-factor password).
pub const DEFAULT_MIN_LENGTH: usize = 15;
/// No configuration may set the minimum below this (NIST's floor when a second factor exists).
pub const MIN_LENGTH_FLOOR: usize = 8;
/// A local part shorter than this is too generic to forbid inside passwords.
const MIN_LOCAL_PART_TO_BLOCK: usize = 3;

/// Why a password was refused. Each variant's code names the rule.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum PasswordRejected {
    /// Fewer code points than the policy's minimum (an empty password included).
    #[error(
        "the password must be at least {min} character{} long",
        if *min == 1 { "" } else { "s" }
    )]
    TooShort {
        /// The policy's minimum, in code points.
        min: usize,
    },
    /// More than 1024 bytes.
    #[error("the password must be at most {MAX_PASSWORD_BYTES} bytes long")]
    TooLong,
    /// On the list of common passwords.
    #[error("the password is too common; choose one that is harder to guess")]
    TooCommon,
    /// Contains the email address or the part of it before the `@`.
    #[error("the password must not contain the email address")]
    ContainsEmail,
}

impl ErrorCode for PasswordRejected {
    fn code(&self) -> &'static str {
        match self {
            Self::TooShort { .. } => "PasswordTooShort",
            Self::TooLong => "PasswordTooLong",
            Self::TooCommon => "PasswordTooCommon",
            Self::ContainsEmail => "PasswordContainsEmail",
        }
    }
}

/// The rule a new password must pass.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PasswordPolicy {
    min_length: usize,
}

impl PasswordPolicy {
    /// A policy with `min_length` code points at least, raised to the floor of 8 if lower.
    pub fn with_min_length(min_length: usize) -> Self {
        Self {
            min_length: min_length.max(MIN_LENGTH_FLOOR),
        }
    }

    /// The minimum length in code points.
    pub fn min_length(&self) -> usize {
        self.min_length
    }
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        Self {
            min_length: DEFAULT_MIN_LENGTH,
        }
    }
}

fn check_size(raw: &str) -> Result<(), PasswordRejected> {
    if raw.len() > MAX_PASSWORD_BYTES {
        return Err(PasswordRejected::TooLong);
    }
    Ok(())
}

fn normalize(raw: &str) -> Result<Zeroizing<String>, PasswordRejected> {
    let normalized = Zeroizing::new(raw.nfkc().collect::<String>());
    // NFKC can expand a string many times over (one ligature becomes up to 18 letters).
    check_size(&normalized)?;
    Ok(normalized)
}

/// A password someone typed to prove who they are (login, or the old password of a change).
///
/// No policy applies beyond the size limit: a password set under an older policy must still log
/// in. It keeps the text exactly as sent, which is what legacy hashes were computed over, and its
/// NFKC form, which is what new hashes are computed over.
pub struct PasswordAttempt {
    as_sent: Zeroizing<String>,
    normalized: Zeroizing<String>,
}

impl PasswordAttempt {
    /// Checks the size of `raw`; an empty attempt is refused as too short.
    pub fn new(raw: &str) -> Result<Self, PasswordRejected> {
        check_size(raw)?;
        if raw.is_empty() {
            return Err(PasswordRejected::TooShort { min: 1 });
        }
        Ok(Self {
            normalized: normalize(raw)?,
            as_sent: Zeroizing::new(raw.to_owned()),
        })
    }

    /// The text exactly as sent.
    pub fn as_sent(&self) -> &str {
        &self.as_sent
    }

    /// The NFKC form.
    pub fn normalized(&self) -> &str {
        &self.normalized
    }
}

impl fmt::Debug for PasswordAttempt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordAttempt(***)")
    }
}

/// A password being set (signup, change, reset) that passed the policy, in NFKC form.
pub struct NewPassword {
    normalized: Zeroizing<String>,
}

impl NewPassword {
    /// Normalizes `raw` and checks it against `policy` and the owner's `email`.
    ///
    /// The checks run cheapest first, and the size limit before anything else touches the text.
    pub fn new(
        raw: &str,
        email: &Email,
        policy: &PasswordPolicy,
    ) -> Result<Self, PasswordRejected> {
        check_size(raw)?;
        let normalized = normalize(raw)?;
        if normalized.chars().count() < policy.min_length {
            return Err(PasswordRejected::TooShort {
                min: policy.min_length,
            });
        }
        let lowered = Zeroizing::new(normalized.to_lowercase());
        if contains_email(&lowered, email) {
            return Err(PasswordRejected::ContainsEmail);
        }
        if common_passwords::contains(&lowered) {
            return Err(PasswordRejected::TooCommon);
        }
        Ok(Self { normalized })
    }

    /// The NFKC form, the bytes that are hashed.
    pub fn normalized(&self) -> &str {
        &self.normalized
    }
}

impl fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NewPassword(***)")
    }
}

fn contains_email(lowered_password: &str, email: &Email) -> bool {
    let local = email.local_part();
    // `erin+tag` is also `erin` to anyone guessing.
    let untagged = local.split_once('+').map_or(local, |(base, _)| base);
    [email.as_str(), local, untagged]
        .into_iter()
        .filter(|part| part.chars().count() >= MIN_LOCAL_PART_TO_BLOCK)
        .any(|part| lowered_password.contains(part))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn email() -> Email {
        Email::parse("erin+tag@example.co.uk").unwrap()
    }

    fn new(raw: &str) -> Result<NewPassword, PasswordRejected> {
        NewPassword::new(raw, &email(), &PasswordPolicy::default())
    }

    #[test]
    fn an_empty_attempt_is_too_short_in_good_grammar() {
        let refused = PasswordAttempt::new("").unwrap_err();
        assert_eq!(refused.code(), "PasswordTooShort");
        assert_eq!(
            refused.to_string(),
            "the password must be at least 1 character long"
        );
        assert_eq!(
            new("short").unwrap_err().to_string(),
            "the password must be at least 15 characters long"
        );
    }

    #[test]
    fn a_long_unusual_password_passes() {
        assert_eq!(
            new("correct horse battery staple").unwrap().normalized(),
            "correct horse battery staple"
        );
    }

    #[test]
    fn length_is_counted_in_code_points() {
        // 15 code points, 45 bytes.
        assert!(new("ünïcødéünïcødé🔑").is_ok());
        assert_eq!(
            new("ünïcødé🔑").unwrap_err(),
            PasswordRejected::TooShort { min: 15 }
        );
    }

    #[test]
    fn the_minimum_is_configurable_with_a_floor_of_eight() {
        assert_eq!(PasswordPolicy::with_min_length(4).min_length(), 8);
        assert_eq!(PasswordPolicy::with_min_length(20).min_length(), 20);
        let policy = PasswordPolicy::with_min_length(8);
        assert!(NewPassword::new("zebra-lamp", &email(), &policy).is_ok());
        assert_eq!(
            NewPassword::new("zebra", &email(), &policy)
                .unwrap_err()
                .code(),
            "PasswordTooShort"
        );
    }

    #[test]
    fn more_than_1024_bytes_is_too_long_before_anything_else() {
        let long = "é".repeat(513); // 1026 bytes
        assert_eq!(new(&long).unwrap_err().code(), "PasswordTooLong");
        assert_eq!(
            PasswordAttempt::new(&long).unwrap_err().code(),
            "PasswordTooLong"
        );
        assert!(PasswordAttempt::new(&"a".repeat(1024)).is_ok());
    }

    #[test]
    fn an_expansion_by_normalization_is_caught() {
        // U+FDFA becomes 18 letters under NFKC: 60 of them are 180 bytes sent, over 3000 hashed.
        let expanding = "\u{FDFA}".repeat(60);
        assert!(expanding.len() <= MAX_PASSWORD_BYTES);
        assert_eq!(new(&expanding).unwrap_err(), PasswordRejected::TooLong);
    }

    #[test]
    fn common_passwords_are_refused() {
        let policy = PasswordPolicy::with_min_length(8);
        for common in ["password", "Password1", "iloveyou", "qwertyuiop"] {
            assert_eq!(
                NewPassword::new(common, &email(), &policy).unwrap_err(),
                PasswordRejected::TooCommon,
                "{common}"
            );
        }
    }

    #[test]
    fn the_email_and_its_local_part_are_refused_inside_a_password() {
        for bad in [
            "my-name-is-erin+tag-ok",
            "ERIN-and-a-long-tail-x",
            "erin+tag@example.co.uk!!",
        ] {
            assert_eq!(
                new(bad).unwrap_err().code(),
                "PasswordContainsEmail",
                "{bad}"
            );
        }
    }

    #[test]
    fn normalization_is_nfkc() {
        // A full-width letter and a ligature normalize to their plain forms.
        let password = new("ｆｕｌｌｗｉｄｔｈ-ﬁne-horse-battery").unwrap();
        assert_eq!(password.normalized(), "fullwidth-fine-horse-battery");
    }

    #[test]
    fn an_attempt_keeps_the_text_as_sent_and_has_no_policy() {
        let attempt = PasswordAttempt::new("   spaces around   ").unwrap();
        assert_eq!(attempt.as_sent(), "   spaces around   ");
        assert!(PasswordAttempt::new("short").is_ok());
        assert_eq!(
            PasswordAttempt::new("").unwrap_err().code(),
            "PasswordTooShort"
        );
    }

    #[test]
    fn debug_output_never_shows_the_password() {
        let attempt = PasswordAttempt::new("hunter2-secret").unwrap();
        assert!(!format!("{attempt:?}").contains("hunter2"));
        let password = new("correct horse battery staple").unwrap();
        assert!(!format!("{password:?}").contains("horse"));
    }

    proptest! {
        #[test]
        fn normalization_is_idempotent(raw in "\\PC{1,40}") {
            let once: String = raw.nfkc().collect();
            let twice: String = once.nfkc().collect();
            prop_assert_eq!(once, twice);
        }

        #[test]
        fn the_policy_never_panics_and_never_passes_a_short_password(raw in "\\PC{0,60}") {
            match new(&raw) {
                Ok(password) => prop_assert!(password.normalized().chars().count() >= 15),
                Err(rejected) => prop_assert!(!rejected.code().is_empty()),
            }
        }
    }
}
