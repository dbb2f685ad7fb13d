//! The invariants every approach must keep, checked in-process against the
//! shared test server: same answers, every query once, and the connection
//! budget, measured on the server side.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use common::workload::Workload;
use common::{DbUrl, Error, Report, RunConfig};
use mysql::prelude::Queryable;
use suite::{APPROACHES, Entry};
use testkit::{admin, connections_of, run_config, shared, workload_queries};

fn run(name: &str, f: Entry, cfg: &RunConfig) -> Report {
    f(cfg).unwrap_or_else(|e| panic!("{name}: {}", common::error::chain(&e)))
}

#[test]
fn every_approach_returns_the_same_rows_as_single() {
    let cfg = run_config(&shared().url, 5);
    let (single, run_single) = APPROACHES[0];
    assert_eq!(single, "test_single");
    let baseline = run(single, run_single, &cfg);
    assert_eq!(baseline.queries.len(), 26);
    // The test dataset must make the queries differ, or the check is weak.
    let counts: std::collections::BTreeSet<u64> = baseline.queries.iter().map(|q| q.rows).collect();
    assert!(counts.len() > 10, "row counts barely differ: {counts:?}");
    assert!(baseline.queries.iter().all(|q| q.rows > 0));
    for (name, f) in &APPROACHES[1..] {
        let report = run(name, *f, &cfg);
        assert_eq!(report.approach, *name);
        assert_eq!(report.queries.len(), baseline.queries.len(), "{name}");
        for (want, got) in baseline.queries.iter().zip(&report.queries) {
            assert_eq!(
                (&want.label, want.rows, &want.digest),
                (&got.label, got.rows, &got.digest),
                "{name} differs from test_single on query {}",
                want.label
            );
        }
    }
}

/// The point and sleep workloads: every approach returns test_single's rows
/// and digests, each query once (10-ms sleeps keep the test short).
#[test]
fn every_workload_returns_the_same_rows_in_every_approach() {
    for (workload, count) in [(Workload::Point, 600), (Workload::Sleep, 40)] {
        let mut cfg = run_config(&shared().url, 4);
        cfg.work = workload_queries(workload, count, 10);
        let (single, run_single) = APPROACHES[0];
        let baseline = run(single, run_single, &cfg);
        assert_eq!(baseline.queries.len(), count as usize);
        assert!(baseline.queries.iter().all(|q| q.rows == 1), "{workload:?}");
        for (name, f) in &APPROACHES[1..] {
            let report = run(name, *f, &cfg);
            assert_eq!(report.workload, workload);
            let digests = |r: &Report| -> Vec<(String, u64, Option<String>)> {
                r.queries
                    .iter()
                    .map(|q| (q.label.clone(), q.rows, q.digest.clone()))
                    .collect()
            };
            assert_eq!(digests(&report), digests(&baseline), "{name}, {workload:?}");
        }
    }
}

/// The per-query timestamps mean the same in every approach: with 8 sleeps
/// of 30 ms on 2 connections, every query spends its 30 ms between being
/// sent and its row, and in every concurrent approach some query waited
/// at least that long between being submitted and being sent.
#[test]
fn timestamps_show_queue_waits_and_server_time() {
    let wait_us = 30_000;
    let mut cfg = run_config(&shared().url, 2);
    cfg.work = workload_queries(Workload::Sleep, 8, 30);
    for (name, f) in APPROACHES {
        let report = run(name, f, &cfg);
        for q in &report.queries {
            assert!(q.first_row_us - q.connected_us >= wait_us, "{name}: {q:?}");
        }
        let longest_queue = report
            .queries
            .iter()
            .map(|q| q.connected_us - q.submitted_us)
            .max()
            .unwrap_or(0);
        if name != "test_single" {
            assert!(
                longest_queue >= wait_us,
                "{name}: longest queue wait {longest_queue} µs"
            );
        }
    }
}

/// The registry (`common::registry`), which the driver and the renderer
/// read, names what exists: a crate for every Rust approach, a script for
/// every Python one; and the table of entry points names each Rust one once.
#[test]
fn the_registry_is_the_workspaces() {
    use common::registry::{self, Language};
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let names = |dir: &str, prefix: &str, suffix: &str| -> Vec<String> {
        let mut found: Vec<String> = std::fs::read_dir(root.join(dir))
            .expect(dir)
            .flatten()
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|n| n.starts_with("test_") && n.ends_with(suffix))
            .map(|n| format!("{prefix}{}", n.trim_end_matches(suffix)))
            .collect();
        found.sort();
        found
    };
    let registered = |language| -> Vec<String> {
        let mut r: Vec<String> = registry::of(language).map(|a| a.name.to_owned()).collect();
        r.sort();
        r
    };
    assert_eq!(
        registered(Language::Rust),
        names("crates/approaches", "", "")
    );
    assert_eq!(
        registered(Language::Python),
        names("scripts/python", "py_", ".py")
    );
    let mut listed: Vec<String> = APPROACHES.iter().map(|(n, _)| (*n).to_owned()).collect();
    listed.sort();
    assert_eq!(listed, registered(Language::Rust));
}

#[test]
fn every_query_runs_exactly_once_and_keeps_its_own_result() {
    // Each query returns its own label, so a result attached to the wrong
    // query, a lost query or a duplicate would show.
    let mut cfg = run_config(&shared().url, 3);
    cfg.work = common::workload::Work::report(
        common::queries::generate("SELECT '{}' AS label").expect("template"),
    );
    for (name, f) in APPROACHES {
        let report = run(name, f, &cfg);
        let labels: Vec<&str> = report.queries.iter().map(|q| q.label.as_str()).collect();
        let expected: Vec<String> = ('A'..='Z').map(String::from).collect();
        assert_eq!(labels, expected, "{name}");
        for q in &report.queries {
            assert_eq!(q.rows, 1, "{name}");
            let first = q.first_row.as_ref().expect("a row");
            assert_eq!(
                first,
                &vec![Some(q.label.clone())],
                "{name}: query {} got another's row",
                q.label
            );
            assert!(
                q.submitted_us <= q.connected_us
                    && q.connected_us <= q.first_row_us
                    && q.first_row_us <= q.finished_us
                    && q.finished_us <= report.wall_us,
                "{name}: {q:?}"
            );
        }
    }
}

/// Every approach with `cfg`, and the thread-based ones once more on
/// dbio's own `wire` client (`--blocking-driver wire`): the budget is the
/// pool's, but each client opens its own connections.
fn on_every_driver(cfg: &RunConfig) -> Vec<(String, Entry, RunConfig)> {
    let mut runs: Vec<(String, Entry, RunConfig)> = APPROACHES
        .iter()
        .map(|&(name, f)| (name.to_owned(), f, cfg.clone()))
        .collect();
    for &(name, f) in &APPROACHES[..4] {
        let mut wire = cfg.clone();
        wire.conn.blocking_driver = common::settings::BlockingDriver::Wire;
        runs.push((format!("{name} on wire"), f, wire));
    }
    runs
}

/// A user that the server itself allows at most `limit` connections.
/// Each test names its own users: tests run in parallel.
fn limited_user(name: &str, limit: usize) -> (String, DbUrl) {
    let user = format!("dbio_{name}{limit}");
    let url = testkit::limited_on_shared(&user, limit);
    (user, url)
}

/// Runs `f` while sampling the server's process list for `user`; returns
/// the run's outcome and the most connections the server showed at once.
fn run_sampled(f: Entry, cfg: &RunConfig, user: &str) -> (Result<Report, Error>, usize) {
    // The previous run's connections may still be closing on the server.
    testkit::poll_closed(std::slice::from_ref(&shared().url), user);
    let mut conn = admin(&shared().url);
    let done = AtomicBool::new(false);
    std::thread::scope(|s| {
        let sampler = s.spawn(|| {
            let mut max = 0;
            while !done.load(Ordering::SeqCst) {
                max = max.max(connections_of(&mut conn, user));
            }
            max
        });
        let outcome = f(cfg);
        done.store(true, Ordering::SeqCst);
        (outcome, sampler.join().expect("sampler"))
    })
}

#[test]
fn no_approach_holds_more_connections_than_its_budget() {
    for budget in [1, 2, 5] {
        // The server refuses connection budget+1 for this user: a run that
        // exceeded the budget, even for a moment, would fail with 1226.
        let (user, url) = limited_user("budget", budget);
        let cfg = run_config(&url, budget);
        for (name, f, cfg) in on_every_driver(&cfg) {
            let (outcome, seen_on_server) = run_sampled(f, &cfg, &user);
            let report = outcome.unwrap_or_else(|e| {
                panic!("{name} with budget {budget}: {}", common::error::chain(&e))
            });
            let peak = report.peak_connections.expect("every Rust approach counts");
            assert!(peak >= 1, "{name}");
            assert!(
                peak <= budget,
                "{name} reports {peak} connections with budget {budget}"
            );
            assert!(
                seen_on_server <= peak,
                "{name}: the server saw {seen_on_server} connections, the report says {peak}"
            );
            if name.starts_with("test_single") {
                assert_eq!(peak, 1);
            }
        }
    }
}

/// The budget holds for many small queries (point, 600: test_mt starts a
/// thread for each), for waiting ones (sleep), and under arrivals past
/// capacity (an open loop of 20-ms sleeps offered at twice what 2
/// connections can do), seen from the server.
#[test]
fn the_budget_holds_for_point_lookups_sleeps_and_arrivals() {
    let budget = 2;
    let (user, url) = limited_user("workloads", budget);
    let works = [
        (
            "600 point lookups",
            workload_queries(Workload::Point, 600, 20),
        ),
        ("30 sleeps", workload_queries(Workload::Sleep, 30, 20)),
        (
            "arrivals past capacity",
            testkit::open_sleeps(200.0, 40, 1, 20),
        ),
    ];
    for (what, work) in works {
        let mut cfg = run_config(&url, budget);
        cfg.work = work;
        for (name, f, cfg) in on_every_driver(&cfg) {
            let (outcome, seen_on_server) = run_sampled(f, &cfg, &user);
            let report =
                outcome.unwrap_or_else(|e| panic!("{name}, {what}: {}", common::error::chain(&e)));
            assert!(
                report.peak_connections.is_some_and(|p| p <= budget),
                "{name}, {what}"
            );
            assert!(seen_on_server <= budget, "{name}, {what}: {seen_on_server}");
        }
    }
}

#[test]
fn the_server_side_limit_would_catch_an_approach_over_budget() {
    // The control for the test above: with a budget above the server's
    // per-user limit, concurrent approaches do hit the limit.
    let (_, url) = limited_user("control", 1);
    let mut cfg = run_config(&url, 4);
    cfg.work = common::workload::Work::report(
        common::queries::generate("SELECT SLEEP(0.05), '{}'").expect("template"),
    );
    for (name, f) in &APPROACHES[1..] {
        match f(&cfg) {
            Err(e) => {
                let text = common::error::chain(&e);
                assert!(text.contains("1226"), "{name}: {text}");
            }
            Ok(r) => panic!(
                "{name} ran with peak {:?} under a 1-connection limit",
                r.peak_connections
            ),
        }
    }
}

#[test]
fn json_report_has_every_field_and_no_password() {
    let cfg = run_config(&shared().url, 2);
    for (name, f) in [APPROACHES[1], APPROACHES[4]] {
        let report = run(name, f, &cfg);
        let mut out = Vec::new();
        report.write_json(&mut out).expect("json");
        let text = String::from_utf8(out).expect("utf8");
        let password = cfg.conn.url().expose();
        let password = password
            .split(':')
            .nth(2)
            .and_then(|s| s.split('@').next())
            .expect("password");
        assert!(!text.contains(password), "{name}: password in the report");
        let v: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
        for key in [
            "approach",
            "budget",
            "server",
            "queries",
            "wall_us",
            "peak_connections",
            "cpu_user_us",
            "cpu_sys_us",
            "max_rss_kib",
        ] {
            assert!(v.get(key).is_some(), "{name}: no `{key}`");
        }
        let q = &v["queries"][0];
        for key in [
            "label",
            "rows",
            "digest",
            "first_row",
            "submitted_us",
            "connected_us",
            "first_row_us",
            "finished_us",
            "connection_id",
        ] {
            assert!(q.get(key).is_some(), "{name}: no `{key}` in a query");
        }
        // Both drivers ask the server once per connection.
        assert!(
            q["connection_id"].as_u64().is_some_and(|id| id > 0),
            "{name}"
        );
        assert!(v["max_rss_kib"].as_u64().unwrap_or(0) > 0);
    }
}

/// The shared server's URL through a `dbio proxy` of this test's own that
/// adds `latency` each way (it serves until the test process ends).
fn through_proxy(latency: Duration) -> DbUrl {
    let url = &shared().url;
    let upstream = std::net::SocketAddr::from(([127, 0, 0, 1], url.port()));
    let proxy =
        dbio::proxy::Proxy::bind(([127, 0, 0, 1], 0).into(), upstream, latency, 64).expect("proxy");
    let port = proxy.local_addr().expect("address").port();
    std::thread::spawn(move || proxy.serve(|line| eprintln!("proxy: {line}")));
    url.with_port(port)
}

/// The latency proxy (`dbio proxy`) really adds latency: N serial round
/// trips take at least N × 2 × latency (a lower bound, so the test cannot
/// be flaky), and every approach works through it.
#[test]
fn the_latency_proxy_delays_every_round_trip_and_every_approach_works_through_it() {
    let latency = Duration::from_millis(15);
    let through = through_proxy(latency);

    let mut conn = admin(&through);
    let trips = 10;
    let started = std::time::Instant::now();
    for _ in 0..trips {
        let one: Option<u8> = conn.query_first("SELECT 1").expect("select 1");
        assert_eq!(one, Some(1));
    }
    let took = started.elapsed();
    assert!(
        took >= latency * 2 * trips,
        "{trips} round trips took {took:?} through a {latency:?} proxy"
    );

    let mut cfg = run_config(&through, 3);
    cfg.work = workload_queries(Workload::Sleep, 12, 1);
    for (name, f) in APPROACHES {
        let report = run(name, f, &cfg);
        assert_eq!(report.queries.len(), 12, "{name}");
        assert!(report.queries.iter().all(|q| q.rows == 1), "{name}");
    }
}

/// One timed region (ARCHITECTURE.md, issue 27, item 6). Through a proxy
/// that delays each way by 100 ms, a round trip in the clock outside the
/// queries would show as a gap of 200 ms: the clock starts as the first
/// query is submitted and stops at the last result, in every approach;
/// the pool's connections are opened by the queries (lazily, inside their
/// own time), and closing them, with the runtime, comes after the clock.
#[test]
fn the_clock_holds_the_queries_and_nothing_else() {
    let latency = Duration::from_millis(100);
    let mut cfg = run_config(&through_proxy(latency), 2);
    cfg.work = common::workload::sleep(4, 1);
    // Less than one round trip through the proxy, more than a busy
    // machine's scheduling delay.
    let slack = latency;
    for (name, phased) in suite::PHASED {
        let phases =
            phased(&cfg).unwrap_or_else(|e| panic!("{name}: {}", common::error::chain(&e)));
        let report = &phases.report;
        let us = |d: Duration| u64::try_from(d.as_micros()).expect("µs");
        let first = report.queries.iter().map(|q| q.submitted_us).min();
        let last = report.queries.iter().map(|q| q.finished_us).max();
        let (Some(first), Some(last)) = (first, last) else {
            panic!("{name}: no queries");
        };
        assert!(
            first < us(slack),
            "{name}: the first query submitted at {first} µs: {phases:?}"
        );
        assert!(
            report.wall_us - last < us(slack),
            "{name}: the clock ran {} µs past the last result: {phases:?}",
            report.wall_us - last
        );
        assert!(report.wall_us <= us(phases.execute), "{name}: {phases:?}");
        // Each connection was opened by a query, inside its own time: at
        // least a round trip between submitted and connected.
        assert!(
            report
                .queries
                .iter()
                .any(|q| q.connected_us - q.submitted_us >= us(latency * 2)),
            "{name}: no query opened its connection: {phases:?}"
        );
    }
}

/// `--print-sql` prints the statements a run would execute, the same list
/// the run itself builds, and runs none of them (what `bench --c-client`
/// hands a C client).
#[test]
fn print_sql_prints_the_runs_own_statements() {
    let work = workload_queries(Workload::Point, 40, 0);
    for name in ["test_single", "test_asyncio"] {
        let mut cmd = std::process::Command::new(testkit::release_dir().join(name));
        testkit::scrub(&mut cmd);
        let out = cmd
            .args(["--workload", "point", "--count", "40", "--print-sql"])
            .env("DATABASE_URL", shared().url.expose())
            .output()
            .expect("run");
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8(out.stdout).expect("utf8");
        let expected: String = work
            .queries()
            .iter()
            .map(|q| format!("{};\n", q.sql))
            .collect();
        assert_eq!(text, expected, "{name}");
    }
}
