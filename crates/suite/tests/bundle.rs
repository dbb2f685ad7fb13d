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

/// The archive `scripts/pack.sh` writes, packed once for every test here.
fn archive() -> &'static Path {
    static ARCHIVE: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    ARCHIVE.get_or_init(|| {
        let root = testkit::workspace_root();
        let dir = std::env::temp_dir().join(format!("dbio-bundle-pack-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("pack dir");
        let archive = dir.join("bundle.tar.gz");
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
        archive
    })
}

fn unpack(into: &Path) {
    let status = Command::new("tar")
        .arg("-xzf")
        .arg(archive())
        .arg("-C")
        .arg(into)
        .status()
        .expect("tar");
    assert!(status.success());
}

#[test]
fn the_bundle_runs_the_quick_benchmark_without_a_toolchain() {
    let shared = testkit::shared();
    let scratch = std::env::temp_dir().join(format!("dbio-bundle-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&scratch);
    std::fs::create_dir_all(&scratch).expect("scratch");

    let unpacked = scratch.join("elsewhere");
    std::fs::create_dir(&unpacked).expect("empty dir");
    unpack(&unpacked);
    let bundle = unpacked.join("dbio-bench");
    for file in [
        "bench.sh",
        "bin/bench",
        "bin/dbio",
        "bin/hyperfine",
        "bin/test_single",
        "scripts/python/test_asyncio.py",
        "scripts/python/dbio/cli.py",
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
    // The same files as the checkout's bench.sh writes for the same run
    // (ARCHITECTURE.md; issue 27, item 8: never compared before).
    let from_checkout = scratch.join("results-checkout");
    let mut checkout = Command::new("bash");
    checkout
        .arg(testkit::workspace_root().join("scripts/bench.sh"))
        .args(["--quick", "--runs", "1", "--warmup", "0"])
        .args(["--approaches", "test_single,test_asyncio", "--out"])
        .arg(&from_checkout)
        .current_dir(testkit::workspace_root());
    testkit::scrub(&mut checkout);
    let out = checkout
        .env("DBIO_BENCH_BIN", testkit::release_dir())
        .env("DBIO_HOME", shared.server.home())
        .output()
        .expect("checkout bench.sh");
    assert!(
        out.status.success(),
        "checkout run: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        files_under(&run_dir, &run_dir),
        files_under(&only_dir(&from_checkout), &only_dir(&from_checkout)),
        "the bundle's run folder and the checkout's"
    );
    let _ = std::fs::remove_dir_all(&scratch);
}

/// Every file under `dir`, as a path relative to `root`, sorted.
fn files_under(root: &Path, dir: &Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).expect("a directory").flatten() {
        let path = entry.path();
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            found.extend(files_under(root, &path));
        } else {
            found.push(path.strip_prefix(root).expect("under root").to_owned());
        }
    }
    found.sort();
    found
}

/// C1 of the third hostile pass: root runs the bundle from a directory that
/// `nobody` owns, while `nobody` swaps in, again and again, a copy of the
/// tree whose programs are wrappers. The bundle refuses in one line before
/// it runs anything of its own: no wrapper ever runs, as root or at all.
#[test]
fn a_bundle_in_a_directory_another_user_controls_runs_nothing() {
    if !testkit::hostile::can_attack("bundle") {
        return;
    }
    use testkit::hostile::{NOBODY, Playground, as_nobody};
    let play = Playground::new("bundle", 0o755);
    let marker = play.path("ran-as-root");
    let theirs = play.path("theirs");
    std::fs::create_dir(&theirs).expect("their dir");
    unpack(&theirs);
    // Their copy of the tree: the same bench.sh, wrappers for the rest.
    let evil = theirs.join("evil");
    std::fs::create_dir(&evil).expect("evil");
    let status = Command::new("cp")
        .arg("-a")
        .arg(theirs.join("dbio-bench"))
        .arg(&evil)
        .status()
        .expect("cp");
    assert!(status.success());
    let wrapper = format!("#!/bin/sh\necho \"$0\" >>{}\n", marker.display());
    for program in [
        "bin/bench",
        "bin/dbio",
        "bin/hyperfine",
        "bin/test_single",
        "scripts/lib.sh",
    ] {
        let path = evil.join("dbio-bench").join(program);
        std::fs::write(&path, &wrapper).expect("wrapper");
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .expect("chmod");
    }
    let status = Command::new("chown")
        .arg("-R")
        .arg(format!("{NOBODY}:{NOBODY}"))
        .arg(&theirs)
        .status()
        .expect("chown");
    assert!(status.success());
    // Two renames, over and over, for a bounded time.
    let dir = theirs.display().to_string();
    let swapper = std::thread::spawn(move || {
        as_nobody(&format!(
            "cd {dir} && i=0; while [ $i -lt 400 ]; do \
               mv dbio-bench real && mv evil/dbio-bench dbio-bench && \
               mv dbio-bench evil/dbio-bench && mv real dbio-bench; i=$((i+1)); done"
        ))
    });
    let bench = theirs.join("dbio-bench/bench.sh");
    let mut refusals = 0;
    while !swapper.is_finished() || refusals == 0 {
        let mut run = Command::new("bash");
        run.arg(&bench).args(["--quick", "--runs", "1"]);
        testkit::scrub(&mut run);
        let Ok(out) = run.env("PATH", SYSTEM_PATH).output() else {
            continue;
        };
        let stderr = String::from_utf8_lossy(&out.stderr);
        if stderr.contains("No such file") {
            // Started between two renames: bash found no bench.sh.
            continue;
        }
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(
            stderr.starts_with("error: refusing to run the bundle in ")
                && stderr.contains("unpack it into a directory that only you"),
            "{stderr}"
        );
        // Between two renames a path may vanish under the check; otherwise
        // it names the owner.
        if stderr.contains("belongs to another user (uid 65534)") {
            refusals += 1;
        }
    }
    let swaps = swapper.join().expect("swapper");
    assert!(
        swaps.status.success(),
        "{}",
        String::from_utf8_lossy(&swaps.stderr)
    );
    assert!(refusals > 0);
    assert!(
        !marker.exists(),
        "a wrapper ran: {}",
        std::fs::read_to_string(&marker).unwrap_or_default()
    );
    // Handed back to root, the same tree runs (its own --help, no server).
    let status = Command::new("chown")
        .arg("-R")
        .arg("0:0")
        .arg(&theirs)
        .status()
        .expect("chown");
    assert!(status.success());
    let real = theirs.join("dbio-bench");
    let mut help = Command::new(real.join("bench.sh"));
    testkit::scrub(&mut help);
    let out = help
        .arg("--help")
        .env("PATH", SYSTEM_PATH)
        .output()
        .expect("help");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // And a directory of the bundle's that others can write is refused too.
    std::fs::set_permissions(
        real.join("bin"),
        std::os::unix::fs::PermissionsExt::from_mode(0o777),
    )
    .expect("chmod");
    let mut run = Command::new(real.join("bench.sh"));
    testkit::scrub(&mut run);
    let out = run
        .arg("--help")
        .env("PATH", SYSTEM_PATH)
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("/bin is a symlink, belongs to another user or is writable by others"),
        "{stderr}"
    );
    assert!(!marker.exists());
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
