#!/usr/bin/env bash
# Writes one archive that runs the benchmark where no Rust toolchain is
# (a bigger machine, a cloud VM, a server box): the release binaries,
# hyperfine, the Python scripts with their pinned requirements, the query
# file and a README. There, `./bench.sh --quick` runs the same benchmark
# and writes the same results folder.
#   usage: scripts/pack.sh [ARCHIVE]   (default: target/dbio-bench-<revision>.tar.gz)
# DBIO_BENCH_BIN: pack binaries already built there instead of building.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$ROOT"
ensure_hyperfine
BIN=${DBIO_BENCH_BIN:-$ROOT/target/release}
if [ -z "${DBIO_BENCH_BIN:-}" ]; then
  ensure_rust
  cargo build --release --locked -q -p bench -p dbio -p bench_report
fi
# Every Rust approach, each built with only its own features.
packages=$("$BIN/bench" --needs --database-url mysql://pack@localhost/employees | sed -n 's/^build: //p')
if [ -z "${DBIO_BENCH_BIN:-}" ]; then
  for package in $packages; do
    cargo build --release --locked -q -p "$package"
  done
fi

revision=$(git rev-parse HEAD 2>/dev/null || echo unknown)
dirty=""
[ -z "$(git status --porcelain --untracked-files=no 2>/dev/null)" ] || dirty=" dirty"
archive=${1:-$ROOT/target/dbio-bench-${revision:0:12}.tar.gz}
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
dir=$stage/dbio-bench
mkdir -p "$dir/bin" "$dir/scripts/python" "$dir/queries"
# Stripped: the bundle runs benchmarks; profiling wants the checkout's
# binaries, which keep their line tables.
for name in bench bench-report $packages; do
  if command -v strip >/dev/null 2>&1; then
    strip -o "$dir/bin/$name" "$BIN/$name"
  else
    cp "$BIN/$name" "$dir/bin/"
  fi
done
hyperfine=$ROOT/target/tools/bin/hyperfine
[ -x "$hyperfine" ] || hyperfine=$(command -v hyperfine)
cp "$hyperfine" "$dir/bin/hyperfine"
mkdir -p "$dir/scripts/python/dbio"
cp scripts/python/test_*.py scripts/python/requirements.txt "$dir/scripts/python/"
cp scripts/python/dbio/*.py "$dir/scripts/python/dbio/"
cp scripts/lib.sh "$dir/scripts/"
cp queries/*.sql "$dir/queries/"
printf '%s%s\n' "$revision" "$dirty" >"$dir/REVISION"
cp scripts/bundle/bench.sh "$dir/bench.sh"
cp scripts/bundle/README.md "$dir/README.md"
chmod 755 "$dir/bench.sh"
tar -C "$stage" -czf "$archive.tmp" dbio-bench
mv "$archive.tmp" "$archive"
say "== wrote $archive ($(du -h "$archive" | cut -f1)): unpack it and run dbio-bench/bench.sh --quick"
printf '%s\n' "$archive"
