//! The blog's five approaches in Python (`scripts/python`), held to the
//! same fault rules as the Rust binaries where their drivers allow.
//!
//! Needs the drivers in `target/python-venv`, which `scripts/test.sh` (and
//! `scripts/bench.sh --python`) installs.

use std::path::PathBuf;
use std::process::Command;

use testkit::faults::{interrupted_run, spawn_command};

const SCRIPTS: [&str; 5] = [
    "test_single",
    "test_mt",
    "test_mt_bounded",
    "test_cft",
    "test_asyncio",
];

fn root() -> PathBuf {
    testkit::workspace_root()
}

fn python() -> PathBuf {
    let python = root().join("target/python-venv/bin/python");
    assert!(
        python.exists(),
        "{} is missing: run scripts/test.sh (or scripts/bench.sh --python) once to install the Python drivers",
        python.display()
    );
    python
}

fn script(name: &str) -> Command {
    let mut cmd = Command::new(python());
    cmd.arg(root().join(format!("scripts/python/{name}.py")));
    testkit::scrub(&mut cmd);
    cmd
}

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
        cfg.workload = workload;
        cfg.queries = testkit::workload_queries(workload, count, 10);
        let (name, run) = suite::APPROACHES[0];
        let rust = run(&cfg).unwrap_or_else(|e| panic!("{name}: {}", common::error::chain(&e)));
        let want: Vec<(String, u64, String)> = rust
            .queries
            .iter()
            .map(|q| (q.label.clone(), q.rows, q.digest.clone()))
            .collect();
        for name in SCRIPTS {
            let mut cmd = script(name);
            cmd.args(["--json", "--digests"])
                .env("DATABASE_URL", url.expose())
                .env("DBIO_WORKLOAD", workload.name())
                .env("DBIO_SLEEP_MS", "10");
            if workload != Workload::Report {
                cmd.env("DBIO_COUNT", count.to_string());
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
fn sigint_and_sigterm_cancel_the_running_queries() {
    for name in SCRIPTS {
        for signal in [2, 15] {
            interrupted_run(&format!("py_{name}"), signal, |url, template| {
                let mut cmd = script(name);
                cmd.args(["--queries", &template.arg()])
                    .env("DATABASE_URL", url.expose());
                spawn_command(cmd)
            });
        }
    }
}
