//! Open loop (`--arrivals`), against the shared test server: every approach
//! runs the same schedule, releases no query before it is due, and its
//! latencies count from the due time.

use common::workload::Workload;
use common::{Report, RunConfig, bound, latency};
use suite::{APPROACHES, Entry};
use testkit::{run_config, shared};

use testkit::{PYTHON_SCRIPTS as SCRIPTS, python_script as script_command};

fn run(name: &str, f: Entry, cfg: &RunConfig) -> Report {
    f(cfg).unwrap_or_else(|e| panic!("{name}: {}", common::error::chain(&e)))
}

const SLEEP_MS: u32 = 20;

/// 100 sleeps a second, two to a request, on 5 connections that can do
/// 250: 40% loaded.
fn forty_percent() -> common::workload::Work {
    testkit::open_sleeps(50.0, 30, 2, SLEEP_MS)
}

/// What every approach's open-loop report must say, Rust or Python: the
/// schedule `due`, nothing released before it is due, no query ended
/// before its sleep could, and request latencies at or above those of an
/// ideal queue on the same schedule, and near them.
fn check(name: &str, report: &Report, due: &[u64]) {
    let open = report
        .open_loop
        .as_ref()
        .unwrap_or_else(|| panic!("{name}: no open_loop"));
    assert_eq!((open.requests, open.per_request), (30, 2), "{name}");
    assert_eq!(report.queries.len(), due.len(), "{name}");
    let sleep_us = u64::from(SLEEP_MS) * 1000;
    for (i, q) in report.queries.iter().enumerate() {
        assert_eq!(q.due_us, Some(due[i]), "{name}: {} due", q.label);
        assert_eq!(q.request, Some(i / 2), "{name}: {} request", q.label);
        assert!(
            q.submitted_us >= due[i],
            "{name}: {} released at {} µs, before it was due at {} µs",
            q.label,
            q.submitted_us,
            due[i]
        );
        assert!(
            q.finished_us >= due[i] + sleep_us,
            "{name}: {} ended {} µs after it was due, less than its sleep",
            q.label,
            q.finished_us - due[i]
        );
    }
    let summary = latency::summarize(report).expect("open loop");
    assert_eq!(summary.requests, 30);
    // The bound: the same schedule through an ideal queue of the
    // approach's connections, each query served for its sleep alone.
    let connections = if name.ends_with("test_single") { 1 } else { 5 };
    let ideal = bound::ideal_finish(due, &vec![sleep_us; due.len()], connections);
    let ideal_request = latency::Percentiles::of(
        ideal
            .chunks(2)
            .zip(due.chunks(2))
            .map(|(ends, dues)| ends.iter().max().copied().unwrap_or(0) - dues[0]),
    );
    let (got, best) = (summary.request_latency, ideal_request);
    for (what, got, best) in [
        ("p50", got.p50_us, best.p50_us),
        ("p90", got.p90_us, best.p90_us),
    ] {
        // Nothing beats the ideal queue (within the histogram's 0.1%).
        assert!(
            got * 1001 / 1000 >= best,
            "{name}: request {what} {got} µs, below the ideal queue's {best} µs"
        );
        // And the approach comes near it: generous, for a busy machine
        // (both cores loaded; the benchmark holds the tight target).
        let slack = if name.starts_with("py_") { 2 } else { 1 };
        assert!(
            got <= best * (1 + slack) + 100_000 * slack,
            "{name}: request {what} {got} µs, far above the ideal queue's {best} µs"
        );
    }
}

#[test]
fn every_rust_approach_runs_the_same_schedule_and_releases_nothing_early() {
    let mut cfg = run_config(&shared().url, 5);
    cfg.work = forty_percent();
    let due: Vec<u64> = (0..cfg.work.len()).map(|i| cfg.work.due_us(i)).collect();
    assert!(due[due.len() - 1] > 0, "a schedule, not one batch");
    for (name, f) in APPROACHES {
        let report = run(name, f, &cfg);
        check(name, &report, &due);
        let mut text = Vec::new();
        report.write_text(&mut text).expect("text");
        let text = String::from_utf8(text).expect("utf-8");
        assert!(
            text.contains(&format!(
                "{name}: open loop: 30 requests of 2 queries offered at 50/s (poisson)"
            )),
            "{text}"
        );
    }
}

/// The Python scripts get the same due times from the same settings (their
/// own computation, `scripts/python/dbio/arrivals.py`), label the same
/// requests, and keep the same rules.
#[test]
fn every_python_approach_runs_the_rust_schedule() {
    let work = forty_percent();
    let due: Vec<u64> = (0..work.len()).map(|i| work.due_us(i)).collect();
    let labels: Vec<&str> = work.queries().iter().map(|q| q.label.as_str()).collect();
    for script in SCRIPTS {
        let name = format!("py_{script}");
        let mut cmd = script_command(script);
        cmd.arg("--json")
            .env("DATABASE_URL", shared().url.expose())
            .env("DBIO_CONNECTIONS", "5")
            .env("DBIO_WORKLOAD", "sleep")
            .env("DBIO_SLEEP_MS", SLEEP_MS.to_string())
            .env("DBIO_ARRIVALS", "50")
            .env("DBIO_REQUESTS", "30")
            .env("DBIO_FANOUT", "2");
        let out = testkit::faults::spawn_command(cmd).finish();
        assert_eq!(out.code, Some(0), "{name}: {}", out.stderr);
        let report: Report = serde_json::from_str(&out.stdout)
            .unwrap_or_else(|e| panic!("{name}: {e}: {}", out.stdout));
        let got: Vec<&str> = report.queries.iter().map(|q| q.label.as_str()).collect();
        assert_eq!(got, labels, "{name}");
        check(&name, &report, &due);
    }
}

/// An open loop starts on a warm pool, as a running service does: the
/// budget's connections are open on the server while it runs, though its
/// three requests of one short sleep, half a second apart on average,
/// would never need more than three. Opened on first need instead, the
/// first requests of the Python thread scripts waited tens of ms for
/// SQLAlchemy's set-up, which the ideal queue leaves out. Every approach,
/// Rust and Python; the server's process list says what is open.
#[test]
fn an_open_loop_starts_with_the_budgets_connections_open() {
    const USER: &str = "dbio_warm";
    const BUDGET: usize = 4;
    let url = testkit::limited_on_shared(USER, 20);
    let mut admin = testkit::admin(&shared().url);
    for (name, mut cmd) in testkit::every_approach_command() {
        cmd.arg("--json")
            .env("DATABASE_URL", url.expose())
            .env("DBIO_CONNECTIONS", BUDGET.to_string())
            .env("DBIO_WORKLOAD", "sleep")
            .env("DBIO_SLEEP_MS", "1")
            .env("DBIO_ARRIVALS", "2")
            .env("DBIO_REQUESTS", "3");
        let mut running = testkit::faults::spawn_command(cmd);
        let mut most = 0;
        while !running.exited() {
            most = most.max(testkit::connections_of(&mut admin, USER));
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        let out = running.finish();
        assert_eq!(out.code, Some(0), "{name}: {}", out.stderr);
        let budget = if name.ends_with("test_single") {
            1
        } else {
            BUDGET
        };
        assert!(
            most >= budget,
            "{name}: at most {most} connections open during the run, not the budget's {budget}: the pool was not warm"
        );
        testkit::poll_closed(&[shared().url.clone()], USER);
    }
}

/// One batch stays one batch: no schedule, no open-loop fields.
#[test]
fn without_arrivals_nothing_is_due_later_and_nothing_is_added() {
    let mut cfg = run_config(&shared().url, 3);
    cfg.work = testkit::workload_queries(Workload::Sleep, 6, 5);
    for (name, f) in APPROACHES {
        let report = run(name, f, &cfg);
        assert!(report.open_loop.is_none(), "{name}");
        assert!(
            report
                .queries
                .iter()
                .all(|q| q.due_us.is_none() && q.request.is_none()),
            "{name}"
        );
        let json = serde_json::to_string(&report).expect("json");
        assert!(
            !json.contains("due_us") && !json.contains("open_loop"),
            "{name}: {json}"
        );
    }
}

/// A signal during an open-loop run (queries running, later requests not
/// yet due) cancels what runs on the server and exits as in one batch, in
/// every approach, Rust and Python.
#[test]
fn a_signal_during_arrivals_cancels_on_the_server() {
    // Four requests of the 26 `SLEEP(60)`s, five a second: the first is
    // running, the others are still to come when the signal arrives.
    let open = ["--arrivals", "5", "--requests", "4"];
    for (name, _) in APPROACHES {
        let bin = testkit::release_dir().join(name);
        testkit::signals::interrupted_run(name, 15, |url, template| {
            let file = template.arg();
            let mut args = vec!["--queries", file.as_str()];
            args.extend(open);
            testkit::program::spawn(&bin, &testkit::program::url_args(url, &args))
        });
    }
    for script in SCRIPTS {
        testkit::signals::interrupted_run(&format!("py_{script}"), 15, |url, template| {
            let mut cmd = script_command(script);
            cmd.args(["--queries", &template.arg()])
                .env("DATABASE_URL", url.expose())
                .env("DBIO_ARRIVALS", "5")
                .env("DBIO_REQUESTS", "4");
            testkit::faults::spawn_command(cmd)
        });
    }
}

/// `--drain-timeout`: an open loop past capacity ends at its deadline (the
/// last request's due time and the timeout), cancels on the server what
/// still runs, and reports every query: the finished ones with their rows,
/// the rest as unfinished, counted in the summary. Rust and Python alike.
#[test]
fn the_drain_timeout_ends_the_run_and_counts_what_it_cancelled() {
    // 10 requests of one 437-ms sleep at 20 a second on 2 connections,
    // which serve 4.6 a second: by the deadline (the last due at about
    // 0.5 s, plus 1 s) some have finished, some run, some wait.
    let sleep = "SLEEP(0.437)";
    let args = [
        "--workload",
        "sleep",
        "--sleep-ms",
        "437",
        "--arrivals",
        "20",
        "--requests",
        "10",
        "--drain-timeout",
        "1",
        "--connections",
        "2",
        "--json",
    ];
    let url = &shared().url;
    let mut admin = testkit::admin(url);
    let left = |admin: &mut mysql::Conn| -> usize {
        use mysql::prelude::Queryable;
        admin
            .query_first::<usize, _>(format!(
                "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO LIKE '%{sleep}%' \
                 AND ID <> CONNECTION_ID()"
            ))
            .expect("process list")
            .unwrap_or(0)
    };
    let python = |script: &str| {
        let mut cmd = script_command(script);
        cmd.arg("--json").env("DATABASE_URL", url.expose());
        // The same settings, as the scripts take them.
        for pair in args[..args.len() - 1].chunks(2) {
            let flag = pair[0]
                .trim_start_matches("--")
                .replace('-', "_")
                .to_uppercase();
            let var = format!("DBIO_{flag}");
            cmd.env(var, pair[1]);
        }
        cmd
    };
    let runs = APPROACHES
        .iter()
        .map(|(name, _)| (name.to_string(), None))
        .chain(
            [
                "test_single",
                "test_mt",
                "test_mt_bounded",
                "test_cft",
                "test_asyncio",
            ]
            .into_iter()
            .map(|s| (format!("py_{s}"), Some(python(s)))),
        );
    for (name, script) in runs {
        let out = match script {
            None => testkit::program::run(
                &testkit::release_dir().join(&name),
                &testkit::program::url_args(url, &args),
            ),
            Some(cmd) => testkit::faults::spawn_command(cmd).finish(),
        };
        assert_eq!(out.code, Some(0), "{name}: {}", out.stderr);
        let report: Report = serde_json::from_str(&out.stdout)
            .unwrap_or_else(|e| panic!("{name}: {e}: {}", out.stdout));
        assert_eq!(report.queries.len(), 10, "{name}: every query reported");
        let cut: Vec<&common::QueryResult> =
            report.queries.iter().filter(|q| q.unfinished).collect();
        assert!(!cut.is_empty(), "{name}: nothing was left at the deadline");
        assert!(
            cut.len() < 10,
            "{name}: nothing finished before the deadline"
        );
        assert!(
            cut.iter().all(|q| q.rows == 0 && q.digest.is_none()),
            "{name}"
        );
        let deadline_us = report
            .queries
            .iter()
            .filter_map(|q| q.due_us)
            .max()
            .unwrap_or(0)
            + 1_000_000;
        // The cancelling is bounded by the signal's grace (1.5 s).
        assert!(
            report.wall_us >= deadline_us && report.wall_us < deadline_us + 2_500_000,
            "{name}: ended at {} µs, the deadline was {deadline_us} µs",
            report.wall_us
        );
        let summary = latency::summarize(&report).expect("open loop");
        assert_eq!(
            summary.unfinished,
            cut.iter()
                .filter_map(|q| q.request)
                .collect::<std::collections::BTreeSet<_>>()
                .len(),
            "{name}"
        );
        testkit::poll(
            &format!("{name}'s cancelled sleeps to end on the server"),
            std::time::Duration::from_secs(2),
            || (left(&mut admin) == 0).then_some(()),
        );
    }
}
