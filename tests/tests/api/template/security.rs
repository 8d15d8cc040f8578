//! Who may do what: the link-token key lets only the functions that seal tokens encrypt and only
//! the mailer decrypt, the signing key lets only `Login` and `RefreshToken` sign and only the
//! functions that read the signing keys fetch their public halves, each function has a role of
//! its own naming exactly the actions its code calls, and the identity pool admits only
//! developer-authenticated identities.
//!
//! The two tables are kept apart by evaluating each role's statements the way IAM does (an
//! explicit deny wins, then an allow whose action, resource and conditions all match, else
//! denied) against the requests an attacker holding that role would make: a function that never
//! mails cannot put or change a mail item, a mailing function can only put mail items (signup and
//! lost password may also check that one is absent, writing nothing), the mailer cannot reach
//! the users table nor lift a suppression, and the feedback function can write nothing but
//! feedback records.

use std::collections::BTreeSet;

use lambdauth_domain::Email;
use lambdauth_functions as functions;
use lambdauth_runtime::function::Definition;
use lambdauth_runtime::store::schema::{
    ADDRESS_PARTITION_PREFIX, MAILCAP_PARTITION_PREFIX, SOURCE_PARTITION_PREFIX,
    SUBJECT_PARTITION_PREFIX,
};
use serde_norway::Value;

use super::{Template, binaries, get_att, list, ref_to, tagged, text, variables_of};

/// The functions that encrypt link tokens (they read the key to encrypt with, `KMS_KEY_ID`),
/// and the one that decrypts them: the mailer, whose sealer only decrypts (KMS finds the key from
/// the ciphertext, so it reads no key id).
fn sealers() -> (BTreeSet<String>, BTreeSet<String>) {
    let encrypting = binaries()
        .into_iter()
        .filter(|binary| variables_of(binary).contains("KMS_KEY_ID"))
        .collect();
    (
        encrypting,
        BTreeSet::from([functions::MAILER.name.to_owned()]),
    )
}

/// The roles a key policy statement names as principals.
fn principal_roles(statement: &Value) -> BTreeSet<String> {
    list(&statement["Principal"]["AWS"])
        .iter()
        .filter_map(get_att)
        .map(|(role, attribute)| {
            assert_eq!(attribute, "Arn");
            role.to_owned()
        })
        .collect()
}

#[test]
fn only_the_mail_writers_may_encrypt_link_tokens_and_only_the_mailer_decrypt_them() {
    let template = Template::load();
    let (encrypting, decrypting) = sealers();
    assert_eq!(
        encrypting,
        BTreeSet::from([
            "LambdAuthCreateUser".to_owned(),
            "LambdAuthLostPassword".to_owned()
        ])
    );
    assert_eq!(decrypting, BTreeSet::from(["LambdAuthMailer".to_owned()]));
    let roles = |binaries: &BTreeSet<String>| -> BTreeSet<String> {
        binaries
            .iter()
            .map(|binary| template.role_of(template.function_of(binary)).to_owned())
            .collect()
    };
    let policy = &template.properties("LinkTokenKey")["KeyPolicy"];
    let mut encrypters = BTreeSet::new();
    let mut decrypters = BTreeSet::new();
    for statement in list(&policy["Statement"]) {
        assert_eq!(statement["Effect"], "Allow");
        let actions: Vec<&str> = list(&statement["Action"]).iter().map(text).collect();
        for action in &actions {
            assert!(!action.contains('*'), "wildcard action {action}");
            assert!(
                ![
                    "kms:GenerateDataKey",
                    "kms:ReEncryptFrom",
                    "kms:ReEncryptTo",
                    "kms:CreateGrant"
                ]
                .contains(action),
                "{action} would open another way to the tokens"
            );
        }
        let principals = principal_roles(statement);
        if actions.contains(&"kms:Encrypt") {
            encrypters.extend(principals.iter().cloned());
        }
        if actions.contains(&"kms:Decrypt") {
            decrypters.extend(principals.iter().cloned());
        }
        if actions.contains(&"kms:Encrypt") || actions.contains(&"kms:Decrypt") {
            assert_eq!(actions.len(), 1, "data-key use is granted alone");
            assert!(
                !statement["Condition"]["Null"]["kms:EncryptionContext:mailId"].is_null(),
                "the token's context is required"
            );
        }
    }
    assert_eq!(encrypters, roles(&encrypting));
    assert_eq!(decrypters, roles(&decrypting));
    for binary in &encrypting {
        let env = template.environment(template.function_of(binary));
        assert_eq!(get_att(&env["KMS_KEY_ID"]), Some(("LinkTokenKey", "Arn")));
    }
}

/// The actions no statement for the account may allow on a key: its use, which only the
/// functions' roles get, each by name.
const KEY_USE: [&str; 9] = [
    "kms:Encrypt",
    "kms:Decrypt",
    "kms:GenerateDataKey",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
    "kms:Sign",
    "kms:Verify",
    "kms:GetPublicKey",
    "kms:CreateGrant",
];

#[test]
fn only_login_and_refresh_may_sign_access_tokens_and_the_token_functions_read_the_public_key() {
    let template = Template::load();
    let key = template.resource("SigningKey");
    assert_eq!(key["Type"], "AWS::KMS::Key");
    let properties = &key["Properties"];
    assert_eq!(properties["KeySpec"], "RSA_2048");
    assert_eq!(properties["KeyUsage"], "SIGN_VERIFY");
    let role_of_binary = |binary: &str| template.role_of(template.function_of(binary)).to_owned();

    let mut signers = BTreeSet::new();
    let mut readers = BTreeSet::new();
    for statement in list(&properties["KeyPolicy"]["Statement"]) {
        assert_eq!(statement["Effect"], "Allow");
        let actions: Vec<&str> = list(&statement["Action"]).iter().map(text).collect();
        for action in &actions {
            assert!(!action.contains('*'), "wildcard action {action}");
        }
        let principals = principal_roles(statement);
        if principals.is_empty() {
            // The account's statement: administration only, never the key's use.
            let account = tagged(&statement["Principal"]["AWS"], "Sub").and_then(Value::as_str);
            assert_eq!(
                account,
                Some("arn:${AWS::Partition}:iam::${AWS::AccountId}:root")
            );
            for action in &actions {
                assert!(!KEY_USE.contains(action), "the account may {action}");
            }
            continue;
        }
        for action in &actions {
            assert!(
                ["kms:Sign", "kms:GetPublicKey"].contains(action),
                "a function's role may {action}"
            );
        }
        if actions.contains(&"kms:Sign") {
            assert_eq!(actions, ["kms:Sign"], "signing is granted alone");
            let only = &statement["Condition"]["StringEquals"];
            assert_eq!(
                only["kms:SigningAlgorithm"], "RSASSA_PKCS1_V1_5_SHA_256",
                "RS256 only"
            );
            assert_eq!(only["kms:MessageType"], "RAW");
            signers.extend(principals.iter().cloned());
        }
        if actions.contains(&"kms:GetPublicKey") {
            readers.extend(principals.iter().cloned());
        }
    }
    let expected_signers: BTreeSet<String> = [functions::LOGIN, functions::REFRESH_TOKEN]
        .iter()
        .map(|function| role_of_binary(function.name))
        .collect();
    assert_eq!(signers, expected_signers);
    // Every other function's role cannot sign: not by the key's policy, and (below) not by its
    // own, which names no KMS action at all.
    for binary in binaries() {
        let role = role_of_binary(&binary);
        if !expected_signers.contains(&role) {
            assert!(!signers.contains(&role), "{binary} may sign");
        }
    }
    // Whoever reads SIGNING_KEY_IDS reads the public keys, and no one else.
    let expected_readers: BTreeSet<String> = binaries()
        .into_iter()
        .filter(|binary| variables_of(binary).contains("SIGNING_KEY_IDS"))
        .map(|binary| role_of_binary(&binary))
        .collect();
    assert_eq!(
        expected_readers,
        [
            functions::LOGIN,
            functions::REFRESH_TOKEN,
            functions::SESSIONS,
            functions::JWKS
        ]
        .iter()
        .map(|function| role_of_binary(function.name))
        .collect::<BTreeSet<String>>()
    );
    assert_eq!(readers, expected_readers);

    // The stack's key unless SigningKeyIds lists others, the same expression everywhere.
    for binary in binaries() {
        let env = template.environment(template.function_of(&binary));
        let Some(ids) = env.get("SIGNING_KEY_IDS") else {
            continue;
        };
        let choice = tagged(ids, "If").expect("SIGNING_KEY_IDS: !If");
        let [condition, listed, own] = list(choice) else {
            panic!("!If [condition, then, else]: {choice:?}");
        };
        assert_eq!(*condition, "HasSigningKeyIds", "{binary}");
        assert_eq!(ref_to(listed), Some("SigningKeyIds"), "{binary}");
        assert_eq!(get_att(own), Some(("SigningKey", "Arn")), "{binary}");
    }
    assert_eq!(
        template.parameter_default("SigningKeyIds").as_deref(),
        Some("")
    );
    let alias = template.properties("SigningKeyAlias");
    assert_eq!(ref_to(&alias["TargetKeyId"]), Some("SigningKey"));
}

/// Every action each function's role allows: what its code calls (see the template's comments).
fn expected_actions(binary: &str) -> BTreeSet<&'static str> {
    let logs = ["logs:CreateLogStream", "logs:PutLogEvents"];
    let accounts = ["dynamodb:GetItem", "dynamodb:PutItem"];
    // A password attempt reads the user and its throttle in one Query.
    let attempt = "dynamodb:Query";
    // Signup and lost password confirm an unchanged user with a transaction's ConditionCheck,
    // and check a mail key's absence from the outbox when they put no mail.
    let unchanged = "dynamodb:ConditionCheckItem";
    let tokens = "cognito-identity:GetOpenIdTokenForDeveloperIdentity";
    // Every HTTP function with a route class consumes its source's token bucket.
    let bucket = "dynamodb:UpdateItem";
    let limited = functions::named(binary).is_some_and(|function| function.limit.is_some());
    let sessions = [
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:DeleteItem",
    ];
    let mut actions: BTreeSet<&str> = logs.into_iter().collect();
    if limited {
        actions.insert(bucket);
    }
    match binary {
        "LambdAuthLogin" => {
            actions.extend(accounts);
            actions.extend([attempt, tokens]);
        }
        "LambdAuthChangePassword" => {
            actions.extend(accounts);
            actions.insert(attempt);
        }
        "LambdAuthCreateUser" | "LambdAuthLostPassword" => {
            actions.extend(accounts);
            actions.insert(unchanged);
        }
        "LambdAuthRefreshToken" => {
            actions.extend(sessions);
            actions.insert(tokens);
        }
        "LambdAuthLogout" => actions.extend(sessions),
        "LambdAuthSessions" => {
            actions.extend(["dynamodb:Query", "dynamodb:GetItem", "dynamodb:DeleteItem"]);
        }
        // The public keys come from the signing key's policy; no table.
        "LambdAuthJwks" => {}
        "LambdAuthMailer" => actions.extend([
            "dynamodb:GetItem",
            "dynamodb:UpdateItem",
            "dynamodb:DescribeStream",
            "dynamodb:GetRecords",
            "dynamodb:GetShardIterator",
            "dynamodb:ListStreams",
            "sqs:ReceiveMessage",
            "sqs:DeleteMessage",
            "sqs:GetQueueAttributes",
            "sqs:SendMessage",
            "ses:SendEmail",
        ]),
        "LambdAuthVerifyUser" | "LambdAuthResetPassword" => actions.extend(accounts),
        // Its feedback records in the outbox table, and (Lambda's on-failure destination, with
        // this role) its own dead-letter queue; nothing else.
        "LambdAuthMailFeedback" => {
            actions.extend(["dynamodb:GetItem", "dynamodb:UpdateItem", "sqs:SendMessage"]);
        }
        other => panic!("{other}: no expected actions"),
    }
    actions
}

#[test]
fn each_function_has_its_own_role_with_named_actions_on_named_resources() {
    let template = Template::load();
    let mut roles = BTreeSet::new();
    for binary in binaries() {
        let function = template.function_of(&binary);
        let role_name = template.role_of(function);
        assert!(roles.insert(role_name.to_owned()), "{role_name} is shared");
        let role = template.properties(role_name);
        assert!(role["ManagedPolicyArns"].is_null(), "{role_name}");
        let trust = serde_norway::to_string(&role["AssumeRolePolicyDocument"]).expect("yaml");
        assert!(trust.contains("lambda.amazonaws.com"), "{role_name}");
        let mut allowed = BTreeSet::new();
        for policy in list(&role["Policies"]) {
            for statement in list(&policy["PolicyDocument"]["Statement"]) {
                let allows = match text(&statement["Effect"]) {
                    "Allow" => true,
                    // A deny only narrows what an allow grants, and always on a condition.
                    "Deny" => {
                        assert!(!statement["Condition"].is_null(), "{role_name}: bare deny");
                        false
                    }
                    other => panic!("{role_name}: effect {other}"),
                };
                for action in list(&statement["Action"]) {
                    let action = text(action);
                    assert!(!action.contains('*'), "{role_name}: {action}");
                    if allows {
                        allowed.insert(action.to_owned());
                    }
                }
                for resource in list(&statement["Resource"]) {
                    // A `*` may end an ARN under a named resource (the table's streams), never
                    // stand for any resource.
                    assert_ne!(resource.as_str(), Some("*"), "{role_name}: any resource");
                }
            }
        }
        let expected: BTreeSet<String> = expected_actions(&binary)
            .into_iter()
            .map(str::to_owned)
            .collect();
        assert_eq!(allowed, expected, "{binary}");
    }
}

#[test]
fn the_identity_pool_takes_the_developer_provider_and_has_an_authenticated_role() {
    let template = Template::load();
    let pool = template.properties("IdentityPool");
    assert_eq!(
        ref_to(&pool["DeveloperProviderName"]),
        Some("DeveloperProviderName")
    );
    assert_eq!(pool["AllowUnauthenticatedIdentities"], false);
    let login = template.environment(template.function_of("LambdAuthLogin"));
    assert_eq!(ref_to(&login["IDENTITY_POOL_ID"]), Some("IdentityPool"));
    assert_eq!(
        ref_to(&login["DEVELOPER_PROVIDER_NAME"]),
        Some("DeveloperProviderName")
    );
    let attachment = template.properties("IdentityPoolRoles");
    assert_eq!(ref_to(&attachment["IdentityPoolId"]), Some("IdentityPool"));
    let (role, _) = get_att(&attachment["Roles"]["authenticated"]).expect("a role");
    let trust = serde_norway::to_string(&template.properties(role)["AssumeRolePolicyDocument"])
        .expect("yaml");
    assert!(trust.contains("cognito-identity.amazonaws.com:aud"));
    assert!(trust.contains("authenticated"));
}

// ------------------------------------------------------------------ the tables, by evaluation

/// The account and region the evaluation renders ARNs in; any would do.
const ARN_PREFIX: &str = "arn:aws:dynamodb:us-east-1:123456789012:table/";

/// One DynamoDB request as IAM sees it: the action, the table's logical id in the template, and
/// the partition key of the item (`dynamodb:LeadingKeys`).
#[derive(Debug, Clone, Copy)]
struct Request<'a> {
    action: &'a str,
    table: &'a str,
    leading_key: &'a str,
}

impl Request<'_> {
    fn resource(&self) -> String {
        format!("{ARN_PREFIX}{}", self.table)
    }
}

/// `pattern` with IAM's `*` and `?` wildcards matches `value`.
fn like(pattern: &str, value: &str) -> bool {
    fn go(pattern: &[u8], value: &[u8]) -> bool {
        match (pattern.first(), value.first()) {
            (None, None) => true,
            (Some(b'*'), _) => {
                go(&pattern[1..], value) || (!value.is_empty() && go(pattern, &value[1..]))
            }
            (Some(b'?'), Some(_)) => go(&pattern[1..], &value[1..]),
            (Some(p), Some(v)) if p == v => go(&pattern[1..], &value[1..]),
            _ => false,
        }
    }
    go(pattern.as_bytes(), value.as_bytes())
}

/// A statement's `Resource` entry as an ARN pattern: `!GetAtt T.Arn` is the table's ARN,
/// `!Sub ${T.Arn}/…` the same with its suffix; anything else (logs, queues, keys) matches no
/// table.
fn resource_pattern(resource: &Value) -> String {
    if let Some((name, attribute)) = get_att(resource) {
        return match attribute {
            "Arn" => format!("{ARN_PREFIX}{name}"),
            other => format!("not-a-table:{name}.{other}"),
        };
    }
    if let Some(sub) = tagged(resource, "Sub").and_then(Value::as_str) {
        if let Some(rest) = sub.strip_prefix("${")
            && let Some((target, suffix)) = rest.split_once('}')
            && let Some(table) = target.strip_suffix(".Arn")
        {
            return format!("{ARN_PREFIX}{table}{suffix}");
        }
        return format!("not-a-table:{sub}");
    }
    // A plain string (`*` would match every table; the roles test refuses it).
    resource
        .as_str()
        .map_or_else(|| "not-a-table".to_owned(), str::to_owned)
}

/// Whether every condition of `statement` holds for `request`. An operator the evaluation does
/// not know fails the test: a condition is never ignored.
fn conditions_hold(statement: &Value, request: &Request<'_>) -> bool {
    let Some(conditions) = statement["Condition"].as_mapping() else {
        return true;
    };
    conditions.iter().all(|(operator, keys)| {
        keys.as_mapping()
            .expect("condition keys")
            .iter()
            .all(|(key, patterns)| {
                let values: Vec<&str> = match text(key) {
                    "dynamodb:LeadingKeys" => vec![request.leading_key],
                    _ => Vec::new(),
                };
                let patterns: Vec<&str> = list(patterns).iter().map(text).collect();
                let matches = |value: &str| patterns.iter().any(|pattern| like(pattern, value));
                match text(operator) {
                    "ForAllValues:StringLike" => values.iter().all(|v| matches(v)),
                    "ForAnyValue:StringLike" => values.iter().any(|v| matches(v)),
                    "ForAllValues:StringNotLike" => values.iter().all(|v| !matches(v)),
                    "StringLike" => !values.is_empty() && values.iter().all(|v| matches(v)),
                    other => panic!("the evaluation does not know the operator {other}"),
                }
            })
    })
}

/// Whether `role`'s policies let `request` through, as IAM decides: an explicit deny wins, then
/// any allow, else the implicit deny.
fn permits(template: &Template, role: &str, request: &Request<'_>) -> bool {
    let resource = request.resource();
    let mut allowed = false;
    for policy in list(&template.properties(role)["Policies"]) {
        for statement in list(&policy["PolicyDocument"]["Statement"]) {
            let action = list(&statement["Action"])
                .iter()
                .any(|action| like(text(action), request.action));
            let on = list(&statement["Resource"])
                .iter()
                .any(|r| like(&resource_pattern(r), &resource));
            if !(action && on && conditions_hold(statement, request)) {
                continue;
            }
            match text(&statement["Effect"]) {
                "Deny" => return false,
                _ => allowed = true,
            }
        }
    }
    allowed
}

/// Every DynamoDB item action: what an attacker holding a role would try.
const ITEM_ACTIONS: [&str; 10] = [
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:Query",
    "dynamodb:Scan",
    "dynamodb:BatchGetItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:PartiQLUpdate",
];

/// The functions whose decisions put mail: they read the outbox table's name.
const MAILING: [&Definition; 4] = [
    functions::CREATE_USER,
    functions::LOST_PASSWORD,
    functions::CHANGE_PASSWORD,
    functions::RESET_PASSWORD,
];

/// The mailing functions whose transactions check, when they put no mail, that a key no mail
/// has is absent from the outbox (`store::UserStore::apply_in_transaction`): signup and lost
/// password, the requests that must not tell whether the address has an account.
const PROBING: [&Definition; 2] = [functions::CREATE_USER, functions::LOST_PASSWORD];

/// The leading key of a mail item: the recipient, normalized.
fn mail_key() -> String {
    Email::parse("Victim@Example.com")
        .expect("an address")
        .as_str()
        .to_owned()
}

fn role_of_binary<'t>(template: &'t Template, binary: &str) -> &'t str {
    template.role_of(template.function_of(binary))
}

#[test]
fn no_address_a_mail_can_go_to_looks_like_a_bookkeeping_key() {
    // The IAM conditions below tell items apart by the leading key's prefix: that only holds if
    // no recipient (a normalized address, the local part lower-cased) can start with one.
    for tricky in [
        "ADDRESS#victim@example.com",
        "MAILCAP#verification@example.com",
        "SOURCE#mail#1.2.3.4@example.com",
        "SUBJECT#x@example.com",
    ] {
        let Ok(email) = Email::parse(tricky) else {
            continue;
        };
        for prefix in [
            ADDRESS_PARTITION_PREFIX,
            MAILCAP_PARTITION_PREFIX,
            SOURCE_PARTITION_PREFIX,
            SUBJECT_PARTITION_PREFIX,
        ] {
            assert!(
                !email.as_str().starts_with(prefix),
                "{tricky} → {}",
                email.as_str()
            );
        }
    }
}

#[test]
fn a_function_that_never_mails_cannot_put_or_change_a_mail_item() {
    let template = Template::load();
    let victim = mail_key();
    let feedback = format!("{ADDRESS_PARTITION_PREFIX}{victim}");
    for function in functions::http().filter(|f| !MAILING.contains(f)) {
        let role = role_of_binary(&template, function.name);
        for action in ITEM_ACTIONS {
            for leading_key in [victim.as_str(), feedback.as_str()] {
                let request = Request {
                    action,
                    table: "OutboxTable",
                    leading_key,
                };
                assert!(
                    !permits(&template, role, &request),
                    "{}: {request:?}",
                    function.name
                );
            }
        }
        let env = template.environment(template.function_of(function.name));
        assert!(!env.contains_key("OUTBOX_TABLE_NAME"), "{}", function.name);
    }
}

/// A request on the users table: `action` on the item whose partition key is `leading_key`.
fn on_users<'a>(action: &'static str, leading_key: &'a str) -> Request<'a> {
    Request {
        action,
        table: "UsersTable",
        leading_key,
    }
}

/// Every role's statements on the users table name the key prefixes its code uses: no session
/// function (refresh, the sessions list) deletes or writes a user, logout only bumps one (a put
/// of the user item, which it reads first), and no function but login and refresh mints a
/// session.
#[test]
fn the_session_functions_cannot_delete_or_write_a_user_and_verification_cannot_mint_a_session() {
    let template = Template::load();
    let user = "victim@example.com";
    let session = "SUBJECT#0b6f5a1e-1b9c-4d7e-9b0a-6f1c2d3e4f50";
    let role = |function: &Definition| role_of_binary(&template, function.name);
    // Deleting a user, or writing one (a password hash of the attacker's), from a session role.
    for function in [
        functions::SESSIONS,
        functions::REFRESH_TOKEN,
        functions::LOGOUT,
    ] {
        for action in ["dynamodb:DeleteItem", "dynamodb:UpdateItem"] {
            let request = on_users(action, user);
            assert!(
                !permits(&template, role(function), &request),
                "{}: {request:?}",
                function.name
            );
        }
    }
    for function in [functions::SESSIONS, functions::REFRESH_TOKEN] {
        let request = on_users("dynamodb:PutItem", user);
        assert!(
            !permits(&template, role(function), &request),
            "{}: {request:?}",
            function.name
        );
    }
    // Minting a session: only login (which starts them) and refresh (which rotates them).
    for function in functions::http() {
        let request = on_users("dynamodb:PutItem", session);
        let may = [functions::LOGIN, functions::REFRESH_TOKEN].contains(&function);
        assert_eq!(
            permits(&template, role(function), &request),
            may,
            "{}: {request:?}",
            function.name
        );
    }
    // What each of them does stays allowed.
    for (function, action, key) in [
        (functions::SESSIONS, "dynamodb:Query", session),
        (functions::SESSIONS, "dynamodb:GetItem", user),
        (functions::SESSIONS, "dynamodb:DeleteItem", session),
        (functions::REFRESH_TOKEN, "dynamodb:GetItem", session),
        (functions::REFRESH_TOKEN, "dynamodb:GetItem", user),
        (functions::REFRESH_TOKEN, "dynamodb:DeleteItem", session),
        (functions::LOGOUT, "dynamodb:GetItem", session),
        (functions::LOGOUT, "dynamodb:GetItem", user),
        (functions::LOGOUT, "dynamodb:DeleteItem", session),
        (functions::LOGOUT, "dynamodb:PutItem", user),
        (functions::VERIFY_USER, "dynamodb:GetItem", user),
        (functions::VERIFY_USER, "dynamodb:PutItem", user),
        (functions::LOGIN, "dynamodb:Query", user),
        (functions::LOGIN, "dynamodb:PutItem", user),
        (functions::CREATE_USER, "dynamodb:PutItem", user),
        (functions::CREATE_USER, "dynamodb:ConditionCheckItem", user),
        (
            functions::LOST_PASSWORD,
            "dynamodb:ConditionCheckItem",
            user,
        ),
        (functions::CHANGE_PASSWORD, "dynamodb:Query", user),
        (functions::RESET_PASSWORD, "dynamodb:PutItem", user),
    ] {
        let request = on_users(action, key);
        assert!(
            permits(&template, role(function), &request),
            "{}: {request:?}",
            function.name
        );
    }
}

/// A put into the outbox table of an item under `leading_key`.
fn put(leading_key: &str) -> Request<'_> {
    Request {
        action: "dynamodb:PutItem",
        table: "OutboxTable",
        leading_key,
    }
}

/// A condition check in the outbox table of an item under `leading_key`.
fn check(leading_key: &str) -> Request<'_> {
    Request {
        action: "dynamodb:ConditionCheckItem",
        table: "OutboxTable",
        leading_key,
    }
}

#[test]
fn a_mailing_function_may_only_put_mail_items_in_the_outbox() {
    let template = Template::load();
    let victim = mail_key();
    let suppression = format!("{ADDRESS_PARTITION_PREFIX}{victim}");
    let cap = format!("{MAILCAP_PARTITION_PREFIX}verification");
    for function in MAILING {
        let role = role_of_binary(&template, function.name);
        assert!(permits(&template, role, &put(&victim)), "{}", function.name);
        // Signup and lost password may check a mail key's absence (it writes nothing); the
        // others make no such check and may not.
        let probes = PROBING.contains(&function);
        assert_eq!(
            permits(&template, role, &check(&victim)),
            probes,
            "{}",
            function.name
        );
        // Overwriting a suppression or resetting a cap with a put is refused, and so is
        // probing for one (it would tell a suppressed address).
        for leading_key in [&suppression, &cap] {
            for request in [put(leading_key), check(leading_key)] {
                assert!(
                    !permits(&template, role, &request),
                    "{}: {request:?}",
                    function.name
                );
            }
        }
        for action in ITEM_ACTIONS.into_iter().filter(|action| {
            *action != "dynamodb:PutItem" && !(probes && *action == "dynamodb:ConditionCheckItem")
        }) {
            let request = Request {
                action,
                table: "OutboxTable",
                leading_key: &victim,
            };
            assert!(
                !permits(&template, role, &request),
                "{}: {request:?}",
                function.name
            );
        }
        let env = template.environment(template.function_of(function.name));
        assert_eq!(
            ref_to(&env["OUTBOX_TABLE_NAME"]),
            Some("OutboxTable"),
            "{}",
            function.name
        );
    }
}

#[test]
fn the_mailer_cannot_touch_the_users_table_nor_lift_a_suppression() {
    let template = Template::load();
    let role = role_of_binary(&template, "LambdAuthMailer");
    let victim = mail_key();
    let subject = format!("{SUBJECT_PARTITION_PREFIX}some-subject");
    let bucket = format!("{SOURCE_PARTITION_PREFIX}mail#192.0.2.1");
    for action in ITEM_ACTIONS {
        for leading_key in [victim.as_str(), subject.as_str(), bucket.as_str()] {
            let request = Request {
                action,
                table: "UsersTable",
                leading_key,
            };
            assert!(!permits(&template, role, &request), "{request:?}");
        }
    }
    // Its own work: read and advance a mail item.
    for action in ["dynamodb:GetItem", "dynamodb:UpdateItem"] {
        let request = Request {
            action,
            table: "OutboxTable",
            leading_key: &victim,
        };
        assert!(permits(&template, role, &request), "{request:?}");
    }
    // A suppression is read before sending, and can be neither lifted nor forged.
    let suppression = format!("{ADDRESS_PARTITION_PREFIX}{victim}");
    let read = Request {
        action: "dynamodb:GetItem",
        table: "OutboxTable",
        leading_key: &suppression,
    };
    assert!(permits(&template, role, &read));
    for action in [
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "dynamodb:BatchWriteItem",
    ] {
        let request = Request {
            action,
            table: "OutboxTable",
            leading_key: &suppression,
        };
        assert!(!permits(&template, role, &request), "{request:?}");
    }
    let env = template.environment(template.function_of("LambdAuthMailer"));
    assert!(!env.contains_key("TABLE_NAME"), "{env:?}");
    assert_eq!(ref_to(&env["OUTBOX_TABLE_NAME"]), Some("OutboxTable"));
}

#[test]
fn the_feedback_function_can_write_nothing_but_feedback_records() {
    let template = Template::load();
    let role = template.role_of("MailFeedbackFunction");
    let victim = mail_key();
    let suppression = format!("{ADDRESS_PARTITION_PREFIX}{victim}");
    for action in ["dynamodb:GetItem", "dynamodb:UpdateItem"] {
        let request = Request {
            action,
            table: "OutboxTable",
            leading_key: &suppression,
        };
        assert!(permits(&template, role, &request), "{request:?}");
    }
    // A mail item (its leading key is the recipient, not ADDRESS#…), a cap, the users table.
    let cap = format!("{MAILCAP_PARTITION_PREFIX}verification");
    for action in ITEM_ACTIONS {
        for (table, leading_key) in [
            ("OutboxTable", victim.as_str()),
            ("OutboxTable", cap.as_str()),
            ("UsersTable", victim.as_str()),
            ("UsersTable", suppression.as_str()),
        ] {
            let request = Request {
                action,
                table,
                leading_key,
            };
            assert!(!permits(&template, role, &request), "{request:?}");
        }
    }
}

#[test]
fn the_evaluation_denies_what_no_statement_allows_and_lets_a_deny_win() {
    // The evaluator itself, on the roles: an allow without a matching resource grants nothing,
    // and a stream ARN grants no item action.
    let template = Template::load();
    let role = role_of_binary(&template, "LambdAuthMailer");
    let read_stream_as_item = Request {
        action: "dynamodb:GetRecords",
        table: "OutboxTable",
        leading_key: "x",
    };
    assert!(!permits(&template, role, &read_stream_as_item));
    assert!(like("ADDRESS#*", "ADDRESS#a@b.c"));
    assert!(!like("ADDRESS#*", "address#a@b.c"));
    assert!(like("dynamodb:*", "dynamodb:PutItem"));
}
