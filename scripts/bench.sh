#!/usr/bin/env bash
# The project's main job, as the README names it: installs what is missing
# (MariaDB, hyperfine, the Python drivers), builds the release binaries and
# runs the benchmark driver, crates/bench, with the same arguments.
# `scripts/bench.sh --help` is the driver's help.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$ROOT"
# DBIO_BENCH_BIN: a directory of binaries already built (scripts/test.sh's,
# for the end-to-end tests): nothing is built then.
if [ "${1:-}" = "--compare" ]; then
  # Two recorded runs compared (bench-report compare): files only, no
  # server, nothing installed but the renderer.
  shift
  if [ -n "${DBIO_BENCH_BIN:-}" ]; then
    REPORT=$DBIO_BENCH_BIN/bench-report
  else
    ensure_rust
    cargo build --release --locked -q -p bench_report
    REPORT=$ROOT/target/release/bench-report
  fi
  exec "$REPORT" compare "$@"
fi
if [ -n "${DBIO_BENCH_BIN:-}" ]; then
  BENCH=$DBIO_BENCH_BIN/bench
else
  ensure_rust
  cargo build --release --locked -q -p bench
  BENCH=$ROOT/target/release/bench
fi

# The driver checks the arguments and says what the run needs; a bad
# argument ends here with its one `error:` line, before anything is installed.
plan=$("$BENCH" --needs "$@")
if printf '%s\n' "$plan" | grep -qv '^\(need\|build\): '; then
  printf '%s\n' "$plan" # --help or --version
  exit 0
fi
ensure_hyperfine
printf '%s\n' "$plan" | grep -qx 'need: server' && ensure_server
# Started by root, the managed server runs as an unprivileged OS user, who
# must be able to enter its home. A checkout under a private directory
# (/root/...) is out of its reach: the home then lives under /var/lib,
# which only root may write, one per checkout (as scripts/test.sh does for
# its test servers).
if [ "$(id -u)" = 0 ] && [ -z "${DBIO_HOME:-}" ] &&
  printf '%s\n' "$plan" | grep -qx 'need: server'; then
  server_user=${DBIO_SERVER_USER:-mysql}
  id "$server_user" >/dev/null 2>&1 || server_user=nobody
  mkdir -p target
  if ! runuser -u "$server_user" -- test -x "$ROOT/target" 2>/dev/null; then
    DBIO_HOME=/var/lib/dbio-homes/$(printf %s "$ROOT" | cksum | cut -d' ' -f1)
    mkdir -p "$DBIO_HOME"
    chmod 755 /var/lib/dbio-homes "$DBIO_HOME"
    export DBIO_HOME
    say "== $server_user cannot enter $ROOT/target: the managed server lives in $DBIO_HOME (set DBIO_HOME to the same to run an approach against it)"
  fi
fi
printf '%s\n' "$plan" | grep -qx 'need: c-client' && ensure_c_client
if printf '%s\n' "$plan" | grep -qx 'need: python'; then
  DBIO_PYTHON=$(ensure_python_venv)
  export DBIO_PYTHON
fi
if [ -z "${DBIO_BENCH_BIN:-}" ]; then
  say "== building release binaries (each approach with only its own features)"
  for package in $(printf '%s\n' "$plan" | sed -n 's/^build: //p'); do
    cargo build --release --locked -q -p "$package"
  done
fi
exec "$BENCH" "$@"
