#!/usr/bin/env bash
# Times `dbio load --force` (generate + load + ANALYZE + checksums) at a
# scale with hyperfine: the figure the README quotes for the dataset.
# usage: scripts/bench-load.sh [SCALE (default 1.0)] [RUNS (default 3)]
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$ROOT"
scale=${1:-1.0} runs=${2:-3}
ensure_rust
ensure_server
cargo build --release --locked -q -p dbio
HYPERFINE=$(command -v "$ROOT/target/tools/bin/hyperfine" || command -v hyperfine || true)
[ -n "$HYPERFINE" ] || die "hyperfine is missing: run scripts/bench.sh once (it installs it), or: cargo install hyperfine --version 1.20.0 --locked"
target/release/dbio server start >/dev/null
"$HYPERFINE" -N --runs "$runs" "target/release/dbio load --force --scale $scale"
