//! The SAM template (`infra/template.yaml`) against the code: cfn-lint finds nothing; every
//! function is built from its binary and gets every variable its configuration reads (the list
//! comes from loading that configuration, not from a copy); the routes, the stream filter, the
//! key policy, the roles and the alarms are what the code needs; and provisioning (the library
//! functions `lambdauth` uses) creates the same table and queues as the template.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use lambdauth_handlers::Function;
use lambdauth_handlers::config::MISSING;
use lambdauth_handlers::store::schema::{
    MAIL_SORT_KEY_PREFIX, PARTITION_KEY, SORT_KEY, TTL_ATTRIBUTE, TYPE_ATTRIBUTE, item_type,
};
use lambdauth_local::binaries::Binary;
use lambdauth_local::provision::{
    DEAD_LETTER_RETENTION_SECONDS, MAX_RECEIVE_COUNT, VISIBILITY_TIMEOUT_SECONDS, ensure_queues,
    ensure_table,
};
use lambdauth_tests::TestContext;
use lambdauth_tests::app::{Item, TestApp};
use serde_norway::Value;

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests crate is in the workspace")
        .to_path_buf()
}

/// The template, parsed; `!Ref`, `!GetAtt`, `!Sub`… stay as tagged values.
fn template() -> Value {
    let path = workspace_root().join("infra/template.yaml");
    let text = std::fs::read_to_string(&path).expect("infra/template.yaml");
    serde_norway::from_str(&text).expect("the template is YAML")
}

/// The value under `tag` (`Ref`, `GetAtt`, …) when `value` is tagged so.
fn tagged<'a>(value: &'a Value, tag: &str) -> Option<&'a Value> {
    match value {
        Value::Tagged(tagged) if tagged.tag == tag => Some(&tagged.value),
        _ => None,
    }
}

/// What `!Ref X` names.
fn ref_to(value: &Value) -> Option<&str> {
    tagged(value, "Ref").and_then(Value::as_str)
}

/// `(resource, attribute)` of `!GetAtt X.Y`.
fn get_att(value: &Value) -> Option<(&str, &str)> {
    tagged(value, "GetAtt")
        .and_then(Value::as_str)
        .and_then(|target| target.split_once('.'))
}

fn text(value: &Value) -> &str {
    value
        .as_str()
        .unwrap_or_else(|| panic!("not a string: {value:?}"))
}

fn number(value: &Value) -> u64 {
    value
        .as_u64()
        .unwrap_or_else(|| panic!("not a whole number: {value:?}"))
}

fn list(value: &Value) -> &[Value] {
    value
        .as_sequence()
        .map_or_else(|| std::slice::from_ref(value), Vec::as_slice)
}

struct Template {
    root: Value,
}

impl Template {
    fn load() -> Self {
        Self { root: template() }
    }

    fn resource(&self, name: &str) -> &Value {
        let resource = &self.root["Resources"][name];
        assert!(!resource.is_null(), "no resource {name}");
        resource
    }

    fn properties(&self, name: &str) -> &Value {
        &self.resource(name)["Properties"]
    }

    fn resources_of_type(&self, kind: &str) -> Vec<(&str, &Value)> {
        self.root["Resources"]
            .as_mapping()
            .expect("Resources")
            .iter()
            .filter(|(_, resource)| resource["Type"] == kind)
            .map(|(name, resource)| (text(name), resource))
            .collect()
    }

    /// The logical id of the function built from `binary`.
    fn function_of(&self, binary: &str) -> &str {
        self.resources_of_type("AWS::Serverless::Function")
            .into_iter()
            .find(|(_, function)| function["Metadata"]["BuildProperties"]["Binary"] == binary)
            .map_or_else(
                || panic!("no function is built from {binary}"),
                |(name, _)| name,
            )
    }

    /// A function property, its own or from `Globals`.
    fn function_property(&self, function: &str, property: &str) -> &Value {
        let own = &self.properties(function)[property];
        if own.is_null() {
            &self.root["Globals"]["Function"][property]
        } else {
            own
        }
    }

    /// The environment of `function`: `Globals` and its own variables.
    fn environment(&self, function: &str) -> BTreeMap<String, Value> {
        let mut variables = BTreeMap::new();
        for source in [
            &self.root["Globals"]["Function"]["Environment"]["Variables"],
            &self.properties(function)["Environment"]["Variables"],
        ] {
            if let Some(mapping) = source.as_mapping() {
                for (name, value) in mapping {
                    variables.insert(text(name).to_owned(), value.clone());
                }
            }
        }
        variables
    }

    /// The role resource behind `function`'s `Role: !GetAtt X.Arn`.
    fn role_of(&self, function: &str) -> &str {
        let (role, attribute) = get_att(&self.properties(function)["Role"])
            .unwrap_or_else(|| panic!("{function} has no Role: !GetAtt <role>.Arn"));
        assert_eq!(attribute, "Arn");
        role
    }

    /// The one event of `kind` on `function`.
    fn event(&self, function: &str, kind: &str) -> &Value {
        let events: Vec<&Value> = self.properties(function)["Events"]
            .as_mapping()
            .map(|events| {
                events
                    .values()
                    .filter(|event| event["Type"] == kind)
                    .collect()
            })
            .unwrap_or_default();
        assert_eq!(events.len(), 1, "{function} has not one {kind} event");
        &events[0]["Properties"]
    }

    fn parameter_default(&self, name: &str) -> Option<String> {
        let default = &self.root["Parameters"][name]["Default"];
        match default {
            Value::String(value) => Some(value.clone()),
            Value::Number(value) => Some(value.to_string()),
            Value::Null => None,
            other => panic!("parameter {name} has an odd default {other:?}"),
        }
    }
}

/// The seven binaries: the files in `handlers/src/bin`.
fn binaries() -> BTreeSet<String> {
    std::fs::read_dir(workspace_root().join("handlers/src/bin"))
        .expect("handlers/src/bin")
        .map(|entry| {
            entry
                .expect("an entry")
                .path()
                .file_stem()
                .and_then(|stem| stem.to_str())
                .expect("a file name")
                .to_owned()
        })
        .collect()
}

fn binary_source(binary: &str) -> String {
    std::fs::read_to_string(
        workspace_root()
            .join("handlers/src/bin")
            .join(format!("{binary}.rs")),
    )
    .expect("the binary's source")
}

/// The binary named `binary`, checked to load its own configuration in its `main`
/// (`<Type>::from_env()`).
fn configuration_of(binary: &str) -> Binary {
    let source = binary_source(binary);
    let call = source
        .find("::from_env()")
        .unwrap_or_else(|| panic!("{binary} loads no configuration"));
    let type_name = source[..call]
        .rsplit(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .next()
        .unwrap_or_default();
    let known = Binary::for_name(binary).unwrap_or_else(|| panic!("{binary} is not a function"));
    assert_eq!(
        known.config_type_name(),
        type_name,
        "{binary} loads another function's configuration"
    );
    known
}

#[test]
fn cfn_lint_finds_nothing_in_the_template() {
    let root = workspace_root();
    // The linter lives in the emulator's virtual environment; this creates it when missing.
    let installed = std::process::Command::new("bash")
        .arg(root.join("localstack/emulator.sh"))
        .arg("install")
        .status()
        .expect("run emulator.sh install");
    assert!(installed.success(), "emulator.sh install failed");
    let output = std::process::Command::new(root.join("localstack/.venv/bin/cfn-lint"))
        .arg("infra/template.yaml")
        .current_dir(&root)
        .output()
        .expect("run cfn-lint");
    let findings = String::from_utf8_lossy(&output.stdout);
    let errors = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && findings.trim().is_empty() && errors.trim().is_empty(),
        "cfn-lint ({}):\n{findings}{errors}",
        output.status
    );
}

#[test]
fn the_template_builds_each_binary_into_an_arm64_function() {
    let template = Template::load();
    let functions = template.resources_of_type("AWS::Serverless::Function");
    let built: BTreeSet<String> = functions
        .iter()
        .map(|(_, function)| text(&function["Metadata"]["BuildProperties"]["Binary"]).to_owned())
        .collect();
    assert_eq!(built, binaries());
    assert_eq!(functions.len(), built.len(), "one function per binary");
    for (name, function) in functions {
        assert_eq!(function["Metadata"]["BuildMethod"], "rust-cargolambda");
        assert_eq!(
            template.function_property(name, "Runtime"),
            "provided.al2023"
        );
        assert_eq!(template.function_property(name, "Handler"), "bootstrap");
        let architectures = template.function_property(name, "Architectures");
        assert_eq!(list(architectures), [Value::from("arm64")], "{name}");
        // The workspace root, where `cargo lambda build --bin <binary>` runs.
        let code = template.function_property(name, "CodeUri");
        assert!(
            workspace_root()
                .join("infra")
                .join(text(code))
                .join("Cargo.toml")
                .exists(),
            "{name}: CodeUri must point at the workspace"
        );
        let memory = number(&template.properties(name)["MemorySize"]);
        assert!((256..=1769).contains(&memory), "{name}: {memory} MB");
        let timeout = number(&template.properties(name)["Timeout"]);
        assert!((3..=30).contains(&timeout), "{name}: {timeout} s");
    }
}

#[test]
fn each_function_gets_exactly_the_variables_its_configuration_reads() {
    let template = Template::load();
    for binary in binaries() {
        let function = template.function_of(&binary);
        let reads = configuration_of(&binary).variables().expect("it loads");
        let set: BTreeSet<String> = template.environment(function).into_keys().collect();
        let missing: Vec<&String> = reads.difference(&set).collect();
        let stray: Vec<&String> = set.difference(&reads).collect();
        assert!(
            missing.is_empty() && stray.is_empty(),
            "{binary}: not set {missing:?}; set but never read {stray:?}"
        );
    }
}

/// `function`'s environment as the code would see it with every parameter at its default:
/// literals as they are, parameters with a default at it, and the names of resources left out
/// (the stack fills them in; the configuration reads them as opaque strings).
fn environment_at_defaults(template: &Template, function: &str) -> HashMap<String, String> {
    let mut env = HashMap::new();
    for (name, value) in template.environment(function) {
        let resolved = match &value {
            Value::String(literal) => Some(literal.clone()),
            Value::Number(literal) => Some(literal.to_string()),
            other => ref_to(other).and_then(|target| template.parameter_default(target)),
        };
        if let Some(resolved) = resolved {
            env.insert(name, resolved);
        }
    }
    env
}

/// Loads `binary`'s configuration from `template_env` and from no settings at all, each with
/// the same stand-in for every variable that is required and not set, and says whether both
/// agree.
fn loads_the_same(binary: Binary, template_env: &HashMap<String, String>) {
    let mut template_env = template_env.clone();
    let mut defaults = HashMap::new();
    let loaded = loop {
        match (binary.load(&template_env), binary.load(&defaults)) {
            (Ok(from_template), Ok(from_code)) => break (from_template, from_code),
            (Err(error), _) | (_, Err(error)) if error.problem == MISSING => {
                for env in [&mut template_env, &mut defaults] {
                    env.entry(error.variable.to_owned())
                        .or_insert_with(|| "stand-in".to_owned());
                }
            }
            (Err(error), _) | (_, Err(error)) => panic!("{error}"),
        }
    };
    assert_eq!(loaded.0, loaded.1, "{}", binary.name());
}

#[test]
fn the_settings_in_the_template_are_the_codes_defaults() {
    let template = Template::load();
    for binary in binaries() {
        let env = environment_at_defaults(&template, template.function_of(&binary));
        loads_the_same(configuration_of(&binary), &env);
    }
}

#[test]
fn a_setting_shared_by_several_functions_has_one_value() {
    let template = Template::load();
    let mut values: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for binary in binaries() {
        for (name, value) in template.environment(template.function_of(&binary)) {
            values
                .entry(name)
                .or_default()
                .insert(serde_norway::to_string(&value).expect("serializable"));
        }
    }
    for (name, seen) in values {
        assert_eq!(seen.len(), 1, "{name} differs between functions: {seen:?}");
    }
}

#[test]
fn the_six_routes_are_posts_on_the_http_api() {
    let template = Template::load();
    for function in Function::ALL {
        let logical = template.function_of(function.name());
        let route = template.event(logical, "HttpApi");
        assert_eq!(ref_to(&route["ApiId"]), Some("HttpApi"));
        assert_eq!(route["Method"], "POST");
        assert_eq!(route["Path"], function.path(), "{}", function.name());
        assert_eq!(route["PayloadFormatVersion"], "2.0");
    }
    let api = template.resource("HttpApi");
    assert_eq!(api["Type"], "AWS::Serverless::HttpApi");
    let cors = &api["Properties"]["CorsConfiguration"];
    let origins: Vec<Option<&str>> = list(&cors["AllowOrigins"]).iter().map(ref_to).collect();
    assert_eq!(origins, [Some("AllowedOrigin")]);
    assert!(list(&cors["AllowHeaders"]).contains(&Value::from("content-type")));
    let throttling = &api["Properties"]["DefaultRouteSettings"];
    assert_eq!(
        ref_to(&throttling["ThrottlingRateLimit"]),
        Some("ThrottlingRateLimit")
    );
    assert_eq!(
        ref_to(&throttling["ThrottlingBurstLimit"]),
        Some("ThrottlingBurstLimit")
    );
}

#[tokio::test]
async fn the_template_declares_the_table_ensure_table_creates() {
    let template = Template::load();
    let table = template.properties("UsersTable");
    let ctx = TestContext::new("tpl-table").await;
    let dynamodb = aws_sdk_dynamodb::Client::new(&ctx.sdk);
    ensure_table(&dynamodb, &ctx.name("users"))
        .await
        .expect("provisioned");
    let described = dynamodb
        .describe_table()
        .table_name(ctx.name("users"))
        .send()
        .await
        .expect("described");
    let created = described.table().expect("a table");

    let keys: BTreeSet<(String, String)> = created
        .key_schema()
        .iter()
        .map(|key| {
            (
                key.attribute_name().to_owned(),
                key.key_type().as_str().to_owned(),
            )
        })
        .collect();
    let declared_keys: BTreeSet<(String, String)> = list(&table["KeySchema"])
        .iter()
        .map(|key| {
            (
                text(&key["AttributeName"]).to_owned(),
                text(&key["KeyType"]).to_owned(),
            )
        })
        .collect();
    assert_eq!(declared_keys, keys);
    assert!(keys.contains(&(PARTITION_KEY.to_owned(), "HASH".to_owned())));
    assert!(keys.contains(&(SORT_KEY.to_owned(), "RANGE".to_owned())));

    let attributes: BTreeSet<(String, String)> = created
        .attribute_definitions()
        .iter()
        .map(|a| {
            (
                a.attribute_name().to_owned(),
                a.attribute_type().as_str().to_owned(),
            )
        })
        .collect();
    let declared_attributes: BTreeSet<(String, String)> = list(&table["AttributeDefinitions"])
        .iter()
        .map(|a| {
            (
                text(&a["AttributeName"]).to_owned(),
                text(&a["AttributeType"]).to_owned(),
            )
        })
        .collect();
    assert_eq!(declared_attributes, attributes);

    let stream = created.stream_specification().expect("a stream");
    assert!(stream.stream_enabled());
    assert_eq!(
        table["StreamSpecification"]["StreamViewType"],
        stream.stream_view_type().expect("a view type").as_str()
    );

    let ttl = dynamodb
        .describe_time_to_live()
        .table_name(ctx.name("users"))
        .send()
        .await
        .expect("TTL described");
    let ttl = ttl.time_to_live_description().expect("a TTL");
    assert_eq!(ttl.attribute_name(), Some(TTL_ATTRIBUTE));
    assert_eq!(
        table["TimeToLiveSpecification"]["AttributeName"],
        TTL_ATTRIBUTE
    );
    assert_eq!(table["TimeToLiveSpecification"]["Enabled"], true);

    assert_eq!(
        created
            .billing_mode_summary()
            .and_then(|summary| summary.billing_mode())
            .map(aws_sdk_dynamodb::types::BillingMode::as_str),
        Some("PAY_PER_REQUEST")
    );
    assert_eq!(table["BillingMode"], "PAY_PER_REQUEST");
    assert_eq!(
        table["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"],
        true
    );
    assert_eq!(table["SSESpecification"]["SSEEnabled"], true);
}

#[tokio::test]
async fn the_template_declares_the_queues_ensure_queues_creates() {
    let template = Template::load();
    let retry = template.properties("RetryQueue");
    let dead_letter = template.properties("DeadLetterQueue");
    let ctx = TestContext::new("tpl-queues").await;
    let sqs = aws_sdk_sqs::Client::new(&ctx.sdk);
    let queues = ensure_queues(&sqs, &ctx.name("retry"), &ctx.name("dlq"))
        .await
        .expect("provisioned");
    let attributes = |url: String| {
        let sqs = sqs.clone();
        async move {
            sqs.get_queue_attributes()
                .queue_url(url)
                .attribute_names(aws_sdk_sqs::types::QueueAttributeName::All)
                .send()
                .await
                .expect("attributes")
                .attributes
                .unwrap_or_default()
                .into_iter()
                .map(|(name, value)| (name.as_str().to_owned(), value))
                .collect::<HashMap<String, String>>()
        }
    };
    let created_retry = attributes(queues.retry_url.clone()).await;
    let created_dead_letter = attributes(queues.dead_letter_url.clone()).await;

    let redrive: serde_json::Value =
        serde_json::from_str(&created_retry["RedrivePolicy"]).expect("a redrive policy");
    assert_eq!(redrive["deadLetterTargetArn"], queues.dead_letter_arn);
    assert_eq!(
        get_att(&retry["RedrivePolicy"]["deadLetterTargetArn"]),
        Some(("DeadLetterQueue", "Arn"))
    );
    let max_receive_count = number(&retry["RedrivePolicy"]["maxReceiveCount"]);
    assert_eq!(
        redrive["maxReceiveCount"].as_u64(),
        Some(max_receive_count),
        "template and provisioning disagree on maxReceiveCount"
    );
    assert_eq!(max_receive_count, u64::from(MAX_RECEIVE_COUNT));
    assert!(max_receive_count >= 5);

    let visibility = number(&retry["VisibilityTimeout"]);
    assert_eq!(created_retry["VisibilityTimeout"], visibility.to_string());
    assert_eq!(visibility, u64::from(VISIBILITY_TIMEOUT_SECONDS));
    let mailer_timeout =
        number(&template.properties(template.function_of("LambdAuthMailer"))["Timeout"]);
    assert!(
        visibility >= 6 * mailer_timeout,
        "visibility {visibility} s < 6 x the mailer's {mailer_timeout} s"
    );

    let retention = number(&dead_letter["MessageRetentionPeriod"]);
    assert_eq!(
        created_dead_letter["MessageRetentionPeriod"],
        retention.to_string()
    );
    assert_eq!(retention, u64::from(DEAD_LETTER_RETENTION_SECONDS));
    assert_eq!(retention, 14 * 24 * 3600);
}

/// Whether a stream record's new image satisfies the `NewImage` part of an event filter
/// pattern (exact strings and `prefix` matches on string attributes: what the template uses).
fn image_matches(pattern: &serde_json::Value, image: &Item) -> bool {
    pattern
        .as_object()
        .expect("a NewImage pattern")
        .iter()
        .all(|(attribute, condition)| {
            let Some(value) = image.get(attribute).and_then(|v| v.as_s().ok()) else {
                return false;
            };
            condition["S"]
                .as_array()
                .expect("a string condition")
                .iter()
                .any(|allowed| match allowed {
                    serde_json::Value::String(exact) => value == exact,
                    other => other["prefix"]
                        .as_str()
                        .is_some_and(|prefix| value.starts_with(prefix)),
                })
        })
}

fn stream_filter(template: &Template) -> serde_json::Value {
    let stream = template.event(template.function_of("LambdAuthMailer"), "DynamoDB");
    let filters = list(&stream["FilterCriteria"]["Filters"]);
    assert_eq!(filters.len(), 1);
    serde_json::from_str(text(&filters[0]["Pattern"])).expect("the pattern is JSON")
}

#[test]
fn the_mailer_takes_outbox_inserts_from_the_stream_and_jobs_from_the_retry_queue() {
    let template = Template::load();
    let mailer = template.function_of("LambdAuthMailer");
    let stream = template.event(mailer, "DynamoDB");
    assert_eq!(
        get_att(&stream["Stream"]),
        Some(("UsersTable", "StreamArn"))
    );
    let pattern = stream_filter(&template);
    assert_eq!(pattern["eventName"], serde_json::json!(["INSERT"]));
    let image = &pattern["dynamodb"]["NewImage"];
    assert_eq!(
        image[TYPE_ATTRIBUTE]["S"],
        serde_json::json!([item_type::MAIL])
    );
    assert_eq!(
        image[SORT_KEY]["S"],
        serde_json::json!([{ "prefix": MAIL_SORT_KEY_PREFIX }])
    );
    assert_eq!(stream["BisectBatchOnFunctionError"], true);
    let retries = stream["MaximumRetryAttempts"]
        .as_i64()
        .expect("a retry bound");
    assert!((0..=100).contains(&retries), "retries {retries}");
    let age = stream["MaximumRecordAgeInSeconds"]
        .as_i64()
        .expect("an age bound");
    assert!((60..=86_400).contains(&age), "record age {age}");
    assert_eq!(
        list(&stream["FunctionResponseTypes"]),
        [Value::from("ReportBatchItemFailures")]
    );
    assert_eq!(
        get_att(&stream["DestinationConfig"]["OnFailure"]["Destination"]),
        Some(("DeadLetterQueue", "Arn"))
    );

    let queue = template.event(mailer, "SQS");
    assert_eq!(get_att(&queue["Queue"]), Some(("RetryQueue", "Arn")));
    assert_eq!(
        list(&queue["FunctionResponseTypes"]),
        [Value::from("ReportBatchItemFailures")]
    );
}

#[tokio::test]
async fn the_stream_filter_matches_outbox_items_as_written_and_no_other_item() {
    let pattern = stream_filter(&Template::load());
    let image = &pattern["dynamodb"]["NewImage"];
    let app = TestApp::spawn("tpl-filter").await;
    let answer = app
        .http(
            Function::CreateUser,
            r#"{"email":"filter@example.com","password":"a long enough passphrase"}"#,
        )
        .await;
    assert_eq!(answer.status, 200, "{answer:?}");
    let items = app.scan().await;
    let (mails, others): (Vec<&Item>, Vec<&Item>) = items.iter().partition(|item| {
        item.get(SORT_KEY)
            .and_then(|sk| sk.as_s().ok())
            .is_some_and(|sk| sk.starts_with(MAIL_SORT_KEY_PREFIX))
    });
    assert_eq!(mails.len(), 1, "{items:?}");
    assert!(!others.is_empty(), "{items:?}");
    assert!(image_matches(image, mails[0]), "{:?}", mails[0]);
    for other in others {
        assert!(!image_matches(image, other), "{other:?}");
    }
}

/// The binaries that build a sealer that encrypts, and those that only decrypt.
fn sealers() -> (BTreeSet<String>, BTreeSet<String>) {
    let mut encrypting = BTreeSet::new();
    let mut decrypting = BTreeSet::new();
    for binary in binaries() {
        let source = binary_source(&binary);
        if source.contains("TokenSealer::new(") {
            encrypting.insert(binary.clone());
        }
        if source.contains("TokenSealer::decrypt_only(") {
            decrypting.insert(binary);
        }
    }
    (encrypting, decrypting)
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

/// Every action each function's role allows: what its code calls (see the template's comments).
fn expected_actions(binary: &str) -> BTreeSet<&'static str> {
    let logs = ["logs:CreateLogStream", "logs:PutLogEvents"];
    let accounts = ["dynamodb:GetItem", "dynamodb:PutItem"];
    let mut actions: BTreeSet<&str> = logs.into_iter().collect();
    match binary {
        "LambdAuthLogin" => {
            actions.extend(accounts);
            actions.insert("cognito-identity:GetOpenIdTokenForDeveloperIdentity");
        }
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
        _ => actions.extend(accounts),
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

#[test]
fn alarms_watch_the_dead_letter_queue_the_mailer_and_the_stream() {
    let template = Template::load();
    let alarms = template.resources_of_type("AWS::CloudWatch::Alarm");
    let watched: BTreeSet<(String, String)> = alarms
        .iter()
        .map(|(name, alarm)| {
            let alarm = &alarm["Properties"];
            let actions = tagged(&alarm["AlarmActions"], "If").expect("conditional actions");
            assert_eq!(list(actions)[0], "HasAlarmTopic", "{name}");
            let dimension = &list(&alarm["Dimensions"])[0]["Value"];
            let target = ref_to(dimension)
                .map(str::to_owned)
                .or_else(|| get_att(dimension).map(|(resource, _)| resource.to_owned()))
                .expect("a dimension naming a resource");
            (text(&alarm["MetricName"]).to_owned(), target)
        })
        .collect();
    let mailer = template.function_of("LambdAuthMailer").to_owned();
    for expected in [
        (
            "ApproximateNumberOfMessagesVisible".to_owned(),
            "DeadLetterQueue".to_owned(),
        ),
        ("Errors".to_owned(), mailer.clone()),
        ("IteratorAge".to_owned(), mailer),
    ] {
        assert!(
            watched.contains(&expected),
            "{expected:?} not in {watched:?}"
        );
    }
    assert_eq!(template.root["Parameters"]["AlarmTopicArn"]["Default"], "");
}

#[test]
fn a_guided_deploy_asks_only_what_it_must_and_tells_what_it_made() {
    let template = Template::load();
    for (name, parameter) in template.root["Parameters"]
        .as_mapping()
        .expect("Parameters")
    {
        let description = parameter["Description"].as_str().unwrap_or_default();
        assert!(description.len() >= 20, "{name:?} needs a description");
    }
    let without_default: BTreeSet<&str> = template.root["Parameters"]
        .as_mapping()
        .expect("Parameters")
        .iter()
        .filter(|(_, parameter)| parameter["Default"].is_null())
        .map(|(name, _)| text(name))
        .collect();
    assert_eq!(
        without_default,
        BTreeSet::from(["FromAddress", "VerificationPage", "ResetPage"]),
        "only what no default can guess is asked for"
    );
    for output in [
        "ApiUrl",
        "IdentityPoolId",
        "RetryQueueUrl",
        "DeadLetterQueueUrl",
        "TableName",
    ] {
        assert!(
            !template.root["Outputs"][output]["Value"].is_null(),
            "no output {output}"
        );
    }
}
