//! The rules of LambdAuth, free of any AWS crate and of any async runtime.
//!
//! This crate owns the value types (emails, passwords, tokens, stored password hashes), the
//! password policy, the login throttle, the retry back-off, and the six use cases as pure
//! decisions: each takes the current state, the input, the time and a source of randomness, and
//! returns the new state to persist, the mail to emit and the answer to give. The handlers do the
//! I/O around them.

pub mod backoff;
pub mod clock;
pub mod email;
pub mod error;
pub mod feedback;
pub mod hashing;
pub mod legacy;
pub mod limits;
pub mod locale;
pub mod lockout;
pub mod mail;
pub mod mail_cap;
pub mod outbox;
pub mod password;
pub mod random;
pub mod session;
pub mod token;
pub mod usecases;
pub mod user;

mod common_passwords;

pub use backoff::{Backoff, Jitter};
pub use clock::{Clock, SystemClock, Timestamp};
pub use email::{Email, InvalidEmail, mask_addresses};
pub use error::ErrorCode;
pub use hashing::{HashError, HashingParams, PasswordCheck, PasswordHasher, StoredPassword};
pub use limits::{InvalidRate, Rate, RouteClass, SourceKey};
pub use locale::Locale;
pub use lockout::{LockoutPolicy, LoginThrottle, RetryAfter};
pub use mail::{MailCooldowns, MailId, MailKind, MailLog, OutgoingMail};
pub use mail_cap::{InvalidMailCap, MailCap, OverCap};
pub use outbox::{MailStatus, OutboxMail};
pub use password::{NewPassword, PasswordAttempt, PasswordPolicy, PasswordRejected};
pub use random::{OsRandomness, Randomness, RandomnessUnavailable};
pub use session::{RefreshToken, Session, SessionId, SessionPolicy, SubjectId};
pub use token::{InvalidToken, PendingToken, Token, TokenHash};
pub use usecases::Settings;
pub use user::{
    DeveloperUserId, KnownDevice, MAX_KNOWN_DEVICES, MAX_PENDING_SIGNUPS, PendingSignup, User,
    UserSessions,
};
