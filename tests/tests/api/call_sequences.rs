//! Existence by the AWS calls a request makes, tried as an observer of them would: every request
//! goes through a recording proxy in front of the emulator, and for each function the sequence
//! of operations (service and operation, in order) is the same whatever the address's state.
//! Run with `--nocapture` to see the sequences.

use std::collections::BTreeMap;

use lambdauth_domain::StoredPassword;
use lambdauth_functions as functions;
use lambdauth_runtime::function::Definition;
use lambdauth_tests::app::TestApp;
use lambdauth_tests::legacy::scan_items;
use lambdauth_tests::proxy::FaultProxy;
use serde_json::{Value, json};

const PASSWORD: &str = "correct horse battery staple";
const WRONG: &str = "a wrong but long enough guess";
const NEW: &str = "a brand new long passphrase";

/// A stack whose functions reach every service through a recording proxy.
struct Recorded {
    app: TestApp,
    proxy: FaultProxy,
}

impl Recorded {
    async fn spawn(label: &str, overrides: &[(&str, &str)]) -> Self {
        let (app, proxy) = TestApp::spawn_recorded(label, overrides).await;
        Self { app, proxy }
    }

    fn address(&self, name: &str) -> String {
        self.app.address(name)
    }

    /// Calls `function` with `body`; its status and the operations it made.
    async fn call(&self, function: &'static Definition, body: Value) -> (u16, Vec<String>) {
        self.proxy.counts().take_operations();
        let answer = self.app.http(function, &body.to_string()).await;
        (answer.status, self.proxy.counts().take_operations())
    }

    /// Calls `function` with `body`; its status and its `TransactWriteItems`, each item as
    /// `<kind> <table>`, the table named for what it holds (`users`, `outbox`).
    async fn transactions(
        &self,
        function: &'static Definition,
        body: Value,
    ) -> (u16, Vec<Vec<String>>) {
        self.proxy.counts().take_transactions();
        let (status, _) = self.call(function, body).await;
        let names = [
            (self.app.table.as_str(), "users"),
            (self.app.outbox_table.as_str(), "outbox"),
        ];
        let transactions = self
            .proxy
            .counts()
            .take_transactions()
            .into_iter()
            .map(|items| {
                items
                    .iter()
                    .map(|item| {
                        let (kind, table) = item.split_once(' ').expect("<kind> <table>");
                        let (_, name) = names
                            .iter()
                            .find(|(name, _)| *name == table)
                            .unwrap_or_else(|| panic!("a table of the stack: {item}"));
                        format!("{kind} {name}")
                    })
                    .collect()
            })
            .collect();
        (status, transactions)
    }

    /// A verified account of `email` with `password`.
    async fn verified(&self, email: &str) {
        let created = self
            .call(
                functions::CREATE_USER,
                json!({"email": email, "password": PASSWORD}),
            )
            .await;
        assert_eq!(created.0, 200);
        let token = self.app.last_mail(email, "verification").await.token;
        let verified = self
            .call(
                functions::VERIFY_USER,
                json!({"email": email, "verify": token.unwrap()}),
            )
            .await;
        assert_eq!(verified.0, 200);
    }

    /// An account whose stored hash is a legacy LambdAuth PBKDF2 hash (from the fixture scan).
    async fn legacy(&self, email: &str) {
        self.verified(email).await;
        let row = &scan_items()[0];
        let legacy = StoredPassword::from_legacy(
            row["passwordSalt"]["S"].as_str().unwrap(),
            row["passwordHash"]["S"].as_str().unwrap(),
        )
        .unwrap();
        self.app
            .dynamodb
            .update_item()
            .table_name(&self.app.table)
            .key(
                "pk",
                aws_sdk_dynamodb::types::AttributeValue::S(email.to_owned()),
            )
            .key(
                "sk",
                aws_sdk_dynamodb::types::AttributeValue::S("USER".to_owned()),
            )
            .update_expression("SET password = :legacy")
            .expression_attribute_values(
                ":legacy",
                aws_sdk_dynamodb::types::AttributeValue::S(legacy.to_phc()),
            )
            .send()
            .await
            .expect("store a legacy hash");
    }
}

/// Asserts that every state made the same operations, printing them.
fn all_alike(function: &'static Definition, sequences: &BTreeMap<&str, (u16, Vec<String>)>) {
    eprintln!("{}:", function.name);
    for (state, (status, operations)) in sequences {
        eprintln!("  {state:<32} {status}  {}", operations.join(" → "));
    }
    // Every request first takes its turn from its source's bucket: one conditional UpdateItem
    // (the instance has seen the bucket since its first request), and no other.
    for (state, (_, operations)) in sequences {
        let bucket: Vec<usize> = (0..operations.len())
            .filter(|i| operations[*i] == "DynamoDB_20120810.UpdateItem")
            .collect();
        assert_eq!(bucket, [0], "{state}: {operations:?}");
    }
    let mut distinct: Vec<&Vec<String>> = sequences.values().map(|(_, ops)| ops).collect();
    distinct.dedup();
    assert_eq!(
        distinct.len(),
        1,
        "{} makes different calls by state: {sequences:#?}",
        function.name
    );
}

#[tokio::test]
async fn signup_makes_the_same_calls_for_every_state_of_the_address() {
    let stack = Recorded::spawn("calls-signup", &[("VERIFICATION_COOLDOWN_SECONDS", "0")]).await;
    let within = Recorded::spawn("calls-signup-cooldown", &[]).await;
    let signup = |email: &str| json!({"email": email, "password": PASSWORD});
    let mut sequences = BTreeMap::new();

    let new = stack.address("new");
    sequences.insert(
        "new",
        stack.call(functions::CREATE_USER, signup(&new)).await,
    );
    sequences.insert(
        "pending",
        stack.call(functions::CREATE_USER, signup(&new)).await,
    );
    let pending = within.address("pending");
    within.call(functions::CREATE_USER, signup(&pending)).await;
    sequences.insert(
        "pending within the cooldown",
        within.call(functions::CREATE_USER, signup(&pending)).await,
    );
    let verified = stack.address("verified");
    stack.verified(&verified).await;
    sequences.insert(
        "verified",
        stack.call(functions::CREATE_USER, signup(&verified)).await,
    );
    sequences.insert(
        "verified within the cooldown",
        stack.call(functions::CREATE_USER, signup(&verified)).await,
    );
    assert!(sequences.values().all(|(status, _)| *status == 200));
    all_alike(functions::CREATE_USER, &sequences);
}

#[tokio::test]
async fn lost_password_makes_the_same_calls_for_every_state_of_the_address() {
    let stack = Recorded::spawn("calls-lost", &[]).await;
    let lost = |email: &str| json!({"email": email});
    let mut sequences = BTreeMap::new();
    sequences.insert(
        "unknown",
        stack
            .call(functions::LOST_PASSWORD, lost(&stack.address("nobody")))
            .await,
    );
    let known = stack.address("known");
    stack.verified(&known).await;
    sequences.insert(
        "known",
        stack.call(functions::LOST_PASSWORD, lost(&known)).await,
    );
    sequences.insert(
        "known within the cooldown",
        stack.call(functions::LOST_PASSWORD, lost(&known)).await,
    );
    assert!(sequences.values().all(|(status, _)| *status == 200));
    all_alike(functions::LOST_PASSWORD, &sequences);
}

/// Asserts that every state's request made one `TransactWriteItems` on the users table and then
/// the outbox table, one item each, printing them: what an item does may differ (a put, or a
/// check that writes nothing), the tables a transaction spans and its size may not, since a
/// two-table transaction is slower than a one-table one.
fn transactions_alike(
    function: &'static Definition,
    sequences: &BTreeMap<&str, (u16, Vec<Vec<String>>)>,
) {
    eprintln!("{}:", function.name);
    for (state, (status, transactions)) in sequences {
        eprintln!("  {state:<32} {status}  {transactions:?}");
    }
    for (state, (_, transactions)) in sequences {
        let tables: Vec<Vec<&str>> = transactions
            .iter()
            .map(|items| {
                items
                    .iter()
                    .map(|item| item.split_once(' ').map_or("", |(_, table)| table))
                    .collect()
            })
            .collect();
        assert_eq!(
            tables,
            [["users", "outbox"]],
            "{} {state}: {transactions:?}",
            function.name
        );
    }
}

#[tokio::test]
async fn a_signup_transaction_spans_both_tables_alike_with_or_without_an_account() {
    let stack = Recorded::spawn("calls-signup-tables", &[]).await;
    let signup = |email: &str| json!({"email": email, "password": PASSWORD});
    let mut sequences = BTreeMap::new();
    // No account: created, with its verification mail.
    let pending = stack.address("pending");
    sequences.insert(
        "new",
        stack
            .transactions(functions::CREATE_USER, signup(&pending))
            .await,
    );
    // An account, no mail: contested inside the cooldown, then nothing to change at all.
    sequences.insert(
        "pending within the cooldown",
        stack
            .transactions(functions::CREATE_USER, signup(&pending))
            .await,
    );
    sequences.insert(
        "pending and contested",
        stack
            .transactions(functions::CREATE_USER, signup(&pending))
            .await,
    );
    // An account: a notice mailed, then none inside the notice's cooldown.
    let verified = stack.address("verified");
    stack.verified(&verified).await;
    sequences.insert(
        "verified",
        stack
            .transactions(functions::CREATE_USER, signup(&verified))
            .await,
    );
    sequences.insert(
        "verified within the cooldown",
        stack
            .transactions(functions::CREATE_USER, signup(&verified))
            .await,
    );
    assert!(
        sequences.values().all(|(status, _)| *status == 200),
        "{sequences:#?}"
    );
    transactions_alike(functions::CREATE_USER, &sequences);
}

#[tokio::test]
async fn a_lost_password_transaction_spans_both_tables_alike_with_or_without_an_account() {
    let stack = Recorded::spawn("calls-lost-tables", &[]).await;
    let lost = |email: &str| json!({"email": email});
    let mut sequences = BTreeMap::new();
    // No account: nothing written, nothing mailed.
    sequences.insert(
        "unknown",
        stack
            .transactions(functions::LOST_PASSWORD, lost(&stack.address("nobody")))
            .await,
    );
    let known = stack.address("known");
    stack.verified(&known).await;
    sequences.insert(
        "known",
        stack
            .transactions(functions::LOST_PASSWORD, lost(&known))
            .await,
    );
    sequences.insert(
        "known within the cooldown",
        stack
            .transactions(functions::LOST_PASSWORD, lost(&known))
            .await,
    );
    assert!(
        sequences.values().all(|(status, _)| *status == 200),
        "{sequences:#?}"
    );
    transactions_alike(functions::LOST_PASSWORD, &sequences);
}

/// The states a failed password attempt can meet, each on an address of its own.
async fn failed_attempts(
    stack: &Recorded,
    function: &'static Definition,
    body: impl Fn(&str, &str) -> Value,
) -> BTreeMap<&'static str, (u16, Vec<String>)> {
    let mut sequences = BTreeMap::new();
    sequences.insert(
        "unknown",
        stack
            .call(function, body(&stack.address("nobody"), PASSWORD))
            .await,
    );
    let known = stack.address("known");
    stack.verified(&known).await;
    sequences.insert(
        "wrong password",
        stack.call(function, body(&known, WRONG)).await,
    );
    let unverified = stack.address("unverified");
    stack
        .call(
            functions::CREATE_USER,
            json!({"email": unverified, "password": PASSWORD}),
        )
        .await;
    sequences.insert(
        "unverified, right password",
        stack.call(function, body(&unverified, PASSWORD)).await,
    );
    let legacy = stack.address("legacy");
    stack.legacy(&legacy).await;
    sequences.insert(
        "legacy hash, wrong password",
        stack.call(function, body(&legacy, WRONG)).await,
    );
    assert!(
        sequences.values().all(|(status, _)| *status == 401),
        "{sequences:#?}"
    );
    sequences
}

#[tokio::test]
async fn a_failed_login_makes_the_same_calls_whatever_the_address_is() {
    let stack = Recorded::spawn("calls-login", &[]).await;
    let sequences = failed_attempts(
        &stack,
        functions::LOGIN,
        |email, password| json!({"email": email, "password": password}),
    )
    .await;
    all_alike(functions::LOGIN, &sequences);
}

#[tokio::test]
async fn a_failed_password_change_makes_the_same_calls_whatever_the_address_is() {
    let stack = Recorded::spawn("calls-change", &[]).await;
    let sequences = failed_attempts(
        &stack,
        functions::CHANGE_PASSWORD,
        |email, password| json!({"email": email, "oldPassword": password, "newPassword": NEW}),
    )
    .await;
    all_alike(functions::CHANGE_PASSWORD, &sequences);
}

#[tokio::test]
async fn a_locked_address_answers_429_with_the_same_calls_whether_or_not_it_has_an_account() {
    // No free failures: the first attempt locks the address for two seconds.
    let stack = Recorded::spawn("calls-locked", &[("LOCKOUT_FREE_FAILURES", "0")]).await;
    let known = stack.address("known");
    stack.verified(&known).await;
    let login = |email: &str| json!({"email": email, "password": WRONG});
    let mut sequences = BTreeMap::new();
    for (state, email) in [
        ("locked, known", known),
        ("locked, unknown", stack.address("nobody")),
    ] {
        let (first, _) = stack.call(functions::LOGIN, login(&email)).await;
        assert_eq!(first, 401);
        sequences.insert(state, stack.call(functions::LOGIN, login(&email)).await);
    }
    assert!(
        sequences.values().all(|(status, _)| *status == 429),
        "{sequences:#?}"
    );
    all_alike(functions::LOGIN, &sequences);
}
