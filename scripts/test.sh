#!/usr/bin/env bash
# The project's test command: formatting, lints, then every test against a
# real MariaDB server that the tests start themselves (under target/).
# Installs mariadb-server first when it is missing and this runs as root.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$ROOT"
ensure_rust
ensure_server

stop_test_server() {
  [ -x target/debug/dbio ] && target/debug/dbio --home target/dbio-test server stop >/dev/null 2>&1 || true
}
trap stop_test_server EXIT

say "== cargo fmt --check"
cargo fmt --all -- --check
say "== cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
say "== cargo test"
# --no-fail-fast: one failing test binary does not hide the others.
cargo test --workspace --locked --no-fail-fast "$@"
