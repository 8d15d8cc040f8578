//! The functions: one function per binary, on the architecture the `Architecture` parameter
//! names (`arm64` unless `x86_64` is chosen), each given exactly the variables its configuration
//! reads, at the values the code defaults to, and the same value wherever several functions
//! share a setting.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use lambdauth_runtime::config::MISSING;
use lambdauth_runtime::function::Definition;
use serde_norway::Value;

use super::{
    Template, binaries, configuration_of, list, number, ref_to, text, variables_of, workspace_root,
};

#[test]
fn the_architecture_parameter_is_arm64_unless_x86_64_is_chosen() {
    let template = Template::load();
    let parameter = &template.root["Parameters"]["Architecture"];
    assert_eq!(parameter["Type"], "String");
    assert_eq!(
        template.parameter_default("Architecture").as_deref(),
        Some("arm64")
    );
    assert_eq!(
        list(&parameter["AllowedValues"]),
        [Value::from("arm64"), Value::from("x86_64")]
    );
}

#[test]
fn the_template_builds_each_binary_into_a_function_of_the_chosen_architecture() {
    let template = Template::load();
    let functions = template.resources_of_type("AWS::Serverless::Function");
    let handlers: BTreeSet<String> = functions
        .iter()
        .map(|(name, _)| text(template.function_property(name, "Handler")).to_owned())
        .collect();
    assert_eq!(handlers, binaries(), "one function per registry entry");
    assert_eq!(functions.len(), handlers.len(), "one function per handler");
    for (name, function) in functions {
        assert_eq!(function["Metadata"]["BuildMethod"], "rust-cargolambda");
        // Every function runs the one binary, which serves the function its handler names.
        assert_eq!(
            function["Metadata"]["BuildProperties"]["Binary"], "lambdauth-function",
            "{name}"
        );
        assert_eq!(
            template.function_property(name, "Runtime"),
            "provided.al2023"
        );
        let architectures = template.function_property(name, "Architectures");
        assert_eq!(list(architectures).len(), 1, "{name}: one architecture");
        assert_eq!(
            ref_to(&list(architectures)[0]),
            Some("Architecture"),
            "{name}: its architecture is the parameter's"
        );
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
        let reads = variables_of(&binary);
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
fn loads_the_same(binary: &Definition, template_env: &HashMap<String, String>) {
    let mut template_env = template_env.clone();
    let mut defaults = HashMap::new();
    let loaded = loop {
        match (binary.load(&template_env), binary.load(&defaults)) {
            (Ok(from_template), Ok(from_code)) => break (from_template, from_code),
            (Err(error), _) | (_, Err(error)) if error.problem == MISSING => {
                for env in [&mut template_env, &mut defaults] {
                    // A URL, so that a variable that must be one (ISSUER_URL) takes it too.
                    env.entry(error.variable.to_owned())
                        .or_insert_with(|| "https://stand-in.example".to_owned());
                }
            }
            (Err(error), _) | (_, Err(error)) => panic!("{error}"),
        }
    };
    assert_eq!(loaded.0, loaded.1, "{}", binary.name);
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
