//! The blog's five approaches in Python (`scripts/python`), held to the
//! same fault rules as the Rust binaries where their drivers allow.
//!
//! Needs the drivers in `target/python-venv`, which `scripts/test.sh` (and
//! `scripts/bench.sh --python`) installs.

use std::path::PathBuf;
use std::process::Command;

use mysql::prelude::Queryable;

use testkit::faults::spawn_command;
use testkit::signals::interrupted_run;

use testkit::PYTHON_SCRIPTS as SCRIPTS;

/// The Rust baseline's binary, built beside this test (`cargo test
/// --workspace` builds every binary of the workspace).
fn rust_baseline() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary");
    // target/<profile>/deps/python-<hash> -> target/<profile>/test_single
    let bin = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target dir")
        .join("test_single");
    assert!(
        bin.exists(),
        "{} is missing: run `cargo build -p test_single` (cargo test --workspace builds it)",
        bin.display()
    );
    bin
}

use testkit::python_script as script;

/// Same work in both languages: every Python approach returns, query for
/// query, the row counts and digests of the Rust baseline (`--digests`:
/// pure-Python hashing is kept out of every run whose times are reported),
/// and stamps each query as the Rust binaries do: submitted ≤ connected ≤
/// first row ≤ last row ≤ the run's wall time.
#[test]
fn every_python_approach_returns_the_rust_digests() {
    // The interrupt test below checks a deadline: it runs alone.
    let _alongside = testkit::alongside();
    use common::workload::Workload;
    let url = &testkit::shared().url;
    for (workload, count) in [
        (Workload::Report, 26),
        (Workload::Point, 300),
        (Workload::Sleep, 20),
    ] {
        let mut cfg = testkit::run_config(url, 5);
        cfg.work = testkit::workload_queries(workload, count, 10);
        let (name, run) = suite::APPROACHES[0];
        let rust = run(&cfg).unwrap_or_else(|e| panic!("{name}: {}", common::error::chain(&e)));
        let want: Vec<(String, u64, String)> = rust
            .queries
            .iter()
            .map(|q| {
                (
                    q.label.clone(),
                    q.rows,
                    q.digest.clone().unwrap_or_default(),
                )
            })
            .collect();
        for name in SCRIPTS {
            let mut cmd = script(name);
            cmd.args(["--json", "--digests"])
                .env("DATABASE_URL", url.expose())
                .env("DBIO_WORKLOAD", workload.name());
            if workload != Workload::Report {
                cmd.env("DBIO_COUNT", count.to_string());
            }
            if workload == Workload::Sleep {
                cmd.env("DBIO_SLEEP_MS", "10");
            }
            let out = spawn_command(cmd).finish();
            assert_eq!(out.code, Some(0), "{name}, {workload:?}: {}", out.stderr);
            let report: serde_json::Value = serde_json::from_str(&out.stdout).expect("JSON report");
            let got: Vec<(String, u64, String)> = report["queries"]
                .as_array()
                .expect("queries")
                .iter()
                .map(|q| {
                    (
                        q["label"].as_str().unwrap_or_default().to_owned(),
                        q["rows"].as_u64().unwrap_or_default(),
                        q["digest"].as_str().unwrap_or_default().to_owned(),
                    )
                })
                .collect();
            assert_eq!(got.len(), want.len(), "{name}, {workload:?}");
            // The per-query timestamps mean what the Rust binaries' mean.
            let wall = report["wall_us"].as_u64().expect("wall_us");
            for q in report["queries"].as_array().expect("queries") {
                let at = |key: &str| q[key].as_u64().unwrap_or_else(|| panic!("{name}: {key}"));
                assert!(
                    at("submitted_us") <= at("connected_us")
                        && at("connected_us") <= at("first_row_us")
                        && at("first_row_us") <= at("finished_us")
                        && at("finished_us") <= wall,
                    "{name}, {workload:?}: {q}"
                );
                assert!(at("connection_id") > 0, "{name}: {q}");
            }
            assert_eq!(
                got, want,
                "{name}, {workload:?} differs from {}",
                rust.approach
            );
        }
    }
}

#[test]
fn sigint_sigterm_and_sighup_cancel_the_running_queries() {
    for name in SCRIPTS {
        for signal in [2, 15, 1] {
            interrupted_run(&format!("py_{name}"), signal, |url, template| {
                let mut cmd = script(name);
                cmd.args(["--queries", &template.arg()])
                    .env("DATABASE_URL", url.expose());
                spawn_command(cmd)
            });
        }
    }
}

/// Issue 27, item 4: the Rust fault checks of signals, run against every
/// script. Blocked writing a report to a full stdout, its stderr full too,
/// a script still exits 143 within 2 s of SIGTERM.
#[test]
fn full_pipes_do_not_block_the_exit() {
    let _alone = testkit::exclusive();
    for name in SCRIPTS {
        let mut cmd = script(name);
        cmd.env("DATABASE_URL", testkit::shared().url.expose())
            .env("DBIO_WORKLOAD", "point")
            .env("DBIO_COUNT", "20000");
        testkit::signals::full_pipes_run(cmd);
    }
}

/// At a per-user limit equal to what the script holds, the `KILL QUERY`s
/// go over an idle connection of its pool (the server refuses one more
/// login); `test_single`'s one connection runs the sleep, so it can only
/// say that it could not cancel it.
#[test]
fn interrupted_at_the_user_limit() {
    for name in SCRIPTS {
        let limit = if name == "test_single" { 1 } else { 5 };
        testkit::signals::at_the_user_limit_run(&format!("py_{name}"), limit, |url, template| {
            let mut cmd = script(name);
            cmd.args(["--queries", &template.arg()])
                .env("DATABASE_URL", url.expose())
                .env("DBIO_CONNECTIONS", limit.to_string());
            spawn_command(cmd)
        });
    }
}

/// The first signal decides the exit, as in Rust: SIGTERM then SIGINT
/// exits 143. (Python runs the handlers of signals that arrived together
/// in the order of their numbers; the scripts read the order of arrival
/// from the wakeup fd.)
#[test]
fn the_first_signal_decides_the_exit() {
    let url = &testkit::shared().url;
    let template = testkit::faults::Template::new(
        &format!("py-twice-{}", std::process::id()),
        "SELECT '{}' AS q, SLEEP(60) AS slept, 'py-twice' AS marker",
    );
    let _alone = testkit::exclusive();
    for name in SCRIPTS {
        let mut cmd = script(name);
        cmd.args(["--queries", &template.arg()])
            .env("DATABASE_URL", url.expose());
        let running = spawn_command(cmd);
        let mut conn = testkit::admin(url);
        testkit::poll(
            "the queries to start",
            std::time::Duration::from_secs(30),
            || {
                (conn
                .query_first::<usize, _>(
                    "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO LIKE '%py-twice%' AND ID <> CONNECTION_ID()",
                )
                .expect("process list")
                .unwrap_or(0)
                > 0)
            .then_some(())
            },
        );
        let pid = running.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        // Signals pending together are taken lowest number first (SIGINT
        // before SIGTERM), whatever order they were sent in: SIGINT goes
        // once the process has taken SIGTERM, so that it is the first.
        testkit::poll(
            "the script to take SIGTERM",
            std::time::Duration::from_secs(5),
            || (!pending(&pid, 15)).then_some(()),
        );
        let _ = Command::new("kill").args(["-INT", &pid]).status();
        let out = running.finish_within(std::time::Duration::from_secs(3));
        assert_eq!(out.code, Some(143), "{name}: {out:#?}");
        assert!(out.stderr.contains("SIGTERM"), "{name}: {out:#?}");
    }
}

/// Whether `signal` waits to be taken by process `pid` (in the set shared
/// by its threads, or its main thread's own); not once it has exited.
fn pending(pid: &str, signal: u32) -> bool {
    let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) else {
        return false;
    };
    status
        .lines()
        .filter_map(|l| {
            l.strip_prefix("ShdPnd:")
                .or_else(|| l.strip_prefix("SigPnd:"))
        })
        .filter_map(|mask| u64::from_str_radix(mask.trim(), 16).ok())
        .any(|mask| mask & (1 << (signal - 1)) != 0)
}

/// A template of two statements is refused by every script before it
/// connects (aiomysql would have run both: it turns multi-statements on,
/// which `test_asyncio.py` turns off again per connection).
#[test]
fn a_template_of_two_statements_is_refused() {
    // Beside the tests that check a deadline, never during one.
    let _alongside = testkit::alongside();
    let url = &testkit::shared().url;
    let marker = format!("hostile_{}", std::process::id());
    let template = testkit::faults::Template::new(
        &marker,
        &format!("SELECT '{{}}' AS q; CREATE TABLE {marker}_{{}} (a int)"),
    );
    for name in SCRIPTS {
        let mut cmd = script(name);
        cmd.args(["--queries", &template.arg()])
            .env("DATABASE_URL", url.expose());
        let out = spawn_command(cmd).finish();
        assert_eq!(out.code, Some(1), "{name}: {out:#?}");
        assert!(
            out.stderr.contains("more than one statement"),
            "{name}: {out:#?}"
        );
    }
    let tables: usize = testkit::admin(url)
        .query_first(format!(
            "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_NAME LIKE '{marker}%'"
        ))
        .expect("tables")
        .unwrap_or(0);
    assert_eq!(tables, 0);
}

/// One validation, the same rules: what a Rust binary refuses (and with
/// which exit code), every script refuses alike.
#[test]
fn numbers_follow_the_rust_rules() {
    // Beside the tests that check a deadline, never during one.
    let _alongside = testkit::alongside();
    let url = &testkit::shared().url;
    let rust = rust_baseline();
    for (var, value, workload) in [
        ("DBIO_SLEEP_MS", "99999999999999999999", "sleep"),
        ("DBIO_SLEEP_MS", "1_000", "sleep"),
        ("DBIO_SLEEP_MS", " 3 ", "sleep"),
        ("DBIO_SLEEP_MS", "３", "sleep"),
        ("DBIO_SLEEP_MS", "0", "sleep"),
        ("DBIO_SLEEP_MS", "3600001", "sleep"),
        ("DBIO_SLEEP_MS", "50", "report"),
        ("DBIO_SLEEP_MS", "50", "point"),
        ("DBIO_COUNT", "4294967295", "sleep"),
        ("DBIO_COUNT", "0", "point"),
        ("DBIO_CONNECTIONS", "100000000000000000000000", "report"),
        ("DBIO_CONNECTIONS", "100001", "report"),
        ("DBIO_CONNECT_TIMEOUT", "0", "report"),
    ] {
        let mut cmd = Command::new(&rust);
        cmd.env("DATABASE_URL", url.expose())
            .env("DBIO_WORKLOAD", workload)
            .env(var, value);
        let want = spawn_command(cmd).finish();
        assert!(
            matches!(want.code, Some(1 | 2)),
            "{var}={value:?}: {want:#?}"
        );
        for name in SCRIPTS {
            let mut cmd = script(name);
            cmd.env("DATABASE_URL", url.expose())
                .env("DBIO_WORKLOAD", workload)
                .env(var, value);
            let got = spawn_command(cmd).finish();
            assert_eq!(
                got.code, want.code,
                "{name}, {var}={value:?}: {got:#?} vs Rust {want:#?}"
            );
            assert!(got.stdout.is_empty(), "{name}: {got:#?}");
        }
    }
}

/// A listener that never answers: every script gives up within
/// DBIO_CONNECT_TIMEOUT, as the Rust binaries do within --connect-timeout.
#[test]
fn a_silent_listener_is_given_up_on_within_the_connect_timeout() {
    let _alone = testkit::exclusive();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("listen");
    let port = listener.local_addr().expect("addr").port();
    for name in SCRIPTS {
        let mut cmd = script(name);
        cmd.env(
            "DATABASE_URL",
            format!("mysql://dbio:secret@127.0.0.1:{port}/employees"),
        )
        .env("DBIO_CONNECT_TIMEOUT", "2");
        // As in Rust (faults::silent_listener): under 3 s, Python's own
        // start-up included, with no server starting beside it.
        let out = spawn_command(cmd).finish_within(std::time::Duration::from_secs(8));
        assert_eq!(out.code, Some(1), "{name}: {out:#?}");
        assert!(
            out.elapsed < std::time::Duration::from_secs(3),
            "{name} took {:?} with DBIO_CONNECT_TIMEOUT=2",
            out.elapsed
        );
        assert!(
            out.stderr
                .contains("did not answer the MySQL handshake within 2 s"),
            "{name}: {out:#?}"
        );
        assert!(!out.stderr.contains("secret"), "{name}: {out:#?}");
    }
    drop(listener);
}

/// A dataset whose load did not finish is refused, as by the Rust binaries.
#[test]
fn an_incomplete_dataset_is_refused() {
    // Beside the tests that check a deadline, never during one.
    let _alongside = testkit::alongside();
    let _ = testkit::shared();
    let rust = rust_baseline();
    // The Rust fault test makes the same database; one of them is enough.
    testkit::faults::incomplete_dataset(&rust);
    let url = testkit::shared().url.with_database("dbio_incomplete");
    for name in SCRIPTS {
        let mut cmd = script(name);
        cmd.env("DATABASE_URL", url.expose());
        let out = spawn_command(cmd).finish();
        assert_eq!(out.code, Some(1), "{name}: {out:#?}");
        assert!(out.stderr.contains("dbio load --force"), "{name}: {out:#?}");
    }
}

/// A reader that went away ends a script quietly, with no traceback.
#[test]
fn a_closed_stdout_is_quiet() {
    // Beside the tests that check a deadline, never during one.
    let _alongside = testkit::alongside();
    let url = &testkit::shared().url;
    for name in SCRIPTS {
        let (reader, writer) = std::io::pipe().expect("pipe");
        drop(reader);
        let out = script(name)
            .env("DATABASE_URL", url.expose())
            .stdin(std::process::Stdio::null())
            .stdout(writer)
            .output()
            .expect("run");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{name}: {err}");
        assert!(err.is_empty(), "{name}: {err}");
    }
}

/// The Python scripts parse DATABASE_URL before they connect. A URL that
/// does not parse as intended has its password where no redaction looks:
/// it is never quoted.
#[test]
fn python_scripts_never_echo_a_malformed_url() {
    // Beside the tests that check a deadline, never during one.
    let _alongside = testkit::alongside();
    for url in [
        "root:hunter2@db.example.com:3306/employees",
        "mysql:dbio:hunter2@127.0.0.1:23312/employees",
        "mysql:///dbio:hunter2@127.0.0.1:23312/employees",
        "mysql://dbio:hunter2@127.0.0.1:99999/employees",
    ] {
        let out = script("test_single")
            .env("DATABASE_URL", url)
            .output()
            .expect("python");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{url}: {err}");
        assert!(
            err.starts_with("error: DATABASE_URL") && err.lines().count() == 1,
            "{url}: {err}"
        );
        assert!(
            !err.contains("hunter2") && !err.contains("dbio:"),
            "{url}: {err}"
        );
    }
}

/// D7 of the third hostile pass: a server list of commas or blanks ends
/// every script and every Rust approach with one line, no traceback.
#[test]
fn an_empty_server_list_is_one_line_in_both_languages() {
    // Beside the tests that check a deadline, never during one.
    let _alongside = testkit::alongside();
    for list in [",", " ", ",,"] {
        for name in SCRIPTS {
            let out = script(name)
                .env("DATABASE_URLS", list)
                .output()
                .expect("python");
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(1), "{name} {list:?}: {err}");
            assert_eq!(err.lines().count(), 1, "{name} {list:?}: {err}");
            assert!(
                err.starts_with("error: DATABASE_URLS lists no server"),
                "{name} {list:?}: {err}"
            );
        }
        for approach in common::registry::of(common::registry::Language::Rust) {
            let mut cmd = Command::new(testkit::release_dir().join(approach.name));
            testkit::scrub(&mut cmd);
            let out = cmd.env("DATABASE_URLS", list).output().expect("approach");
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(
                out.status.code(),
                Some(1),
                "{} {list:?}: {err}",
                approach.name
            );
            assert_eq!(err.lines().count(), 1, "{} {list:?}: {err}", approach.name);
            assert!(
                err.starts_with("error: DATABASE_URLS lists no server"),
                "{} {list:?}: {err}",
                approach.name
            );
        }
    }
}

/// Several servers (DATABASE_URLS: a primary and two replicas): every
/// Python approach returns the Rust digests, spreads the queries over
/// every server by the same policy, and names them (never a password);
/// the same server twice is refused in one line.
#[test]
fn python_approaches_spread_over_several_servers() {
    // Beside the tests that check a deadline, never during one.
    let _alongside = testkit::alongside();
    let set = testkit::replica_set();
    let urls: Vec<String> = set.urls.iter().map(common::DbUrl::expose).collect();
    let mut cfg = testkit::run_config_on(&set.urls, 2);
    cfg.work = testkit::workload_queries(common::workload::Workload::Point, 120, 0);
    let (_, run) = suite::APPROACHES[0];
    let rust = run(&cfg).unwrap_or_else(|e| panic!("{}", common::error::chain(&e)));
    let want: Vec<(String, String)> = rust
        .queries
        .iter()
        .map(|q| (q.label.clone(), q.digest.clone().unwrap_or_default()))
        .collect();
    for name in SCRIPTS {
        let mut cmd = script(name);
        cmd.args(["--json", "--digests"])
            .env("DATABASE_URLS", urls.join(","))
            .env("DBIO_WORKLOAD", "point")
            .env("DBIO_COUNT", "120")
            .env("DBIO_CONNECTIONS", "2");
        let out = spawn_command(cmd).finish();
        assert_eq!(out.code, Some(0), "{name}: {}", out.stderr);
        let report: common::Report =
            serde_json::from_str(&out.stdout).expect("the one report type");
        let got: Vec<(String, String)> = report
            .queries
            .iter()
            .map(|q| (q.label.clone(), q.digest.clone().unwrap_or_default()))
            .collect();
        assert_eq!(got, want, "{name}");
        assert_eq!(report.servers.len(), 3, "{name}");
        let used = report
            .per_server()
            .unwrap_or_else(|q| panic!("{name}: {q} has no server"));
        assert!(used.iter().all(|&n| n > 0), "{name}: {used:?}");
        for url in &set.urls {
            let password = url.password().expect("password");
            assert!(!out.stdout.contains(&password) && !out.stderr.contains(&password));
        }
    }
    let mut twice = script("test_single");
    twice.env("DATABASE_URLS", format!("{},{}", urls[0], urls[0]));
    let out = spawn_command(twice).finish();
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    assert!(out.stderr.contains("given twice"), "{}", out.stderr);
    assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
}

/// Issue 27, item 1: the budget holds for every script on each server, seen
/// by the servers themselves. Each script runs as a user every server
/// limits to the budget (one more login is refused, 1226: shown before
/// the runs, and by a script given a budget above the limit), on one
/// server and on three, while each server's process list is sampled.
#[test]
fn python_approaches_keep_the_budget_on_each_server() {
    use std::sync::atomic::{AtomicBool, Ordering};
    let _alongside = testkit::alongside();
    let budget = 2;
    let one = vec![testkit::signals::limited_user("pybudget", budget).1];
    let three = testkit::limited_everywhere("pybudget", budget);
    // Each run's URLs, and the dbio account's (no limit) on the same servers.
    let runs = [
        (one, vec![testkit::shared().url.clone()]),
        (three, testkit::replica_set().urls.clone()),
    ];
    for (urls, admin_urls) in runs {
        for url in &urls {
            testkit::assert_limit_bites(url, budget);
        }
        let user = urls[0].user().to_owned();
        let list: Vec<String> = urls.iter().map(common::DbUrl::expose).collect();
        let run = |name: &str, connections: usize| {
            let mut cmd = script(name);
            cmd.env("DATABASE_URLS", list.join(","))
                .env("DBIO_WORKLOAD", "sleep")
                .env("DBIO_COUNT", "12")
                .env("DBIO_SLEEP_MS", "300")
                .env("DBIO_CONNECTIONS", connections.to_string());
            cmd
        };
        for name in SCRIPTS {
            testkit::poll_closed(&admin_urls, &user);
            let mut admins: Vec<mysql::Conn> = admin_urls.iter().map(testkit::admin).collect();
            let done = AtomicBool::new(false);
            let (out, peaks) = std::thread::scope(|s| {
                let sampler = s.spawn(|| {
                    let mut peaks = vec![0; admins.len()];
                    while !done.load(Ordering::SeqCst) {
                        for (peak, conn) in peaks.iter_mut().zip(&mut admins) {
                            *peak = (*peak).max(testkit::connections_of(conn, &user));
                        }
                    }
                    peaks
                });
                let out = spawn_command(run(name, budget)).finish();
                done.store(true, Ordering::SeqCst);
                (out, sampler.join().expect("sampler"))
            });
            assert_eq!(
                out.code,
                Some(0),
                "{name} on {}: {}",
                urls.len(),
                out.stderr
            );
            assert!(
                peaks.iter().all(|&p| (1..=budget).contains(&p)),
                "{name} on {} servers: each server held {peaks:?}, budget {budget}",
                urls.len()
            );
        }
        // The control: over the limit, a script is refused by the server.
        testkit::poll_closed(&admin_urls, &user);
        let out = spawn_command(run("test_mt", budget + 2)).finish();
        assert_eq!(out.code, Some(1), "{}", out.stderr);
        assert!(out.stderr.contains("1226"), "{}", out.stderr);
    }
}

/// A replica stopped mid-run: every Python approach completes on the
/// primary and says which queries moved (the Rust drivers' failover).
#[test]
fn python_approaches_move_the_queries_of_a_lost_replica() {
    // Beside the tests that check a deadline, never during one.
    let _alongside = testkit::alongside();
    let (_scratch, replica, urls) = testkit::scratch_pair("py-failover");
    let list: Vec<String> = urls.iter().map(common::DbUrl::expose).collect();
    for name in SCRIPTS {
        replica
            .start(&dbio::ServerSettings::default(), &dbio::no_progress())
            .expect("the replica (again)");
        let mut cmd = script(name);
        cmd.arg("--json")
            .env("DATABASE_URLS", list.join(","))
            .env("DBIO_WORKLOAD", "sleep")
            .env("DBIO_COUNT", "24")
            .env("DBIO_SLEEP_MS", "500")
            .env("DBIO_CONNECTIONS", "2");
        let running = spawn_command(cmd);
        // The replica runs a sleep: polled, never slept for.
        testkit::poll_running_on(&urls[1], "SELECT SLEEP(0.5%");
        replica
            .stop(&dbio::no_progress())
            .expect("stop the replica");
        let out = running.finish();
        assert_eq!(out.code, Some(0), "{name}: {}", out.stderr);
        let report: common::Report = serde_json::from_str(&out.stdout).expect("a report");
        assert_eq!(report.queries.len(), 24, "{name}");
        let moved = report.moved();
        assert!(
            moved.get(&1).is_some_and(|&n| n > 0) && moved.len() == 1,
            "{name}: moved {moved:?}"
        );
        assert!(report.queries.iter().all(|q| q.rows == 1), "{name}");
    }
}
