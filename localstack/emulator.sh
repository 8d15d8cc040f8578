#!/usr/bin/env bash
# The local AWS emulator: moto in server mode by default, LocalStack when asked for and present.
#
#   localstack/emulator.sh install                    create localstack/.venv if it is missing
#   localstack/emulator.sh start  [--port N] [--owner-pid PID]
#                                                     start on 127.0.0.1:N (default 4566), wait
#                                                     until it answers, print its endpoint URL
#   localstack/emulator.sh stop   [--port N]          stop the one started on that port, by pid
#   localstack/emulator.sh status [--port N]          say whether it answers
#
# EMULATOR=localstack selects LocalStack (its `localstack` command must be installed).
# --owner-pid ties the emulator's life to a process: when that process ends, so does the
# emulator, which is how test harnesses that cannot run clean-up code still leave nothing behind.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="$here/.venv"
run_dir="$here/.run"
emulator="${EMULATOR:-moto}"
port="${LAMBDAUTH_EMULATOR_PORT:-4566}"
owner_pid=""

die() { echo "emulator: $*" >&2; exit 1; }

command="${1:-}"
[ -n "$command" ] || die "usage: emulator.sh install|start|stop|status [--port N] [--owner-pid PID]"
shift
while [ $# -gt 0 ]; do
  case "$1" in
    --port) port="${2:?--port needs a number}"; shift 2 ;;
    --owner-pid) owner_pid="${2:?--owner-pid needs a pid}"; shift 2 ;;
    *) die "unknown option $1" ;;
  esac
done
case "$port" in ''|*[!0-9]*) die "--port must be a number, not '$port'" ;; esac

mkdir -p "$run_dir"
pid_file="$run_dir/emulator-$port.pid"
log_file="$run_dir/emulator-$port.log"
endpoint="http://127.0.0.1:$port"

answers() {
  curl -s -o /dev/null --max-time 2 "$endpoint/moto-api/" 2>/dev/null \
    || curl -s -o /dev/null --max-time 2 "$endpoint/_localstack/health" 2>/dev/null
}

install() {
  # Several test binaries may ask at once: one installs, the others wait for it.
  exec 9>"$run_dir/install.lock"
  flock 9
  install_venv
  # Let go of the lock at once: an emulator started next would otherwise inherit the descriptor
  # and hold the lock for its whole life, and every later install would wait on it.
  exec 9>&-
}

install_venv() {
  if [ -x "$venv/bin/moto_server" ] && [ -x "$venv/bin/cfn-lint" ]; then
    return 0
  fi
  command -v python3 >/dev/null || die "python3 is needed for the emulator"
  echo "emulator: creating $venv (first run only)" >&2
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check \
    -r "$here/requirements.txt" -c "$here/constraints.txt" >&2
}

wait_until_answers() {
  local pid="$1"
  for _ in $(seq 1 600); do
    if answers; then
      return 0
    fi
    if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
      tail -n 20 "$log_file" >&2 || true
      die "the emulator exited before it answered (log: $log_file)"
    fi
    sleep 0.1
  done
  die "the emulator did not answer on $endpoint within 60 s (log: $log_file)"
}

start_moto() {
  install
  if answers; then
    die "something already answers on $endpoint; stop it or choose another --port"
  fi
  # moto_server.py serializes requests (see there). setsid: the server gets its own session, so a terminal's Ctrl-C to its starter does not
  # reach it half-way; it is stopped by pid instead.
  setsid "$venv/bin/python" "$here/moto_server.py" -H 127.0.0.1 -p "$port" >"$log_file" 2>&1 </dev/null &
  local pid=$!
  echo "$pid" >"$pid_file"
  if [ -n "$owner_pid" ]; then
    setsid bash -c '
      while kill -0 "$1" 2>/dev/null && kill -0 "$2" 2>/dev/null; do sleep 0.5; done
      kill "$2" 2>/dev/null
      for _ in $(seq 1 50); do kill -0 "$2" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$2" 2>/dev/null; rm -f "$3"' watchdog "$owner_pid" "$pid" "$pid_file" \
      >/dev/null 2>&1 </dev/null &
  fi
  wait_until_answers "$pid"
}

start_localstack() {
  command -v localstack >/dev/null || die "EMULATOR=localstack, but the localstack command is not installed"
  GATEWAY_LISTEN="127.0.0.1:$port" localstack start -d >"$log_file" 2>&1
  localstack wait -t 120 >>"$log_file" 2>&1 || die "LocalStack did not become ready (log: $log_file)"
  echo "localstack" >"$pid_file"
}

stop() {
  [ -f "$pid_file" ] || { echo "emulator: nothing started on port $port" >&2; return 0; }
  local pid
  pid="$(cat "$pid_file")"
  if [ "$pid" = "localstack" ]; then
    localstack stop >/dev/null 2>&1 || true
  elif kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$pid_file"
}

case "$command" in
  install) install ;;
  start)
    case "$emulator" in
      moto) start_moto ;;
      localstack) start_localstack ;;
      *) die "EMULATOR must be moto or localstack, not '$emulator'" ;;
    esac
    echo "$endpoint"
    ;;
  stop) stop ;;
  status)
    if answers; then echo "$endpoint answers"; else echo "$endpoint does not answer"; exit 1; fi
    ;;
  *) die "unknown command '$command'" ;;
esac
