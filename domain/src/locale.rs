//! The language a user's mail is written in, recorded at signup.

use std::fmt;

/// A language tag such as `en` or `pt-br`, lower-cased. Which tags have templates is the
/// templates' business; this only keeps the value well-formed.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Locale(String);

impl Locale {
    /// English, the fallback.
    pub fn english() -> Self {
        Self("en".to_owned())
    }

    /// A well-formed tag (a 2–3 letter language and optional subtags of 1–8 letters or digits),
    /// lower-cased; `None` otherwise.
    pub fn parse(tag: &str) -> Option<Self> {
        let tag = tag.trim().to_ascii_lowercase().replace('_', "-");
        let mut parts = tag.split('-');
        let language = parts.next()?;
        let language_ok =
            (2..=3).contains(&language.len()) && language.bytes().all(|b| b.is_ascii_lowercase());
        let subtags_ok = parts.all(|part| {
            (1..=8).contains(&part.len()) && part.bytes().all(|b| b.is_ascii_alphanumeric())
        });
        (language_ok && subtags_ok && tag.len() <= 35).then_some(Self(tag))
    }

    /// The tag.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The primary language (`pt` for `pt-br`).
    pub fn language(&self) -> &str {
        self.0.split('-').next().unwrap_or(&self.0)
    }
}

impl Default for Locale {
    fn default() -> Self {
        Self::english()
    }
}

impl fmt::Display for Locale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Locale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Locale({})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn tags_are_normalized() {
        assert_eq!(Locale::parse("pt_BR").unwrap().as_str(), "pt-br");
        assert_eq!(Locale::parse(" DE ").unwrap().as_str(), "de");
        assert_eq!(Locale::parse("pt-BR").unwrap().language(), "pt");
    }

    #[test]
    fn malformed_tags_are_refused() {
        for bad in [
            "",
            "e",
            "english",
            "en-",
            "de-toolongsubtag",
            "12",
            "en;q=0.8",
            "*",
        ] {
            assert_eq!(Locale::parse(bad), None, "{bad}");
        }
    }

    proptest! {
        #[test]
        fn parsing_is_idempotent(tag in "\\PC{0,40}") {
            if let Some(locale) = Locale::parse(&tag) {
                prop_assert_eq!(Locale::parse(locale.as_str()), Some(locale));
            }
        }
    }
}
