//! The client at its physical minimum: the system calls each Rust approach
//! makes per point lookup, counted with `strace -f -c` on the release
//! binaries against the shared test server. A lookup needs two: one send,
//! one receive.
//!
//! The count is marginal: the calls of a run of 2N queries minus those of N,
//! over N, so that start-up and the process's exit do not count. For the
//! thread-per-query approaches the calls that start and end a thread (the
//! approach's design: about 19 a thread, measured) are set apart.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

/// The calls a thread's start and end make (clone, its stack and guard,
/// the signal stack, robust list, rseq...), not the query's.
const THREAD_LIFECYCLE: [&str; 13] = [
    "clone",
    "clone3",
    "mmap",
    "munmap",
    "mprotect",
    "madvise",
    "rt_sigprocmask",
    "sigaltstack",
    "set_robust_list",
    "rseq",
    "gettid",
    "sched_getaffinity",
    "exit",
];

/// `strace -f -c`'s table: calls by system call.
fn counts(bin: &Path, driver: &str, queries: u32, url: &str) -> BTreeMap<String, u64> {
    let table = std::env::temp_dir().join(format!(
        "dbio-strace-{}-{}-{driver}-{queries}",
        std::process::id(),
        bin.file_name().and_then(|n| n.to_str()).unwrap_or("bin")
    ));
    let mut cmd = Command::new("strace");
    cmd.args(["-f", "-c", "-o"])
        .arg(&table)
        .arg(bin)
        .args(["--workload", "point", "--count", &queries.to_string()])
        .stdout(std::process::Stdio::null());
    testkit::scrub(&mut cmd);
    let status = cmd
        .env("DATABASE_URL", url)
        .env("DBIO_CONNECTIONS", "5")
        .env("DBIO_BLOCKING_DRIVER", driver)
        .status()
        .expect("strace is missing: scripts/test.sh installs it (apt-get install strace)");
    assert!(status.success(), "{} under strace failed", bin.display());
    let text = std::fs::read_to_string(&table).expect("strace table");
    let _ = std::fs::remove_file(&table);
    // % time, seconds, usecs/call, calls, [errors,] syscall
    text.lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let name = *fields.last()?;
            let calls = fields.get(3)?.parse::<u64>().ok()?;
            (name != "total").then(|| (name.to_owned(), calls))
        })
        .collect()
}

#[test]
fn every_rust_approach_makes_the_fewest_system_calls_a_query_needs() {
    let shared = testkit::shared();
    let url = shared.url.expose();
    let release = testkit::release_dir();
    // (approach, blocking driver, N, most calls per query); thread-per-query
    // runs stay below the machine's thread limit. The async approaches run
    // on sqlx whatever the blocking driver.
    for (name, driver, n, most) in [
        ("test_single", "mysql", 10_000, 2.05),
        ("test_single", "wire", 10_000, 2.05),
        ("test_threadpool", "mysql", 10_000, 2.05),
        ("test_threadpool", "wire", 10_000, 2.05),
        ("test_mt_bounded", "mysql", 5_000, 2.05),
        ("test_mt_bounded", "wire", 5_000, 2.05),
        // Joining a thread that still runs its query is a futex wait
        // (0.07 a query, measured): the design's, not the query's.
        ("test_mt", "mysql", 5_000, 2.1),
        // The async approaches run their tasks on one thread: a send and a
        // receive, and now and then a read that would block or a wait in
        // epoll (2.06 to 2.10 a query, measured). A runtime that woke other
        // threads per query (the multi-threaded ones made 2.4 to 8.8) fails.
        ("test_asyncio", "mysql", 10_000, 2.25),
        // async-io keeps a helper thread that takes the reactor whenever the
        // thread blocking on the tasks has not turned it for a while: with
        // the second core free that is rare (2.06 to 2.08, measured), with
        // it busy the reactor moves between the threads (3.8 to 5.9 with a
        // `yes` running). Test binaries run one at a time; the margin is
        // the target for the async approaches.
        ("test_async_std", "mysql", 10_000, 3.0),
    ] {
        let bin = release.join(name);
        let (one, two) = (
            counts(&bin, driver, n, &url),
            counts(&bin, driver, 2 * n, &url),
        );
        let thread_per_query = matches!(name, "test_mt" | "test_mt_bounded");
        let mut per_query: BTreeMap<&str, f64> = BTreeMap::new();
        for (call, calls) in &two {
            if thread_per_query && THREAD_LIFECYCLE.contains(&call.as_str()) {
                continue;
            }
            let more = calls.saturating_sub(one.get(call).copied().unwrap_or(0));
            if more > 0 {
                per_query.insert(call, more as f64 / f64::from(n));
            }
        }
        let total: f64 = per_query.values().sum();
        assert!(
            total <= most,
            "{name} on {driver}: {total:.3} system calls per query, above {most}: {per_query:?}"
        );
        // One send a query, exactly: the count means something. (Receives
        // vary with the reads that would block, in the async runtimes.)
        let sends = per_query.get("sendto").copied().unwrap_or(0.0);
        assert!(
            (0.99..=1.01).contains(&sends),
            "{name} on {driver}: {per_query:?}"
        );
    }
}
