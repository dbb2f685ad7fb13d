//! Each approach links only its own driver and runtime, whatever else the
//! workspace builds: what `cargo tree` resolves for the package alone (as
//! `bench.sh` builds it) must not contain the others'.

use std::process::Command;

/// The packages `cargo tree` resolves for `package` alone, normal
/// dependencies only, as `name feature-or-version` lines.
fn tree(package: &str, edges: &str) -> String {
    let out = Command::new(env!("CARGO"))
        .args([
            "tree",
            "--locked",
            "--offline",
            "--prefix",
            "none",
            "-e",
            edges,
            "-p",
            package,
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo tree");
    assert!(
        out.status.success(),
        "cargo tree -p {package}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn crates(package: &str) -> Vec<String> {
    tree(package, "normal")
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_owned)
        .collect()
}

#[test]
fn each_approach_links_only_its_driver_and_runtime() {
    // The thread-based ones link both blocking drivers (`--blocking-driver`).
    let blocking = &["mysql", "wire"][..];
    for (package, wanted, unwanted) in [
        ("test_single", blocking, &["sqlx", "tokio", "async-std"][..]),
        ("test_mt", blocking, &["sqlx", "tokio", "async-std"]),
        ("test_mt_bounded", blocking, &["sqlx", "tokio", "async-std"]),
        ("test_threadpool", blocking, &["sqlx", "tokio", "async-std"]),
        ("test_asyncio", &["tokio"], &["mysql", "wire", "async-std"]),
        (
            "test_async_std",
            &["async-std"],
            &["mysql", "wire", "tokio"],
        ),
    ] {
        let linked = crates(package);
        for crate_name in wanted {
            assert!(
                linked.iter().any(|c| c == crate_name),
                "{package} lacks {crate_name}"
            );
        }
        for crate_name in unwanted {
            assert!(
                !linked.iter().any(|c| c == crate_name),
                "{package} links {crate_name}"
            );
        }
    }
}

#[test]
fn each_async_approach_turns_on_only_its_sqlx_runtime() {
    for (package, runtime, other) in [
        ("test_asyncio", "runtime-tokio", "runtime-async-std"),
        ("test_async_std", "runtime-async-std", "runtime-tokio"),
    ] {
        let features = tree(package, "features");
        assert!(
            features.contains(&format!("sqlx feature \"{runtime}\"")),
            "{package}: no {runtime}"
        );
        assert!(
            !features.contains(&format!("sqlx feature \"{other}\"")),
            "{package}: {other} is on"
        );
    }
}

/// The renderer reads files and connects to nothing, and the driver
/// (`bench`) runs the `dbio` binary and the approaches as programs: both
/// depend on the typed model only, not on the run-time harness (`common`:
/// pool, signals), a driver or `dbio`, also for their own tests (the tests
/// that run `bench.sh` live here).
#[test]
fn the_renderer_and_the_driver_link_no_driver() {
    for package in ["bench_report", "bench"] {
        let tree = tree(package, "normal,dev");
        let names: Vec<&str> = tree
            .lines()
            .filter_map(|l| l.split_whitespace().next())
            .collect();
        for banned in [
            "mysql",
            "sqlx",
            "dbio",
            "driver_mysql",
            "driver_sqlx",
            "testkit",
            "common",
        ] {
            assert!(
                !names.contains(&banned),
                "{package} links {banned}:\n{tree}"
            );
        }
        assert!(names.contains(&"model"), "{tree}");
    }
}

/// Only the driver times: no other crate and no script builds a hyperfine
/// run (an `--export-json` is what every timed run writes); the scripts
/// only install hyperfine and hand over to `bench`.
#[test]
fn only_the_driver_starts_timed_runs() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut files = Vec::new();
    let mut stack = vec![root.join("crates"), root.join("scripts")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("dir").flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path
                .extension()
                .is_some_and(|e| e == "rs" || e == "sh" || e == "py")
            {
                files.push(path);
            }
        }
    }
    let timing: Vec<String> = files
        .iter()
        .filter(|p| !p.starts_with(root.join("crates/bench/")))
        .filter(|p| !p.ends_with("layering.rs"))
        .filter(|p| {
            // As an argument: a string literal in Rust, a word in a script.
            let needle = if p.extension().is_some_and(|e| e == "rs") {
                "\"--export-json\""
            } else {
                "--export-json"
            };
            std::fs::read_to_string(p).is_ok_and(|t| t.contains(needle))
        })
        .map(|p| p.display().to_string())
        .collect();
    assert!(files.len() > 50, "found only {} sources", files.len());
    assert!(
        timing.is_empty(),
        "timed hyperfine runs outside crates/bench: {timing:?}"
    );
    let driver =
        std::fs::read_to_string(root.join("crates/bench/src/schedule.rs")).expect("schedule");
    assert!(
        driver.contains("\"--export-json\""),
        "the driver no longer times?"
    );
}

/// `dbio` (the managed server, the dataset, the proxy) opens its own
/// connections with the `mysql` crate: it links the typed model and the
/// client's limits, not the approaches' harness or their drivers.
#[test]
fn dbio_links_no_approach_harness_or_driver() {
    let linked = crates("dbio");
    for wanted in ["model", "limits", "mysql_terms", "mysql"] {
        assert!(linked.iter().any(|c| c == wanted), "dbio lacks {wanted}");
    }
    for banned in [
        "common",
        "driver_mysql",
        "driver_sqlx",
        "wire",
        "sqlx",
        "tokio",
    ] {
        assert!(!linked.iter().any(|c| c == banned), "dbio links {banned}");
    }
}
