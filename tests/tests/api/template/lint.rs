//! cfn-lint, run from the emulator's virtual environment, finds nothing in the template.

use super::workspace_root;

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
