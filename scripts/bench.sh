#!/usr/bin/env bash
# The project's main job: time every approach with hyperfine against the
# employees dataset and write the results under results/.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

# The workspace is the list of approaches: every crates/test_* package, and
# every scripts/python/test_*.py as py_test_*; the serial baseline first.
baseline_first() {
  local first=$1 rest=() n
  shift
  for n in "$@"; do [ "$n" = "$first" ] || rest+=("$n"); done
  (IFS=,; echo "$first${rest[*]:+,${rest[*]}}")
}
rust=() py=()
for d in "$ROOT"/crates/test_*/; do d=${d%/}; rust+=("${d##*/}"); done
for f in "$ROOT"/scripts/python/test_*.py; do f=${f##*/}; py+=("py_${f%.py}"); done
RUST_APPROACHES=$(baseline_first test_single "${rust[@]}")
PY_APPROACHES=$(baseline_first py_test_single "${py[@]}")
HYPERFINE_VERSION=1.20.0

usage() {
  cat <<USAGE
usage: scripts/bench.sh [options]

Times each approach (hyperfine) against the employees dataset on a private
MariaDB server (or DATABASE_URL), writes results/<date>-<host>/ and updates
results/README.md. Installs what is missing when it can.

  --runs N            timed runs per approach, in N rounds of rotating order (default 3)
  --warmup N          warm-up runs per approach (default 1)
  --scale S           dataset scale, 1.0 = test_db's size (default 1.0)
  --seed N            dataset seed (default 42)
  --connections N[,N...]
                      connection budget for every approach (default 5); a list sweeps:
                      every approach at every budget, one folder per budget, and a
                      speedup-against-budget table
  --approaches LIST   comma-separated subset of:
                      $RUST_APPROACHES
                      (and with --python: $PY_APPROACHES)
  --python            also run the blog's five Python approaches (venv in target/)
  --workload NAME     report (default: the blog's 26 queries), point (--count primary-key
                      lookups, default 10000) or sleep (--count queries waiting --sleep-ms
                      on the server, default 100 x 50 ms)
  --count N           queries for point and sleep
  --sleep-ms MS       each sleep query's wait (default 50)
  --server-cpus N     pin the managed server to N CPUs (a small server's regime on a big
                      machine; default: all)
  --latency-ms MS     put dbio's latency proxy between every approach and the managed
                      server: MS more each way (a round trip gains 2 x MS)
  --optimizer-switch FLAGS
                      the managed server's optimizer_switch, e.g. split_materialized=off
                      (default: the server's own)
  --quick             a first look (under a minute once built): --scale 0.01
  --out DIR           results directory (default results/)
  --commit            git-commit the run's files and the index
  --help              this text

Environment: DATABASE_URL to use your own server instead of the managed one
(the dataset is loaded there if missing); DBIO_HOME for the managed server's home.
USAGE
}

runs="" warmup="" scale="" seed=42 budget=5 approaches="" python=0 quick=0 commit=0 out="" switch=""
workload=report count="" sleep_ms=50 latency="" server_cpus=""
original_args="$*"
need() { [ $# -ge 2 ] && [ -n "$2" ] || die "$1 needs a value (see --help)"; }
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) need "$@"; runs=$2; shift 2 ;;
    --warmup) need "$@"; warmup=$2; shift 2 ;;
    --scale) need "$@"; scale=$2; shift 2 ;;
    --seed) need "$@"; seed=$2; shift 2 ;;
    --workload) need "$@"; workload=$2; shift 2 ;;
    --count) need "$@"; count=$2; shift 2 ;;
    --sleep-ms) need "$@"; sleep_ms=$2; shift 2 ;;
    --latency-ms) need "$@"; latency=$2; shift 2 ;;
    --server-cpus) need "$@"; server_cpus=$2; shift 2 ;;
    --connections) need "$@"; budget=$2; shift 2 ;;
    --approaches) need "$@"; approaches=$2; shift 2 ;;
    --optimizer-switch) need "$@"; switch=$2; shift 2 ;;
    --out) need "$@"; out=$2; shift 2 ;;
    --python) python=1; shift ;;
    --quick) quick=1; shift ;;
    --commit) commit=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) printf 'error: unknown option %s (see --help)\n' "$1" >&2; exit 2 ;;
  esac
done
# --quick changes only the defaults: explicit values win.
if [ "$quick" = 1 ]; then scale=${scale:-0.01}; fi
runs=${runs:-3} warmup=${warmup:-1} scale=${scale:-1.0}

is_count() { [[ "$1" =~ ^[0-9]+$ ]]; }
is_count "$runs" && [ "$runs" -ge 1 ] || die "--runs must be a whole number ≥ 1, not '$runs'"
is_count "$warmup" || die "--warmup must be a whole number ≥ 0, not '$warmup'"
IFS=, read -r -a budgets <<<"$budget"
[ "${#budgets[@]}" -ge 1 ] || die "--connections needs a value (see --help)"
for b in "${budgets[@]}"; do
  is_count "$b" && [ "$b" -ge 1 ] || die "--connections must be whole numbers ≥ 1, not '$b'"
done
is_count "$seed" || die "--seed must be a whole number, not '$seed'"
[[ "$scale" =~ ^[0-9]*\.?[0-9]+$ ]] || die "--scale must be a number such as 1.0 or 0.01, not '$scale'"
case "$workload" in report|point|sleep) ;; *) die "--workload must be report, point or sleep, not '$workload'" ;; esac
[ -z "$count" ] || { is_count "$count" && [ "$count" -ge 1 ]; } || die "--count must be a whole number ≥ 1, not '$count'"
[ -z "$count" ] || [ "$workload" != report ] || die "--count applies to --workload point and sleep; the report is 26 queries"
{ is_count "$sleep_ms" && [ "$sleep_ms" -ge 1 ]; } || die "--sleep-ms must be a whole number ≥ 1, not '$sleep_ms'"
[ -z "$latency" ] || is_count "$latency" || die "--latency-ms must be a whole number of milliseconds, not '$latency'"
[ -z "$server_cpus" ] || { is_count "$server_cpus" && [ "$server_cpus" -ge 1 ]; } || die "--server-cpus must be a whole number ≥ 1, not '$server_cpus'"

known=",$RUST_APPROACHES,"
if [ "$python" = 1 ]; then known="$known$PY_APPROACHES,"; fi
if [ -z "$approaches" ]; then
  approaches=$RUST_APPROACHES
  if [ "$python" = 1 ]; then approaches="$approaches,$PY_APPROACHES"; fi
fi
IFS=, read -r -a selected <<<"$approaches"
for a in "${selected[@]}"; do
  case "$known" in
    *",$a,"*) ;;
    *) if [[ "$a" == py_* ]] && [ "$python" = 0 ]; then die "$a is a Python approach: add --python"; fi
       die "unknown approach '$a'; known: ${known:1:${#known}-2}" ;;
  esac
done

cd "$ROOT"
out=${out:-$ROOT/results}
ensure_rust

# --- what the run needs ------------------------------------------------------
HYPERFINE=""
hyperfine_ok() { "$1" --version 2>/dev/null | awk '{split($2,v,"."); exit !(v[1]>1 || (v[1]==1 && v[2]>=19))}'; }
for candidate in "$ROOT/target/tools/bin/hyperfine" "$(command -v hyperfine || true)"; do
  if [ -n "$candidate" ] && [ -x "$candidate" ] && hyperfine_ok "$candidate"; then HYPERFINE=$candidate; break; fi
done
if [ -z "$HYPERFINE" ]; then
  say "== installing hyperfine $HYPERFINE_VERSION into target/tools (needs >= 1.19 for --conclude and memory figures)"
  cargo install hyperfine --version "$HYPERFINE_VERSION" --locked --root "$ROOT/target/tools" \
    || die "could not install hyperfine; run: cargo install hyperfine --version $HYPERFINE_VERSION --locked"
  HYPERFINE=$ROOT/target/tools/bin/hyperfine
fi

managed=1
if [ -n "${DATABASE_URL:-}" ]; then managed=0; fi
if [ "$managed" = 1 ]; then ensure_server; fi

say "== building release binaries (each approach with only its own features)"
cargo build --release --locked -q -p dbio -p bench_report
for a in "${selected[@]}"; do
  [[ "$a" == py_* ]] || cargo build --release --locked -q -p "$a"
done
BIN=$ROOT/target/release

PY=""
if [ "$python" = 1 ]; then
  PY=$(ensure_python_venv)
fi

# --- the server and the dataset ----------------------------------------------
export DBIO_WORKLOAD=$workload DBIO_SLEEP_MS=$sleep_ms
if [ -n "$count" ]; then export DBIO_COUNT=$count; else unset DBIO_COUNT; fi
if [ "$managed" = 1 ]; then
  say "== dbio up --scale $scale --seed $seed"
  # Always explicit: a switch set by an earlier run would otherwise persist.
  up_args=(up --scale "$scale" --seed "$seed" --optimizer-switch "${switch:-default}" --server-cpus "${server_cpus:-all}")
  "$BIN/dbio" "${up_args[@]}" >/dev/null
  # For the Python scripts; never printed.
  DATABASE_URL=$("$BIN/dbio" url --reveal)
  export DATABASE_URL
else
  [ -z "$switch" ] || die "--optimizer-switch applies to the managed server; set it on your own server instead"
  [ -z "$server_cpus" ] || die "--server-cpus applies to the managed server"
  say "== dbio load --scale $scale --seed $seed (into DATABASE_URL)"
  "$BIN/dbio" load --scale "$scale" --seed "$seed"
fi

# --- the run -------------------------------------------------------------------
host=$(hostname 2>/dev/null || cat /proc/sys/kernel/hostname)
base="$out/$(date -u +%Y-%m-%d)-$host"
dir=$base
n=2
while [ -e "$dir" ]; do dir="$base-$n"; n=$((n + 1)); done
mkdir -p "$dir"

# Whatever ends the run early (an error, Ctrl-C, `kill`, a closed
# terminal) removes the partial results folder and stops what runs for it:
# the timed child's whole process group (hyperfine and the approach it
# runs, which cancels its queries on the signal) and the latency proxy.
finished=0 child="" proxy_pid=""
cleanup() {
  if [ -n "$child" ]; then kill -TERM -- "-$child" 2>/dev/null || true; wait "$child" 2>/dev/null || true; fi
  if [ -n "$proxy_pid" ]; then kill "$proxy_pid" 2>/dev/null || true; fi
  if [ "$finished" != 1 ]; then rm -rf "$dir"; fi
}
trap cleanup EXIT
trap 'say "== interrupted: removing $dir"; exit 130' INT
trap 'say "== terminated: removing $dir"; exit 143' TERM
trap 'exit 129' HUP
# Runs a command in a process group of its own and waits for it, so that
# a signal to bench.sh is handled at once (bash runs a trap only after a
# foreground child ends) and reaches everything the command started.
in_group() {
  set -m
  "$@" &
  child=$!
  set +m
  local rc=0
  wait "$child" || rc=$?
  child=""
  return "$rc"
}

# The latency proxy: every approach, Rust and Python, connects through it.
if [ -n "$latency" ]; then
  [ "$managed" = 1 ] || die "--latency-ms needs the managed server (unset DATABASE_URL)"
  port_file=$dir/proxy.port
  "$BIN/dbio" proxy --latency-ms "$latency" --port-file "$port_file" 2>"$dir/proxy.log" &
  proxy_pid=$!
  for _ in $(seq 100); do [ -s "$port_file" ] && break; kill -0 "$proxy_pid" 2>/dev/null || break; sleep 0.1; done
  [ -s "$port_file" ] || die "the latency proxy did not start: $(cat "$dir/proxy.log" 2>/dev/null)"
  proxy_port=$(cat "$port_file")
  rm -f "$port_file"
  DATABASE_URL=$(printf '%s' "$DATABASE_URL" | sed -E "s#@127\.0\.0\.1:[0-9]+/#@127.0.0.1:$proxy_port/#")
  export DATABASE_URL
  say "== latency proxy on 127.0.0.1:$proxy_port: $latency ms each way"
fi

# An approach's command, as words (COMMAND) and as one string for hyperfine,
# which splits it again like a shell: each word quoted, so that paths with
# spaces survive.
command_of() {
  if [[ "$1" == py_* ]]; then COMMAND=("$PY" "$ROOT/scripts/python/${1#py_}.py"); else COMMAND=("$BIN/$1"); fi
}
quoted() { printf '%q ' "$@"; }

# One cell: every selected approach at one budget, into $cell: untimed
# profile runs, host.json, timed rounds, the table.
run_cell() {
cell=$1 cell_budget=$2 cell_label=$3
export DBIO_CONNECTIONS=$cell_budget
# Untimed profile runs: a failing approach stops here with its own one-line
# error; each process reports its own peak memory and row counts.
mkdir -p "$cell/profiles"
say "== profile run of each approach (untimed: checks it works, records peak memory and row counts)"
for a in "${selected[@]}"; do
  # shellcheck disable=SC2046 # the command is words by design
  command_of "$a"
  if ! in_group "${COMMAND[@]}" --json >"$cell/profiles/$a.json" 2>"$cell/profiles/$a.err"; then
    err=$(head -n 1 "$cell/profiles/$a.err")
    die "$a failed: ${err#error: }"
  fi
  rm -f "$cell/profiles/$a.err"
done

# The facts of the run as it starts: machine, server, dataset (verified), git.
facts=$(mktemp)
"$BIN/dbio" facts >"$facts" || { rm -f "$facts"; die "cannot read the server's facts (dbio facts failed above)"; }
host_args=(host --out "$cell/host.json" --facts "$facts" --bench-command "scripts/bench.sh $original_args"
  --budget "$cell_budget" --runs "$runs" --warmup "$warmup" --approaches "$(IFS=,; echo "${selected[*]}")"
  --hyperfine "$HYPERFINE" --workload "$workload" --sleep-ms "$sleep_ms")
if [ -n "$count" ]; then host_args+=(--count "$count"); fi
if [ -n "$latency" ]; then host_args+=(--latency-ms "$latency"); fi
if [ -n "$server_cpus" ]; then host_args+=(--server-cpus "$server_cpus"); fi
if [ -n "$PY" ]; then host_args+=(--python "$PY"); fi
if [ "$managed" = 1 ]; then host_args+=(--managed); fi
"$BIN/bench-report" "${host_args[@]}"
rm -f "$facts"

# Timed runs in rounds: every approach once per round, the order rotating
# from round to round, so that a slow period of the machine (the server's CPU
# cost per query drifts on a busy VM) is spread over all approaches instead
# of landing on whichever ran then.
n_approaches=${#selected[@]}
for ((round = 1; round <= runs; round++)); do
  cmd=(-N --runs 1 --warmup "$([ "$round" = 1 ] && echo "$warmup" || echo 0)" --export-json "$cell/hyperfine-round-$(printf %03d "$round").json")
  # --settle: a run killed by SIGKILL leaves its queries running on the
  # server; they are waited for (or killed) before the next timed run.
  proxy_args=()
  if [ -n "$proxy_pid" ]; then proxy_args=(--proxy-pid "$proxy_pid" --proxy-record "$cell/proxy-cpu.tsv"); fi
  if [ "$managed" = 1 ]; then cmd+=(--prepare "$(quoted "$BIN/dbio" server cpu --settle --record "$cell/server-cpu.tsv" --label before "${proxy_args[@]}")"); fi
  for ((i = 0; i < n_approaches; i++)); do
    a=${selected[$(((i + round - 1) % n_approaches))]}
    command_of "$a"
    cmd+=(-n "$a" "$(quoted "${COMMAND[@]}")")
    if [ "$managed" = 1 ]; then cmd+=(--conclude "$(quoted "$BIN/dbio" server cpu --record "$cell/server-cpu.tsv" --label "$a" "${proxy_args[@]}")"); fi
  done
  # Progress on stderr, between hyperfine's own outputs: elapsed, and what
  # remains at the pace of the rounds so far (the first includes warm-ups).
  elapsed=$((SECONDS - started_at))
  done_rounds=$((rounds_done + round - 1))
  eta=""
  if [ "$done_rounds" -gt 0 ]; then eta=", about $((elapsed * (total_rounds - done_rounds) / done_rounds))s to go"; fi
  say "== [${elapsed}s$eta] ${cell_label}round $round of $runs: $n_approaches approaches$([ "$round" = 1 ] && [ "$warmup" -gt 0 ] && echo ", $warmup warm-up run(s) each"), $workload, scale $scale, budget $cell_budget${latency:+, $latency ms latency}"
  if ! in_group "$HYPERFINE" "${cmd[@]}"; then
    command_of "${selected[0]}"
    die "hyperfine stopped: an approach failed (hyperfine names it above); run it alone to see its error, e.g. $(quoted "${COMMAND[@]}")"
  fi
done

"$BIN/bench-report" table --dir "$cell"
rounds_done=$((rounds_done + runs))
}

total_rounds=$((runs * ${#budgets[@]})) rounds_done=0 started_at=$SECONDS
if [ "${#budgets[@]}" = 1 ]; then
  run_cell "$dir" "${budgets[0]}" ""
else
  k=1
  for b in "${budgets[@]}"; do
    run_cell "$dir/budget-$b" "$b" "budget $b ($k of ${#budgets[@]}), "
    k=$((k + 1))
  done
  "$BIN/bench-report" sweep --dir "$dir"
fi

finished=1
say "== writing $dir"
"$BIN/bench-report" index --results "$out"
cat "$dir/table.md"

if [ "$commit" = 1 ]; then
  git add -- "$dir" "$out/README.md"
  git commit -q -m "results: $(basename "$dir"): $workload${count:+ $count}${latency:+, $latency ms latency}, scale $scale, budget $budget, ${#selected[@]} approaches" -- "$dir" "$out/README.md"
  say "== committed $(basename "$dir")"
fi
say "results: $dir"
pictures=$(cd "$dir" && ls -- *.svg 2>/dev/null | tr '\n' ' ')
[ -z "$pictures" ] || say "pictures (SVG, shown in its README.md): $pictures"
if [ "$managed" = 1 ]; then
  say "the managed server keeps running for the next run; stop it with: target/release/dbio server stop"
fi
