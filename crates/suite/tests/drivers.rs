//! The two blocking drivers of the thread-based approaches, the `mysql`
//! crate and dbio's own `wire` client, do the same work: for every
//! workload and every thread-based approach, the same rows, digests and
//! first rows, and the report names the driver that ran it. (The wire
//! client's budget and faults: `tests/approaches.rs` loops over both
//! drivers, `test_threadpool/tests/faults_wire.rs` runs every fault on it.)

use common::settings::BlockingDriver;
use common::workload::{Work, Workload};
use common::{Report, RunConfig};
use suite::APPROACHES;
use testkit::{run_config, shared, workload_queries};

/// The approaches that run on a blocking driver.
const THREAD_BASED: [&str; 4] = [
    "test_single",
    "test_mt",
    "test_mt_bounded",
    "test_threadpool",
];

fn on(driver: BlockingDriver, cfg: &RunConfig) -> RunConfig {
    let mut cfg = cfg.clone();
    cfg.conn.blocking_driver = driver;
    cfg
}

/// What a report says about one query's rows: label, count, digest, first row.
type Answer = (String, u64, Option<String>, Option<Vec<Option<String>>>);

/// Everything a report says about its rows, query by query; the first
/// row only where it is determined (the report's `ORDER BY first_name`
/// leaves ties in any order, so any of them may come first).
fn answers(r: &Report, first_rows: bool) -> Vec<Answer> {
    r.queries
        .iter()
        .map(|q| {
            let first = first_rows.then(|| q.first_row.clone()).flatten();
            (q.label.clone(), q.rows, q.digest.clone(), first)
        })
        .collect()
}

/// Runs every thread-based approach on both drivers and compares them;
/// `first_rows`: the workload determines each query's first row.
fn compare(cfg: &RunConfig, what: &str, first_rows: bool) {
    for (name, f) in APPROACHES.iter().filter(|(n, _)| THREAD_BASED.contains(n)) {
        let run = |driver| {
            f(&on(driver, cfg)).unwrap_or_else(|e| {
                panic!("{name} on {driver:?}, {what}: {}", common::error::chain(&e))
            })
        };
        let (crate_run, wire_run) = (run(BlockingDriver::Mysql), run(BlockingDriver::Wire));
        assert_eq!(crate_run.driver, "mysql", "{name}");
        assert_eq!(wire_run.driver, "wire", "{name}");
        assert!(!crate_run.queries.is_empty(), "{name}, {what}");
        assert_eq!(
            answers(&wire_run, first_rows),
            answers(&crate_run, first_rows),
            "{name}, {what}: the drivers differ"
        );
        assert!(
            wire_run
                .peak_connections
                .is_some_and(|p| p <= cfg.conn.budget),
            "{name}, {what}"
        );
    }
}

#[test]
fn both_blocking_drivers_return_the_same_rows_for_every_workload() {
    let cfg = run_config(&shared().url, 3);
    compare(&cfg, "report", false);
    for (workload, count) in [(Workload::Point, 300), (Workload::Sleep, 12)] {
        let mut cfg = cfg.clone();
        cfg.work = workload_queries(workload, count, 10);
        compare(&cfg, &format!("{workload:?}"), true);
    }
}

/// NULL against the empty string, a value longer than 64 KiB (a 3-byte
/// length), a wide row, an empty result and a statement that returns no
/// result set at all: the values the report workload never sends.
#[test]
fn both_blocking_drivers_read_nulls_long_values_and_empty_results_alike() {
    let mut cfg = run_config(&shared().url, 2);
    let wide: Vec<String> = (0..40).map(|i| format!("{i} AS c{i}")).collect();
    for template in [
        "SELECT NULL AS n, '' AS e, '{}' AS letter",
        "SELECT REPEAT('{}', 70000) AS long_value",
        &format!("SELECT '{{}}' AS letter, {}", wide.join(", ")),
        "SELECT emp_no FROM employees WHERE first_name = '{}' AND 1 = 0",
        "DO '{}'",
    ] {
        cfg.work = Work::report(common::queries::generate(template).expect("template"));
        compare(&cfg, template, true);
    }
}
