//! The README's deploy path, run: `sam build` on `infra/template.yaml` with the tools
//! `infra/tools.sh install` pins, and what it builds is the real function.
//!
//! - `sam build --parameter-overrides Architecture=x86_64` exits 0 and leaves, for every function
//!   in the template, an executable `bootstrap` that is an x86-64 ELF;
//! - `sam validate --lint` finds nothing;
//! - the built `LambdAuthLogin` artifact (the file `sam deploy` would upload), started under the
//!   Lambda Runtime API stand-in against the emulator, refuses a wrong password and logs a
//!   verified user in.
//!
//! The build is for `x86_64`, the test machine's own architecture, so that no second Rust
//! standard library is needed: the arm64 default differs only in the target cargo-lambda is given
//! (`--arm64`); the build method, binaries and template are the same. It uses the release profile
//! as it is (fat LTO, one codegen unit) and this workspace's own `target/` (as in a fresh clone:
//! `CARGO_TARGET_DIR` is not passed on), so a later run rebuilds only what changed. SAM's output
//! goes to `target/sam/build/` rather than `infra/.aws-sam/`, so that a deploy being prepared
//! there is left alone.
//!
//! The first build takes about 17 minutes on two cores (the dependencies, then one link per
//! binary), a later one seconds. `-- --nocapture` shows the build's time and the artifacts' sizes.

use std::collections::{BTreeSet, HashMap};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::time::Instant;

use lambdauth_bench::coldstart::workspace;
use lambdauth_bench::runtime_api;
use lambdauth_functions as functions;
use lambdauth_local::http_api_event;
use lambdauth_tests::app::TestApp;
use serde_json::{Value, json};

/// The architecture built and checked.
const ARCHITECTURE: &str = "x86_64";
/// ELF `e_machine` of x86-64.
const EM_X86_64: u16 = 0x3E;

/// `infra/.venv/bin`, with the tools installed when missing.
fn tools() -> PathBuf {
    static TOOLS: OnceLock<PathBuf> = OnceLock::new();
    TOOLS
        .get_or_init(|| {
            let script = workspace().join("infra/tools.sh");
            let installed = Command::new("bash")
                .arg(&script)
                .arg("install")
                .status()
                .expect("run infra/tools.sh install");
            assert!(installed.success(), "infra/tools.sh install failed");
            workspace().join("infra/.venv/bin")
        })
        .clone()
}

/// `sam` with `args`, run in `infra/` with the tools first on `PATH` (as after
/// `. infra/.venv/bin/activate`): cargo-lambda and Zig's `python -m ziglang` are found there.
fn sam(args: &[&str]) -> Output {
    let tools = tools();
    let path = std::env::join_paths(std::iter::once(tools.clone()).chain(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    )))
    .expect("PATH");
    Command::new(tools.join("sam"))
        .args(args)
        .current_dir(workspace().join("infra"))
        .env("PATH", path)
        .env("VIRTUAL_ENV", tools.parent().expect("infra/.venv"))
        .env("SAM_CLI_TELEMETRY", "0")
        .env_remove("CARGO_TARGET_DIR")
        .output()
        .expect("run sam")
}

/// Where `sam build` puts the artifacts and the built template.
fn build_dir() -> PathBuf {
    workspace().join("target/sam/build")
}

/// Runs `sam build` once for all the tests here, and says how it went.
fn built() -> &'static Output {
    static BUILT: OnceLock<Output> = OnceLock::new();
    BUILT.get_or_init(|| {
        let build_dir = build_dir();
        let started = Instant::now();
        let output = sam(&[
            "build",
            "--parameter-overrides",
            &format!("Architecture={ARCHITECTURE}"),
            "--build-dir",
            build_dir.to_str().expect("a UTF-8 path"),
        ]);
        eprintln!(
            "sam build ({ARCHITECTURE}): {:.1} s, {}",
            started.elapsed().as_secs_f64(),
            output.status
        );
        output
    })
}

/// `sam build`'s output, when it failed.
fn shown(output: &Output) -> String {
    format!(
        "{}\n{}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// The logical ids of the template's functions, read from the template itself.
fn functions_in_template() -> BTreeSet<String> {
    let text = std::fs::read_to_string(workspace().join("infra/template.yaml"))
        .expect("infra/template.yaml");
    let template: serde_norway::Value = serde_norway::from_str(&text).expect("YAML");
    template["Resources"]
        .as_mapping()
        .expect("Resources")
        .iter()
        .filter(|(_, resource)| resource["Type"] == "AWS::Serverless::Function")
        .map(|(id, _)| id.as_str().expect("a logical id").to_owned())
        .collect()
}

/// The `e_machine` of the 64-bit ELF file at `path`, or why it is not one.
fn elf_machine(path: &Path) -> Result<u16, String> {
    let bytes = std::fs::read(path).map_err(|error| format!("{}: {error}", path.display()))?;
    if bytes.len() < 20 || &bytes[..4] != b"\x7fELF" {
        return Err(format!("{} is not an ELF file", path.display()));
    }
    if bytes[4] != 2 || bytes[5] != 1 {
        return Err(format!(
            "{} is not a 64-bit little-endian ELF",
            path.display()
        ));
    }
    Ok(u16::from_le_bytes([bytes[18], bytes[19]]))
}

#[test]
fn sam_build_leaves_an_executable_x86_64_bootstrap_for_every_function() {
    let output = built();
    assert!(output.status.success(), "sam build: {}", shown(output));
    let functions = functions_in_template();
    // Every binary: the HTTP functions, the mailer and the feedback function.
    assert_eq!(
        functions.len(),
        lambdauth_functions::ALL.len(),
        "{functions:?}"
    );
    for function in functions {
        let bootstrap = build_dir().join(&function).join("bootstrap");
        let metadata = std::fs::metadata(&bootstrap)
            .unwrap_or_else(|error| panic!("{function}: {}: {error}", bootstrap.display()));
        assert!(
            metadata.permissions().mode() & 0o111 != 0,
            "{function}: bootstrap is not executable"
        );
        assert_eq!(
            elf_machine(&bootstrap),
            Ok(EM_X86_64),
            "{function}: bootstrap is not x86-64"
        );
        eprintln!("{function}/bootstrap: {} bytes", metadata.len());
    }
}

#[test]
fn sam_validate_lint_finds_nothing() {
    let output = sam(&["validate", "--lint", "--template", "template.yaml"]);
    assert!(
        output.status.success(),
        "sam validate --lint: {}",
        shown(&output)
    );
}

#[tokio::test]
async fn the_built_login_artifact_logs_a_user_in() {
    let output = tokio::task::spawn_blocking(built).await.expect("the build");
    assert!(output.status.success(), "sam build: {}", shown(output));
    let bootstrap = build_dir().join("LoginFunction/bootstrap");

    let app = TestApp::spawn("sambuild").await;
    let email = "sam-build@example.com";
    let password = "correct horse battery staple";
    let created = app
        .http(
            functions::CREATE_USER,
            &json!({"email": email, "password": password}).to_string(),
        )
        .await;
    assert_eq!(created.status, 200, "{}", created.body);
    let token = app.last_mail(email, "verification").await.token;
    let verified = app
        .http(
            functions::VERIFY_USER,
            &json!({"email": email, "verify": token.expect("a verification token")}).to_string(),
        )
        .await;
    assert_eq!(verified.status, 200, "{}", verified.body);

    let mut env: HashMap<String, String> = app.env.clone();
    env.extend(
        [
            ("AWS_REGION", lambdauth_tests::region().as_str()),
            ("AWS_ACCESS_KEY_ID", "test"),
            ("AWS_SECRET_ACCESS_KEY", "test"),
            ("AWS_ENDPOINT_URL", lambdauth_tests::emulator().endpoint()),
            ("AWS_LAMBDA_FUNCTION_NAME", functions::LOGIN.name),
            // Lambda hands a custom runtime its handler setting, which names the function.
            ("_HANDLER", functions::LOGIN.name),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "1024"),
            ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned())),
    );
    let headers = [("content-type".to_owned(), "application/json".to_owned())];
    let events = [("wrong", "not the password at all"), ("right", password)]
        .map(|(id, password)| {
            http_api_event(
                functions::LOGIN.path(),
                &headers,
                json!({"email": email, "password": password})
                    .to_string()
                    .as_bytes(),
                id,
            )
        })
        .to_vec();
    let run = runtime_api::run(&bootstrap, &env, events)
        .await
        .expect("the built LambdAuthLogin runs under the Runtime API");
    let answers: Vec<(u64, Value)> = run
        .answers
        .iter()
        .map(|answer| {
            let body = answer["body"].as_str().unwrap_or_default();
            (
                answer["statusCode"].as_u64().unwrap_or_default(),
                serde_json::from_str(body).unwrap_or(Value::Null),
            )
        })
        .collect();
    assert_eq!(answers[0].0, 401, "a wrong password: {:?}", run.answers[0]);
    let (status, body) = &answers[1];
    assert_eq!(*status, 200, "the right password: {:?}", run.answers[1]);
    assert_eq!(body["login"], true, "{body}");
    assert!(
        body["identityId"].as_str().is_some_and(|id| !id.is_empty()),
        "{body}"
    );
    assert!(
        body["token"]
            .as_str()
            .is_some_and(|token| !token.is_empty()),
        "{body}"
    );
}
