//! Signals while queries run, for every program that runs them (an approach
//! binary, a Python script): the queries are cancelled on the server and
//! the program exits with 128 + the signal within 2 s, also when its pipes
//! are full and when the server allows it no connection more than it holds.
//!
//! Each check comes in two forms: one for an approach binary (what
//! [`fault_tests!`](crate::fault_tests) calls), and a `_run` form that
//! takes a closure starting any program against the shared test server.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use mysql::prelude::Queryable;

use crate::program::{Running, Template, spawn, url_args};
use crate::{admin, poll, shared};

/// How long after a signal a program may take to exit.
pub const EXIT_WITHIN: Duration = Duration::from_secs(2);

/// The exit after a signal never blocks on a pipe: the binary is blocked
/// writing its report to a stdout nobody reads, and its stderr is full
/// too, when SIGTERM comes; it exits with 143 all the same.
pub fn full_pipes_do_not_block_the_exit(bin: &Path) {
    let mut cmd = Command::new(bin);
    cmd.args(url_args(
        &shared().url,
        &["--workload", "point", "--count", "20000"],
    ));
    full_pipes_run(cmd);
}

/// [`full_pipes_do_not_block_the_exit`] for any command that runs 20,000
/// point lookups against the shared test server and prints their report.
pub fn full_pipes_run(mut cmd: Command) {
    use std::io::Write;
    let (_stdout_reader, stdout) = std::io::pipe().expect("pipe");
    let (_stderr_reader, mut stderr) = std::io::pipe().expect("pipe");
    // A pipe holds 64 KiB: fill stderr's.
    stderr
        .write_all(&vec![b'.'; 64 << 10])
        .expect("fill the pipe");
    crate::scrub(&mut cmd);
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr)
        .spawn()
        .expect("spawn");
    let pid = child.id();
    poll(
        "the program to block writing its report",
        Duration::from_secs(60),
        || {
            std::fs::read_to_string(format!("/proc/{pid}/wchan"))
                .ok()
                .filter(|w| w.contains("pipe_write"))
        },
    );
    let signalled = Instant::now();
    send(pid, libc::SIGTERM);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if signalled.elapsed() > EXIT_WITHIN {
            let _ = child.kill();
            panic!("{cmd:?} still running 2 s after SIGTERM, blocked on a full pipe");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    assert_eq!(status.code(), Some(143), "{cmd:?}: {status:?}");
}

/// A server user whose `MAX_USER_CONNECTIONS` equals what the run holds:
/// a `KILL QUERY` over a connection of its own would be refused (1226),
/// so an idle connection of the pool carries it. `test_single` holds one
/// connection whatever its budget: its limit is that one.
pub fn interrupted_at_the_user_limit(bin: &Path) {
    let name = bin.file_name().and_then(|n| n.to_str()).unwrap_or("bin");
    let limit = if name == "test_single" { 1 } else { 5 };
    at_the_user_limit_run(name, limit, |url, template| {
        let budget = limit.to_string();
        spawn(
            bin,
            &url_args(
                url,
                &["--connections", &budget, "--queries", &template.arg()],
            ),
        )
    });
}

/// A user of the shared server allowed `limit` connections at once, with
/// what the approaches need; returns its name and URL.
pub fn limited_user(tag: &str, limit: usize) -> (String, common::DbUrl) {
    let user = format!("dbio_lim_{tag}");
    let url = crate::limited_on_shared(&user, limit);
    (user, url)
}

/// Asserts that the server refuses `url`'s user one more login (1226:
/// the user has every connection the limit allows).
pub fn assert_one_more_login_refused(url: &common::DbUrl, context: &str) {
    let opts = mysql::Opts::from_url(&url.expose()).expect("opts");
    match mysql::Conn::new(opts) {
        Ok(_) => panic!("{context}: one more login was let in: the limit does not bite"),
        Err(e) => assert!(e.to_string().contains("1226"), "{context}: {e}"),
    }
}

/// [`interrupted_at_the_user_limit`] for any program that `launch` starts
/// with a template, the URL of a user limited to `limit` connections, and
/// a budget of `limit`. Before the signal, the run must hold all `limit`
/// connections and the server must refuse one more login: the limit bites.
pub fn at_the_user_limit_run(
    name: &str,
    limit: usize,
    launch: impl FnOnce(&common::DbUrl, &Template) -> Running,
) {
    let marker = format!("lim-{name}-{}", std::process::id());
    let (user, url) = limited_user(name.trim_start_matches("test_"), limit);
    let mut conn = admin(&shared().url);
    // X, Y and Z sleep; the others hold their connection 0.2 s and leave
    // it idle in the pool. Held that long, they make every pool open all
    // the connections the budget allows: a query that ended at once let a
    // pool that hands a freed connection on (aiomysql's, SQLAlchemy's)
    // open fewer, and the limit did not bite (a CI rehearsal).
    let template = Template::new(
        &marker,
        &format!(
            "SELECT '{{}}' AS q, SLEEP(IF('{{}}' IN ('X', 'Y', 'Z'), 60, 0.2)) AS slept, '{marker}' AS marker"
        ),
    );
    let _alone = crate::exclusive();
    // A run of this user before (a failed test's) would hold slots of its
    // limit.
    crate::poll_closed(std::slice::from_ref(&shared().url), &user);
    let mut running = launch(&url, &template);
    // (all of the run's queries, and those of them that sleep)
    let listed = |conn: &mut mysql::Conn| -> (usize, usize) {
        conn.exec_first(
            "SELECT COUNT(*), COALESCE(SUM(INFO LIKE '%''X'' AS q%' OR INFO LIKE '%''Y'' AS q%' \
             OR INFO LIKE '%''Z'' AS q%'), 0) FROM information_schema.PROCESSLIST \
             WHERE ID <> CONNECTION_ID() AND INFO LIKE ?",
            (format!("%{marker}%"),),
        )
        .expect("process list")
        .unwrap_or((0, 0))
    };
    // One connection: X sleeps, Y and Z wait for it.
    let want = if limit == 1 { 1 } else { 3 };
    let waited = Instant::now();
    loop {
        let (all, sleeping) = listed(&mut conn);
        if (all, sleeping) == (want, want) {
            break;
        }
        if running.exited() {
            panic!(
                "{name} ended before its sleeps ran: {:#?}",
                running.finish()
            );
        }
        assert!(
            waited.elapsed() < Duration::from_secs(30),
            "{name}: after 30 s, {all} of the run's queries run, {sleeping} of them sleeps, not only the {want} sleeps"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // Issue 27, item 3: the run holds every connection the user may have,
    // so the killer cannot log in beside them.
    let mut held = 0;
    let waited = Instant::now();
    while held != limit {
        held = crate::connections_of(&mut conn, &user);
        assert!(
            waited.elapsed() < Duration::from_secs(10),
            "{name}: after 10 s the run holds {held} connections, not all {limit} its user may have"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_one_more_login_refused(&url, name);
    send(running.id(), libc::SIGINT);
    let out = running.finish_within(Duration::from_secs(3));
    assert_eq!(out.code, Some(130), "{name}: {out:#?}");
    assert_eq!(out.stderr.lines().count(), 1, "{name}: {out:#?}");
    if limit == 1 {
        // Its one connection runs the sleep: there is no idle one to send
        // `KILL QUERY` over, and the server refuses another. The exit line
        // says so, with the server's reason; the server ends the sleep
        // when it sees the client gone (MariaDB checks every 5 s).
        assert!(
            out.stderr.contains("1226") && !out.stderr.contains("cancelled"),
            "{name}: {out:#?}"
        );
        poll(
            "the server to end the orphaned sleep",
            Duration::from_secs(10),
            || (listed(&mut conn).0 == 0).then_some(()),
        );
    } else {
        assert!(out.stderr.contains("cancelled"), "{name}: {out:#?}");
        poll("the sleeps to end", EXIT_WITHIN, || {
            (listed(&mut conn).0 == 0).then_some(())
        });
    }
    conn.query_drop(format!("DROP USER IF EXISTS '{user}'@'127.0.0.1'"))
        .expect("drop user");
}

pub(crate) fn send(pid: u32, signal: i32) {
    let pid = libc::pid_t::try_from(pid).expect("pid");
    // SAFETY: kill has no memory-safety preconditions.
    #[allow(unsafe_code)]
    unsafe {
        libc::kill(pid, signal);
    }
}

/// SIGINT or SIGTERM while queries run: the binary cancels them on the
/// server and exits with 128 + the signal within 2 s, and nothing of the
/// run is left in the process list 2 s after the signal.
pub fn interrupted(bin: &Path, signal: i32) {
    let name = bin.file_name().and_then(|n| n.to_str()).unwrap_or("bin");
    interrupted_run(name, signal, |url, template| {
        spawn(bin, &url_args(url, &["--queries", &template.arg()]))
    });
}

/// [`interrupted`] for any program that `launch` starts against the shared
/// test server with a template (the Python scripts too).
pub fn interrupted_run(
    name: &str,
    signal: i32,
    launch: impl FnOnce(&common::DbUrl, &Template) -> Running,
) {
    let marker = format!("sig{signal}-{name}-{}", std::process::id());
    let template = Template::new(
        &marker,
        &format!("SELECT '{{}}' AS q, SLEEP(60) AS slept, '{marker}' AS marker"),
    );
    let url = &shared().url;
    // Nothing else of this test process runs while the deadline does.
    let _alone = crate::exclusive();
    let running = launch(url, &template);
    let mut conn = admin(url);
    let count = |conn: &mut mysql::Conn| -> usize {
        conn.exec_first(
            "SELECT COUNT(*) FROM information_schema.PROCESSLIST \
             WHERE ID <> CONNECTION_ID() AND INFO LIKE ?",
            (format!("%{marker}%"),),
        )
        .expect("process list")
        .unwrap_or(0)
    };
    poll("the queries to start", Duration::from_secs(30), || {
        (count(&mut conn) > 0).then_some(())
    });
    send(running.id(), signal);
    let signalled = Instant::now();
    let out = running.finish_within(EXIT_WITHIN);
    assert_eq!(out.code, Some(128 + signal), "{out:#?}");
    let line = out.stderr.trim();
    assert!(
        line.starts_with("error: interrupted by") && line.contains("cancelled"),
        "{out:#?}"
    );
    assert_eq!(out.stderr.lines().count(), 1, "{out:#?}");
    // The server sends a killed query's error before its thread ends the
    // statement, so the client may exit while the list still shows it for
    // a moment: the promise is an empty list within 2 s of the signal.
    let by = signalled + Duration::from_secs(2);
    let left = loop {
        let left = count(&mut conn);
        if left == 0 || Instant::now() >= by {
            break left;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    assert_eq!(
        left,
        0,
        "{left} queries still running {:?} after the signal",
        signalled.elapsed()
    );
}
