//! Carrying users over from a LambdAuth table: how one legacy row becomes a [`User`], why a row
//! cannot, and which row wins when two legacy addresses differ only in case.
//!
//! LambdAuth kept one item per address, keyed by `email` exactly as typed, with `passwordHash`
//! and `passwordSalt` (PBKDF2-HMAC-SHA1), `verified`, and its pending link tokens in clear as
//! `verifyToken` and `lostToken`. Rows arrive here as [`LegacyRow`]s, a neutral form the adapter
//! fills from whatever it read (a live table or the JSON of `aws dynamodb scan`), so that this
//! module needs no AWS crate.
//!
//! A carried-over user keeps its password (verified as PBKDF2 until the next login rehashes it),
//! its verified flag, and its Cognito developer identifier (the address exactly as LambdAuth
//! stored it, so its IdentityId stays the same). A pending token is stored only as its hash,
//! valid for a fresh verification or reset period from the import, so a link already mailed by
//! the old system still works once.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use thiserror::Error;

use crate::usecases::Settings;
use crate::{
    DeveloperUserId, Email, HashError, InvalidEmail, Locale, LoginThrottle, MailLog, PendingSignup,
    PendingToken, StoredPassword, Timestamp, Token, User,
};

/// The legacy table's attribute names.
pub mod attribute {
    /// The address, exactly as typed at signup: the table's hash key.
    pub const EMAIL: &str = "email";
    /// Base64 of the PBKDF2-HMAC-SHA1 key.
    pub const PASSWORD_HASH: &str = "passwordHash";
    /// The salt: a base64 string whose bytes (not what it decodes to) were the PBKDF2 salt.
    pub const PASSWORD_SALT: &str = "passwordSalt";
    /// Whether the address was verified.
    pub const VERIFIED: &str = "verified";
    /// The pending verification token, in clear (hex).
    pub const VERIFY_TOKEN: &str = "verifyToken";
    /// The pending password-reset token, in clear (hex).
    pub const LOST_TOKEN: &str = "lostToken";
}

/// One attribute value of a legacy row, in a form free of any storage crate.
#[derive(Clone, PartialEq, Eq)]
pub enum LegacyValue {
    /// A string (DynamoDB `S`).
    Text(String),
    /// A boolean (DynamoDB `BOOL`).
    Bool(bool),
    /// A number, as its text (DynamoDB `N`).
    Number(String),
    /// Any other kind of value, by the name of its kind (`NULL`, `M`, `L`, `B`, …).
    Other(String),
}

impl LegacyValue {
    fn kind(&self) -> &str {
        match self {
            Self::Text(_) => "S",
            Self::Bool(_) => "BOOL",
            Self::Number(_) => "N",
            Self::Other(kind) => kind,
        }
    }
}

/// Only the kind shows: a legacy row holds hashes and tokens in clear.
impl fmt::Debug for LegacyValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "LegacyValue({})", self.kind())
    }
}

/// One item of a LambdAuth table: attribute name → value.
pub type LegacyRow = BTreeMap<String, LegacyValue>;

/// Why a legacy row is not carried over.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum SkipReason {
    /// A required attribute is absent.
    #[error("`{0}` is missing")]
    Missing(&'static str),
    /// An attribute holds another kind of value than LambdAuth wrote.
    #[error("`{attribute}` is of type {found}, not {expected}")]
    WrongType {
        /// The attribute.
        attribute: &'static str,
        /// The kind LambdAuth wrote.
        expected: &'static str,
        /// The kind found.
        found: String,
    },
    /// The address is not one this service accepts.
    #[error("the email address is not accepted: {0}")]
    InvalidEmail(#[from] InvalidEmail),
    /// The address cannot serve as a Cognito developer identifier.
    #[error("the email address is too long to be a Cognito developer identifier")]
    InvalidDeveloperUserId,
    /// The hash or salt is not LambdAuth's.
    #[error("the password hash is not a LambdAuth hash: {0}")]
    InvalidPassword(HashError),
    /// Another row has the same address once normalized (it differs at most in case or
    /// surrounding space), and that one is carried over.
    #[error("the same address as `{kept}` once normalized; `{kept}` is imported instead")]
    CaseDuplicate {
        /// The legacy address of the row kept.
        kept: String,
    },
}

/// A pending token that is not carried over (its owner can ask for a new link).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DroppedLink {
    /// `verifyToken` is not a token the verification page would accept.
    Verification,
    /// `lostToken` is not a token the reset page would accept.
    Reset,
}

impl DroppedLink {
    /// The legacy attribute that held it.
    pub fn attribute(self) -> &'static str {
        match self {
            Self::Verification => attribute::VERIFY_TOKEN,
            Self::Reset => attribute::LOST_TOKEN,
        }
    }
}

/// A legacy row as a user of this service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigratedUser {
    /// The address exactly as the legacy table held it (its key there).
    pub legacy_email: String,
    /// The user to store.
    pub user: User,
    /// Pending tokens that could not be carried over.
    pub dropped_links: Vec<DroppedLink>,
}

/// Maps one legacy row, read at `now`, to a user: the address normalized, the PBKDF2 hash kept,
/// the developer identifier being the address as stored, and pending tokens stored as hashes
/// valid for `settings`' verification and reset periods from `now`.
pub fn migrate_row(
    row: &LegacyRow,
    now: Timestamp,
    settings: &Settings,
) -> Result<MigratedUser, SkipReason> {
    let legacy_email = required_text(row, attribute::EMAIL)?;
    let email = Email::parse(legacy_email)?;
    let developer_user_id =
        DeveloperUserId::parse(legacy_email).ok_or(SkipReason::InvalidDeveloperUserId)?;
    let password = StoredPassword::from_legacy(
        required_text(row, attribute::PASSWORD_SALT)?,
        required_text(row, attribute::PASSWORD_HASH)?,
    )
    .map_err(SkipReason::InvalidPassword)?;
    let verified = match row.get(attribute::VERIFIED) {
        None => false,
        Some(LegacyValue::Bool(verified)) => *verified,
        Some(other) => {
            return Err(SkipReason::WrongType {
                attribute: attribute::VERIFIED,
                expected: "BOOL",
                found: other.kind().to_owned(),
            });
        }
    };
    let mut dropped_links = Vec::new();
    // LambdAuth removed `verifyToken` on verification; one left on a verified row is stale.
    let verification = if verified {
        None
    } else {
        pending_token(
            row,
            DroppedLink::Verification,
            now,
            settings,
            &mut dropped_links,
        )?
    };
    let reset = pending_token(row, DroppedLink::Reset, now, settings, &mut dropped_links)?;
    Ok(MigratedUser {
        legacy_email: legacy_email.to_owned(),
        user: User {
            email,
            developer_user_id,
            verified,
            // A link LambdAuth mailed was for the password the row holds.
            pending_signups: verification
                .map(|token| PendingSignup {
                    token,
                    password: password.clone(),
                })
                .into_iter()
                .collect(),
            contested: false,
            password,
            reset,
            throttle: LoginThrottle::default(),
            mail_log: MailLog::default(),
            locale: Locale::english(),
            created_at: now,
            updated_at: now,
            sessions: crate::UserSessions::default(),
            version: 1,
        },
        dropped_links,
    })
}

fn required_text<'a>(row: &'a LegacyRow, name: &'static str) -> Result<&'a str, SkipReason> {
    match row.get(name) {
        None => Err(SkipReason::Missing(name)),
        Some(LegacyValue::Text(text)) if text.is_empty() => Err(SkipReason::Missing(name)),
        Some(LegacyValue::Text(text)) => Ok(text),
        Some(other) => Err(SkipReason::WrongType {
            attribute: name,
            expected: "S",
            found: other.kind().to_owned(),
        }),
    }
}

/// The pending token in the row's attribute for `link`, as a hash valid for its period from
/// `now`. A token the pages would refuse is dropped and noted: it could never be redeemed, and
/// its owner can ask for a new link.
fn pending_token(
    row: &LegacyRow,
    link: DroppedLink,
    now: Timestamp,
    settings: &Settings,
    dropped: &mut Vec<DroppedLink>,
) -> Result<Option<PendingToken>, SkipReason> {
    let text = match row.get(link.attribute()) {
        None | Some(LegacyValue::Other(_)) => return Ok(None),
        Some(LegacyValue::Text(text)) if text.is_empty() => return Ok(None),
        Some(LegacyValue::Text(text)) => text,
        Some(other) => {
            return Err(SkipReason::WrongType {
                attribute: link.attribute(),
                expected: "S",
                found: other.kind().to_owned(),
            });
        }
    };
    let Ok(token) = Token::parse(text) else {
        dropped.push(link);
        return Ok(None);
    };
    let ttl = match link {
        DroppedLink::Verification => settings.verification_ttl,
        DroppedLink::Reset => settings.reset_ttl,
    };
    Ok(Some(PendingToken {
        hash: token.hash(),
        expires_at: now.plus(ttl),
    }))
}

/// A row that is not carried over, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedRow {
    /// The row's address as the legacy table held it, when it has one.
    pub legacy_email: Option<String>,
    /// Why.
    pub reason: SkipReason,
}

/// What an import will write: one user per normalized address, and the rows left out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MigrationPlan {
    /// The users, in the order their rows were first seen.
    pub users: Vec<MigratedUser>,
    /// The rows left out, in the order they were seen (case duplicates once the winner is known).
    pub skipped: Vec<SkippedRow>,
}

/// Collects legacy rows into a [`MigrationPlan`], resolving addresses that differ only in case:
/// the verified row wins, or the first seen when neither (or both) is verified.
#[derive(Debug)]
pub struct MigrationPlanner {
    now: Timestamp,
    settings: Settings,
    users: Vec<MigratedUser>,
    by_email: HashMap<Email, usize>,
    skipped: Vec<SkippedRow>,
    duplicates: Vec<(Email, String)>,
}

impl MigrationPlanner {
    /// A planner mapping rows as read at `now` under `settings`.
    pub fn new(now: Timestamp, settings: Settings) -> Self {
        Self {
            now,
            settings,
            users: Vec::new(),
            by_email: HashMap::new(),
            skipped: Vec::new(),
            duplicates: Vec::new(),
        }
    }

    /// Adds the next row, in the order of the source.
    pub fn add(&mut self, row: &LegacyRow) {
        let migrated = match migrate_row(row, self.now, &self.settings) {
            Ok(migrated) => migrated,
            Err(reason) => {
                let legacy_email = match row.get(attribute::EMAIL) {
                    Some(LegacyValue::Text(text)) if !text.is_empty() => Some(text.clone()),
                    _ => None,
                };
                self.skipped.push(SkippedRow {
                    legacy_email,
                    reason,
                });
                return;
            }
        };
        let email = migrated.user.email.clone();
        let Some(&index) = self.by_email.get(&email) else {
            self.by_email.insert(email, self.users.len());
            self.users.push(migrated);
            return;
        };
        let held = &mut self.users[index];
        if migrated.user.verified && !held.user.verified {
            let loser = std::mem::replace(held, migrated);
            self.duplicates.push((email, loser.legacy_email));
        } else {
            self.duplicates.push((email, migrated.legacy_email));
        }
    }

    /// The plan: the users to write and every row left out.
    pub fn finish(self) -> MigrationPlan {
        let Self {
            users,
            by_email,
            mut skipped,
            duplicates,
            ..
        } = self;
        for (email, legacy_email) in duplicates {
            let kept = users[by_email[&email]].legacy_email.clone();
            skipped.push(SkippedRow {
                legacy_email: Some(legacy_email),
                reason: SkipReason::CaseDuplicate { kept },
            });
        }
        MigrationPlan { users, skipped }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;

    use super::*;

    const SALT: &str = "+6x3SiTuUCgbgRTQRnVji4iyMY0b2vvtu7DWsmJkb0JYUDJ1ECeCd+1Md1mMgRDJ";
    const HEX_TOKEN_BYTES: usize = 128;

    fn now() -> Timestamp {
        Timestamp::from_millis(1_700_000_000_000)
    }

    fn hash() -> String {
        STANDARD.encode([9u8; 128])
    }

    /// A token as LambdAuth made them: 128 bytes as lower-case hex.
    fn hex_token(seed: u8) -> String {
        use std::fmt::Write as _;
        (0..HEX_TOKEN_BYTES).fold(String::new(), |mut out, i| {
            let byte = seed.wrapping_add(u8::try_from(i % 256).unwrap());
            let _ = write!(out, "{byte:02x}");
            out
        })
    }

    fn text(value: &str) -> LegacyValue {
        LegacyValue::Text(value.to_owned())
    }

    fn row(email: &str, verified: bool) -> LegacyRow {
        LegacyRow::from([
            (attribute::EMAIL.to_owned(), text(email)),
            (attribute::PASSWORD_HASH.to_owned(), text(&hash())),
            (attribute::PASSWORD_SALT.to_owned(), text(SALT)),
            (attribute::VERIFIED.to_owned(), LegacyValue::Bool(verified)),
        ])
    }

    fn with(mut row: LegacyRow, name: &str, value: LegacyValue) -> LegacyRow {
        row.insert(name.to_owned(), value);
        row
    }

    fn without(mut row: LegacyRow, name: &str) -> LegacyRow {
        row.remove(name);
        row
    }

    fn migrate(row: &LegacyRow) -> Result<MigratedUser, SkipReason> {
        migrate_row(row, now(), &Settings::default())
    }

    #[test]
    fn a_verified_row_keeps_its_hash_its_flag_and_its_address_as_developer_id() {
        let migrated = migrate(&row("  Bob.Smith@Example.org", true)).unwrap();
        let user = &migrated.user;
        assert_eq!(user.email.as_str(), "bob.smith@example.org");
        assert_eq!(user.developer_user_id.as_str(), "  Bob.Smith@Example.org");
        assert_eq!(migrated.legacy_email, "  Bob.Smith@Example.org");
        assert!(user.verified);
        assert_eq!(
            user.password,
            StoredPassword::from_legacy(SALT, &hash()).unwrap()
        );
        assert!(user.password.is_legacy());
        assert!(user.pending_signups.is_empty());
        assert_eq!(user.reset, None);
        assert!(user.throttle.is_clear());
        assert_eq!((user.created_at, user.updated_at), (now(), now()));
        assert_eq!(user.version, 1);
        assert!(migrated.dropped_links.is_empty());
    }

    #[test]
    fn pending_tokens_become_hashes_with_a_fresh_expiry() {
        let settings = Settings {
            verification_ttl: Duration::from_hours(48),
            reset_ttl: Duration::from_mins(30),
            ..Settings::default()
        };
        let verify = hex_token(1);
        let lost = hex_token(2);
        let row = with(
            with(row("dave@example.com", false), "verifyToken", text(&verify)),
            "lostToken",
            text(&lost),
        );
        let user = migrate_row(&row, now(), &settings).unwrap().user;
        assert_eq!(user.pending_signups.len(), 1);
        assert_eq!(user.pending_signups[0].password, user.password);
        let verification = user.pending_signups[0].token;
        let reset = user.reset.unwrap();
        assert_eq!(
            verification.expires_at,
            now().plus(Duration::from_hours(48))
        );
        assert_eq!(reset.expires_at, now().plus(Duration::from_mins(30)));
        // The link the old system mailed carries the hex text; that text redeems it, once.
        assert!(verification.accepts(&Token::parse(&verify).unwrap(), now()));
        assert!(reset.accepts(&Token::parse(&lost).unwrap(), now()));
        assert!(!verification.accepts(&Token::parse(&lost).unwrap(), now()));
        assert!(!reset.accepts(
            &Token::parse(&lost).unwrap(),
            now().plus(Duration::from_mins(30))
        ));
    }

    #[test]
    fn a_verify_token_left_on_a_verified_row_is_not_carried_over() {
        let row = with(
            row("erin@example.com", true),
            "verifyToken",
            text(&hex_token(3)),
        );
        let migrated = migrate(&row).unwrap();
        assert!(migrated.user.pending_signups.is_empty());
        assert!(migrated.dropped_links.is_empty());
    }

    #[test]
    fn a_token_no_page_would_accept_is_dropped_and_noted() {
        let row = with(row("erin@example.com", false), "lostToken", text("short"));
        let migrated = migrate(&row).unwrap();
        assert_eq!(migrated.user.reset, None);
        assert_eq!(migrated.dropped_links, vec![DroppedLink::Reset]);
        assert_eq!(DroppedLink::Reset.attribute(), "lostToken");
    }

    #[test]
    fn a_missing_verified_flag_means_unverified() {
        let migrated = migrate(&without(row("a@example.com", true), "verified")).unwrap();
        assert!(!migrated.user.verified);
    }

    #[test]
    fn bad_rows_are_skipped_with_a_reason() {
        let cases = [
            (
                without(row("a@example.com", true), "email"),
                SkipReason::Missing("email"),
            ),
            (
                without(row("a@example.com", true), "passwordHash"),
                SkipReason::Missing("passwordHash"),
            ),
            (
                with(row("a@example.com", true), "passwordSalt", text("")),
                SkipReason::Missing("passwordSalt"),
            ),
            (
                with(
                    row("a@example.com", true),
                    "verified",
                    LegacyValue::Text("yes".to_owned()),
                ),
                SkipReason::WrongType {
                    attribute: "verified",
                    expected: "BOOL",
                    found: "S".to_owned(),
                },
            ),
            (
                with(
                    row("a@example.com", true),
                    "email",
                    LegacyValue::Number("7".to_owned()),
                ),
                SkipReason::WrongType {
                    attribute: "email",
                    expected: "S",
                    found: "N".to_owned(),
                },
            ),
            (
                with(
                    row("a@example.com", false),
                    "verifyToken",
                    LegacyValue::Bool(true),
                ),
                SkipReason::WrongType {
                    attribute: "verifyToken",
                    expected: "S",
                    found: "BOOL".to_owned(),
                },
            ),
        ];
        for (row, reason) in cases {
            assert_eq!(migrate(&row).unwrap_err(), reason);
        }
        assert!(matches!(
            migrate(&row("not an address", true)),
            Err(SkipReason::InvalidEmail(_))
        ));
        assert!(matches!(
            migrate(&with(
                row("a@example.com", true),
                "passwordHash",
                text("not base64!")
            )),
            Err(SkipReason::InvalidPassword(_))
        ));
        assert!(matches!(
            migrate(&with(
                row("a@example.com", true),
                "passwordHash",
                text(&STANDARD.encode([1u8; 20]))
            )),
            Err(SkipReason::InvalidPassword(_))
        ));
    }

    #[test]
    fn debug_output_of_a_row_hides_its_values() {
        let row = row("a@example.com", true);
        let shown = format!("{row:?}");
        assert!(!shown.contains(SALT), "{shown}");
        assert!(!shown.contains(&hash()), "{shown}");
    }

    fn plan(rows: &[LegacyRow]) -> MigrationPlan {
        let mut planner = MigrationPlanner::new(now(), Settings::default());
        for row in rows {
            planner.add(row);
        }
        planner.finish()
    }

    fn legacy_emails(plan: &MigrationPlan) -> Vec<&str> {
        plan.users.iter().map(|u| u.legacy_email.as_str()).collect()
    }

    #[test]
    fn of_two_addresses_differing_in_case_the_verified_one_wins() {
        let plan = plan(&[
            row("Bob@Example.org", false),
            row("alice@example.com", true),
            row("bob@example.org", true),
        ]);
        assert_eq!(
            legacy_emails(&plan),
            vec!["bob@example.org", "alice@example.com"]
        );
        assert!(plan.users[0].user.verified);
        assert_eq!(
            plan.skipped,
            vec![SkippedRow {
                legacy_email: Some("Bob@Example.org".to_owned()),
                reason: SkipReason::CaseDuplicate {
                    kept: "bob@example.org".to_owned()
                },
            }]
        );
    }

    #[test]
    fn of_two_unverified_or_two_verified_duplicates_the_first_wins() {
        for verified in [false, true] {
            let plan = plan(&[
                row("CAROL@example.net", verified),
                row("carol@example.net", verified),
                row("Carol@Example.net", verified),
            ]);
            assert_eq!(legacy_emails(&plan), vec!["CAROL@example.net"]);
            let skipped: Vec<_> = plan
                .skipped
                .iter()
                .map(|s| (s.legacy_email.as_deref().unwrap(), &s.reason))
                .collect();
            let kept = SkipReason::CaseDuplicate {
                kept: "CAROL@example.net".to_owned(),
            };
            assert_eq!(
                skipped,
                vec![("carol@example.net", &kept), ("Carol@Example.net", &kept)]
            );
        }
    }

    #[test]
    fn a_later_verified_duplicate_names_the_final_winner_for_every_loser() {
        let plan = plan(&[
            row("dan@example.com", false),
            row("Dan@example.com", false),
            row("DAN@example.com", true),
        ]);
        assert_eq!(legacy_emails(&plan), vec!["DAN@example.com"]);
        assert_eq!(plan.skipped.len(), 2);
        for skipped in &plan.skipped {
            assert_eq!(
                skipped.reason,
                SkipReason::CaseDuplicate {
                    kept: "DAN@example.com".to_owned()
                }
            );
        }
    }

    #[test]
    fn bad_rows_do_not_stop_the_others() {
        let plan = plan(&[
            row("ok@example.com", true),
            without(row("nohash@example.com", true), "passwordHash"),
            LegacyRow::new(),
            row("also-ok@example.com", false),
        ]);
        assert_eq!(
            legacy_emails(&plan),
            vec!["ok@example.com", "also-ok@example.com"]
        );
        assert_eq!(
            plan.skipped,
            vec![
                SkippedRow {
                    legacy_email: Some("nohash@example.com".to_owned()),
                    reason: SkipReason::Missing("passwordHash"),
                },
                SkippedRow {
                    legacy_email: None,
                    reason: SkipReason::Missing("email"),
                },
            ]
        );
    }

    proptest::proptest! {
        #[test]
        fn any_row_maps_or_is_skipped_without_panicking(
            email in "\\PC{0,80}",
            salt in "\\PC{0,80}",
            hash in "[A-Za-z0-9+/=]{0,200}",
            verified in proptest::option::of(proptest::bool::ANY),
            verify_token in proptest::option::of("\\PC{0,300}"),
        ) {
            let mut row = LegacyRow::from([
                (attribute::EMAIL.to_owned(), text(&email)),
                (attribute::PASSWORD_SALT.to_owned(), text(&salt)),
                (attribute::PASSWORD_HASH.to_owned(), text(&hash)),
            ]);
            if let Some(verified) = verified {
                row.insert(attribute::VERIFIED.to_owned(), LegacyValue::Bool(verified));
            }
            if let Some(token) = verify_token {
                row.insert(attribute::VERIFY_TOKEN.to_owned(), text(&token));
            }
            let mut planner = MigrationPlanner::new(now(), Settings::default());
            planner.add(&row);
            planner.add(&row);
            let plan = planner.finish();
            proptest::prop_assert_eq!(plan.users.len() + plan.skipped.len(), 2);
        }
    }
}
