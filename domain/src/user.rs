//! The user: everything stored about one address.

use std::fmt;

use crate::random::{Randomness, RandomnessUnavailable};
use crate::session::SubjectId;
use crate::{
    Email, Locale, LoginThrottle, MailLog, PendingToken, StoredPassword, Timestamp, Token,
    TokenHash,
};

/// The identifier Cognito knows a user by (its *developer user identifier*), fixed for life so
/// that the user's IdentityId never changes.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct DeveloperUserId(String);

impl DeveloperUserId {
    /// The longest identifier Cognito accepts.
    pub const MAX_LENGTH: usize = 1024;

    /// A new random identifier (a version 4 UUID).
    pub fn generate(rng: &mut impl Randomness) -> Result<Self, RandomnessUnavailable> {
        crate::session::uuid_v4(rng).map(Self)
    }

    /// An identifier read back from storage or carried over from LambdAuth (which used the email
    /// exactly as the user first typed it).
    pub fn parse(text: &str) -> Option<Self> {
        (!text.is_empty() && text.len() <= Self::MAX_LENGTH).then(|| Self(text.to_owned()))
    }

    /// The identifier.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl User {
    /// The pending signup whose link `token` is, unexpired at `now`.
    pub fn signup_for(&self, token: &crate::Token, now: Timestamp) -> Option<&PendingSignup> {
        self.pending_signups
            .iter()
            .find(|signup| signup.token.accepts(token, now))
    }
}

impl fmt::Debug for DeveloperUserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A legacy identifier is an email address: show only its length.
        write!(f, "DeveloperUserId({} chars)", self.0.len())
    }
}

/// The most signups of one unverified address kept waiting for verification; a further one gets
/// no link until one of theirs expires, so no one can push a waiting signup out.
pub const MAX_PENDING_SIGNUPS: usize = 3;

/// A signup waiting for its address to be verified: the token mailed for it and the password it
/// chose. Only that signup's own link makes that password the account's, so a stranger who signed
/// the address up first can never set the owner's password.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingSignup {
    /// The verification token mailed for this signup.
    pub token: PendingToken,
    /// The password this signup chose.
    pub password: StoredPassword,
}

/// A user as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    /// The normalized address, the user's key.
    pub email: Email,
    /// Cognito's identifier for the user.
    pub developer_user_id: DeveloperUserId,
    /// The password hash: the account's once verified; before that, the first signup's (each
    /// signup's own is in [`User::pending_signups`]).
    pub password: StoredPassword,
    /// Whether the address has been verified.
    pub verified: bool,
    /// The signups waiting for verification, oldest first, at most [`MAX_PENDING_SIGNUPS`].
    pub pending_signups: Vec<PendingSignup>,
    /// The unverified address was signed up more than once: a link then verifies only with the
    /// password of the signup it was mailed for, so an owner who follows a stranger's link (it
    /// came first, or theirs was held back by the cooldown) cannot apply the stranger's password.
    pub contested: bool,
    /// The pending password-reset token, if any.
    pub reset: Option<PendingToken>,
    /// Failed logins.
    pub throttle: LoginThrottle,
    /// When each kind of mail was last sent to the address.
    pub mail_log: MailLog,
    /// The language of the user's mail.
    pub locale: Locale,
    /// When the user signed up.
    pub created_at: Timestamp,
    /// When the item last changed.
    pub updated_at: Timestamp,
    /// The user's sessions and known devices.
    pub sessions: UserSessions,
    /// Incremented by every change; every write is conditioned on the version it read.
    pub version: u64,
}

/// The most devices remembered per user; a login from a further one forgets the one unused
/// longest.
pub const MAX_KNOWN_DEVICES: usize = 10;

/// A device the user logged in from (OWASP's device cookie): the hash of the device token it
/// was given, and its own failure count, so that failures from elsewhere cannot lock it out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KnownDevice {
    /// The hash of its device token.
    pub hash: TokenHash,
    /// Its failed logins.
    pub throttle: LoginThrottle,
    /// Its last successful login.
    pub last_login_at: Timestamp,
}

/// What the user item keeps of sessions.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UserSessions {
    /// The opaque id access tokens name the user by, given at the first login.
    pub subject: Option<SubjectId>,
    /// Sessions started under an older generation are dead: a password change, a reset and a
    /// logout everywhere bump it, ending every session in the one write of the user.
    pub generation: u64,
    /// The devices the user logged in from, ended with the sessions by a password change or a
    /// reset.
    pub devices: Vec<KnownDevice>,
}

impl UserSessions {
    /// The known device whose token hashes to `hash`.
    pub fn device(&self, hash: &TokenHash) -> Option<&KnownDevice> {
        self.devices.iter().find(|device| &device.hash == hash)
    }

    /// Ends every session and forgets every device (a new password).
    pub fn end_all_and_forget_devices(&mut self) {
        self.generation += 1;
        self.devices.clear();
    }

    /// Ends every session and forgets every device but the known one whose token hashes to
    /// `kept` (the device a new password was set from, proven by its old one), whose failures
    /// are forgiven at `now`.
    pub fn end_all_and_forget_devices_but(&mut self, kept: Option<&TokenHash>, now: Timestamp) {
        let kept = kept
            .and_then(|hash| self.devices.iter().position(|device| &device.hash == hash))
            .map(|index| self.devices.swap_remove(index));
        self.end_all_and_forget_devices();
        if let Some(mut device) = kept {
            device.throttle = LoginThrottle::default();
            device.last_login_at = now;
            self.devices.push(device);
        }
    }

    /// Remembers a device the user has just proven itself from, issuing it a device token; the
    /// device unused longest is forgotten when [`MAX_KNOWN_DEVICES`] are known already.
    pub fn remember_new_device(
        &mut self,
        now: Timestamp,
        rng: &mut impl Randomness,
    ) -> Result<Token, RandomnessUnavailable> {
        let token = Token::generate(rng)?;
        if self.devices.len() >= MAX_KNOWN_DEVICES {
            self.devices
                .sort_by_key(|known| std::cmp::Reverse(known.last_login_at));
            self.devices.truncate(MAX_KNOWN_DEVICES - 1);
        }
        self.devices.push(KnownDevice {
            hash: token.hash(),
            throttle: LoginThrottle::default(),
            last_login_at: now,
        });
        Ok(token)
    }
}
