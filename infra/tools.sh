#!/usr/bin/env bash
# The tools that build and deploy the stack: the AWS SAM CLI, cargo-lambda and Zig (the linker
# cargo-lambda cross-compiles with), pinned, in a virtual environment of their own.
#
#   infra/tools.sh install     create infra/.venv if it is missing; then put infra/.venv/bin
#                              first on PATH (`. infra/.venv/bin/activate`) and run
#                              `sam build && sam deploy --guided` in infra/
#   infra/tools.sh bin         print the directory that holds sam, cargo-lambda and python-zig
#
# Only python3 (3.9 or newer, with its venv module) and a Rust toolchain (cargo on PATH) are
# needed beforehand.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="$here/.venv"

die() { echo "tools: $*" >&2; exit 1; }

installed() {
  [ -x "$venv/bin/sam" ] && [ -x "$venv/bin/cargo-lambda" ] && [ -x "$venv/bin/python-zig" ]
}

install() {
  # Several test binaries may ask at once: one installs, the others wait for it.
  exec 9>"$here/.venv.lock"
  flock 9
  if ! installed; then
    command -v python3 >/dev/null || die "python3 is needed for the build tools"
    echo "tools: creating $venv (first run only)" >&2
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check \
      -r "$here/requirements.txt" -c "$here/constraints.txt" >&2
    installed || die "the install left sam, cargo-lambda or python-zig missing in $venv/bin"
  fi
  exec 9>&-
}

case "${1:-}" in
  install) install ;;
  bin) echo "$venv/bin" ;;
  *) die "usage: tools.sh install|bin" ;;
esac
