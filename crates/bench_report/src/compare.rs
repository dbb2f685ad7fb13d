//! `bench-report compare A B`: did a change make a run slower, and is this
//! machine like that one? For every approach in both runs, the ratio of
//! mean times, B over A, with its 95% bootstrap interval from the recorded
//! runs ([`crate::stats`]) and a verdict; when both runs recorded the
//! server's CPU per run, the same ratio per second of server CPU, which is
//! what survives the machine's speed drifting between sittings. Every way
//! the two runs differ that changes what they measure (machine, server
//! version, settings, dataset, workload) is one warning line before the
//! table: a ratio between unlike runs is not a verdict on a change.
//!
//! Reads the recorded files only (`host.json`, the hyperfine rounds,
//! `server-cpu.tsv`) and connects to nothing.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::{Path, PathBuf};

use crate::host::Host;
use crate::hyperfine::Export;
use crate::stats::{Ratio, ratio_of_means};
use crate::{ReportError, Result};

/// One run, as recorded in its folder.
#[derive(Debug, Clone)]
pub struct Run {
    pub dir: PathBuf,
    pub host: Host,
    pub export: Export,
    /// Server CPU seconds per run, by command, when recorded.
    pub cpu: Option<BTreeMap<String, Vec<f64>>>,
}

impl Run {
    /// Reads the run in `dir`; one error when it is no run folder.
    pub fn load(dir: &Path) -> Result<Run> {
        let not_a_run = |why: &str| ReportError::NotARun {
            dir: dir.to_owned(),
            why: why.to_owned(),
        };
        if !dir.is_dir() {
            return Err(not_a_run("no such directory"));
        }
        let host_file = dir.join("host.json");
        if !host_file.is_file() {
            return Err(not_a_run(
                "no host.json: give a folder that `scripts/bench.sh` wrote under results/",
            ));
        }
        let host: Host = crate::read_json(&host_file)?;
        if !host.bench.budgets.is_empty() || !host.bench.replica_sweep.is_empty() {
            return Err(not_a_run(
                "it is a sweep: compare two of its cells (its budget-N/ or replicas-N/ folders)",
            ));
        }
        let export = crate::run_dir::merge_rounds(dir, &host.bench.approaches)?;
        let path = dir.join("server-cpu.tsv");
        let cpu = path
            .is_file()
            .then(|| crate::server_cpu::per_command(&path))
            .transpose()?;
        Ok(Run {
            dir: dir.to_owned(),
            host,
            export,
            cpu,
        })
    }
}

/// What B's runs say about an approach against A's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    NoDifference,
    Faster,
    Slower,
    /// Fewer than two runs on a side: no interval.
    TooFewRuns,
}

impl Verdict {
    fn of(ratio: Option<Ratio>) -> Verdict {
        match ratio {
            None => Verdict::TooFewRuns,
            Some(r) if r.inconclusive() => Verdict::NoDifference,
            Some(r) if r.high < 1.0 => Verdict::Faster,
            Some(_) => Verdict::Slower,
        }
    }

    pub fn text(self) -> &'static str {
        match self {
            Verdict::NoDifference => "no measurable difference",
            Verdict::Faster => "faster",
            Verdict::Slower => "slower",
            Verdict::TooFewRuns => "too few runs",
        }
    }
}

/// One approach in both runs.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub approach: String,
    pub mean_a: f64,
    pub mean_b: f64,
    /// Mean time, B over A.
    pub ratio: Option<Ratio>,
    pub verdict: Verdict,
    /// Wall time per second of server CPU, B over A, when both recorded it.
    pub per_server_cpu: Option<Ratio>,
}

/// The comparison of two runs.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    pub warnings: Vec<String>,
    pub rows: Vec<Row>,
    /// Approaches in one run only.
    pub only_a: Vec<String>,
    pub only_b: Vec<String>,
}

/// Compares run `b` with run `a`.
pub fn compare(a: &Run, b: &Run) -> Comparison {
    let mut rows = Vec::new();
    let mut only_a = Vec::new();
    for x in &a.export.results {
        let Some(y) = b.export.results.iter().find(|y| y.command == x.command) else {
            only_a.push(x.command.clone());
            continue;
        };
        let ratio = ratio_of_means(&y.times, &x.times);
        let per_work = |run: &Run, bench| crate::table::per_server_second(bench, run.cpu.as_ref());
        let per_server_cpu = per_work(a, x)
            .zip(per_work(b, y))
            .and_then(|(pa, pb)| ratio_of_means(&pb, &pa));
        rows.push(Row {
            approach: x.command.clone(),
            mean_a: x.mean,
            mean_b: y.mean,
            ratio,
            verdict: Verdict::of(ratio),
            per_server_cpu,
        });
    }
    let only_b = b
        .export
        .results
        .iter()
        .filter(|y| !a.export.results.iter().any(|x| x.command == y.command))
        .map(|y| y.command.clone())
        .collect();
    Comparison {
        warnings: differences(&a.host, &b.host),
        rows,
        only_a,
        only_b,
    }
}

/// Every way the two runs differ in what they measure, one line each.
pub fn differences(a: &Host, b: &Host) -> Vec<String> {
    let mut out = Vec::new();
    let differ = |out: &mut Vec<String>, what: &str, x: String, y: String| {
        if x != y {
            out.push(format!("the runs differ in {what}: A {x}, B {y}"));
        }
    };
    let machine = |h: &Host| {
        format!(
            "{} ({} CPUs, {} MiB)",
            h.cpu_model,
            h.cores,
            h.memory_bytes >> 20
        )
    };
    differ(&mut out, "machine", machine(a), machine(b));
    differ(
        &mut out,
        "server version",
        a.server.version.clone(),
        b.server.version.clone(),
    );
    differ(
        &mut out,
        "budget",
        a.bench.budget.to_string(),
        b.bench.budget.to_string(),
    );
    let mib = |h: &Host| format!("{} MiB", h.server.innodb_buffer_pool_size >> 20);
    differ(&mut out, "buffer pool", mib(a), mib(b));
    let (flags_a, flags_b) =
        switch_differences(&a.server.optimizer_switch, &b.server.optimizer_switch);
    differ(&mut out, "optimizer_switch", flags_a, flags_b);
    let or = |v: Option<String>, none: &str| v.unwrap_or_else(|| none.to_owned());
    differ(
        &mut out,
        "added latency (ms each way)",
        or(a.bench.latency_ms.map(|v| v.to_string()), "none"),
        or(b.bench.latency_ms.map(|v| v.to_string()), "none"),
    );
    differ(
        &mut out,
        "blocking driver",
        or(a.bench.blocking_driver.clone(), "mysql"),
        or(b.bench.blocking_driver.clone(), "mysql"),
    );
    differ(
        &mut out,
        "server CPUs",
        or(a.bench.server_cpus.map(|v| v.to_string()), "all"),
        or(b.bench.server_cpus.map(|v| v.to_string()), "all"),
    );
    differ(
        &mut out,
        "replicas",
        or(a.bench.replicas.map(|v| v.to_string()), "0"),
        or(b.bench.replicas.map(|v| v.to_string()), "0"),
    );
    let dataset = |h: &Host| {
        let meta = |k: &str| h.dataset.meta.get(k).cloned().unwrap_or_default();
        let sums: Vec<String> = h
            .dataset
            .tables
            .iter()
            .map(|(t, s)| format!("{t}:{}:{:x}", s.rows, s.crc_sum))
            .collect();
        format!(
            "source {} scale {} seed {}, checksums {}",
            meta("source"),
            meta("scale"),
            meta("seed"),
            sums.join(" ")
        )
    };
    if dataset(a) != dataset(b) {
        out.push(
            "the runs differ in dataset: its source, scale, seed or table checksums (host.json, dataset)"
                .into(),
        );
    }
    let workload = |h: &Host| {
        let bench = &h.bench;
        let mut s = bench.workload.clone();
        if let Some(count) = bench.count {
            let _ = write!(s, ", {count} queries");
        }
        if let Some(ms) = bench.sleep_ms {
            let _ = write!(s, ", {ms} ms sleeps");
        }
        s
    };
    differ(&mut out, "workload", workload(a), workload(b));
    out
}

/// The flags of two `optimizer_switch` values that differ, as each side
/// sets them (empty strings when none differ).
fn switch_differences(a: &str, b: &str) -> (String, String) {
    let flags = |s: &str| -> BTreeMap<String, String> {
        s.split(',')
            .filter_map(|f| f.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect()
    };
    let (fa, fb) = (flags(a), flags(b));
    let mut names: Vec<&String> = fa.keys().chain(fb.keys()).collect();
    names.sort();
    names.dedup();
    let side = |f: &BTreeMap<String, String>, differing: &[&String]| {
        differing
            .iter()
            .map(|k| format!("{k}={}", f.get(*k).map_or("(none)", String::as_str)))
            .collect::<Vec<_>>()
            .join(",")
    };
    let differing: Vec<&String> = names
        .into_iter()
        .filter(|k| fa.get(*k) != fb.get(*k))
        .collect();
    (side(&fa, &differing), side(&fb, &differing))
}

/// The comparison as text: the warnings, then a Markdown table.
pub fn render(a: &Run, b: &Run, c: &Comparison) -> String {
    let mut out = format!("A: {}\nB: {}\n", a.dir.display(), b.dir.display());
    for w in &c.warnings {
        let _ = writeln!(out, "warning: {w}");
    }
    let per_work = c.rows.iter().any(|r| r.per_server_cpu.is_some());
    out.push_str(
        "\nMean wall time, B over A (below 1: B is faster), with its 95% bootstrap interval over the recorded runs",
    );
    if per_work {
        out.push_str("; and per second of the server's CPU in each run, what is left of it when the machine's speed drifts between sittings");
    }
    out.push_str(".\n\n| approach | A mean (s) | B mean (s) | B / A | verdict |");
    if per_work {
        out.push_str(" B / A per server CPU s |");
    }
    out.push_str("\n|---|---:|---:|---|---|");
    if per_work {
        out.push_str("---|");
    }
    out.push('\n');
    let cell = |r: Option<Ratio>| {
        r.map_or("—".to_owned(), |r| {
            format!("{:.3} [{:.3}, {:.3}]", r.ratio, r.low, r.high)
        })
    };
    for row in &c.rows {
        let _ = write!(
            out,
            "| {} | {:.3} | {:.3} | {} | {} |",
            row.approach,
            row.mean_a,
            row.mean_b,
            cell(row.ratio),
            row.verdict.text()
        );
        if per_work {
            let _ = write!(out, " {} |", cell(row.per_server_cpu));
        }
        out.push('\n');
    }
    for (side, names) in [("A", &c.only_a), ("B", &c.only_b)] {
        if !names.is_empty() {
            let _ = writeln!(out, "\nOnly in {side}: {}", names.join(", "));
        }
    }
    out
}

/// Reads both runs, compares them and prints the result.
pub fn run(a: &Path, b: &Path, out: &mut impl std::io::Write) -> Result<()> {
    let (a, b) = (Run::load(a)?, Run::load(b)?);
    let text = render(&a, &b, &compare(&a, &b));
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        // The reader went away (`| head`): quiet, as for any filter.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        written => written.map_err(|source| ReportError::Write {
            path: PathBuf::from("(standard output)"),
            source,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hyperfine::Benchmark;

    fn committed(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../results")
            .join(name)
    }

    /// A run folder under the system's temp directory: `host` as its
    /// host.json, one round with each `(approach, times)`.
    struct Folder(PathBuf);

    impl Folder {
        fn new(name: &str, host: &Host, runs: &[(&str, &[f64])]) -> Folder {
            let dir =
                std::env::temp_dir().join(format!("dbio-compare-{}-{name}", std::process::id()));
            std::fs::create_dir_all(&dir).expect("dir");
            let mut host = host.clone();
            host.bench.approaches = runs.iter().map(|(a, _)| (*a).to_owned()).collect();
            let round = Export {
                results: runs
                    .iter()
                    .map(|(command, times)| Benchmark {
                        command: (*command).to_owned(),
                        mean: times.iter().sum::<f64>() / times.len() as f64,
                        stddev: None,
                        min: 0.0,
                        max: 0.0,
                        user: 0.0,
                        system: 0.0,
                        times: times.to_vec(),
                    })
                    .collect(),
            };
            std::fs::write(dir.join("host.json"), json(&host)).expect("host");
            std::fs::write(dir.join("hyperfine-round-001.json"), json(&round)).expect("round");
            Folder(dir)
        }
    }

    impl Drop for Folder {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn json(value: &impl serde::Serialize) -> String {
        serde_json::to_string_pretty(value).expect("json")
    }

    fn host() -> Host {
        crate::read_json(&committed("2026-12-01-vm-10").join("host.json"))
            .expect("a committed host.json")
    }

    #[test]
    fn generated_runs_give_ratios_verdicts_and_no_warning_when_alike() {
        let h = host();
        let a = Folder::new(
            "a",
            &h,
            &[
                ("test_single", &[10.0, 10.2, 9.8, 10.0]),
                ("test_mt", &[5.0, 5.1, 4.9, 5.0]),
                ("test_asyncio", &[4.0, 4.4, 3.6, 4.0]),
                ("py_test_mt", &[6.0, 6.0]),
            ],
        );
        let b = Folder::new(
            "b",
            &h,
            &[
                ("test_single", &[8.0, 8.1, 7.9, 8.0]),
                ("test_mt", &[6.0, 6.1, 5.9, 6.0]),
                ("test_asyncio", &[4.1, 3.7, 4.3, 3.9]),
                ("test_async_std", &[3.0, 3.0]),
            ],
        );
        let (ra, rb) = (Run::load(&a.0).expect("A"), Run::load(&b.0).expect("B"));
        let c = compare(&ra, &rb);
        assert_eq!(c.warnings, Vec::<String>::new());
        let got: Vec<(&str, Verdict)> = c
            .rows
            .iter()
            .map(|r| (r.approach.as_str(), r.verdict))
            .collect();
        assert_eq!(
            got,
            [
                ("test_single", Verdict::Faster),
                ("test_mt", Verdict::Slower),
                ("test_asyncio", Verdict::NoDifference)
            ]
        );
        let single = &c.rows[0];
        assert!((single.ratio.expect("ratio").ratio - 0.8).abs() < 1e-9);
        assert_eq!((single.mean_a, single.mean_b), (10.0, 8.0));
        assert_eq!(c.only_a, ["py_test_mt"]);
        assert_eq!(c.only_b, ["test_async_std"]);
        let text = render(&ra, &rb, &c);
        assert!(
            text.contains("| test_single | 10.000 | 8.000 | 0.800 ["),
            "{text}"
        );
        assert!(!text.contains("warning"), "{text}");
    }

    #[test]
    fn every_difference_in_what_runs_measure_is_one_warning() {
        let h = host();
        let mut other = h.clone();
        other.cpu_model = "Another CPU".into();
        other.server.facts.version = "11.4.2-MariaDB".into();
        other.bench.budget = h.bench.budget + 1;
        other.server.facts.optimizer_switch = h
            .server
            .optimizer_switch
            .replace("split_materialized=on", "split_materialized=off");
        other.bench.latency_ms = Some(7);
        other.bench.workload = "sleep".into();
        if let Some(sum) = other.dataset.tables.values_mut().next() {
            sum.crc_sum ^= 1;
        }
        let warnings = differences(&h, &other);
        let topics: Vec<&str> = warnings
            .iter()
            .map(|w| {
                w.trim_start_matches("the runs differ in ")
                    .split(':')
                    .next()
                    .unwrap_or("")
            })
            .collect();
        assert_eq!(
            topics,
            [
                "machine",
                "server version",
                "budget",
                "optimizer_switch",
                "added latency (ms each way)",
                "dataset",
                "workload"
            ],
            "{warnings:#?}"
        );
        assert!(
            warnings[3].ends_with("A split_materialized=on, B split_materialized=off"),
            "{}",
            warnings[3]
        );
        assert_eq!(differences(&h, &h), Vec::<String>::new());
    }

    #[test]
    fn a_folder_that_is_no_run_is_one_error() {
        for (dir, why) in [
            (committed(""), "no host.json"),
            (PathBuf::from("/nonexistent/dbio-run"), "no such directory"),
        ] {
            let err = Run::load(&dir).expect_err("no run").to_string();
            assert!(
                err.contains("is not a results folder") && err.contains(why),
                "{err}"
            );
            assert_eq!(err.lines().count(), 1, "{err}");
        }
        let mut sweep = host();
        sweep.bench.budgets = vec![1, 5];
        let folder = Folder::new("sweep", &sweep, &[("test_single", &[1.0, 1.0])]);
        let err = Run::load(&folder.0).expect_err("a sweep").to_string();
        assert!(err.contains("it is a sweep"), "{err}");
    }

    /// Two committed runs: a run against itself is alike in every
    /// approach; two runs of the same machine with another workload and
    /// latency say so, and their ratios are the recorded means' ratios.
    #[test]
    fn committed_runs_compare() {
        let a = Run::load(&committed("2026-12-01-vm-9")).expect("a committed run");
        let b = Run::load(&committed("2026-12-01-vm-10")).expect("a committed run");
        let same = compare(&b, &b);
        assert!(same.warnings.is_empty(), "{:?}", same.warnings);
        assert!(!same.rows.is_empty());
        for row in &same.rows {
            assert_eq!(row.verdict, Verdict::NoDifference, "{}", row.approach);
            assert!(
                row.per_server_cpu.is_some(),
                "{}: server CPU recorded",
                row.approach
            );
        }
        let c = compare(&a, &b);
        assert!(
            c.warnings.iter().any(|w| w.contains("workload")),
            "{:?}",
            c.warnings
        );
        assert!(
            c.warnings.iter().any(|w| w.contains("added latency")),
            "{:?}",
            c.warnings
        );
        for row in &c.rows {
            let (x, y) = (
                a.export
                    .results
                    .iter()
                    .find(|r| r.command == row.approach)
                    .expect("in A"),
                b.export
                    .results
                    .iter()
                    .find(|r| r.command == row.approach)
                    .expect("in B"),
            );
            let mean = |t: &[f64]| t.iter().sum::<f64>() / t.len() as f64;
            let ratio = row.ratio.expect("runs enough").ratio;
            assert!(
                (ratio - mean(&y.times) / mean(&x.times)).abs() < 1e-9,
                "{}",
                row.approach
            );
        }
    }
}
