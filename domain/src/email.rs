//! The email address that identifies a user: trimmed, lower-cased and parsed once, at the edge.

use std::fmt;

use email_address::{EmailAddress, Options};
use thiserror::Error;

use crate::ErrorCode;

/// The longest address SMTP can carry in a path (RFC 5321 §4.5.3.1.3 less the angle brackets).
pub const MAX_EMAIL_LENGTH: usize = 254;
/// The longest local part (RFC 5321 §4.5.3.1.1).
pub const MAX_LOCAL_PART_LENGTH: usize = 64;

/// Why a string is not an email address this service accepts.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[error("{reason}")]
pub struct InvalidEmail {
    reason: &'static str,
}

impl ErrorCode for InvalidEmail {
    fn code(&self) -> &'static str {
        "InvalidEmail"
    }
}

/// A normalized email address: surrounding white space removed, lower-cased, and valid as an
/// `addr-spec` with a dotted domain name (no display name, no IP literal).
///
/// Lower-casing the local part is a deliberate choice: `Bob@X.org` and `bob@x.org` are one user.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Email(String);

impl Email {
    /// Normalizes and validates `input`.
    pub fn parse(input: &str) -> Result<Self, InvalidEmail> {
        let normalized = input.trim().to_lowercase();
        if normalized.is_empty() {
            return Err(InvalidEmail {
                reason: "the email address is empty",
            });
        }
        if normalized.len() > MAX_EMAIL_LENGTH {
            return Err(InvalidEmail {
                reason: "the email address is longer than 254 characters",
            });
        }
        let options = Options::default()
            .with_required_tld()
            .without_display_text()
            .without_domain_literal();
        let parsed =
            EmailAddress::parse_with_options(&normalized, options).map_err(|_| InvalidEmail {
                reason: "the email address is not valid",
            })?;
        if parsed.local_part().len() > MAX_LOCAL_PART_LENGTH {
            return Err(InvalidEmail {
                reason: "the part before @ is longer than 64 characters",
            });
        }
        // A quoted local part is legal but no mailbox provider hands them out, and they make
        // links and logs ambiguous; refusing them costs no real user.
        if parsed.local_part().starts_with('"') {
            return Err(InvalidEmail {
                reason: "quoted email addresses are not accepted",
            });
        }
        Ok(Self(normalized))
    }

    /// The normalized address.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The part before the `@`.
    pub fn local_part(&self) -> &str {
        self.0
            .rsplit_once('@')
            .map_or(self.0.as_str(), |(local, _)| local)
    }

    /// The address with most of the local part hidden (`a***@example.com`), for logs and operator
    /// tables where the full address must not appear.
    pub fn masked(&self) -> String {
        let (local, domain) = self.0.rsplit_once('@').unwrap_or((self.0.as_str(), ""));
        let first: String = local.chars().take(1).collect();
        format!("{first}***@{domain}")
    }
}

impl AsRef<str> for Email {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Debug output masks the address, so a stray `{:?}` in a log line does not leak it.
impl fmt::Debug for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Email({})", self.masked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn an_address_is_trimmed_and_lower_cased() {
        let email = Email::parse("  Bob.Smith@Example.ORG \n").unwrap();
        assert_eq!(email.as_str(), "bob.smith@example.org");
    }

    #[test]
    fn plus_addressing_is_kept() {
        assert_eq!(
            Email::parse("erin+tag@example.co.uk").unwrap().as_str(),
            "erin+tag@example.co.uk"
        );
    }

    #[test]
    fn invalid_addresses_are_rejected_with_the_invalid_email_code() {
        for input in [
            "",
            "   ",
            "plainaddress",
            "@example.com",
            "user@",
            "user@localhost",
            "user@@example.com",
            "user@[127.0.0.1]",
            "Bob <bob@example.com>",
            "\"quoted\"@example.com",
            "user@exa mple.com",
        ] {
            let err = Email::parse(input).expect_err(input);
            assert_eq!(err.code(), "InvalidEmail", "{input}");
        }
    }

    #[test]
    fn length_limits_are_enforced() {
        let long_local = format!("{}@example.com", "a".repeat(65));
        assert!(Email::parse(&long_local).is_err());
        let max_local = format!("{}@example.com", "a".repeat(64));
        assert!(Email::parse(&max_local).is_ok());
        let long_total = format!("a@{}.com", "b".repeat(250));
        assert!(Email::parse(&long_total).is_err());
    }

    #[test]
    fn masking_hides_the_local_part() {
        let email = Email::parse("alice@example.com").unwrap();
        assert_eq!(email.masked(), "a***@example.com");
        assert_eq!(format!("{email:?}"), "Email(a***@example.com)");
        assert_eq!(email.local_part(), "alice");
    }

    proptest! {
        #[test]
        fn normalization_is_idempotent(local in "[a-zA-Z0-9._+-]{1,20}", domain in "[a-zA-Z]{1,10}\\.[a-zA-Z]{2,6}") {
            let raw = format!("  {local}@{domain} ");
            if let Ok(email) = Email::parse(&raw) {
                let again = Email::parse(email.as_str()).unwrap();
                prop_assert_eq!(&again, &email);
                prop_assert_eq!(email.as_str(), email.as_str().to_lowercase());
                prop_assert_eq!(email.as_str().trim(), email.as_str());
            }
        }

        #[test]
        fn case_variants_are_one_address(local in "[a-z0-9]{1,20}", domain in "[a-z]{1,10}\\.[a-z]{2,6}", flips in proptest::collection::vec(any::<bool>(), 40)) {
            let lower = format!("{local}@{domain}");
            let varied: String = lower
                .chars()
                .zip(flips.iter().cycle())
                .map(|(c, flip)| if *flip { c.to_ascii_uppercase() } else { c })
                .collect();
            prop_assert_eq!(Email::parse(&lower).unwrap(), Email::parse(&varied).unwrap());
        }

        #[test]
        fn parsing_never_panics(input in "\\PC{0,300}") {
            let _ = Email::parse(&input);
        }
    }
}
