//! The report every approach prints with `--json`, Rust and Python, is read
//! back into the one typed `common::Report` without loss: parsing refuses
//! a field the type does not know, and writing the parsed report again
//! gives the same JSON value.

use std::path::PathBuf;
use std::process::Command;

use common::Report;
use common::registry::{APPROACHES, Language};

/// A binary of the workspace, built beside this test.
fn binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test binary");
    exe.parent()
        .and_then(|deps| deps.parent())
        .expect("target dir")
        .join(name)
}

#[test]
fn every_approach_report_reads_back_without_loss() {
    let shared = testkit::shared();
    let root = testkit::workspace_root();
    let python = root.join("target/python-venv/bin/python");
    for (workload, count) in [
        ("report", None),
        ("point", Some("40")),
        ("sleep", Some("6")),
    ] {
        for approach in &APPROACHES {
            let mut cmd = match (approach.language, approach.script()) {
                (Language::Python, Some(script)) => {
                    let mut c = Command::new(&python);
                    c.arg(root.join("scripts/python").join(script));
                    c
                }
                _ => Command::new(binary(approach.name)),
            };
            testkit::scrub(&mut cmd);
            cmd.arg("--json")
                .env("DATABASE_URL", shared.url.expose())
                .env("DBIO_WORKLOAD", workload)
                .env("DBIO_CONNECTIONS", "3");
            if workload == "sleep" {
                cmd.env("DBIO_SLEEP_MS", "5");
            }
            if let Some(n) = count {
                cmd.env("DBIO_COUNT", n);
            }
            let out = cmd.output().expect(approach.name);
            let what = format!("{} ({workload})", approach.name);
            assert!(
                out.status.success(),
                "{what}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let printed: serde_json::Value =
                serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{what}: {e}"));
            let report: Report = serde_json::from_value(printed.clone())
                .unwrap_or_else(|e| panic!("{what} does not read back as a Report: {e}"));
            assert_eq!(report.approach, approach.name, "{what}");
            assert_eq!(report.workload.name(), workload, "{what}");
            assert_eq!(report.budget, 3, "{what}");
            let again = serde_json::to_value(&report).expect("serialize");
            assert_eq!(again, printed, "{what}: lost in the round trip");
        }
    }
}
