//! The bundle (`scripts/pack.sh`): packed here, unpacked into an empty
//! directory, and run from there with no cargo or rustc on `PATH`, as on a
//! machine without a Rust toolchain, against the shared test server (whose
//! dataset is the quick run's).

use std::path::Path;
use std::process::Command;

/// A `PATH` with the system's directories only: no `~/.cargo/bin`.
const SYSTEM_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

fn on_path(program: &str) -> bool {
    std::env::split_paths(SYSTEM_PATH).any(|d| d.join(program).exists())
}

#[test]
fn the_bundle_runs_the_quick_benchmark_without_a_toolchain() {
    let shared = testkit::shared();
    let root = testkit::workspace_root();
    let scratch = std::env::temp_dir().join(format!("dbio-bundle-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&scratch);
    std::fs::create_dir_all(&scratch).expect("scratch");
    let archive = scratch.join("bundle.tar.gz");

    let mut pack = Command::new("bash");
    pack.arg(root.join("scripts/pack.sh"))
        .arg(&archive)
        .current_dir(&root);
    testkit::scrub(&mut pack);
    let out = pack.output().expect("pack.sh");
    assert!(
        out.status.success(),
        "pack.sh: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    let unpacked = scratch.join("elsewhere");
    std::fs::create_dir(&unpacked).expect("empty dir");
    let status = Command::new("tar")
        .arg("-xzf")
        .arg(&archive)
        .arg("-C")
        .arg(&unpacked)
        .status()
        .expect("tar");
    assert!(status.success());
    let bundle = unpacked.join("dbio-bench");
    for file in [
        "bench.sh",
        "bin/bench",
        "bin/dbio",
        "bin/hyperfine",
        "bin/test_single",
        "scripts/python/test_asyncio.py",
        "scripts/python/requirements.txt",
        "queries/report.sql",
        "README.md",
        "REVISION",
    ] {
        assert!(
            bundle.join(file).is_file(),
            "{file} missing from the bundle"
        );
    }

    assert!(
        !on_path("cargo") && !on_path("rustc"),
        "a toolchain on {SYSTEM_PATH}"
    );
    let results = scratch.join("results");
    let mut run = Command::new(bundle.join("bench.sh"));
    run.args(["--quick", "--runs", "1", "--warmup", "0"])
        .args(["--approaches", "test_single,test_asyncio", "--out"])
        .arg(&results)
        .current_dir(&unpacked);
    testkit::scrub(&mut run);
    let out = run
        .env("PATH", SYSTEM_PATH)
        .env("DBIO_HOME", shared.server.home())
        .output()
        .expect("bundle bench.sh");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "bundle run: {stderr}");
    assert!(!stderr.contains("cargo"), "{stderr}");

    let run_dir = only_dir(&results);
    let export = bench_report::hyperfine::load(&run_dir.join("hyperfine.json")).expect("hyperfine");
    let names: Vec<&str> = export.results.iter().map(|b| b.command.as_str()).collect();
    assert_eq!(names, ["test_single", "test_asyncio"]);
    let host: bench_report::host::Host = serde_json::from_str(
        &std::fs::read_to_string(run_dir.join("host.json")).expect("host.json"),
    )
    .expect("parse host.json");
    // What built the binaries, and from which commit, recorded in the bundle.
    assert!(host.rustc.starts_with("rustc 1."), "{}", host.rustc);
    let revision = std::fs::read_to_string(bundle.join("REVISION")).expect("REVISION");
    assert_eq!(
        Some(host.git.revision.as_str()),
        revision.split_whitespace().next()
    );
    assert!(
        host.hyperfine
            .as_deref()
            .is_some_and(|h| h.starts_with("hyperfine 1."))
    );
    for file in ["table.md", "README.md", "walltimes.svg", "server-cpu.tsv"] {
        assert!(run_dir.join(file).is_file(), "{file}");
    }
    let _ = std::fs::remove_dir_all(&scratch);
}

fn only_dir(dir: &Path) -> std::path::PathBuf {
    let runs: Vec<_> = std::fs::read_dir(dir)
        .expect("results")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    assert_eq!(runs.len(), 1, "{runs:?}");
    runs[0].clone()
}
