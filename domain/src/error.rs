//! Stable error codes: the strings API clients may match on.

/// An error that API clients may see, with a code that never changes between releases.
pub trait ErrorCode {
    /// The stable, machine-readable code (for example `InvalidEmail`).
    fn code(&self) -> &'static str;
}
