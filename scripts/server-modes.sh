#!/usr/bin/env bash
# Where the managed server's CPU per run goes, run after run (docs/findings.md: "What
# the server's CPU per run depends on"). Each run: a single-threaded CPU
# yardstick, then one report run of an approach with the server sampled by
# perf; prints the yardstick's time, the server's CPU and the wall time, and
# keeps each run's samples for `perf report -i DIR/run-N.data`.
#
#   scripts/server-modes.sh [RUNS] [APPROACH]     (default: 6 test_asyncio)
#
# Needs the release binaries and a started managed server (`dbio up`);
# installs perf (linux-perf) as root when missing. Run nothing else meanwhile.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$ROOT"
runs=${1:-6}
approach=${2:-test_asyncio}
case $runs in '' | *[!0-9]*) die "RUNS must be a number, not '$runs'" ;; esac
bin=$ROOT/target/release
[ -x "$bin/$approach" ] && [ -x "$bin/dbio" ] ||
  die "build first: cargo build --release -p dbio -p $approach"
command -v perf >/dev/null 2>&1 || apt_install linux-perf
pid=$("$bin/dbio" server status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["pid"] or "")')
[ -n "$pid" ] || die "the managed server is not running: start it with $bin/dbio up"
out=$(mktemp -d "${TMPDIR:-/tmp}/dbio-server-modes.XXXXXX")
say "== $runs report runs of $approach, mariadbd (pid $pid) sampled into $out"
seconds() { date +%s.%N; }
for i in $(seq 1 "$runs"); do
  y0=$(seconds)
  head -c 268435456 /dev/zero | sha256sum >/dev/null
  y1=$(seconds)
  c0=$("$bin/dbio" server cpu)
  perf record -q -F 499 -p "$pid" -o "$out/run-$i.data" 2>/dev/null &
  sampler=$!
  w0=$(seconds)
  "$bin/$approach" >/dev/null
  w1=$(seconds)
  kill -INT "$sampler"
  wait "$sampler" 2>/dev/null || true
  c1=$("$bin/dbio" server cpu)
  python3 -c 'import sys; y0,y1,c0,c1,w0,w1=map(float,sys.argv[2:]); print(f"run {sys.argv[1]}: yardstick {y1-y0:.2f} s, server CPU {c1-c0:.2f} s, wall {w1-w0:.2f} s")' \
    "$i" "$y0" "$y1" "$c0" "$c1" "$w0" "$w1"
done
say "== compare runs with: perf report -i $out/run-N.data --no-children --sort sym -n"
