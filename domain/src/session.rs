//! Sessions: what a login starts and a refresh continues. A session holds only the hash of its
//! current refresh token and of the one it replaced; each refresh rotates the token, a retired
//! token presented again inside a short grace window refreshes once more (a client that lost an
//! answer may retry), and after it ends the whole session (RFC 9700 §4.14.2: whoever holds a
//! retired token beyond the grace is a thief or raced one). A user's *session generation*,
//! bumped by a password change, a reset and a logout everywhere, ends all of them in one write.

use std::fmt;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::random::{Randomness, RandomnessUnavailable};
use crate::token::InvalidToken;
use crate::{Email, Timestamp, Token, TokenHash};

/// How long sessions live.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionPolicy {
    /// A session unused this long ends.
    pub idle: Duration,
    /// A session ends this long after the login that started it, however used.
    pub max: Duration,
    /// How long a retired refresh token still refreshes (once more, with a new successor).
    pub reuse_grace: Duration,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        Self {
            idle: Duration::from_hours(24 * 30),
            max: Duration::from_hours(24 * 90),
            reuse_grace: Duration::from_secs(30),
        }
    }
}

/// A version 4 UUID from `rng`, as text.
pub(crate) fn uuid_v4(rng: &mut impl Randomness) -> Result<String, RandomnessUnavailable> {
    use std::fmt::Write as _;
    let mut bytes: [u8; 16] = rng.bytes()?;
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().fold(String::with_capacity(32), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    });
    Ok(format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    ))
}

fn is_uuid(text: &str) -> bool {
    text.len() == 36
        && text.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_digit() || (b'a'..=b'f').contains(&b),
        })
}

/// The opaque, stable identifier of a user in access tokens (`sub`): never the address, so a
/// token shown to another service does not disclose it, and unchanged for the user's life.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct SubjectId(String);

impl SubjectId {
    /// A new random identifier (a version 4 UUID).
    pub fn generate(rng: &mut impl Randomness) -> Result<Self, RandomnessUnavailable> {
        uuid_v4(rng).map(Self)
    }

    /// An identifier read back from storage or a token: a lower-case UUID.
    pub fn parse(text: &str) -> Option<Self> {
        is_uuid(text).then(|| Self(text.to_owned()))
    }

    /// The identifier.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Bytes of randomness in a session id.
const SESSION_ID_BYTES: usize = 16;

/// A session's identifier: 128 random bits as unpadded URL-safe Base64 (22 characters). Not a
/// secret (it is in every access token of the session), only unguessable.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct SessionId(String);

impl SessionId {
    /// A new random identifier.
    pub fn generate(rng: &mut impl Randomness) -> Result<Self, RandomnessUnavailable> {
        let bytes: [u8; SESSION_ID_BYTES] = rng.bytes()?;
        Ok(Self(URL_SAFE_NO_PAD.encode(bytes)))
    }

    /// An identifier from a request or storage, if it has the shape of one.
    pub fn parse(text: &str) -> Option<Self> {
        let well_formed = text.len() == 22
            && text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        well_formed.then(|| Self(text.to_owned()))
    }

    /// The identifier.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A refresh token: `<subject>.<session id>.<secret>`. The first two parts only say where its
/// session is stored; the 256-bit secret is what proves it, and only the hash of the whole text
/// is stored.
#[derive(Clone, PartialEq, Eq)]
pub struct RefreshToken {
    subject: SubjectId,
    session: SessionId,
    text: Token,
}

impl RefreshToken {
    fn issue(
        subject: &SubjectId,
        session: &SessionId,
        rng: &mut impl Randomness,
    ) -> Result<Self, RandomnessUnavailable> {
        let secret = Token::generate(rng)?;
        let text = format!(
            "{}.{}.{}",
            subject.as_str(),
            session.as_str(),
            secret.expose()
        );
        Ok(Self {
            subject: subject.clone(),
            session: session.clone(),
            text: Token::from_trusted(text),
        })
    }

    /// A refresh token from a request; anything that is not shaped like one is refused the same
    /// way an unknown one is.
    pub fn parse(text: &str) -> Result<Self, InvalidToken> {
        let mut parts = text.split('.');
        let (Some(subject), Some(session), Some(secret), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(InvalidToken);
        };
        let subject = SubjectId::parse(subject).ok_or(InvalidToken)?;
        let session = SessionId::parse(session).ok_or(InvalidToken)?;
        Token::parse(secret)?;
        Ok(Self {
            subject,
            session,
            text: Token::from_trusted(text.to_owned()),
        })
    }

    /// The user the token names.
    pub fn subject(&self) -> &SubjectId {
        &self.subject
    }

    /// The session the token names.
    pub fn session(&self) -> &SessionId {
        &self.session
    }

    /// The text to hand the client.
    pub fn expose(&self) -> &str {
        self.text.expose()
    }

    /// The hash stored in the session.
    pub fn hash(&self) -> TokenHash {
        self.text.hash()
    }
}

impl fmt::Debug for RefreshToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RefreshToken({:?}, ***)", self.session)
    }
}

/// The longest user agent kept with a session, in bytes.
pub const MAX_USER_AGENT_BYTES: usize = 256;

/// A refresh token that a rotation replaced, and when.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetiredToken {
    /// Its hash.
    pub hash: TokenHash,
    /// When it was replaced.
    pub retired_at: Timestamp,
}

/// A session as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    /// Its identifier.
    pub id: SessionId,
    /// Its user's opaque identifier.
    pub subject: SubjectId,
    /// Its user's address: where the user item (and its session generation) is.
    pub email: Email,
    /// The hash of the current refresh token.
    pub refresh_hash: TokenHash,
    /// The token the last rotation replaced.
    pub previous: Option<RetiredToken>,
    /// When the login started it.
    pub created_at: Timestamp,
    /// When it was last refreshed (or started).
    pub last_used_at: Timestamp,
    /// The client's `User-Agent`, cut to [`MAX_USER_AGENT_BYTES`].
    pub user_agent: Option<String>,
    /// The user's session generation when it started: it is dead once the user's is higher.
    pub generation: u64,
    /// Incremented by every write; every write is conditioned on the version read.
    pub version: u64,
}

impl Session {
    /// When the session ends if not refreshed before: the idle limit or the absolute one,
    /// whichever comes first.
    pub fn expires_at(&self, policy: &SessionPolicy) -> Timestamp {
        self.last_used_at
            .plus(policy.idle)
            .min(self.created_at.plus(policy.max))
    }

    /// Whether the session is alive at `now` for a user whose generation is `user_generation`.
    pub fn is_live(&self, now: Timestamp, policy: &SessionPolicy, user_generation: u64) -> bool {
        now < self.expires_at(policy) && self.generation >= user_generation
    }
}

fn cut_user_agent(user_agent: Option<&str>) -> Option<String> {
    let user_agent = user_agent?.trim();
    if user_agent.is_empty() {
        return None;
    }
    let mut end = user_agent.len().min(MAX_USER_AGENT_BYTES);
    while !user_agent.is_char_boundary(end) {
        end -= 1;
    }
    Some(user_agent[..end].to_owned())
}

/// A new session of the user `subject` at `email`, whose session generation is `generation`,
/// and its first refresh token.
pub fn start(
    subject: &SubjectId,
    email: &Email,
    generation: u64,
    user_agent: Option<&str>,
    now: Timestamp,
    rng: &mut impl Randomness,
) -> Result<(Session, RefreshToken), RandomnessUnavailable> {
    let id = SessionId::generate(rng)?;
    let token = RefreshToken::issue(subject, &id, rng)?;
    let session = Session {
        id,
        subject: subject.clone(),
        email: email.clone(),
        refresh_hash: token.hash(),
        previous: None,
        created_at: now,
        last_used_at: now,
        user_agent: cut_user_agent(user_agent),
        generation,
        version: 1,
    };
    Ok((session, token))
}

/// What a refresh comes to.
#[derive(Debug, PartialEq, Eq)]
pub enum Refresh {
    /// Write `session` (on the condition of the version read) and hand out `token`.
    Rotated {
        /// The session after the rotation.
        session: Box<Session>,
        /// Its new refresh token.
        token: RefreshToken,
    },
    /// A retired token came back after the grace: end the session, refuse.
    ReuseDetected,
    /// Unknown, expired or ended: refuse, change nothing.
    Refused,
}

/// Refreshes `session` with the token `presented`, for a user whose session generation is
/// `user_generation`, at `now`.
///
/// The current token rotates: it becomes the retired one, a new one is current. The retired
/// token presented inside the grace window gets a new current token too, but the retired one and
/// its time stay as they were, so the window never stretches and at most one successor is ever
/// alive (an earlier successor is simply replaced). After the window, the retired token ends the
/// session.
pub fn refresh(
    session: &Session,
    presented: &RefreshToken,
    user_generation: u64,
    now: Timestamp,
    policy: &SessionPolicy,
    rng: &mut impl Randomness,
) -> Result<Refresh, RandomnessUnavailable> {
    if presented.session() != &session.id
        || presented.subject() != &session.subject
        || !session.is_live(now, policy, user_generation)
    {
        return Ok(Refresh::Refused);
    }
    let hash = presented.hash();
    let previous = if hash == session.refresh_hash {
        Some(RetiredToken {
            hash: session.refresh_hash,
            retired_at: now,
        })
    } else {
        match &session.previous {
            Some(retired) if hash == retired.hash => {
                if now.since(retired.retired_at) > policy.reuse_grace {
                    return Ok(Refresh::ReuseDetected);
                }
                Some(retired.clone())
            }
            _ => return Ok(Refresh::Refused),
        }
    };
    let token = RefreshToken::issue(&session.subject, &session.id, rng)?;
    let rotated = Session {
        refresh_hash: token.hash(),
        previous,
        last_used_at: now,
        version: session.version + 1,
        ..session.clone()
    };
    Ok(Refresh::Rotated {
        session: Box::new(rotated),
        token,
    })
}

/// Whether `presented` is a token of `session` that may still end it: its current token, or its
/// retired one inside the grace window. A token that could not refresh cannot log out either.
pub fn may_end(
    session: &Session,
    presented: &RefreshToken,
    user_generation: u64,
    now: Timestamp,
    policy: &SessionPolicy,
) -> bool {
    if presented.session() != &session.id || !session.is_live(now, policy, user_generation) {
        return false;
    }
    let hash = presented.hash();
    hash == session.refresh_hash
        || session.previous.as_ref().is_some_and(|retired| {
            hash == retired.hash && now.since(retired.retired_at) <= policy.reuse_grace
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::testing::CountingRandomness as SeededRandomness;

    fn now() -> Timestamp {
        Timestamp::from_millis(1_800_000_000_000)
    }

    fn started() -> (Session, RefreshToken, SeededRandomness) {
        let mut rng = SeededRandomness(7);
        let subject = SubjectId::generate(&mut rng).unwrap();
        let email = Email::parse("owner@example.com").unwrap();
        let (session, token) =
            start(&subject, &email, 2, Some("Firefox"), now(), &mut rng).unwrap();
        (session, token, rng)
    }

    fn rotate(
        session: &Session,
        token: &RefreshToken,
        at: Timestamp,
        rng: &mut SeededRandomness,
    ) -> (Session, RefreshToken) {
        match refresh(session, token, 2, at, &SessionPolicy::default(), rng).unwrap() {
            Refresh::Rotated { session, token } => (*session, token),
            other => panic!("expected a rotation, got {other:?}"),
        }
    }

    #[test]
    fn a_token_round_trips_and_its_parts_name_its_session() {
        let (session, token, _) = started();
        let parsed = RefreshToken::parse(token.expose()).unwrap();
        assert_eq!(parsed.hash(), session.refresh_hash);
        assert_eq!(parsed.session(), &session.id);
        assert_eq!(parsed.subject(), &session.subject);
        assert!(!format!("{token:?}").contains(token.expose()));
        for bad in [
            "",
            "a.b.c",
            "x.y",
            &format!("{}.extra", token.expose()),
            &token.expose().replace('.', ":"),
        ] {
            assert_eq!(RefreshToken::parse(bad), Err(InvalidToken), "{bad}");
        }
    }

    #[test]
    fn a_refresh_rotates_and_the_new_token_refreshes_next() {
        let (session, token, mut rng) = started();
        let (after, next) = rotate(
            &session,
            &token,
            now().plus(Duration::from_secs(5)),
            &mut rng,
        );
        assert_ne!(next.hash(), token.hash());
        assert_eq!(after.refresh_hash, next.hash());
        assert_eq!(after.previous.as_ref().unwrap().hash, token.hash());
        assert_eq!(after.version, session.version + 1);
        let (again, _) = rotate(&after, &next, now().plus(Duration::from_secs(10)), &mut rng);
        assert_eq!(again.previous.unwrap().hash, next.hash());
    }

    #[test]
    fn a_retired_token_refreshes_inside_the_grace_and_ends_the_session_after_it() {
        let (session, token, mut rng) = started();
        let (after, first) = rotate(&session, &token, now(), &mut rng);
        let retry_at = now().plus(Duration::from_secs(30));
        let (retried, second) = rotate(&after, &token, retry_at, &mut rng);
        // The window did not stretch, and the first successor is no longer alive.
        assert_eq!(retried.previous, after.previous);
        assert_eq!(retried.refresh_hash, second.hash());
        let policy = SessionPolicy::default();
        assert_eq!(
            refresh(&retried, &first, 2, retry_at, &policy, &mut rng).unwrap(),
            Refresh::Refused
        );
        let late = now().plus(Duration::from_secs(31));
        assert_eq!(
            refresh(&retried, &token, 2, late, &policy, &mut rng).unwrap(),
            Refresh::ReuseDetected
        );
    }

    #[test]
    fn expired_ended_and_foreign_sessions_refuse() {
        let (session, token, mut rng) = started();
        let policy = SessionPolicy::default();
        let idle = now().plus(policy.idle);
        assert_eq!(
            refresh(&session, &token, 2, idle, &policy, &mut rng).unwrap(),
            Refresh::Refused
        );
        let mut busy = session.clone();
        busy.last_used_at = now().plus(policy.max);
        assert_eq!(
            refresh(&busy, &token, 2, now().plus(policy.max), &policy, &mut rng).unwrap(),
            Refresh::Refused
        );
        assert_eq!(
            refresh(&session, &token, 3, now(), &policy, &mut rng).unwrap(),
            Refresh::Refused,
            "a newer user generation ends it"
        );
        let (_, other) = started_other(&mut rng);
        assert_eq!(
            refresh(&session, &other, 2, now(), &policy, &mut rng).unwrap(),
            Refresh::Refused
        );
        assert!(may_end(&session, &token, 2, now(), &policy));
        assert!(!may_end(&session, &other, 2, now(), &policy));
    }

    fn started_other(rng: &mut SeededRandomness) -> (Session, RefreshToken) {
        let subject = SubjectId::generate(rng).unwrap();
        let email = Email::parse("other@example.com").unwrap();
        start(&subject, &email, 0, None, now(), rng).unwrap()
    }

    #[test]
    fn user_agents_are_cut_on_a_character_boundary() {
        let long = "é".repeat(200);
        let cut = cut_user_agent(Some(&long)).unwrap();
        assert!(cut.len() <= MAX_USER_AGENT_BYTES);
        assert!(long.starts_with(&cut));
        assert_eq!(cut_user_agent(Some("  ")), None);
    }

    #[test]
    fn ids_have_their_shapes() {
        let mut rng = SeededRandomness(1);
        let subject = SubjectId::generate(&mut rng).unwrap();
        assert_eq!(SubjectId::parse(subject.as_str()), Some(subject));
        assert_eq!(SubjectId::parse("owner@example.com"), None);
        let id = SessionId::generate(&mut rng).unwrap();
        assert_eq!(SessionId::parse(id.as_str()), Some(id));
        assert_eq!(SessionId::parse("short"), None);
    }
}
