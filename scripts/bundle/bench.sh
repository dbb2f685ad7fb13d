#!/usr/bin/env bash
# Runs the dbio benchmark from this bundle, no Rust toolchain needed:
# installs what is missing (MariaDB, the Python drivers for --python) and
# runs bin/bench with the same arguments. `./bench.sh --help` for options.
set -euo pipefail
. "$(dirname "$0")/scripts/lib.sh"
# The managed server's home: beside the binaries unless DBIO_HOME says.
export DBIO_HOME=${DBIO_HOME:-$ROOT/home}
BENCH=$ROOT/bin/bench
plan=$("$BENCH" --needs "$@")
if printf '%s\n' "$plan" | grep -qv '^\(need\|build\): '; then
  printf '%s\n' "$plan" # --help or --version
  exit 0
fi
printf '%s\n' "$plan" | grep -qx 'need: server' && ensure_server
printf '%s\n' "$plan" | grep -qx 'need: c-client' && ensure_c_client
if printf '%s\n' "$plan" | grep -qx 'need: python'; then
  DBIO_PYTHON=$(ensure_python_venv)
  export DBIO_PYTHON
fi
exec "$BENCH" "$@"
