//! Runs on several servers (a primary and two read replicas, the test
//! dataset on each): every approach returns what `test_single` returns on
//! one server, each query once, spread over every server by the harness's
//! one policy, and each server sees at most the budget of the run's
//! connections (the server itself refuses one more).

use common::workload::Workload;
use common::{DbUrl, Report, RunConfig};
use mysql::prelude::Queryable;
use suite::{APPROACHES, Entry};
use testkit::{admin, replica_set, run_config, run_config_on, shared, workload_queries};

fn run(name: &str, f: Entry, cfg: &RunConfig) -> Report {
    f(cfg).unwrap_or_else(|e| panic!("{name}: {}", common::error::chain(&e)))
}

/// (label, rows, digest) of every query, in query order.
fn answers(report: &Report) -> Vec<(String, u64, Option<String>)> {
    report
        .queries
        .iter()
        .map(|q| (q.label.clone(), q.rows, q.digest.clone()))
        .collect()
}

#[test]
fn every_approach_on_three_servers_returns_single_servers_rows() {
    let set = replica_set();
    for (workload, count) in [(Workload::Report, 0), (Workload::Point, 300)] {
        let mut one = run_config(&shared().url, 2);
        let mut three = run_config_on(&set.urls, 2);
        if workload != Workload::Report {
            one.work = workload_queries(workload, count, 0);
            three.work = one.work.clone();
        }
        let (single, run_single) = APPROACHES[0];
        let baseline = run(single, run_single, &one);
        assert!(baseline.servers.is_empty() && baseline.queries.iter().all(|q| q.server.is_none()));
        for (name, f) in APPROACHES {
            let report = run(name, f, &three);
            assert_eq!(answers(&report), answers(&baseline), "{name}, {workload:?}");
            assert_eq!(report.servers.len(), 3, "{name}");
            let used = report
                .per_server()
                .unwrap_or_else(|q| panic!("{name}: {q} has no server"));
            assert!(
                used.iter().all(|&n| n > 0),
                "{name}, {workload:?}: every server runs queries: {used:?}"
            );
            // No password in what names the servers.
            for (url, shown) in set.urls.iter().zip(&report.servers) {
                let password = url.password().expect("a password");
                assert!(!shown.contains(&password), "{name}: {shown}");
            }
        }
    }
}

#[test]
fn each_server_sees_at_most_the_budget() {
    let budget = 2;
    let urls = testkit::limited_everywhere("perserver", budget);
    let mut cfg = run_config_on(&urls, budget);
    cfg.work = workload_queries(Workload::Point, 300, 0);
    let set = replica_set();
    for (name, f) in APPROACHES {
        // The previous run's connections may still be closing on the
        // servers (on a busy machine, long enough to refuse this run's).
        testkit::poll_closed(&set.urls, urls[0].user());
        let report = run(name, f, &cfg);
        // Counted over every server: at most the budget on each.
        let peak = report.peak_connections.expect("counted");
        assert!(peak <= budget * urls.len(), "{name}: {peak}");
        // And on each server by the server's own ids (issue 27, item 2: the
        // sum alone could hide one server over its budget): the pools open
        // connections lazily and keep them, so each server's distinct ids
        // are the most it held at once.
        for server in 0..urls.len() {
            let ids: std::collections::BTreeSet<u64> = report
                .queries
                .iter()
                .filter(|q| q.server == Some(server))
                .filter_map(|q| q.connection_id)
                .collect();
            assert!(
                !ids.is_empty() && ids.len() <= budget,
                "{name}: server {server} used connections {ids:?}, budget {budget}"
            );
        }
    }
    // The limit bites on each server, not on one: budget logins pass there
    // and one more is refused (1226).
    testkit::poll_closed(&set.urls, urls[0].user());
    for url in &urls {
        testkit::assert_limit_bites(url, budget);
    }
    // The control: a budget above what each server allows is refused by
    // the servers (1226), so the runs above kept to it.
    let mut over = run_config_on(&urls, budget + 2);
    over.work = common::workload::Work::report(
        common::queries::generate("SELECT SLEEP(0.05), '{}'").expect("template"),
    );
    let (name, f) = APPROACHES[5];
    let text = f(&over).map_or_else(|e| common::error::chain(&e), |_| String::new());
    assert!(
        text.contains("1226"),
        "{name} kept under a limit it was not given: {text}"
    );
}

/// A server given twice, and a server without the dataset, are refused
/// before anything runs, naming the server.
#[test]
fn a_server_without_the_dataset_is_named() {
    let set = replica_set();
    let mut missing = set.urls.clone();
    missing[1] = missing[1].with_database("dbio_nothing_here");
    let mut cmd = std::process::Command::new(testkit::release_dir().join("test_threadpool"));
    testkit::scrub(&mut cmd);
    let list: Vec<String> = missing.iter().map(DbUrl::expose).collect();
    let out = cmd
        .env("DATABASE_URLS", list.join(","))
        .output()
        .expect("run");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("server 2") || err.contains("dbio_nothing_here"),
        "{err}"
    );
    assert!(!err.contains(&set.urls[1].password().expect("pw")), "{err}");
}

/// A replica stopped mid-run: the run completes on the primary, and the
/// queries routed to the replica ran there once more (`moved_from`); with
/// every server stopped, one error names them, within a deadline.
#[test]
fn a_replica_lost_mid_run_moves_its_queries() {
    use std::time::Instant;

    let (scratch, replica, urls) = testkit::scratch_pair("failover");
    let primary = &scratch.server;
    let progress = dbio::no_progress();
    for (name, f) in APPROACHES {
        replica
            .start(&dbio::ServerSettings::default(), &progress)
            .expect("the replica (again)");
        let mut cfg = run_config_on(&urls, 2);
        // 24 waits of 0.5 s on 2 + 2 connections: 3 s at least, the
        // replica stopped once it runs some.
        cfg.work = common::workload::sleep(24, 500);
        let report = std::thread::scope(|s| {
            let run = s.spawn(|| f(&cfg));
            // The replica runs a sleep (no sleep for a server in a test).
            testkit::poll_running_on(&urls[1], "SELECT SLEEP(0.5%");
            replica.stop(&progress).expect("stop the replica");
            run.join().expect("the run")
        })
        .unwrap_or_else(|e| panic!("{name}: {}", common::error::chain(&e)));
        assert_eq!(report.queries.len(), 24, "{name}");
        let moved = report.moved();
        assert!(
            moved.get(&1).is_some_and(|&n| n > 0) && moved.len() == 1,
            "{name}: moved {moved:?}"
        );
        for q in &report.queries {
            // Every query's own answer, wherever it ran.
            assert_eq!(q.rows, 1, "{name}: {}", q.label);
            if q.moved_from.is_some() {
                assert_eq!(q.server, Some(0), "{name}: {}", q.label);
            }
        }
        let mut text = Vec::new();
        report.write_text(&mut text).expect("text");
        let text = String::from_utf8(text).expect("utf8");
        assert!(text.contains("moved from server 2"), "{name}: {text}");
    }
    // Every server stopped mid-run (issue 27, item 7): every approach, Rust
    // and Python, ends with one line that names both servers, no hang.
    let names: Vec<String> = urls.iter().map(ToString::to_string).collect();
    let list: Vec<String> = urls.iter().map(DbUrl::expose).collect();
    for (name, mut cmd) in testkit::every_approach_command() {
        primary
            .start(&dbio::ServerSettings::default(), &progress)
            .expect("the primary (again)");
        replica
            .start(&dbio::ServerSettings::default(), &progress)
            .expect("the replica (again)");
        cmd.env("DATABASE_URLS", list.join(","))
            .env("DBIO_WORKLOAD", "sleep")
            .env("DBIO_COUNT", "24")
            .env("DBIO_SLEEP_MS", "500")
            .env("DBIO_CONNECTIONS", "2");
        let running = testkit::faults::spawn_command(cmd);
        testkit::poll_running_on(&urls[0], "SELECT SLEEP(0.5%");
        // The deadline counts from the moment both servers are gone: a
        // slow shutdown on a loaded machine is the server's time, not a
        // hang of the binary.
        let t0 = Instant::now();
        primary.stop_all(&progress).expect("stop both");
        let stopping = t0.elapsed();
        let out = running.finish_within(testkit::faults::DEADLINE);
        let seen = format!("{name} (the stop took {stopping:?}): {out:#?}");
        assert_eq!(out.code, Some(1), "{seen}");
        assert_eq!(out.stderr.lines().count(), 1, "{seen}");
        assert!(
            out.stderr.starts_with("error: ") && out.stderr.contains("every server was lost"),
            "{seen}"
        );
        for server in &names {
            assert!(
                out.stderr.contains(server.as_str()),
                "names {server}: {seen}"
            );
        }
    }
}

/// A replica more than `--max-lag` behind its primary, or not replicating
/// at all, is refused before the run in one line with its lag, by the Rust
/// binaries and the Python scripts alike.
#[test]
fn a_lagging_replica_is_refused_with_its_lag() {
    use std::time::Duration;

    let (_scratch, replica, urls) = testkit::scratch_pair("lag");
    let list: Vec<String> = urls.iter().map(DbUrl::expose).collect();
    let mut conn = replica.admin_conn().expect("replica");
    for sql in [
        "STOP SLAVE",
        "CHANGE MASTER TO MASTER_DELAY = 600",
        "START SLAVE",
    ] {
        conn.query_drop(sql).expect("delay the replica");
    }
    admin(&urls[0])
        .query_drop("CREATE TABLE IF NOT EXISTS employees.dbio_lag_probe (x INT)")
        .expect("a write on the primary");
    let python = testkit::workspace_root().join("target/python-venv/bin/python");
    let attempt = |lag_word: &str| -> Vec<String> {
        let mut errors = Vec::new();
        let mut rust = std::process::Command::new(testkit::release_dir().join("test_threadpool"));
        let mut py = std::process::Command::new(&python);
        py.arg(testkit::workspace_root().join("scripts/python/test_single.py"));
        for cmd in [&mut rust, &mut py] {
            testkit::scrub(cmd);
            let out = cmd
                .env("DATABASE_URLS", list.join(","))
                .env("DBIO_MAX_LAG", "2")
                .output()
                .expect("run");
            let err = String::from_utf8_lossy(&out.stderr).into_owned();
            if out.status.code() == Some(1) && err.lines().count() == 1 && err.contains(lag_word) {
                errors.push(err);
            }
        }
        errors
    };
    let refused = testkit::poll("the replica to lag", Duration::from_secs(60), || {
        let errors = attempt("s behind its primary");
        (errors.len() == 2).then_some(errors)
    });
    for err in refused {
        assert!(err.starts_with("error: server 2 ("), "{err}");
        assert!(err.contains("more than --max-lag 2 s"), "{err}");
    }
    conn.query_drop("STOP SLAVE").expect("stop replicating");
    let stopped = attempt("not replicating now");
    assert_eq!(
        stopped.len(),
        2,
        "both refuse a replica that does not replicate"
    );
}

/// D3 of the third hostile pass: one server under two spellings
/// (`127.0.0.1` and `localhost`, `127.1`) is refused in one line by every
/// approach, Rust and Python, before any query: the budget is per server,
/// and it would see twice the budget.
#[test]
fn one_server_under_two_spellings_is_refused() {
    let url = shared().url.expose();
    assert!(url.contains("@127.0.0.1:"), "{url}");
    for other in ["localhost", "127.1"] {
        let list = format!(
            "{url},{}",
            url.replace("@127.0.0.1:", &format!("@{other}:"))
        );
        for (name, mut cmd) in testkit::every_approach_command() {
            let out = cmd
                .env("DATABASE_URLS", &list)
                .env("DBIO_WORKLOAD", "sleep")
                .env("DBIO_COUNT", "2")
                .env("DBIO_SLEEP_MS", "1")
                .output()
                .expect("run");
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(1), "{name} {other}: {err}");
            assert_eq!(err.lines().count(), 1, "{name} {other}: {err}");
            assert!(
                err.starts_with("error: server 2 (")
                    && err.contains("is server 1 (")
                    && err.contains("give each server once"),
                "{name} {other}: {err}"
            );
            let password = shared().url.password().expect("a password");
            assert!(!err.contains(&password), "{name}: {err}");
        }
    }
}
