//! Every user of the scanned LambdAuth table in `shared/fixtures` verifies with its password and
//! fails with any other, through the stored PHC form a user item holds; the whole scan migrates,
//! and the links it had mailed redeem.

use std::path::PathBuf;

use lambdauth_domain::legacy::{LegacyRow, LegacyValue, MigrationPlanner};
use lambdauth_domain::random::OsRandomness;
use lambdauth_domain::usecases::reset_password::{ResetAnswer, reset_password};
use lambdauth_domain::usecases::verify::{VerifyAnswer, verify};
use lambdauth_domain::{
    Email, HashingParams, PasswordAttempt, PasswordCheck, PasswordHasher, Settings, StoredPassword,
    Timestamp, Token,
};
use serde_json::Value;

fn fixtures_dir() -> PathBuf {
    std::env::var_os("LAMBDAUTH_SHARED_DIR")
        .map_or_else(
            || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared"),
            PathBuf::from,
        )
        .join("fixtures/legacy-lambdauth")
}

fn read_json(name: &str) -> Value {
    let path = fixtures_dir().join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

struct LegacyUser {
    email: String,
    stored: StoredPassword,
    password: String,
}

fn legacy_users() -> Vec<LegacyUser> {
    let scan = read_json("scan.json");
    let passwords = read_json("passwords.json");
    let items = scan["Items"].as_array().expect("Items");
    assert!(!items.is_empty());
    items
        .iter()
        .map(|item| {
            let email = item["email"]["S"].as_str().unwrap().to_owned();
            let stored = StoredPassword::from_legacy(
                item["passwordSalt"]["S"].as_str().unwrap(),
                item["passwordHash"]["S"].as_str().unwrap(),
            )
            .unwrap();
            // A user item holds the PHC string; go through it as a real login would.
            let stored = StoredPassword::parse(&stored.to_phc()).unwrap();
            let password = passwords[&email]
                .as_str()
                .expect("a password for every user")
                .to_owned();
            LegacyUser {
                email,
                stored,
                password,
            }
        })
        .collect()
}

fn hasher() -> PasswordHasher {
    PasswordHasher::new(HashingParams::default(), &mut OsRandomness).unwrap()
}

#[test]
fn every_legacy_user_verifies_with_their_password() {
    let hasher = hasher();
    for user in legacy_users() {
        assert!(user.stored.is_legacy());
        let attempt = PasswordAttempt::new(&user.password).unwrap();
        assert_eq!(
            hasher.verify(&attempt, &user.stored).unwrap(),
            PasswordCheck::Match,
            "{}",
            user.email
        );
        assert!(user.stored.needs_rehash(&hasher.params()));
        assert!(Email::parse(&user.email).is_ok(), "{}", user.email);
    }
}

#[test]
fn every_legacy_user_fails_with_a_wrong_password() {
    let hasher = hasher();
    let users = legacy_users();
    for user in &users {
        let mut wrong = vec![
            format!("{}x", user.password),
            user.password.to_uppercase(),
            user.password.trim().to_owned(),
        ];
        wrong.extend(
            users
                .iter()
                .filter(|o| o.email != user.email)
                .map(|o| o.password.clone()),
        );
        for candidate in wrong
            .iter()
            .filter(|c| **c != user.password && !c.is_empty())
        {
            let attempt = PasswordAttempt::new(candidate).unwrap();
            assert_eq!(
                hasher.verify(&attempt, &user.stored).unwrap(),
                PasswordCheck::Mismatch,
                "{} accepted a wrong password",
                user.email
            );
        }
    }
}

#[test]
fn a_legacy_password_rehashed_to_argon2id_still_verifies() {
    let hasher = hasher();
    let user = legacy_users()
        .into_iter()
        .find(|u| u.email.starts_with("carol"))
        .unwrap();
    let attempt = PasswordAttempt::new(&user.password).unwrap();
    let rehashed = hasher.rehash(&attempt, &mut OsRandomness).unwrap();
    assert!(!rehashed.is_legacy());
    assert!(!rehashed.needs_rehash(&hasher.params()));
    assert!(hasher.verify(&attempt, &rehashed).unwrap().matched());
}

#[test]
fn pending_legacy_tokens_are_accepted_as_tokens() {
    let scan = read_json("scan.json");
    let mut seen = 0;
    for item in scan["Items"].as_array().unwrap() {
        for field in ["verifyToken", "lostToken"] {
            if let Some(token) = item[field]["S"].as_str() {
                assert!(
                    Token::parse(token).is_ok(),
                    "{field} of {}",
                    item["email"]["S"]
                );
                seen += 1;
            }
        }
    }
    assert!(seen >= 3);
}

/// The scan's items as legacy rows, as the import's adapter would read them.
fn legacy_rows() -> Vec<LegacyRow> {
    let scan = read_json("scan.json");
    scan["Items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| {
            item.as_object()
                .unwrap()
                .iter()
                .map(|(name, value)| {
                    let value = match (value.get("S"), value.get("BOOL")) {
                        (Some(text), _) => LegacyValue::Text(text.as_str().unwrap().to_owned()),
                        (_, Some(flag)) => LegacyValue::Bool(flag.as_bool().unwrap()),
                        _ => LegacyValue::Other("?".to_owned()),
                    };
                    (name.clone(), value)
                })
                .collect()
        })
        .collect()
}

#[test]
fn the_whole_scan_migrates_and_its_mailed_links_redeem_through_the_use_cases() {
    let now = Timestamp::from_millis(1_700_000_000_000);
    let settings = Settings::default();
    let mut planner = MigrationPlanner::new(now, settings);
    let rows = legacy_rows();
    for row in &rows {
        planner.add(row);
    }
    let plan = planner.finish();
    assert_eq!(plan.skipped, vec![]);
    assert_eq!(plan.users.len(), rows.len());
    let text = |row: &LegacyRow, name: &str| match row.get(name) {
        Some(LegacyValue::Text(text)) => Some(text.clone()),
        _ => None,
    };
    let mut redeemed = 0;
    for (row, migrated) in rows.iter().zip(&plan.users) {
        let user = &migrated.user;
        assert_eq!(Some(&migrated.legacy_email), text(row, "email").as_ref());
        assert_eq!(user.developer_user_id.as_str(), migrated.legacy_email);
        assert!(user.password.is_legacy());
        if let Some(verify_token) = text(row, "verifyToken") {
            let token = Token::parse(&verify_token).unwrap();
            let decision = verify(Some(user), &token, None, now, &settings);
            assert_eq!(decision.answer, VerifyAnswer::Verified, "{}", user.email);
            redeemed += 1;
        }
        if let Some(lost_token) = text(row, "lostToken") {
            let token = Token::parse(&lost_token).unwrap();
            let decision = reset_password(
                Some(user),
                &token,
                user.password.clone(),
                now,
                &settings,
                &mut OsRandomness,
            )
            .unwrap();
            assert!(
                matches!(decision.answer, ResetAnswer::Changed { .. }),
                "{}",
                user.email
            );
            redeemed += 1;
        }
    }
    assert_eq!(redeemed, 4);
}
