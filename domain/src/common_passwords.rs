//! The blocklist of common passwords, compiled into the binary.
//!
//! The list is stored sorted by byte order, so a lookup is a bisection over the lines of a static
//! string: nothing is built at start-up, which keeps cold starts short.

use std::sync::OnceLock;

const LIST: &str = include_str!("../data/common-passwords.txt");

fn entries() -> &'static [&'static str] {
    static ENTRIES: OnceLock<Vec<&'static str>> = OnceLock::new();
    ENTRIES.get_or_init(|| LIST.lines().collect())
}

/// Whether `candidate` (already NFKC-normalized) is on the list, ignoring case.
pub(crate) fn contains(candidate: &str) -> bool {
    let lowered = candidate.to_lowercase();
    entries().binary_search(&lowered.as_str()).is_ok()
}

/// How many passwords the list holds.
#[cfg(test)]
pub(crate) fn len() -> usize {
    entries().len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_is_large_and_sorted() {
        assert!(len() >= 10_000, "only {} entries", len());
        assert!(entries().windows(2).all(|pair| pair[0] < pair[1]));
    }

    #[test]
    fn well_known_passwords_are_found_in_any_case() {
        for password in [
            "password", "123456", "qwerty", "PASSWORD", "iloveyou", "Trustno1",
        ] {
            assert!(contains(password), "{password}");
        }
        assert!(!contains("correct horse battery staple"));
    }
}
