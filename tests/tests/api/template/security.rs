//! Who may do what: the link-token key lets only the functions that seal tokens encrypt and only
//! the mailer decrypt, the signing key lets only `Login` and `RefreshToken` sign and only the
//! functions that read the signing keys fetch their public halves, each function has a role of
//! its own naming exactly the actions its code calls, and the identity pool admits only
//! developer-authenticated identities.

use std::collections::BTreeSet;

use lambdauth_handlers::Function;
use serde_norway::Value;

use super::{
    Template, binaries, binary_source, configuration_of, get_att, list, ref_to, tagged, text,
    workspace_root,
};

/// The binaries that build a sealer that encrypts, and those that only decrypt.
fn sealers() -> (BTreeSet<String>, BTreeSet<String>) {
    let mut encrypting = BTreeSet::new();
    let mut decrypting = BTreeSet::new();
    for binary in binaries() {
        let source = binary_source(&binary);
        if source.contains("TokenSealer::new(") {
            encrypting.insert(binary.clone());
        }
        // The mailer's sealer is built inside `Mailer::assemble`, which only ever decrypts.
        if source.contains("TokenSealer::decrypt_only(")
            || (source.contains("Mailer::assemble(") && mailer_assembly_decrypts_only())
        {
            decrypting.insert(binary);
        }
    }
    (encrypting, decrypting)
}

/// Whether `Mailer::assemble` builds a sealer that can only decrypt, and none that encrypts.
fn mailer_assembly_decrypts_only() -> bool {
    let source = std::fs::read_to_string(workspace_root().join("handlers/src/mailer/mod.rs"))
        .expect("the mailer's source");
    source.contains("TokenSealer::decrypt_only(") && !source.contains("TokenSealer::new(")
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
    let expected_signers: BTreeSet<String> = [Function::Login, Function::RefreshToken]
        .iter()
        .map(|function| role_of_binary(function.name()))
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
        .filter(|binary| {
            configuration_of(binary)
                .variables()
                .expect("it loads")
                .contains("SIGNING_KEY_IDS")
        })
        .map(|binary| role_of_binary(&binary))
        .collect();
    assert_eq!(
        expected_readers,
        [
            Function::Login,
            Function::RefreshToken,
            Function::Sessions,
            Function::Jwks
        ]
        .iter()
        .map(|function| role_of_binary(function.name()))
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
    // Signup and lost password confirm an unchanged user with a transaction's ConditionCheck.
    let unchanged = "dynamodb:ConditionCheckItem";
    let tokens = "cognito-identity:GetOpenIdTokenForDeveloperIdentity";
    let sessions = [
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:DeleteItem",
    ];
    let mut actions: BTreeSet<&str> = logs.into_iter().collect();
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
                assert_eq!(statement["Effect"], "Allow");
                for action in list(&statement["Action"]) {
                    let action = text(action);
                    assert!(!action.contains('*'), "{role_name}: {action}");
                    allowed.insert(action.to_owned());
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
