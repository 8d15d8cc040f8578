//! The sample pages' JavaScript, tested where it is written: `node --test` in `www/` runs the
//! unit tests of the client module (`www/test/*.test.js`, Node's own test runner, no npm
//! package) — session keeping, refresh timing, the refresh shared by tabs under a Web Lock, the
//! retry after a 401, and the words for errors. The pages themselves are driven in Chromium by
//! the browser test of the `api` binary.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The oldest Node.js whose test runner and globals (`fetch`'s `Headers`, `DOMException`) the
/// tests use: Debian 12's `nodejs` is 18.
const OLDEST_NODE: u32 = 18;

/// The sample pages' folder, `www/` in the workspace root.
fn www() -> PathBuf {
    let tests = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    tests
        .parent()
        .expect("the tests crate lies in the workspace root")
        .join("www")
}

/// Runs `node` with `args` in `dir`, failing the test with a clear message when it is missing.
fn node(dir: &Path, args: &[&str]) -> Output {
    match Command::new("node").args(args).current_dir(dir).output() {
        Ok(output) => output,
        Err(error) if error.kind() == ErrorKind::NotFound => panic!(
            "`node` is not installed, and the sample pages' tests need Node.js {OLDEST_NODE} or \
             later: `bash .ci/prepare` installs Debian's nodejs"
        ),
        Err(error) => panic!("`node` could not be started in {}: {error}", dir.display()),
    }
}

#[test]
fn the_pages_client_module_passes_its_node_tests() {
    let www = www();
    let version = node(&www, &["--version"]);
    let version = String::from_utf8_lossy(&version.stdout);
    let major: u32 = version
        .trim()
        .trim_start_matches('v')
        .split('.')
        .next()
        .and_then(|major| major.parse().ok())
        .unwrap_or(0);
    assert!(
        major >= OLDEST_NODE,
        "the sample pages' tests need Node.js {OLDEST_NODE} or later, and `node` is {}",
        version.trim()
    );

    let run = node(&www, &["--test"]);
    assert!(
        run.status.success(),
        "`node --test` failed in {} ({}):\n{}{}",
        www.display(),
        run.status,
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
}
