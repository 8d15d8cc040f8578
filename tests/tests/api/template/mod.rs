//! The SAM template (`infra/template.yaml`) against the code. This module loads the template and
//! reads the handlers' binaries; its submodules check one part each: cfn-lint finds nothing
//! ([`lint`]); every function is built from its binary and gets every variable its configuration
//! reads, the list coming from loading that configuration, not from a copy ([`functions`]); the
//! routes and the JWT authorizer ([`api`]), the stream filter ([`stream`]), the key policies and
//! the roles ([`security`]) and the alarms ([`alarms`]) are what the code needs; provisioning
//! (the library functions `lambdauth` uses) creates the same table and queues as the template
//! ([`storage`]); and a guided deploy asks little and tells what it made ([`deploy`]).

mod alarms;
mod api;
mod deploy;
mod feedback;
mod functions;
mod lint;
mod security;
mod storage;
mod stream;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use lambdauth_runtime::function::Definition;
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

    /// The logical id of the function whose handler names `function` (the registry's name).
    fn function_of(&self, function: &str) -> &str {
        self.resources_of_type("AWS::Serverless::Function")
            .into_iter()
            .find(|(id, _)| *self.function_property(id, "Handler") == function)
            .map_or_else(
                || panic!("no function's handler is {function}"),
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

/// The functions, by name: the registry's, which the one binary serves by handler.
fn binaries() -> BTreeSet<String> {
    lambdauth_functions::ALL
        .iter()
        .map(|function| function.name.to_owned())
        .collect()
}

/// The registry's definition of the function named `binary`.
fn configuration_of(binary: &str) -> &'static Definition {
    lambdauth_functions::named(binary).unwrap_or_else(|| panic!("{binary} is not a function"))
}

/// Every variable the function named `binary` reads.
fn variables_of(binary: &str) -> BTreeSet<String> {
    lambdauth_local::variables::variables(configuration_of(binary)).expect("it loads")
}
