//! The shape ARCHITECTURE.md promises, held: which crate may depend on which (read from their
//! manifests), and no two modules of a crate importing each other (read from their `crate::`
//! paths, test modules aside).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The workspace root.
fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests crate lies in the workspace root")
        .to_owned()
}

/// The workspace crates (`lambdauth-*`) that `folder`'s manifest names under `[dependencies]`.
fn dependencies(folder: &str) -> BTreeSet<String> {
    let manifest = std::fs::read_to_string(workspace().join(folder).join("Cargo.toml"))
        .unwrap_or_else(|error| panic!("{folder}/Cargo.toml: {error}"));
    let mut section = String::new();
    let mut names = BTreeSet::new();
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            line.clone_into(&mut section);
        } else if section == "[dependencies]"
            && let Some((name, _)) = line.split_once(['.', ' ', '='])
        {
            names.insert(name.to_owned());
        }
    }
    names
}

#[test]
fn each_deployed_crate_depends_only_on_the_crates_below_it() {
    let ours = |folder: &str| -> BTreeSet<String> {
        dependencies(folder)
            .into_iter()
            .filter(|name| name.starts_with("lambdauth"))
            .collect()
    };
    let set = |names: &[&str]| names.iter().map(|n| (*n).to_owned()).collect();
    assert_eq!(ours("domain"), BTreeSet::new());
    assert!(
        dependencies("domain")
            .iter()
            .all(|name| !name.starts_with("aws") && name != "tokio"),
        "domain holds the rules: no AWS crate, no async runtime"
    );
    assert_eq!(ours("runtime"), set(&["lambdauth-domain"]));
    assert_eq!(
        ours("accounts"),
        set(&[
            "lambdauth-domain",
            "lambdauth-mail-templates",
            "lambdauth-runtime"
        ]),
        "the accounts side never depends on the mail side"
    );
    assert_eq!(
        ours("mail"),
        set(&[
            "lambdauth-domain",
            "lambdauth-mail-templates",
            "lambdauth-runtime"
        ]),
        "the mail side never depends on the accounts side"
    );
    assert_eq!(
        ours("functions"),
        set(&["lambdauth-accounts", "lambdauth-mail", "lambdauth-runtime"])
    );
    for deployed in ["domain", "runtime", "accounts", "mail", "functions"] {
        assert!(
            !ours(deployed).contains("lambdauth-local"),
            "{deployed} must not depend on what only runs on a developer's machine"
        );
    }
}

/// The top-level module a source file of `src` belongs to (`api` for `src/api/envelope.rs`).
fn top_module(src: &Path, file: &Path) -> String {
    let relative = file.strip_prefix(src).expect("a file under src");
    let first = relative
        .components()
        .next()
        .expect("a component")
        .as_os_str()
        .to_string_lossy();
    first.trim_end_matches(".rs").to_owned()
}

fn rust_files(folder: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(folder).expect("a readable folder") {
        let path = entry.expect("an entry").path();
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|extension| extension == "rs") {
            found.push(path);
        }
    }
}

/// The pairs of top-level modules of `crate_folder` that name each other outside tests.
fn module_cycles(crate_folder: &str) -> Vec<(String, String)> {
    let src = workspace().join(crate_folder).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in files {
        let from = top_module(&src, &file);
        if from == "lib" || from == "main" {
            continue;
        }
        let text = std::fs::read_to_string(&file).expect("a source file");
        let code = text.split("#[cfg(test)]").next().unwrap_or_default();
        for (index, _) in code.match_indices("crate::") {
            let to: String = code[index + "crate::".len()..]
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                .collect();
            if !to.is_empty() && to != from {
                edges.entry(from.clone()).or_default().insert(to);
            }
        }
    }
    let mut cycles = Vec::new();
    for (from, targets) in &edges {
        for to in targets {
            if from < to && edges.get(to).is_some_and(|back| back.contains(from)) {
                cycles.push((from.clone(), to.clone()));
            }
        }
    }
    cycles
}

#[test]
fn no_two_modules_of_a_crate_import_each_other() {
    for crate_folder in [
        "domain",
        "runtime",
        "accounts",
        "mail",
        "functions",
        "local",
    ] {
        assert_eq!(
            module_cycles(crate_folder),
            Vec::<(String, String)>::new(),
            "{crate_folder}: modules that import each other"
        );
    }
}
