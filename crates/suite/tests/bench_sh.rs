//! `scripts/bench.sh`, run as a user would: its argument handling, and a
//! `--quick` run end to end (two approaches, one run each) against the
//! shared test server, whose dataset is the quick run's (scale 0.01, seed 42).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    testkit::workspace_root()
}

/// `scripts/bench.sh`, on the release binaries `scripts/test.sh` built
/// (`DBIO_BENCH_BIN`): no test starts a release build. A commit identity
/// for `--commit`, whatever the machine's git configuration.
fn bench_command() -> Command {
    let mut cmd = Command::new("bash");
    cmd.arg(root().join("scripts/bench.sh")).current_dir(root());
    testkit::scrub(&mut cmd);
    cmd.env("DBIO_BENCH_BIN", testkit::release_dir());
    for (key, value) in [
        ("GIT_AUTHOR_NAME", "dbio test"),
        ("GIT_AUTHOR_EMAIL", "test@dbio.invalid"),
        ("GIT_COMMITTER_NAME", "dbio test"),
        ("GIT_COMMITTER_EMAIL", "test@dbio.invalid"),
    ] {
        cmd.env(key, value);
    }
    cmd
}

/// `scripts/bench.sh --compare A B` is `bench-report compare`: two
/// committed runs give the table, a folder that is no run one line.
#[test]
fn compare_reads_two_runs_and_refuses_a_folder_that_is_no_run() {
    let out = bench(
        &[
            "--compare",
            "results/2026-12-01-vm-9",
            "results/2026-12-01-vm-10",
        ],
        None,
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        text.contains("| test_single |") && text.contains("warning: the runs differ in workload"),
        "{text}"
    );
    let out = bench(&["--compare", "results", "results/2026-12-01-vm-10"], None);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("error: ") && err.contains("is not a results folder"),
        "{err}"
    );
}

/// One benchmark at a time on the shared test server: `bench` refuses a
/// second on the same home (`bench.lock`), so the tests that run one there
/// take turns.
fn shared_home_turn() -> std::sync::MutexGuard<'static, ()> {
    static TURN: std::sync::Mutex<()> = std::sync::Mutex::new(());
    TURN.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn bench(args: &[&str], home: Option<&Path>) -> Output {
    let mut cmd = bench_command();
    cmd.args(args);
    if let Some(home) = home {
        cmd.env("DBIO_HOME", home);
    }
    cmd.output().expect("run bench.sh")
}

/// The one run folder a test's results directory holds (beside `.git`).
fn the_run(out_dir: &Path) -> PathBuf {
    let runs: Vec<PathBuf> = std::fs::read_dir(out_dir)
        .expect("results dir")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir() && !p.ends_with(".git"))
        .collect();
    assert_eq!(runs.len(), 1, "{runs:?}");
    runs[0].clone()
}

/// The results index, and the run's name as the index lists it.
fn index_and_name(out_dir: &Path, run: &Path) -> (String, String) {
    let index = std::fs::read_to_string(out_dir.join("README.md")).expect("index");
    let name = run
        .file_name()
        .expect("name")
        .to_string_lossy()
        .into_owned();
    (index, name)
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Every bad argument ends the run with one `error:` line from the
/// driver's own checks (clap's, and the registry's), exit 2, before
/// anything is installed or started.
#[test]
fn arguments_are_checked_before_any_work() {
    let help = bench(&["--help"], None);
    assert!(help.status.success(), "{}", stderr(&help));
    let text = String::from_utf8_lossy(&help.stdout);
    assert!(text.contains("--approaches <LIST>"), "{text}");
    assert!(
        text.starts_with("Times each approach"),
        "the driver's help: {text}"
    );

    for (args, needle) in [
        (&["--bogus"][..], "unexpected argument '--bogus'"),
        (&["--runs", "0"][..], "'--runs <N>'"),
        (&["--runs"][..], "a value is required for '--runs <N>'"),
        (&["--warmup", "-1"][..], "'-1'"),
        (&["--connections", "0"][..], "'--connections <N[,N...]>'"),
        (&["--connections", "1,x"][..], "'--connections <N[,N...]>'"),
        (&["--scale", "big"][..], "'--scale <S>'"),
        (&["--scale", "0"][..], "'--scale <S>'"),
        (
            &["--approaches", "test_nope"][..],
            "unknown approach 'test_nope'",
        ),
        (&["--approaches", "py_test_mt"][..], "add --python"),
        (&["--approaches", "test_mt,test_mt"][..], "listed twice"),
        (
            &["--workload", "bogus"][..],
            "possible values: report, point, sleep",
        ),
        (&["--count", "10"][..], "--count applies to"),
        (
            &["--workload", "sleep", "--sleep-ms", "0"][..],
            "--sleep-ms must be",
        ),
        (
            &["--sleep-ms", "100"][..],
            "--sleep-ms applies to --workload sleep",
        ),
        (
            &["--python-interpreter", "/usr/bin/python3"][..],
            "is for --python",
        ),
        (&["--arrivals", "x"][..], "'--arrivals <RATE>'"),
        (&["--arrivals", "0"][..], "--arrivals must be more than 0"),
        (
            &["--arrivals", "2,1,2"][..],
            "2 is given twice in --arrivals",
        ),
        (
            &["--arrivals", "1,2", "--connections", "1,2"][..],
            "one axis at a time",
        ),
        (&["--slo", "100"][..], "--slo applies to an open-loop run"),
        (&["--arrivals", "1", "--slo", "0"][..], "'--slo <MS>'"),
        (
            &["--arrivals", "1", "--workload", "point", "--c-client"][..],
            "not with --arrivals",
        ),
        (
            &["--arrivals", "1", "--fanout", "2"][..],
            "--fanout applies to --workload point and sleep",
        ),
        (
            &["--fanout", "2"][..],
            "--fanout applies to an open-loop run",
        ),
        (&["--latency-ms", "x"][..], "'--latency-ms <MS>'"),
        (&["--server-cpus", "0"][..], "'--server-cpus <N>'"),
        (&["--c-client"][..], "--c-client compares point lookups"),
        (&["--replicas", "9"][..], "'--replicas <N[,N...]>'"),
        (&["--replicas", "08"][..], "not a plain number"),
        (&["--replicas", "1,+1"][..], "not a plain number"),
        (&["--replicas", "1,1"][..], "1 is given twice in --replicas"),
        (
            &["--replicas", "0,1", "--connections", "1,2"][..],
            "one axis at a time",
        ),
        (
            &["--replicas", "1", "--latency-ms", "5"][..],
            "not with --replicas",
        ),
        (
            &[
                "--c-client",
                "--workload",
                "point",
                "--python",
                "--approaches",
                "py_test_mt",
            ][..],
            "select at least one",
        ),
    ] {
        let out = bench(args, None);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        let err = stderr(&out);
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(
            err.starts_with("error: ") && err.contains(needle),
            "{args:?}: {err}"
        );
    }
    // Settings of the managed server, with the user's own.
    for flag in ["--server-cpus", "--calibration-runs"] {
        let mut own = bench_command();
        own.args([flag, "1"]);
        let out = own
            .env("DATABASE_URL", "mysql://u:secret@127.0.0.1:1/employees")
            .output()
            .expect("bench.sh");
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{flag}: {err}");
        assert!(
            err.contains(&format!("{flag} applies to the managed server")),
            "{err}"
        );
        assert!(!err.contains("secret"), "{err}");
    }
}

/// `bench.sh --quick`, one run of test_single and test_asyncio against the
/// shared test server, into a fresh `out_dir`; fails the test if it fails.
fn quick_run(out_dir: &Path, extra: &[&str]) -> Output {
    let out_arg = out_dir.display().to_string();
    // `extra` may ask for more rounds.
    let runs = if extra.contains(&"--runs") {
        &[][..]
    } else {
        &["--runs", "1"][..]
    };
    let mut args = runs.to_vec();
    args.extend_from_slice(&[
        "--quick",
        "--warmup",
        "0",
        "--approaches",
        "test_single,test_asyncio",
        "--out",
        &out_arg,
    ]);
    args.extend_from_slice(extra);
    let _turn = shared_home_turn();
    let out = bench(&args, Some(testkit::shared().server.home()));
    assert!(out.status.success(), "bench.sh failed: {}", stderr(&out));
    out
}

#[test]
fn quick_run_writes_parsable_results_without_secrets() {
    let shared = testkit::shared();
    // A space in the path: bench.sh hands hyperfine commands as strings.
    let out_dir = std::env::temp_dir().join(format!("dbio bench test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out_dir);
    let out = quick_run(&out_dir, &[]);

    let run = &the_run(&out_dir);

    let hyperfine =
        bench_report::hyperfine::load(&run.join("hyperfine.json")).expect("hyperfine.json");
    let names: Vec<&str> = hyperfine
        .results
        .iter()
        .map(|b| b.command.as_str())
        .collect();
    assert_eq!(names, ["test_single", "test_asyncio"]);
    assert!(
        hyperfine
            .results
            .iter()
            .all(|b| b.times.len() == 1 && b.mean > 0.0)
    );

    let host: bench_report::host::Host =
        serde_json::from_str(&std::fs::read_to_string(run.join("host.json")).expect("host.json"))
            .expect("parse host.json");
    assert!(host.server.managed);
    assert_eq!(host.bench.budget, 5);
    assert_eq!(
        host.dataset.meta.get("scale").map(String::as_str),
        Some("0.01")
    );
    assert!(host.dataset.verified);
    assert!(host.cores >= 1 && host.memory_bytes > 0);
    // Untimed runs until the server's CPU per run settled, recorded.
    let calibration = host.bench.calibration.as_ref().expect("calibration");
    assert_eq!(calibration.approach, "test_single");
    let n = calibration.server_cpu_s.len();
    assert!((1..=5).contains(&n), "{calibration:?}");
    assert!(
        calibration.settled
            == (n >= 2 && {
                let s = &calibration.server_cpu_s;
                bench_report::host::Calibration::agree(s[n - 2], s[n - 1])
            }),
        "{calibration:?}"
    );

    let cpu =
        bench_report::server_cpu::per_command(&run.join("server-cpu.tsv")).expect("server cpu");
    assert_eq!(cpu.get("test_single").map(Vec::len), Some(1));

    let table = std::fs::read_to_string(run.join("table.md")).expect("table.md");
    assert!(
        table.contains("| test_single |") && table.contains("| test_asyncio |"),
        "{table}"
    );
    let (index, name) = index_and_name(&out_dir, run);
    let row = index
        .lines()
        .find(|l| l.starts_with(&format!("| [{name}]")))
        .unwrap_or_else(|| panic!("{name} not in the index: {index}"));
    // Output is written after the run, so the index says so.
    assert!(row.contains("| after the run |"), "{row}");

    let password =
        std::fs::read_to_string(shared.server.home().join("password")).expect("password");
    let profiles = run.join("profiles");
    let files = std::fs::read_dir(run)
        .expect("run dir")
        .chain(std::fs::read_dir(&profiles).expect("profiles"));
    let mut checked = 0;
    for path in files.flatten().map(|e| e.path()).filter(|p| p.is_file()) {
        let text = std::fs::read_to_string(&path).expect("text file");
        assert!(
            !text.contains(password.trim()),
            "password in {}",
            path.display()
        );
        checked += 1;
    }
    assert!(checked >= 8, "only {checked} result files");
    // Each process's own report: peak memory and row counts.
    let profile: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(profiles.join("test_asyncio.json")).expect("profile"),
    )
    .expect("profile json");
    assert!(profile["max_rss_kib"].as_u64().is_some_and(|k| k > 0));
    let row = table
        .lines()
        .find(|l| l.starts_with("| test_asyncio |"))
        .expect("row");
    let cells: Vec<&str> = row.split('|').map(str::trim).collect();
    assert!(
        cells[10].parse::<f64>().is_ok_and(|m| m > 0.0),
        "peak RSS: {row}"
    );
    // Latency p50 / p95 / max from the profile's timestamps, in order.
    let latency: Vec<f64> = cells[7]
        .split(" / ")
        .map(|v| v.parse().expect("latency in ms"))
        .collect();
    assert!(
        latency.len() == 3 && latency[0] <= latency[1] && latency[1] <= latency[2],
        "latency: {row}"
    );

    // The pictures: every timed run a point, a timeline panel per approach.
    let readme = std::fs::read_to_string(run.join("README.md")).expect("README");
    let walltimes = Svg::read(&run.join("walltimes.svg"));
    assert_eq!(walltimes.count("circle"), 2, "one point per run");
    let timelines = Svg::read(&run.join("timelines.svg"));
    for name in ["test_single", "test_asyncio"] {
        assert_eq!(walltimes.texts_equal(name), 1, "walltimes: {name}");
        assert_eq!(
            timelines.texts_starting(&format!("{name}: 26 queries on ")),
            1,
            "timelines: {name}"
        );
    }
    // 26 queries, three bars each (waiting, before the first row, rows).
    assert!(timelines.count("rect") >= 2 * 26 * 3, "timeline bars");
    for file in ["walltimes.svg", "timelines.svg"] {
        assert!(readme.contains(&format!("]({file})")), "{file} not shown");
    }
    assert!(
        !stderr(&out).contains(password.trim()),
        "password on stderr"
    );
    let _ = std::fs::remove_dir_all(&out_dir);
}

/// A budget sweep writes one cell per budget, each a parseable run with
/// every approach, and a summary with the bound per budget.
#[test]
fn a_sweep_writes_one_cell_per_budget_and_the_bound_per_budget() {
    let out_dir = std::env::temp_dir().join(format!("dbio-sweep-test-{}", std::process::id()));
    // --commit: the run and the index are committed in the results' repository.
    let _ = std::fs::remove_dir_all(&out_dir);
    let git = |args: &[&str]| {
        Command::new("git")
            .arg("-C")
            .arg(&out_dir)
            .args(args)
            .output()
            .expect("git")
    };
    std::fs::create_dir_all(&out_dir).expect("out dir");
    assert!(git(&["init", "-q"]).status.success());
    let out = quick_run(&out_dir, &["--connections", "1,2", "--commit"]);
    let log =
        String::from_utf8_lossy(&git(&["log", "--format=%s", "--name-only"]).stdout).into_owned();
    assert!(log.starts_with("results: "), "{log}");
    assert!(
        log.contains("budget 1,2") && log.contains("README.md"),
        "{log}"
    );
    assert!(log.contains("budget-2/table.md"), "{log}");
    let status = git(&["status", "--porcelain"]);
    assert!(
        status.stdout.is_empty(),
        "left uncommitted: {}",
        String::from_utf8_lossy(&status.stdout)
    );
    assert!(
        stderr(&out).contains("budget 2 (2 of 2)"),
        "no progress: {}",
        stderr(&out)
    );
    let run = the_run(&out_dir);
    for budget in [1, 2] {
        let cell = run.join(format!("budget-{budget}"));
        let export = bench_report::hyperfine::load(&cell.join("hyperfine.json")).expect("cell");
        let names: Vec<&str> = export.results.iter().map(|b| b.command.as_str()).collect();
        assert_eq!(names, ["test_single", "test_asyncio"], "budget {budget}");
        let host: bench_report::host::Host =
            serde_json::from_str(&std::fs::read_to_string(cell.join("host.json")).expect("host"))
                .expect("host.json");
        assert_eq!(host.bench.budget, budget);
    }
    let host: bench_report::host::Host =
        serde_json::from_str(&std::fs::read_to_string(run.join("host.json")).expect("host"))
            .expect("host.json");
    assert_eq!(host.bench.budgets, [1, 2]);
    let table = std::fs::read_to_string(run.join("table.md")).expect("table.md");
    let bound = table
        .lines()
        .find(|l| l.starts_with("| bound"))
        .expect("bound row");
    assert_eq!(bound.matches('×').count(), 2, "{bound}");
    // Each budget's bound names its limit; with the client on the server's
    // machine, the client's CPU counts (a quick run at scale 0.01 is
    // limited by CPU, not waits or round trips).
    assert_eq!(bound.matches(" CPU)").count(), 2, "{bound}");
    let cell_table = std::fs::read_to_string(run.join("budget-2").join("table.md")).expect("cell");
    assert!(cell_table.contains("| limit |"), "{cell_table}");
    assert!(cell_table.contains("| in run [µs] |"), "{cell_table}");
    let asyncio = table
        .lines()
        .find(|l| l.starts_with("| test_asyncio |"))
        .expect("row");
    assert_eq!(asyncio.matches(" s) |").count(), 2, "{asyncio}");

    // The curve: one line per approach with a point per budget, and a
    // legend entry for each, the ideal and the bound.
    let speedup = Svg::read(&run.join("speedup.svg"));
    assert_eq!(
        speedup.count("circle"),
        2 * 2,
        "a point per approach and budget"
    );
    for name in [
        "test_single",
        "test_asyncio",
        "ideal (the budget)",
        "bound (each cell's most limiting term)",
    ] {
        assert_eq!(speedup.texts_equal(name), 1, "speedup legend: {name}");
    }
    let readme = std::fs::read_to_string(run.join("README.md")).expect("README");
    assert!(readme.contains("](speedup.svg)"), "speedup.svg not shown");
    assert!(readme.contains("- budgets 1, 2 connections"), "{readme}");
    let (index, name) = index_and_name(&out_dir, &run);
    assert!(
        index.contains(&format!("]({name}/speedup.svg)")),
        "not in the index: {index}"
    );
    let _ = std::fs::remove_dir_all(&out_dir);
}

/// An open loop over two rates: a cell per rate with each round's
/// request latencies and the ideal queue's service times, a table that
/// puts the bound beside every percentile, and the latency curve.
#[test]
fn an_open_loop_sweep_writes_a_cell_per_rate_and_the_latency_curve() {
    use bench_report::open_loop::{Record, Service};
    let out_dir = std::env::temp_dir().join(format!("dbio-open-loop-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out_dir);
    let out = quick_run(
        &out_dir,
        &[
            "--workload",
            "sleep",
            "--sleep-ms",
            "20",
            "--connections",
            "2",
            "--arrivals",
            "40,10",
            "--requests",
            "12",
            "--runs",
            "2",
        ],
    );
    let err = stderr(&out);
    assert!(err.contains("10 requests/s (1 of 2)"), "progress: {err}");
    let run = the_run(&out_dir);
    let read = |path: PathBuf| {
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    };
    for rate in ["10", "40"] {
        let cell = run.join(format!("rate-{rate}"));
        let service: Service =
            serde_json::from_str(&read(cell.join("service.json"))).expect("service");
        // A sleep of 20 ms and one round trip, on the budget's 2.
        assert_eq!(service.connections, 2);
        assert!(
            service.per_query_us[0] >= 20_000 && service.per_query_us[0] < 1_000_000,
            "{service:?}"
        );
        for round in [1, 2] {
            let records: Vec<Record> =
                serde_json::from_str(&read(cell.join(format!("open-loop-round-{round:03}.json"))))
                    .expect("records");
            let names: Vec<&str> = records.iter().map(|r| r.approach.as_str()).collect();
            assert_eq!(names, ["test_single", "test_asyncio"], "rate {rate}");
            for r in &records {
                assert_eq!(r.round, round);
                assert_eq!(r.request_latency_us.len() + r.unfinished, 12, "{r:?}");
                // No request ends before its sleep could.
                assert!(r.request_latency_us.iter().all(|&us| us >= 20_000), "{r:?}");
            }
        }
        let table = read(cell.join("table.md"));
        assert!(
            table.contains(&format!("Offered {rate}/s: 12 requests of 1 sleep query")),
            "{table}"
        );
        assert!(table.contains("| **bound** (ideal queue) |"), "{table}");
        let host: bench_report::host::Host =
            serde_json::from_str(&read(cell.join("host.json"))).expect("host.json");
        let open = host.bench.open_loop.expect("the cell's arrivals");
        assert_eq!(
            (open.rate, open.requests),
            (rate.parse().expect("rate"), 12)
        );
    }
    let host: bench_report::host::Host =
        serde_json::from_str(&read(run.join("host.json"))).expect("host.json");
    assert_eq!(host.bench.rates, [10.0, 40.0], "in rising order");
    let table = read(run.join("table.md"));
    assert!(
        table.contains("| approach | 10/s | 40/s | p99 first exceeds the SLO at |"),
        "{table}"
    );
    for row in [
        "| test_single |",
        "| test_asyncio |",
        "| **bound** (ideal queue) |",
    ] {
        assert!(table.lines().any(|l| l.starts_with(row)), "{row}: {table}");
    }
    assert!(table.contains("twice the unloaded latency"), "{table}");
    let latency = Svg::read(&run.join("latency.svg"));
    assert_eq!(
        latency.count("circle"),
        2 * 2,
        "a point per approach and rate"
    );
    for name in [
        "test_single",
        "test_asyncio",
        "bound (ideal queue)",
        "SLO",
        "10",
        "40",
    ] {
        assert_eq!(latency.texts_equal(name), 1, "latency.svg: {name}");
    }
    let readme = read(run.join("README.md"));
    assert!(readme.contains("](latency.svg)"), "latency.svg not shown");
    let _ = std::fs::remove_dir_all(&out_dir);
}

/// An SVG file, parsed as XML (a parse error fails the test).
struct Svg(String);

impl Svg {
    fn read(path: &Path) -> Svg {
        let text =
            std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let svg = Svg(text);
        let doc = svg.doc();
        assert_eq!(doc.root_element().tag_name().name(), "svg");
        svg
    }

    fn doc(&self) -> roxmltree::Document<'_> {
        roxmltree::Document::parse(&self.0).unwrap_or_else(|e| panic!("not XML: {e}"))
    }

    /// Elements named `tag`.
    fn count(&self, tag: &str) -> usize {
        self.doc()
            .descendants()
            .filter(|n| n.tag_name().name() == tag)
            .count()
    }

    fn texts(&self) -> Vec<String> {
        self.doc()
            .descendants()
            .filter(|n| n.tag_name().name() == "text")
            .map(|n| n.text().unwrap_or_default().trim().to_owned())
            .collect()
    }

    fn texts_equal(&self, text: &str) -> usize {
        self.texts().iter().filter(|t| *t == text).count()
    }

    fn texts_starting(&self, prefix: &str) -> usize {
        self.texts()
            .iter()
            .filter(|t| t.starts_with(prefix))
            .count()
    }
}

/// `kill` (or Ctrl-C) during a timed round: bench.sh stops at once, stops
/// what it runs (the approach cancels its queries on the server), leaves no
/// partial results folder, and blames no approach.
#[test]
fn a_run_stopped_by_a_signal_leaves_no_partial_results() {
    use std::time::{Duration, Instant};
    let shared = testkit::shared();
    let _turn = shared_home_turn();
    let out_dir = std::env::temp_dir().join(format!("dbio-bench-killed-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out_dir);
    let out_arg = out_dir.display().to_string();
    for (signal, code) in [("-TERM", 143), ("-INT", 130)] {
        let mut cmd = bench_command();
        // No calibration runs: their 3-s sleeps, back to back, would meet
        // the other tests' settle (`dbio server cpu --settle` kills a
        // benchmark query still running after 10 s) on the shared server.
        cmd.args([
            "--quick",
            "--runs",
            "3",
            "--warmup",
            "0",
            "--calibration-runs",
            "0",
        ])
        .args(["--approaches", "test_threadpool", "--out", &out_arg])
        // Sleeps far longer than the test waits for them to end: only a
        // cancellation ends them in time (issue 27, item 5). Through the
        // proxy, so that its group is among those stopped.
        .args([
            "--workload",
            "sleep",
            "--count",
            "10",
            "--sleep-ms",
            "60000",
        ])
        .args(["--latency-ms", "1"])
        .env("DBIO_HOME", shared.server.home())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
        let mut child = cmd.spawn().expect("bench.sh");
        // In a timed round: the first timed run's --prepare has recorded.
        testkit::poll("a timed round", Duration::from_secs(300), || {
            std::fs::read_dir(&out_dir)
                .ok()?
                .flatten()
                .find(|run| run.path().join("server-cpu.tsv").exists())
                .map(|_| ())
        });
        let mut admin = testkit::admin(&shared.url);
        let sleeping = |admin: &mut mysql::Conn| sleeping_for(admin, "60.000");
        testkit::poll("the timed run's queries", Duration::from_secs(30), || {
            (sleeping(&mut admin) > 0).then_some(())
        });
        // The process groups bench started: hyperfine and the approach it
        // times, the proxy (not this test's own).
        let groups = groups_below(child.id());
        let names: Vec<String> = groups
            .iter()
            .flat_map(|g| members(*g))
            .map(|(_, n)| n)
            .collect();
        for needed in ["hyperfine", "test_threadpool", "dbio"] {
            assert!(
                names.iter().any(|n| n == needed),
                "{needed} not among {names:?}"
            );
        }
        let signalled = Instant::now();
        let _ = Command::new("kill")
            .args([signal, &child.id().to_string()])
            .status();
        let status = loop {
            if let Some(status) = child.try_wait().expect("wait") {
                break status;
            }
            assert!(
                signalled.elapsed() < Duration::from_secs(10),
                "bench.sh still runs 10 s after {signal}"
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        let mut err = String::new();
        std::io::Read::read_to_string(&mut child.stderr.take().expect("stderr"), &mut err)
            .expect("stderr");
        assert_eq!(status.code(), Some(code), "{signal}: {err}");
        assert!(!err.contains("an approach failed"), "{signal}: {err}");
        let left: Vec<_> = std::fs::read_dir(&out_dir)
            .map(|d| {
                d.flatten()
                    .map(|e| e.path())
                    .filter(|p| p.is_dir())
                    .collect()
            })
            .unwrap_or_default();
        assert!(left.is_empty(), "{signal} left {left:?}: {err}");
        testkit::poll(
            "the cancelled queries to end",
            Duration::from_secs(3),
            || (sleeping(&mut admin) == 0).then_some(()),
        );
        let running: Vec<(u32, String)> = groups
            .iter()
            .flat_map(|g| members(*g))
            .filter(|(pid, _)| alive(*pid))
            .collect();
        assert!(running.is_empty(), "{signal} left {running:?} running");
    }
    let _ = std::fs::remove_dir_all(&out_dir);
}

/// D6 of the third hostile pass: a second benchmark on the home of one
/// that runs refuses at once, naming the first's pid, and leaves the
/// first's queries running.
#[test]
fn a_second_benchmark_on_one_home_refuses() {
    use std::time::Duration;
    let shared = testkit::shared();
    let _turn = shared_home_turn();
    let first_out = std::env::temp_dir().join(format!("dbio-bench-first-{}", std::process::id()));
    let second_out = std::env::temp_dir().join(format!("dbio-bench-second-{}", std::process::id()));
    for dir in [&first_out, &second_out] {
        let _ = std::fs::remove_dir_all(dir);
    }
    let mut cmd = bench_command();
    cmd.args(["--quick", "--runs", "2", "--warmup", "0"])
        .args(["--calibration-runs", "0", "--approaches", "test_threadpool"])
        .args(["--workload", "sleep", "--count", "10", "--sleep-ms", "4000"])
        .arg("--out")
        .arg(&first_out)
        .env("DBIO_HOME", shared.server.home())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let mut first = cmd.spawn().expect("bench.sh");
    let mut admin = testkit::admin(&shared.url);
    let sleeping = |admin: &mut mysql::Conn| sleeping_for(admin, "4.000");
    testkit::poll("the first run's queries", Duration::from_secs(300), || {
        (sleeping(&mut admin) > 0).then_some(())
    });
    let second = bench(
        &[
            "--quick",
            "--runs",
            "1",
            "--out",
            &second_out.display().to_string(),
        ],
        Some(shared.server.home()),
    );
    let err = stderr(&second);
    let running = sleeping(&mut admin);
    let _ = Command::new("kill")
        .args(["-TERM", &first.id().to_string()])
        .status();
    let _ = first.wait();
    assert_eq!(second.status.code(), Some(1), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("error: another benchmark (")
            && err.contains(&format!("pid {} (bench)", first.id())),
        "{err}"
    );
    assert!(running > 0, "the second run stopped the first's queries");
    assert!(
        !second_out.exists() || the_runs(&second_out).is_empty(),
        "the second run wrote results"
    );
    for dir in [&first_out, &second_out] {
        let _ = std::fs::remove_dir_all(dir);
    }
}

/// How many `SELECT SLEEP(SECONDS)` queries of the benchmark run on the
/// server now.
fn sleeping_for(admin: &mut mysql::Conn, seconds: &str) -> usize {
    use mysql::prelude::Queryable;
    admin
        .query_first(format!(
            "SELECT COUNT(*) FROM information_schema.PROCESSLIST \
             WHERE INFO LIKE 'SELECT SLEEP({seconds})%' AND ID <> CONNECTION_ID()"
        ))
        .expect("process list")
        .unwrap_or(0)
}

/// A process as `/proc/PID/stat` shows it.
struct Proc {
    pid: u32,
    name: String,
    parent: u32,
    group: u32,
}

/// Every process now.
fn processes() -> Vec<Proc> {
    std::fs::read_dir("/proc")
        .expect("/proc")
        .flatten()
        .filter_map(|e| {
            let pid: u32 = e.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(e.path().join("stat")).ok()?;
            let (name, rest) = stat.rsplit_once(')')?;
            let name = name.split_once('(')?.1.to_owned();
            // After the name: state, parent, group.
            let mut fields = rest.split_whitespace().skip(1);
            let parent = fields.next()?.parse().ok()?;
            let group = fields.next()?.parse().ok()?;
            Some(Proc {
                pid,
                name,
                parent,
                group,
            })
        })
        .collect()
}

/// The processes whose parent is `pid`: (pid, name).
fn children_of(pid: u32) -> Vec<(u32, String)> {
    processes()
        .into_iter()
        .filter(|p| p.parent == pid)
        .map(|p| (p.pid, p.name))
        .collect()
}

/// The process groups of every descendant of `pid`, this test's own left out.
fn groups_below(pid: u32) -> std::collections::BTreeSet<u32> {
    let all = processes();
    let ours = all
        .iter()
        .find(|p| p.pid == std::process::id())
        .map(|p| p.group);
    let mut groups = std::collections::BTreeSet::new();
    let mut todo = vec![pid];
    while let Some(parent) = todo.pop() {
        for child in all.iter().filter(|p| p.parent == parent) {
            if Some(child.group) != ours {
                groups.insert(child.group);
            }
            todo.push(child.pid);
        }
    }
    groups
}

/// The processes of group `group`: (pid, name).
fn members(group: u32) -> Vec<(u32, String)> {
    processes()
        .into_iter()
        .filter(|p| p.group == group)
        .map(|p| (p.pid, p.name))
        .collect()
}

/// Whether process `pid` runs (not gone, not a zombie).
fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| {
            let state = stat
                .rsplit_once(')')?
                .1
                .split_whitespace()
                .next()?
                .to_owned();
            Some(state != "Z")
        })
        .unwrap_or(false)
}

/// Every file named `name` under `dir`.
fn files_named(dir: &Path, name: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_dir()) {
            found.extend(files_named(&path, name));
        } else if path.file_name().is_some_and(|n| n == name) {
            found.push(path);
        }
    }
    found
}

/// Minor 2 of the third hostile pass: a bench killed with SIGKILL (no
/// handler runs) left the 0600 `c-client.cnf`, with the password, in its
/// partial folder, and hyperfine and the approach running. The option file
/// now lives in a private directory outside the results, swept by the
/// next run; the next run on the home also stops the orphaned groups
/// (their queries are cancelled).
#[test]
fn a_killed_bench_leaves_no_password_and_the_next_stops_what_it_left() {
    use std::time::Duration;
    let shared = testkit::shared();
    let _turn = shared_home_turn();
    let out_dir = std::env::temp_dir().join(format!("dbio-bench-sigkill-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out_dir);
    let kill = |pid: u32| {
        let ok = Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status()
            .expect("kill");
        assert!(ok.success());
    };
    let spawn = |args: &[&str]| {
        let mut cmd = bench_command();
        cmd.args(args)
            .arg("--out")
            .arg(&out_dir)
            .env("DBIO_HOME", shared.server.home())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped());
        cmd.spawn().expect("bench.sh")
    };
    // 1. Killed during the C client's comparison.
    let mut first = spawn(&[
        "--quick",
        "--runs",
        "1",
        "--warmup",
        "0",
        "--calibration-runs",
        "0",
        "--approaches",
        "test_single",
        "--workload",
        "point",
        "--count",
        "20000",
        "--c-client",
    ]);
    let pid = first.id();
    let private = testkit::poll(
        "the C client's option file",
        Duration::from_secs(300),
        || {
            if let Ok(Some(status)) = first.try_wait() {
                let mut err = String::new();
                if let Some(mut pipe) = first.stderr.take() {
                    let _ = std::io::Read::read_to_string(&mut pipe, &mut err);
                }
                panic!("bench ended ({status}) before its C client ran: {err}");
            }
            std::fs::read_dir(std::env::temp_dir())
                .ok()?
                .flatten()
                .map(|e| e.path())
                .find(|p| {
                    p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.starts_with(&format!("dbio-bench-{pid}-")))
                        && p.join("c-client.cnf").is_file()
                })
        },
    );
    kill(pid);
    let _ = first.wait();
    assert!(
        files_named(&out_dir, "c-client.cnf").is_empty(),
        "the password is in the results"
    );
    // 2. Killed in a timed run: hyperfine and the approach run on.
    let mut second = spawn(&[
        "--quick",
        "--runs",
        "1",
        "--warmup",
        "0",
        "--calibration-runs",
        "0",
        "--approaches",
        "test_threadpool",
        "--workload",
        "sleep",
        "--count",
        "5",
        "--sleep-ms",
        "20000",
    ]);
    let pid = second.id();
    let mut admin = testkit::admin(&shared.url);
    let sleeping = |admin: &mut mysql::Conn| sleeping_for(admin, "20.000");
    let hyperfine = testkit::poll("the timed run", Duration::from_secs(300), || {
        let hyperfine = children_of(pid)
            .into_iter()
            .find(|(_, n)| n == "hyperfine")?;
        (sleeping(&mut admin) > 0).then_some(hyperfine.0)
    });
    kill(pid);
    let _ = second.wait();
    assert!(
        alive(hyperfine),
        "hyperfine outlived the bench that was killed"
    );
    // 3. The next run stops them, and sweeps the option file's directory.
    let third = bench(
        &[
            "--quick",
            "--runs",
            "1",
            "--warmup",
            "0",
            "--calibration-runs",
            "0",
            "--approaches",
            "test_single",
            "--workload",
            "sleep",
            "--count",
            "2",
            "--sleep-ms",
            "10",
            "--out",
            &out_dir.display().to_string(),
        ],
        Some(shared.server.home()),
    );
    let err = stderr(&third);
    assert!(third.status.success(), "{err}");
    assert!(
        err.contains("stopping what a killed benchmark left running"),
        "{err}"
    );
    assert!(!alive(hyperfine), "{err}");
    assert!(!private.exists(), "the private directory was not swept");
    testkit::poll(
        "the orphan's queries to end",
        Duration::from_secs(5),
        || (sleeping(&mut admin) == 0).then_some(()),
    );
    let _ = std::fs::remove_dir_all(&out_dir);
}

/// The run folders in a results directory.
fn the_runs(out_dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(out_dir)
        .map(|d| {
            d.flatten()
                .map(|e| e.path())
                .filter(|p| p.is_dir())
                .collect()
        })
        .unwrap_or_default()
}

/// C2 of the third hostile pass: a results directory that another user
/// can change is refused before the server is touched, as are a file and a
/// symlink to nothing at `--out`, and `--commit` outside a repository.
#[test]
fn a_results_directory_others_control_is_refused_before_any_work() {
    let play = std::env::temp_dir().join(format!("dbio-bench-out-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&play);
    std::fs::create_dir_all(&play).expect("play");
    let open = play.join("open");
    std::fs::create_dir(&open).expect("open");
    std::fs::set_permissions(&open, std::os::unix::fs::PermissionsExt::from_mode(0o777))
        .expect("chmod");
    let file = play.join("file");
    std::fs::write(&file, b"x").expect("file");
    let dangling = play.join("dangling");
    std::os::unix::fs::symlink(play.join("nowhere"), &dangling).expect("link");
    // A home that does not exist and must stay so: nothing was started.
    let home = play.join("home");
    let mut cases = vec![
        (open.join("results"), "other users can write to", vec![]),
        (file.clone(), "is not a directory", vec![]),
        (dangling.clone(), "symlink to nothing", vec![]),
        (
            play.join("plain"),
            "not inside a git repository",
            vec!["--commit"],
        ),
    ];
    if testkit::hostile::can_attack("results directory") {
        let theirs = play.join("theirs");
        std::fs::create_dir(&theirs).expect("theirs");
        let status = Command::new("chown")
            .arg("65534:65534")
            .arg(&theirs)
            .status()
            .expect("chown");
        assert!(status.success());
        cases.push((theirs, "belongs to another user (uid 65534)", vec![]));
    }
    for (out, needle, extra) in cases {
        let mut args = vec!["--quick", "--runs", "1"];
        let out_arg = out.display().to_string();
        args.extend(["--out", &out_arg]);
        args.extend(extra);
        let run = bench(&args, Some(&home));
        let err = stderr(&run);
        assert_eq!(run.status.code(), Some(1), "{out_arg}: {err}");
        assert_eq!(err.lines().count(), 1, "{out_arg}: {err}");
        assert!(
            err.starts_with("error: ") && err.contains(needle),
            "{out_arg}: {err}"
        );
        assert!(!home.exists(), "{out_arg}: the home was made: {err}");
    }
    let _ = std::fs::remove_dir_all(&play);
}

/// An approach that this machine cannot run at the size asked (a thread
/// per query above the address-space limit) refuses in one line; the run
/// goes on without it and says so in `host.json` and the table.
#[test]
fn an_approach_that_refuses_is_left_out_and_named() {
    let shared = testkit::shared();
    let _turn = shared_home_turn();
    let out_dir = std::env::temp_dir().join(format!("dbio-bench-refused-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out_dir);
    // bench.sh's environment, under 2 GiB of address space: 20,000
    // threads of 260 KiB do not fit.
    let cmd = bench_command();
    let script = root().join("scripts/bench.sh");
    let mut limited = Command::new("bash");
    limited
        .arg("-c")
        .arg("ulimit -v 2097152 && exec bash \"$0\" \"$@\"")
        .arg(&script)
        .args(["--quick", "--runs", "1", "--warmup", "0"])
        .args(["--approaches", "test_single,test_mt"])
        .args(["--workload", "point", "--count", "20000", "--out"])
        .arg(&out_dir)
        .current_dir(root());
    for (key, value) in cmd.get_envs() {
        match value {
            Some(v) => limited.env(key, v),
            None => limited.env_remove(key),
        };
    }
    let out = limited
        .env("DBIO_HOME", shared.server.home())
        .output()
        .expect("bench.sh");
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("test_mt is not run here"), "{err}");
    let run = the_run(&out_dir);
    let export = bench_report::hyperfine::load(&run.join("hyperfine.json")).expect("export");
    let names: Vec<&str> = export.results.iter().map(|b| b.command.as_str()).collect();
    assert_eq!(names, ["test_single"]);
    let host: bench_report::host::Host =
        serde_json::from_str(&std::fs::read_to_string(run.join("host.json")).expect("host"))
            .expect("host.json");
    assert_eq!(host.bench.approaches, ["test_single"]);
    assert_eq!(host.bench.not_run.len(), 1);
    assert_eq!(host.bench.not_run[0].approach, "test_mt");
    assert!(
        host.bench.not_run[0].reason.contains("RLIMIT_AS"),
        "{:?}",
        host.bench.not_run
    );
    let table = std::fs::read_to_string(run.join("table.md")).expect("table");
    assert!(
        table.contains("### Not run here") && table.contains("- test_mt: "),
        "{table}"
    );
    let _ = std::fs::remove_dir_all(&out_dir);
}

/// `--c-client`: mariadb-slap runs the same lookups in the same sitting;
/// every client's CPU is recorded and rendered, and the comparison's own
/// files (the statements, the options with the password) are gone after.
#[test]
fn a_c_client_runs_beside_the_rust_approaches() {
    let out_dir = std::env::temp_dir().join(format!("dbio-bench-c-client-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out_dir);
    let out = quick_run(
        &out_dir,
        &["--workload", "point", "--count", "300", "--c-client"],
    );
    let run = the_run(&out_dir);
    let c: bench_report::c_client::CClient = serde_json::from_str(
        &std::fs::read_to_string(run.join(bench_report::c_client::FILE)).expect("c-client.json"),
    )
    .expect("reads back");
    assert_eq!((c.queries, c.concurrency), (300, 5));
    let is_slap = |r: &&bench_report::c_client::ClientRun| r.client.starts_with("mariadb-slap");
    let (slap, rust): (Vec<_>, Vec<_>) = c.runs.iter().partition(is_slap);
    // The thread-based approach on both blocking drivers, the async one on
    // sqlx.
    let names: Vec<&str> = rust.iter().map(|r| r.client.as_str()).collect();
    assert_eq!(names, ["test_single", "test_single (wire)", "test_asyncio"]);
    for r in &c.runs {
        assert!(r.cpu_us > 0 && r.wall_us > 0, "{r:?}");
        let slap = r.client.starts_with("mariadb-slap");
        assert_eq!(r.run_cpu_us.is_some(), !slap, "{r:?}");
    }
    // Each Rust client at the most connections it held: the serial one at
    // 1, the async one at most at the budget (on one thread, fewer queries
    // may be in flight at its busiest than the budget allows).
    let concurrency = |r: &bench_report::c_client::ClientRun| r.concurrency.expect("recorded");
    for r in &rust {
        let most = if r.client.starts_with("test_single") {
            1
        } else {
            5
        };
        assert!((1..=most).contains(&concurrency(r)), "{r:?}");
    }
    // The C client at the budget and at every concurrency a Rust client ran
    // at, each once, named by it.
    let mut wanted: Vec<u32> = rust.iter().map(|r| concurrency(r)).chain([5]).collect();
    wanted.sort_unstable();
    wanted.dedup();
    let mut ran: Vec<u32> = slap.iter().map(|r| concurrency(r)).collect();
    ran.sort_unstable();
    assert_eq!(ran, wanted, "{slap:?}");
    for r in &slap {
        assert_eq!(
            r.client,
            bench_report::c_client::slap_name(concurrency(r), 5)
        );
    }
    assert!(c.command.contains("--concurrency=5") && c.command.contains("--protocol=tcp"));
    let table = std::fs::read_to_string(run.join("table.md")).expect("table");
    assert!(
        table.contains("### Client CPU against a C client")
            && table.contains("| mariadb-slap | 5 | 1 |")
            && table.contains("| mariadb-slap (concurrency 1) | 1 | 1 |")
            && table.contains("| test_single (wire) | 1 | 1 |")
            && table.contains("in run vs C"),
        "{table}"
    );
    let leftovers: Vec<String> = std::fs::read_dir(&run)
        .expect("run")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("c-client") && n != bench_report::c_client::FILE)
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    let password = std::fs::read_to_string(testkit::shared().server.home().join("password"))
        .expect("password");
    let json = std::fs::read_to_string(run.join(bench_report::c_client::FILE)).expect("json");
    for text in [
        stderr(&out),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        table,
        json,
    ] {
        assert!(!text.contains(password.trim()), "the password is shown");
    }
    let _ = std::fs::remove_dir_all(&out_dir);
}

/// `--replicas 0,1`: a sweep of a home of the test's own, first alone,
/// then with a replica; with it every approach spreads its queries over
/// both servers, `host.json` records both, the profiles name the server of
/// each query, the timelines group the lanes by server, and the summary
/// puts the two counts side by side.
#[test]
fn a_replica_sweep_spreads_over_both_servers_and_compares_the_counts() {
    let home = testkit::test_dir().join(format!("dbio-bench-replicas-{}", std::process::id()));
    let out_dir = std::env::temp_dir().join(format!("dbio-bench-replicas-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out_dir);
    let out_arg = out_dir.display().to_string();
    let args = [
        "--quick",
        "--runs",
        "1",
        "--warmup",
        "0",
        "--calibration-runs",
        "0",
        "--approaches",
        "test_single,test_asyncio",
        "--workload",
        "point",
        "--count",
        "60", // at most CONDENSE_ABOVE: the timelines are drawn
        "--replicas",
        "0,1",
        "--out",
        &out_arg,
    ];
    let out = bench(&args, Some(&home));
    let stop = || {
        let mut cmd = Command::new(testkit::release_dir().join("dbio"));
        testkit::scrub(&mut cmd);
        let _ = cmd
            .arg("--home")
            .arg(&home)
            .args(["server", "stop"])
            .output();
    };
    if !out.status.success() {
        stop();
        panic!("bench.sh failed: {}", stderr(&out));
    }
    let run = the_run(&out_dir);
    let host_of = |dir: &Path| -> bench_report::host::Host {
        serde_json::from_str(&std::fs::read_to_string(dir.join("host.json")).expect("host"))
            .expect("host.json")
    };
    stop();
    assert_eq!(host_of(&run).bench.replica_sweep, [0, 1]);
    let alone = host_of(&run.join("replicas-0"));
    assert_eq!(alone.bench.replicas, None);
    assert!(alone.bench.servers.is_empty(), "one server: no list");
    let cell = run.join("replicas-1");
    let host = host_of(&cell);
    assert_eq!(host.bench.replicas, Some(1));
    let roles: Vec<&str> = host.bench.servers.iter().map(|s| s.role.as_str()).collect();
    assert_eq!(roles, ["primary", "replica 1"]);
    assert!(
        host.bench.servers[1]
            .gtid_position
            .as_deref()
            .is_some_and(|p| !p.is_empty())
    );
    for name in ["test_single", "test_asyncio"] {
        let profile: common::Report = serde_json::from_str(
            &std::fs::read_to_string(cell.join("profiles").join(format!("{name}.json")))
                .expect("profile"),
        )
        .expect("a report");
        assert_eq!(profile.servers.len(), 2, "{name}");
        // Every query names its server, and both servers ran queries.
        let ran = profile
            .per_server()
            .unwrap_or_else(|q| panic!("{name}: {q} names no server"));
        assert!(
            ran.iter().all(|&n| n > 0),
            "{name}: queries per server {ran:?}"
        );
    }
    let timelines = std::fs::read_to_string(cell.join("timelines.svg")).expect("timelines");
    assert!(timelines.contains("server 2"), "no lane group per server");
    let table = std::fs::read_to_string(run.join("table.md")).expect("table");
    assert!(table.contains("| 1 server | 2 servers |"), "{table}");
    assert!(table.contains("| test_asyncio |"), "{table}");
    let _ = std::fs::remove_dir_all(&out_dir);
    a_replica_lost_mid_run_is_marked(&home);
    stop();
    let _ = std::fs::remove_dir_all(&home);
}

/// D4 of the third hostile pass, on the replica sweep's home (its replica
/// runs): a replica killed during a timed run. The approach moves its
/// queries and the run ends; the table marks the approach, shows no server
/// CPU for it (it was -0.12 s: the replica's CPU left the sum), and the
/// run's README says which server was gone by the end of which run.
fn a_replica_lost_mid_run_is_marked(home: &Path) {
    use std::time::Duration;
    let out_dir = std::env::temp_dir().join(format!("dbio-bench-lost-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out_dir);
    let mut cmd = bench_command();
    cmd.args(["--quick", "--runs", "1", "--warmup", "0"])
        .args(["--calibration-runs", "0", "--approaches", "test_threadpool"])
        .args(["--workload", "sleep", "--count", "10", "--sleep-ms", "3000"])
        .args(["--replicas", "1", "--out"])
        .arg(&out_dir)
        .env("DBIO_HOME", home)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let child = cmd.spawn().expect("bench.sh");
    // In the timed run: its --prepare has recorded, and its queries sleep.
    testkit::poll("a timed run", Duration::from_secs(300), || {
        std::fs::read_dir(&out_dir)
            .ok()?
            .flatten()
            .find(|run| {
                std::fs::read_to_string(run.path().join("server-cpu.tsv"))
                    .is_ok_and(|t| t.starts_with("before"))
            })
            .map(|_| ())
    });
    let url = common::managed::url(home).expect("the primary's url");
    let mut admin = testkit::admin(&url);
    testkit::poll("the timed run's queries", Duration::from_secs(30), || {
        (sleeping_for(&mut admin, "3.000") > 0).then_some(())
    });
    let pid =
        std::fs::read_to_string(home.join("replicas/1/run/mysqld.pid")).expect("the replica's pid");
    let killed = Command::new("kill")
        .args(["-KILL", pid.trim()])
        .status()
        .expect("kill");
    assert!(killed.success());
    let out = child.wait_with_output().expect("bench.sh");
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    let run = the_run(&out_dir);
    let table = std::fs::read_to_string(run.join("table.md")).expect("table");
    assert!(table.contains("| test_threadpool † |"), "{table}");
    assert!(
        table.contains(&format!(
            "replica-1={} gone by the end of run 1 of test_threadpool",
            pid.trim()
        )),
        "{table}"
    );
    let row = table
        .lines()
        .find(|l| l.starts_with("| test_threadpool"))
        .expect("the row");
    assert!(!row.contains("| -"), "a negative figure: {row}");
    let readme = std::fs::read_to_string(run.join("README.md")).expect("README");
    assert!(
        readme.contains("A server was lost during the run"),
        "{readme}"
    );
    let _ = std::fs::remove_dir_all(&out_dir);
}
