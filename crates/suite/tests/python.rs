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
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("workspace root")
        .to_owned()
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
    cmd
}

#[test]
fn sigint_and_sigterm_cancel_the_running_queries() {
    for name in SCRIPTS {
        for signal in [2, 15] {
            eprintln!("{name}, signal {signal}");
            interrupted_run(&format!("py_{name}"), signal, |url, template| {
                let mut cmd = script(name);
                cmd.args(["--queries", &template.arg()])
                    .env("DATABASE_URL", url.expose());
                spawn_command(cmd)
            });
        }
    }
}
