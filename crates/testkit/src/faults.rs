//! Fault checks for an approach binary: each fault must end the run with a
//! non-zero exit, within a deadline, with exactly one `error: ...` line that
//! names the cause, no panic, no password and no report on stdout.
//!
//! [`fault_tests!`](crate::fault_tests) expands to one `#[test]` per fault
//! for the binary of the crate that invokes it.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use mysql::prelude::Queryable;

use crate::{Scratch, admin, poll, shared};

pub use crate::program::{
    DEADLINE, Outcome, Running, Template, assert_clean_failure, run, spawn, spawn_command, url_args,
};

pub fn refused_port(bin: &Path) {
    let port = TcpListener::bind(("127.0.0.1", 0))
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let url = common::DbUrl::parse(&format!("mysql://dbio:secret@127.0.0.1:{port}/employees"))
        .expect("url");
    let out = run(bin, &url_args(&url, &[]));
    assert_clean_failure(&out, &["cannot connect", "refused"]);
    // At once: not after the connect timeout (2 s) ran out.
    assert!(
        out.elapsed < Duration::from_secs(2),
        "a refusal took {:?}: {out:#?}",
        out.elapsed
    );
    assert!(!out.stderr.contains("secret"));
    assert!(
        !out.stderr.to_lowercase().contains("pool timed out"),
        "{out:#?}"
    );
}

/// No URL given and the managed server's state left behind, the server down.
pub fn managed_server_down(bin: &Path) {
    let home = std::env::temp_dir().join(format!(
        "dbio-down-{}-{}",
        bin.file_name().and_then(|n| n.to_str()).unwrap_or("bin"),
        std::process::id()
    ));
    std::fs::create_dir_all(&home).expect("home");
    let port = TcpListener::bind(("127.0.0.1", 0))
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let state = common::managed::ServerState {
        port,
        socket: home.join("run").join("mysqld.sock"),
    };
    std::fs::write(
        common::managed::ServerState::path(&home),
        serde_json::to_vec(&state).expect("json"),
    )
    .expect("state");
    std::fs::write(
        common::managed::ServerState::password_path(&home),
        "pw-of-a-dead-server",
    )
    .expect("password");
    let args = [
        "--dbio-home".to_owned(),
        home.display().to_string(),
        "--connect-timeout".into(),
        "2".into(),
    ];
    let out = run(bin, &args);
    assert_clean_failure(&out, &["cannot connect", "refused", "dbio -- up"]);
    assert!(!out.stderr.contains("pw-of-a-dead-server"));
    let _ = std::fs::remove_dir_all(&home);
}

pub fn wrong_password(bin: &Path) {
    let url = shared()
        .url
        .with_credentials(common::managed::USER, "not-the-password");
    let out = run(bin, &url_args(&url, &[]));
    assert_clean_failure(&out, &["access denied", "password"]);
    assert!(!out.stderr.contains("not-the-password"));
}

pub fn missing_database(bin: &Path) {
    let url = shared().url.with_database("dbio_no_such_database");
    assert_clean_failure(&run(bin, &url_args(&url, &[])), &["unknown database"]);
}

pub fn missing_tables(bin: &Path) {
    let url = shared().url.with_database("dbio_empty");
    admin(&shared().url)
        .query_drop("CREATE DATABASE IF NOT EXISTS dbio_empty")
        .expect("create empty database");
    assert_clean_failure(
        &run(bin, &url_args(&url, &[])),
        &["doesn't exist", "dbio up"],
    );
}

pub fn bad_budget(bin: &Path) {
    let url = &shared().url;
    let zero = run(bin, &url_args(url, &["--connections", "0"]));
    assert_clean_failure(&zero, &["--connections", "at least 1"]);
    let nan = run(bin, &url_args(url, &["--connections", "many"]));
    assert_clean_failure(&nan, &["invalid value", "many"]);
}

/// Counts, waits and budgets beyond what a run can hold are refused before
/// anything is built (`--count 4294967295` once asked for 206 GB).
pub fn bad_counts(bin: &Path) {
    let url = &shared().url;
    let sleep = |extra: &[&str]| {
        let mut args = vec!["--workload", "sleep"];
        args.extend_from_slice(extra);
        run(bin, &url_args(url, &args))
    };
    assert_clean_failure(
        &sleep(&["--count", "4294967295"]),
        &["--count", "at most 1000000"],
    );
    assert_clean_failure(
        &sleep(&["--sleep-ms", "3600001"]),
        &["--sleep-ms", "at most"],
    );
    let many = run(bin, &url_args(url, &["--connections", "100001"]));
    assert_clean_failure(&many, &["--connections", "at most"]);
}

/// A dataset whose load did not finish (`_dbio_meta` says `loading`, as
/// after a disk that filled up): the run is refused with the command that
/// repairs it, instead of reporting the empty tables' rows.
pub fn incomplete_dataset(bin: &Path) {
    let db = "dbio_incomplete";
    let mut conn = admin(&shared().url);
    for sql in [
        format!("CREATE DATABASE IF NOT EXISTS {db}"),
        format!("CREATE TABLE IF NOT EXISTS {db}._dbio_meta (k VARCHAR(64) PRIMARY KEY, v TEXT)"),
        format!("REPLACE INTO {db}._dbio_meta VALUES ('status', 'loading')"),
        format!("CREATE TABLE IF NOT EXISTS {db}.employees LIKE employees.employees"),
    ] {
        conn.query_drop(sql).expect("an incomplete dataset");
    }
    let url = shared().url.with_database(db);
    for workload in ["report", "point"] {
        let out = run(bin, &url_args(&url, &["--workload", workload]));
        assert_clean_failure(&out, &["incomplete", "`loading`", "dbio load --force"]);
    }
}

/// A reader that went away (`| head -1`) ends the binary quietly.
pub fn closed_stdout_is_quiet(bin: &Path) {
    let (reader, stdout) = std::io::pipe().expect("pipe");
    drop(reader);
    let mut cmd = Command::new(bin);
    cmd.args(url_args(&shared().url, &[]));
    crate::scrub(&mut cmd);
    let out = cmd
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(Stdio::piped())
        .output()
        .expect("run");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.is_empty(), "{err}");
}

/// A thread-per-query approach asked for more threads than the machine
/// allows refuses before the run with one line naming the limit, and runs
/// at a count that fits; it never aborts (50,000 threads once ended in
/// SIGABRT on `vm.max_map_count`).
pub fn too_many_threads(bin: &Path) {
    let url = &shared().url;
    let limited_run = |extra: &[&str], address_space_kib: Option<u64>| {
        let mut args = url_args(url, extra);
        let cmd = match address_space_kib {
            Some(kib) => {
                let mut c = Command::new("sh");
                c.arg("-c")
                    .arg(format!("ulimit -v {kib} && exec \"$0\" \"$@\""))
                    .arg(bin)
                    .args(args.drain(..));
                c
            }
            None => {
                let mut c = Command::new(bin);
                c.args(args);
                c
            }
        };
        spawn_command(cmd).finish()
    };
    let point = |count: &str, address_space_kib: Option<u64>| {
        limited_run(
            &["--workload", "point", "--count", count],
            address_space_kib,
        )
    };
    // 2 GiB of address space: about 7,000 threads of 260 KiB, fewer than
    // 20,000; 200 fit.
    let limited = point("20000", Some(2 << 20));
    assert_clean_failure(&limited, &["RLIMIT_AS", "20000 threads", "fit"]);
    assert_eq!(limited.code, Some(3), "refused, not failed: {limited:#?}");
    let fits = point("200", Some(2 << 20));
    assert_eq!(fits.code, Some(0), "{fits:#?}");
    // An open loop is checked on all its queries, up front: past capacity
    // it would need them all at once.
    let open = limited_run(
        &[
            "--workload",
            "point",
            "--arrivals",
            "100000",
            "--requests",
            "20000",
        ],
        Some(2 << 20),
    );
    assert_clean_failure(&open, &["RLIMIT_AS", "20000 threads", "fit"]);
    assert_eq!(open.code, Some(3), "refused, not failed: {open:#?}");
    // Whatever this machine's vm.max_map_count: done, or refused in one
    // line; never a signal.
    let many = point("50000", None);
    match many.code {
        Some(0) => {}
        Some(3) => assert_clean_failure(&many, &["50000 threads", "fit"]),
        other => panic!("50,000 threads ended with {other:?}: {many:#?}"),
    }
}

/// A template whose query for `M` fails on the server while the others run.
pub fn query_error_mid_run(bin: &Path) {
    let template = Template::new(
        &format!("qerr-{}", std::process::id()),
        "SELECT '{}' AS q FROM DUAL WHERE '{}' <> 'M' OR (SELECT 1 UNION SELECT 2) = 1",
    );
    let path = template.arg();
    let out = run(bin, &url_args(&shared().url, &["--queries", &path]));
    assert_clean_failure(&out, &["query M failed", "more than 1 row"]);
}

/// A query larger than the server's max_allowed_packet (16 MiB by default):
/// both drivers refuse it before sending, with the same message (sqlx used
/// to send it and report a closed connection).
pub fn query_too_large(bin: &Path) {
    let filler = "x".repeat(20 << 20);
    let template = Template::new(
        &format!(
            "big-{}-{}",
            bin.file_name().and_then(|n| n.to_str()).unwrap_or("bin"),
            std::process::id()
        ),
        &format!("SELECT '{{}}' AS q, '{filler}' AS filler"),
    );
    let out = run(
        bin,
        &url_args(&shared().url, &["--queries", &template.arg()]),
    );
    assert_clean_failure(&out, &["max_allowed_packet", "bytes"]);
}

/// A template whose query for `K` sleeps until the test breaks it.
fn sleeper(marker: &str) -> Template {
    Template::new(
        marker,
        &format!(
            "SELECT '{{}}' AS q, SLEEP(IF('{{}}' = 'K', 60, 0)) AS slept, '{marker}' AS marker"
        ),
    )
}

/// The server's id for the connection running K's sleep.
fn sleeping_connection(conn: &mut mysql::Conn, marker: &str) -> u64 {
    poll(
        "the K query to start sleeping",
        Duration::from_secs(30),
        || {
            conn.exec_first::<u64, _, _>(
                "SELECT ID FROM information_schema.PROCESSLIST \
             WHERE ID <> CONNECTION_ID() AND INFO LIKE ? AND INFO LIKE ?",
                (format!("%{marker}%"), "%'K' = 'K'%"),
            )
            .expect("process list")
        },
    )
}

pub fn killed_mid_run(bin: &Path) {
    let marker = format!(
        "kill-{}-{}",
        bin.file_name().and_then(|n| n.to_str()).unwrap_or("bin"),
        std::process::id()
    );
    let template = sleeper(&marker);
    let url = &shared().url;
    let running = spawn(bin, &url_args(url, &["--queries", &template.arg()]));
    let mut conn = admin(url);
    let id = sleeping_connection(&mut conn, &marker);
    conn.query_drop(format!("KILL CONNECTION {id}"))
        .expect("kill");
    let out = running.finish();
    // K's failure is the cause; queries that later took the connection it
    // broke fail too, and must not be reported instead.
    assert_clean_failure(&out, &["query K failed", "closed the connection"]);
    assert!(out.elapsed < Duration::from_secs(40), "{out:#?}");
}

pub fn server_stopped_mid_run(bin: &Path) {
    let name = format!(
        "stop-{}",
        bin.file_name().and_then(|n| n.to_str()).unwrap_or("bin")
    );
    let scratch = Scratch::start(&name, &dbio::ServerSettings::default());
    let url = scratch.url("scratch");
    let marker = format!("{name}-{}", std::process::id());
    let template = sleeper(&marker);
    let running = spawn(bin, &url_args(&url, &["--queries", &template.arg()]));
    let mut conn = admin(&url);
    sleeping_connection(&mut conn, &marker);
    drop(conn);
    scratch
        .server
        .stop(&dbio::no_progress())
        .expect("stop the server");
    let out = running.finish();
    assert_clean_failure(&out, &[]);
    // Any query in flight or starting then may be the first to see it.
    assert!(
        out.stderr.contains("closed the connection") || out.stderr.contains("cannot connect"),
        "{out:#?}"
    );
}

/// A listener that accepts TCP connections and never says a word (a hung
/// server, a wrong port that a non-MySQL service holds): the connect
/// timeout must cover the handshake too.
pub fn silent_listener(bin: &Path) {
    let listener = TcpListener::bind(("127.0.0.1", 0)).expect("listener");
    let port = listener.local_addr().expect("address").port();
    // Accepted connections are kept open (and silent) until the test ends.
    let accepted = std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().take(64) {
            match stream {
                Ok(s) => held.push(s),
                Err(_) => break,
            }
        }
        held
    });
    let url = common::DbUrl::parse(&format!("mysql://dbio:secret@127.0.0.1:{port}/employees"))
        .expect("url");
    let out = run(bin, &url_args(&url, &[]));
    assert_clean_failure(
        &out,
        &[
            &format!("connected to 127.0.0.1:{port}"),
            "did not answer the MySQL handshake within 2 s",
        ],
    );
    assert!(
        out.elapsed < Duration::from_secs(3),
        "took {:?} with --connect-timeout 2: {out:#?}",
        out.elapsed
    );
    drop(accepted);
}

/// One `#[test]` per fault for the binary at `$bin`.
#[macro_export]
macro_rules! fault_tests {
    ($bin:expr) => {
        fn bin() -> &'static std::path::Path {
            std::path::Path::new($bin)
        }
        $crate::fault_tests!(@tests);
    };
    // The same faults with the thread-based approaches on another driver.
    ($bin:expr, blocking_driver = $driver:expr) => {
        fn bin() -> &'static std::path::Path {
            $crate::use_blocking_driver($driver);
            std::path::Path::new($bin)
        }
        $crate::fault_tests!(@tests);
    };
    (@tests) => {
        #[test]
        fn refused_port() {
            // A deadline of 2 s: no scratch server starts beside it.
            let _alone = $crate::exclusive();
            $crate::faults::refused_port(bin());
        }
        #[test]
        fn managed_server_down() {
            let _alongside = $crate::alongside();
            $crate::faults::managed_server_down(bin());
        }
        #[test]
        fn wrong_password() {
            let _alongside = $crate::alongside();
            $crate::faults::wrong_password(bin());
        }
        #[test]
        fn missing_database() {
            let _alongside = $crate::alongside();
            $crate::faults::missing_database(bin());
        }
        #[test]
        fn missing_tables() {
            let _alongside = $crate::alongside();
            $crate::faults::missing_tables(bin());
        }
        #[test]
        fn bad_budget() {
            let _alongside = $crate::alongside();
            $crate::faults::bad_budget(bin());
        }
        #[test]
        fn query_error_mid_run() {
            let _alongside = $crate::alongside();
            $crate::faults::query_error_mid_run(bin());
        }
        #[test]
        fn killed_mid_run() {
            let _alongside = $crate::alongside();
            $crate::faults::killed_mid_run(bin());
        }
        #[test]
        fn server_stopped_mid_run() {
            let _alongside = $crate::alongside();
            $crate::faults::server_stopped_mid_run(bin());
        }
        #[test]
        fn query_too_large() {
            let _alongside = $crate::alongside();
            $crate::faults::query_too_large(bin());
        }
        #[test]
        fn silent_listener() {
            // A deadline of 2-3 s: no scratch server starts beside it.
            let _alone = $crate::exclusive();
            $crate::faults::silent_listener(bin());
        }
        #[test]
        fn sigint_cancels_the_running_queries() {
            $crate::signals::interrupted(bin(), 2);
        }
        #[test]
        fn sigterm_cancels_the_running_queries() {
            $crate::signals::interrupted(bin(), 15);
        }
        #[test]
        fn sighup_cancels_the_running_queries() {
            $crate::signals::interrupted(bin(), 1);
        }
        #[test]
        fn interrupted_at_the_user_limit() {
            $crate::signals::interrupted_at_the_user_limit(bin());
        }
        #[test]
        fn full_pipes_do_not_block_the_exit() {
            // A deadline of 2-3 s: no scratch server starts beside it.
            let _alone = $crate::exclusive();
            $crate::signals::full_pipes_do_not_block_the_exit(bin());
        }
        #[test]
        fn closed_stdout_is_quiet() {
            let _alongside = $crate::alongside();
            $crate::faults::closed_stdout_is_quiet(bin());
        }
        #[test]
        fn bad_counts() {
            let _alongside = $crate::alongside();
            $crate::faults::bad_counts(bin());
        }
        #[test]
        fn incomplete_dataset() {
            let _alongside = $crate::alongside();
            $crate::faults::incomplete_dataset(bin());
        }
    };
}
