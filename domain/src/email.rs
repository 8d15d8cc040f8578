//! The email address that identifies a user: trimmed, normalized and parsed once, at the edge,
//! into the one form it is compared, stored and mailed in, so that one mailbox is one account.

use std::fmt;

use email_address::{EmailAddress, Options};
use thiserror::Error;
use unicode_general_category::{GeneralCategory, get_general_category};
use unicode_normalization::UnicodeNormalization as _;

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

/// A normalized email address: surrounding white space removed, Unicode NFC, lower-cased, the
/// domain in its A-label (punycode) form, and valid as an `addr-spec` with a dotted domain name
/// whose last label is not a number (no display name, no IP address in any form).
///
/// Lower-casing the local part is a deliberate choice: `Bob@X.org` and `bob@x.org` are one user.
/// So is the normalization: `é` written as one code point or as `e` and a combining accent is
/// one character, and `bücher.example` is `xn--bcher-kva.example`. The local part must be plain
/// ASCII, because SES cannot deliver to anything else (it does not speak SMTPUTF8), and no part
/// may hold a control or format character (bidi overrides, zero-width characters, a BOM, a soft
/// hyphen), which would make two addresses look alike.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Email(String);

impl Email {
    /// Normalizes and validates `input`.
    pub fn parse(input: &str) -> Result<Self, InvalidEmail> {
        let trimmed: String = input.trim().nfc().collect();
        if trimmed.is_empty() {
            return Err(InvalidEmail {
                reason: "the email address is empty",
            });
        }
        if trimmed.chars().any(is_invisible_or_control) {
            return Err(InvalidEmail {
                reason: "the email address contains a control or invisible character",
            });
        }
        let Some((local, domain)) = trimmed.rsplit_once('@') else {
            return Err(InvalidEmail {
                reason: "the email address is not valid",
            });
        };
        if !local.is_ascii() {
            return Err(InvalidEmail {
                reason: "the part before @ must be plain ASCII letters, digits and punctuation",
            });
        }
        // UTS 46 processing: lower-cases and normalizes the domain, and turns each Unicode
        // label into its A-label, the form SES sends to and the form compared.
        let domain = idna::domain_to_ascii(domain).map_err(|_| InvalidEmail {
            reason: "the domain of the email address is not valid",
        })?;
        if domain
            .rsplit('.')
            .next()
            .is_some_and(|last| !last.is_empty() && last.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(InvalidEmail {
                reason: "the domain of the email address is a number, not a name",
            });
        }
        let normalized = format!("{}@{domain}", local.to_ascii_lowercase());
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

/// `text` with every email address in it masked as [`Email::masked`] does (`a***@example.com`),
/// for error text from elsewhere (SES names the addresses it refuses) before it is logged or
/// stored: no full address is written to a log or an item that does not need it.
pub fn mask_addresses(text: &str) -> String {
    let is_delimiter = |c: char| c.is_whitespace() || "<>()[]{},;:\"'`".contains(c);
    let mut masked = String::with_capacity(text.len());
    let mut word = String::new();
    let flush = |word: &mut String, masked: &mut String| {
        match word.rsplit_once('@') {
            Some((local, domain)) if !local.is_empty() && !domain.is_empty() => {
                masked.extend(local.chars().take(1));
                masked.push_str("***@");
                masked.push_str(domain);
            }
            _ => masked.push_str(word),
        }
        word.clear();
    };
    for c in text.chars() {
        if is_delimiter(c) {
            flush(&mut word, &mut masked);
            masked.push(c);
        } else {
            word.push(c);
        }
    }
    flush(&mut word, &mut masked);
    masked
}

/// Characters that do not show, or show as something else: controls, format characters (bidi
/// overrides, zero-width joiners, the BOM, the soft hyphen), line and paragraph separators,
/// private-use and unassigned code points.
fn is_invisible_or_control(c: char) -> bool {
    matches!(
        get_general_category(c),
        GeneralCategory::Control
            | GeneralCategory::Format
            | GeneralCategory::LineSeparator
            | GeneralCategory::ParagraphSeparator
            | GeneralCategory::PrivateUse
            | GeneralCategory::Surrogate
            | GeneralCategory::Unassigned
    )
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
    fn control_and_invisible_characters_are_refused() {
        for input in [
            "ali\u{202E}ce@example.com",
            "alice@exa\u{200B}mple.com",
            "\u{FEFF}alice@example.com",
            "ali\u{00AD}ce@example.com",
            "alice@example.com\u{2028}x",
            "al\u{0007}ice@example.com",
            "alice\u{200D}@example.com",
        ] {
            let err = Email::parse(input).expect_err(input);
            assert_eq!(err.code(), "InvalidEmail", "{input:?}");
        }
    }

    #[test]
    fn an_ip_address_or_a_numeric_top_level_label_is_not_a_domain() {
        for input in [
            "user@127.0.0.1",
            "user@[127.0.0.1]",
            "user@[IPv6:::1]",
            "user@example.123",
            "user@10.0.0.256",
        ] {
            assert!(Email::parse(input).is_err(), "{input}");
        }
        assert!(Email::parse("user@123.example").is_ok());
    }

    #[test]
    fn a_local_part_ses_cannot_deliver_to_is_refused() {
        for input in ["andrée@example.com", "δοκιμή@example.com", "🦀@example.com"] {
            assert!(Email::parse(input).is_err(), "{input}");
        }
    }

    #[test]
    fn one_mailbox_is_one_address_whatever_its_unicode_spelling() {
        let composed = Email::parse("bob@b\u{00FC}cher.example").unwrap();
        let decomposed = Email::parse("bob@bu\u{0308}cher.example").unwrap();
        let upper = Email::parse("BOB@B\u{00DC}CHER.EXAMPLE").unwrap();
        let a_label = Email::parse("bob@xn--bcher-kva.example").unwrap();
        assert_eq!(composed.as_str(), "bob@xn--bcher-kva.example");
        for other in [&decomposed, &upper, &a_label] {
            assert_eq!(&composed, other);
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
    fn addresses_in_free_text_are_masked() {
        assert_eq!(
            mask_addresses(
                "MessageRejected: Email address is not verified. The following identities failed the check in region US-EAST-1: bob.smith@example.org, <carol@example.net>"
            ),
            "MessageRejected: Email address is not verified. The following identities failed the check in region US-EAST-1: b***@example.org, <c***@example.net>"
        );
        assert_eq!(
            mask_addresses("no address here @ all"),
            "no address here @ all"
        );
        assert_eq!(mask_addresses(""), "");
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

        #[test]
        fn a_parsed_address_is_ascii_visible_and_parses_to_itself(input in "\\PC{0,80}") {
            if let Ok(email) = Email::parse(&input) {
                prop_assert!(email.as_str().is_ascii(), "{:?}", email.as_str());
                prop_assert!(!email.as_str().chars().any(is_invisible_or_control));
                prop_assert_eq!(Email::parse(email.as_str()).unwrap(), email);
            }
        }

        #[test]
        fn an_invisible_character_anywhere_is_refused(
            local in "[a-z0-9]{1,10}",
            domain in "[a-z]{1,10}\\.[a-z]{2,6}",
            at in 0usize..30,
            invisible in proptest::sample::select(vec!['\u{202E}', '\u{200B}', '\u{200D}', '\u{FEFF}', '\u{00AD}', '\u{0000}', '\u{001B}', '\u{2066}']),
        ) {
            let clean = format!("{local}@{domain}");
            prop_assert!(Email::parse(&clean).is_ok());
            let mut chars: Vec<char> = clean.chars().collect();
            let at = at.min(chars.len());
            chars.insert(at, invisible);
            let dirty: String = chars.into_iter().collect();
            prop_assert!(Email::parse(&dirty).is_err(), "{:?}", dirty);
        }

        #[test]
        fn a_numeric_last_label_is_refused(local in "[a-z0-9]{1,10}", labels in "([a-z0-9]{1,8}\\.){1,3}", tld in "[0-9]{1,4}") {
            let input = format!("{local}@{labels}{tld}");
            prop_assert!(Email::parse(&input).is_err(), "{}", input);
        }

        #[test]
        fn composed_and_decomposed_domains_are_one_address(local in "[a-z0-9]{1,10}", stem in "[a-z]{1,8}", accent in proptest::sample::select(vec!['\u{0301}', '\u{0308}', '\u{0300}'])) {
            use unicode_normalization::UnicodeNormalization as _;
            let decomposed = format!("{local}@{stem}e{accent}.example");
            let composed: String = decomposed.nfc().collect();
            prop_assert_eq!(Email::parse(&decomposed).unwrap(), Email::parse(&composed).unwrap());
        }
    }
}
