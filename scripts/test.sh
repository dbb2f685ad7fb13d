#!/usr/bin/env bash
# The project's test command: formatting, lints, then every test against a
# real MariaDB server that the tests start themselves (under target/).
# Installs mariadb-server first when it is missing and this runs as root.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$ROOT"
ensure_rust
ensure_server
# The Python approaches are tested against the Rust ones (suite/tests/python.rs),
# and their pure parts by pytest (scripts/python/tests).
PYTHON=$(ensure_python_tests)
# The system-call counts of every approach (suite/tests/syscalls.rs).
command -v strace >/dev/null 2>&1 || apt_install strace

# Started by root, the test servers run as an unprivileged OS user (dbio
# never runs one as root), who must be able to enter their directory. A
# checkout under a private directory (/root/...) is out of its reach: the
# servers then live in /var/tmp instead.
if [ "$(id -u)" = 0 ] && [ -z "${DBIO_TEST_DIR:-}" ]; then
  server_user=${DBIO_SERVER_USER:-mysql}
  id "$server_user" >/dev/null 2>&1 || server_user=nobody
  mkdir -p target
  if ! runuser -u "$server_user" -- test -x "$ROOT/target" 2>/dev/null; then
    DBIO_TEST_DIR=/var/tmp/dbio-tests-$(printf %s "$ROOT" | cksum | cut -d' ' -f1)
    mkdir -p "$DBIO_TEST_DIR"
    # /var/tmp is everyone's: a directory (or symlink) someone else made
    # there first is not ours to trust, nor to chmod.
    [ ! -L "$DBIO_TEST_DIR" ] && [ "$(stat -c %u "$DBIO_TEST_DIR")" = 0 ] ||
      die "$DBIO_TEST_DIR belongs to another user or is a symlink; remove it, or set DBIO_TEST_DIR to a directory of root's"
    chmod 755 "$DBIO_TEST_DIR"
    export DBIO_TEST_DIR
    say "== $server_user cannot enter $ROOT/target: test servers live in $DBIO_TEST_DIR"
  fi
fi
TEST_DIR=${DBIO_TEST_DIR:-target}

stop_test_server() {
  [ -x target/debug/dbio ] || return 0
  for home in dbio-test dbio-test-replicas; do
    target/debug/dbio --home "$TEST_DIR/$home" server stop >/dev/null 2>&1 || true
  done
}
trap stop_test_server EXIT

say "== cargo fmt --check"
cargo fmt --all -- --check
say "== cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
say "== pytest (scripts/python)"
(cd scripts/python && PYTHONDONTWRITEBYTECODE=1 "$PYTHON" -m pytest -q)
# The end-to-end tests run bench.sh and the bundle as a user would: the
# release binaries and hyperfine are built here, once, not inside a test.
ensure_hyperfine
say "== release binaries for the end-to-end tests"
cargo build --release --locked -q -p bench -p dbio -p bench_report
for package in $(target/release/bench --needs --database-url mysql://test@localhost/employees | sed -n 's/^build: //p'); do
  cargo build --release --locked -q -p "$package"
done
say "== cargo test"
# --no-fail-fast: one failing test binary does not hide the others.
cargo test --workspace --locked --no-fail-fast "$@"
