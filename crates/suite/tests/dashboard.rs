//! Your own dashboard: `--queries FILE` with statements of its own (no
//! `{}`) is one page load, run by every approach, Rust and Python, on
//! read-only sessions unless `--allow-writes` is given.

use std::process::Command;

use mysql::prelude::Queryable;
use testkit::faults::{Outcome, Template, assert_clean_failure, spawn_command};

/// Every approach as a command on the shared server, with `args` after
/// the program's own (`--digests` too for Python, whose digests are off by
/// default); and `test_threadpool` once more on the `wire` driver.
fn every_approach(args: &[&str]) -> Vec<(String, Command)> {
    let url = testkit::shared().url.expose();
    let mut all: Vec<(String, Command)> = testkit::every_approach_command()
        .into_iter()
        .map(|(name, cmd)| (name.to_owned(), cmd))
        .collect();
    let mut wire = Command::new(testkit::release_dir().join("test_threadpool"));
    wire.env("DBIO_BLOCKING_DRIVER", "wire");
    all.push(("test_threadpool (wire)".into(), wire));
    for (name, cmd) in &mut all {
        testkit::scrub(cmd);
        cmd.env("DATABASE_URL", &url).args(args);
        if name.starts_with("py_") {
            cmd.arg("--digests");
        }
    }
    all
}

fn run(cmd: Command) -> Outcome {
    spawn_command(cmd).finish()
}

/// What a report says of each query: label, rows, digest, first row.
type Seen = Vec<(String, u64, Option<String>, Option<Vec<Option<String>>>)>;

fn seen(name: &str, out: &Outcome) -> Seen {
    assert_eq!(out.code, Some(0), "{name}: {out:#?}");
    let report: common::Report =
        serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{name}: {e}: {out:#?}"));
    report
        .queries
        .into_iter()
        .map(|q| (q.label, q.rows, q.digest, q.first_row))
        .collect()
}

/// A four-statement page: the same rows, digests and first rows in every
/// approach and driver; each statement's row count is the server's own
/// answer; and the last statement shows that the session was read-only.
#[test]
fn a_dashboard_gives_the_same_rows_in_every_approach() {
    let page = Template::new(
        &format!("dashboard-{}", std::process::id()),
        "-- a page of four panels\n\
         SELECT COUNT(*) AS departments FROM departments;\n\
         SELECT dept_no, dept_name FROM departments ORDER BY dept_no;\n\
         SELECT emp_no, MAX(salary) FROM salaries WHERE emp_no < 10050 GROUP BY emp_no;\n\
         SELECT @@session.tx_read_only AS read_only;\n",
    );
    let mut admin = testkit::admin(&testkit::shared().url);
    let departments: u64 = admin
        .query_first("SELECT COUNT(*) FROM departments")
        .expect("count")
        .expect("a row");
    let employees: u64 = admin
        .query_first("SELECT COUNT(DISTINCT emp_no) FROM salaries WHERE emp_no < 10050")
        .expect("count")
        .expect("a row");
    assert!(departments > 0 && employees > 0, "the dataset is loaded");

    let mut first: Option<(String, Seen)> = None;
    for (name, cmd) in every_approach(&["--queries", &page.arg(), "--json"]) {
        let got = seen(&name, &run(cmd));
        let rows: Vec<(&str, u64)> = got.iter().map(|(l, r, ..)| (l.as_str(), *r)).collect();
        assert_eq!(
            rows,
            [("q1", 1), ("q2", departments), ("q3", employees), ("q4", 1)],
            "{name}"
        );
        assert_eq!(
            got[3].3,
            Some(vec![Some("1".to_owned())]),
            "{name}: the session is read-only"
        );
        assert!(got.iter().all(|q| q.2.is_some()), "{name}: digests");
        match &first {
            None => first = Some((name, got)),
            Some((base, want)) => assert_eq!(&got, want, "{name} against {base}"),
        }
    }
}

/// An `INSERT` in a dashboard is refused by the server itself (1792) in
/// every approach, in one line that names `--allow-writes`, and nothing is
/// written; with `--allow-writes` each approach writes its one row.
#[test]
fn a_write_is_refused_by_the_server_unless_allowed() {
    let db = format!("dbio_dashboard_{}", std::process::id());
    let mut admin = testkit::admin(&testkit::shared().url);
    admin
        .query_drop(format!("CREATE DATABASE {db}"))
        .expect("a database to write to");
    admin
        .query_drop(format!("CREATE TABLE {db}.writes (x INT)"))
        .expect("a table to write to");
    let count = |admin: &mut mysql::Conn| -> u64 {
        admin
            .query_first(format!("SELECT COUNT(*) FROM {db}.writes"))
            .expect("count")
            .expect("a row")
    };
    let page = Template::new(
        &format!("dashboard-writes-{}", std::process::id()),
        &format!("SELECT 1;\nINSERT INTO {db}.writes VALUES (1);\n"),
    );
    for (name, cmd) in every_approach(&["--queries", &page.arg()]) {
        let out = run(cmd);
        assert_clean_failure(&out, &["1792", "--allow-writes"]);
        assert_eq!(count(&mut admin), 0, "{name} wrote");
    }
    let mut approaches = 0;
    for (name, cmd) in every_approach(&["--queries", &page.arg(), "--allow-writes"]) {
        let out = run(cmd);
        assert_eq!(out.code, Some(0), "{name}: {out:#?}");
        approaches += 1;
        assert_eq!(count(&mut admin), approaches, "{name}: one row per run");
    }
    admin
        .query_drop(format!("DROP DATABASE {db}"))
        .expect("clean up");
}

/// What a dashboard file must not be is refused before the run, in one
/// line, in every approach.
#[test]
fn a_bad_dashboard_is_refused_in_one_line() {
    let big = "SELECT 1;\n".repeat(110_000);
    let cases: [(&str, &str, &[&str]); 5] = [
        ("empty", "SELECT 1;;SELECT 2", &["statement 2", "empty"]),
        ("nothing", "-- only a comment\n", &["no statement"]),
        (
            "session",
            "SELECT 1; SET SESSION TRANSACTION READ WRITE",
            &["statement 2", "SET statement"],
        ),
        ("big", &big, &["larger than 1048576 bytes"]),
        (
            "template",
            "SELECT '{}'",
            &["--allow-writes applies to a dashboard"],
        ),
    ];
    for (marker, text, needles) in cases {
        let file = Template::new(
            &format!("dashboard-bad-{marker}-{}", std::process::id()),
            text,
        );
        let path = file.arg();
        let mut args = vec!["--queries", path.as_str()];
        if marker == "template" {
            args.push("--allow-writes");
        }
        for (_, cmd) in every_approach(&args) {
            assert_clean_failure(&run(cmd), needles);
        }
    }
}
