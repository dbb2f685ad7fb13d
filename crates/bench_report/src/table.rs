//! The results table: each approach's time, CPU, memory and speedup, the
//! server's CPU per run and the lower bound on wall time it implies, and the
//! blog's published speedups beside ours.
//!
//! Absolute times from different machines are not comparable; ratios are.
//! The bound is `server CPU per run / min(concurrency, cores)`: the server
//! cannot finish the work faster than its CPU time spread over the
//! connections that can run at once (one for `test_single`, the budget for
//! the others), on this machine's cores.

use std::collections::BTreeMap;
use std::fmt::Write;

use serde::Deserialize;

use crate::BLOG_MEANS;
use crate::hyperfine::Export;
use crate::server_cpu::mean;

/// Python commands are named `py_<script>`; the blog's ThreadPool script is
/// `test_cft.py`, which our `test_threadpool` mirrors.
pub fn blog_name(command: &str) -> &str {
    match command.strip_prefix("py_").unwrap_or(command) {
        "test_cft" => "test_threadpool",
        other => other,
    }
}

/// The single-connection baseline of a command's language.
fn baseline(command: &str) -> &'static str {
    if command.starts_with("py_") {
        "py_test_single"
    } else {
        "test_single"
    }
}

fn blog_speedup(command: &str) -> Option<f64> {
    let single = BLOG_MEANS[0].1;
    BLOG_MEANS
        .iter()
        .find(|(name, _)| *name == blog_name(command))
        .map(|(_, mean)| single / mean)
}

/// What an approach reported about itself in its untimed profile run
/// (`--json`): peak memory and row counts.
#[derive(Debug, Clone, Deserialize)]
pub struct Profile {
    pub max_rss_kib: u64,
    pub queries: Vec<ProfileQuery>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ProfileQuery {
    pub label: String,
    pub rows: u64,
}

/// The names of the approaches whose row counts differ from the first one's.
pub fn disagreeing(profiles: &BTreeMap<String, Profile>, order: &[String]) -> Vec<String> {
    let counts = |p: &Profile| {
        p.queries
            .iter()
            .map(|q| (q.label.clone(), q.rows))
            .collect::<Vec<_>>()
    };
    let mut present = order
        .iter()
        .filter_map(|n| profiles.get(n).map(|p| (n, counts(p))));
    let Some((_, first)) = present.next() else {
        return vec![];
    };
    present
        .filter(|(_, c)| *c != first)
        .map(|(n, _)| n.clone())
        .collect()
}

/// Renders the table for one run.
pub fn render(
    export: &Export,
    server_cpu: Option<&BTreeMap<String, Vec<f64>>>,
    profiles: &BTreeMap<String, Profile>,
    budget: usize,
    cores: usize,
) -> String {
    let mean_of = |name: &str| {
        export
            .results
            .iter()
            .find(|b| b.command == name)
            .map(|b| b.mean)
    };
    let mut out = String::new();
    out.push_str("| approach | mean ± σ [s] | min … max [s] | user [s] | sys [s] | peak RSS [MiB] | speedup vs single | server CPU [s/run] | bound [s] | bound / mean | blog speedup |\n");
    out.push_str("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for b in &export.results {
        let concurrency = if blog_name(&b.command) == "test_single" {
            1
        } else {
            budget
        };
        let cpu = server_cpu
            .and_then(|m| m.get(&b.command))
            .and_then(|v| mean(v));
        let bound = cpu.map(|c| c / concurrency.min(cores).max(1) as f64);
        let speedup = mean_of(baseline(&b.command)).map(|base| base / b.mean);
        let _ = writeln!(
            out,
            "| {} | {:.3} ± {} | {:.3} … {:.3} | {:.3} | {:.3} | {} | {} | {} | {} | {} | {} |",
            b.command,
            b.mean,
            b.stddev.map_or("—".into(), |s| format!("{s:.3}")),
            b.min,
            b.max,
            b.user,
            b.system,
            profiles.get(&b.command).map_or("—".into(), |p| format!(
                "{:.1}",
                p.max_rss_kib as f64 / 1024.0
            )),
            speedup.map_or("—".into(), |s| format!("{s:.2}×")),
            cpu.map_or("—".into(), |c| format!("{c:.2}")),
            bound.map_or("—".into(), |c| format!("{c:.2}")),
            bound.map_or("—".into(), |c| format!("{:.0}%", 100.0 * c / b.mean)),
            blog_speedup(&b.command).map_or("—".into(), |s| format!("{s:.2}×")),
        );
    }
    out.push_str(
        "\nspeedup: the single-connection mean of the same language (Rust `test_single`, Python \
         `py_test_single`) divided by this mean. bound: server CPU per run / min(connections that \
         run at once, cores); bound / mean near 100% means the server, not the client, is the limit. \
         peak RSS: the process's own maximum resident memory, from one untimed run. \
         blog speedup: the blog's published means (single 17.746 s, mt 8.054 s, mt_bounded 8.275 s, \
         ThreadPool 7.806 s, asyncio 7.642 s; 10 runs on the author's machine, Python) as ratios to its single.\n",
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hyperfine::Benchmark;

    fn bench(command: &str, mean: f64) -> Benchmark {
        Benchmark {
            command: command.into(),
            mean,
            stddev: Some(0.1),
            min: mean - 0.1,
            max: mean + 0.1,
            user: 0.01,
            system: 0.01,
            times: vec![mean],
        }
    }

    #[test]
    fn speedups_are_per_language_and_bounds_use_concurrency() {
        let export = Export {
            results: vec![
                bench("test_single", 20.0),
                bench("test_asyncio", 10.0),
                bench("py_test_single", 22.0),
                bench("py_test_cft", 11.0),
            ],
        };
        let mut cpu = BTreeMap::new();
        cpu.insert("test_single".to_owned(), vec![19.0, 19.0]);
        cpu.insert("test_asyncio".to_owned(), vec![19.0]);
        let mut profiles = BTreeMap::new();
        let profile = |rows: u64| Profile {
            max_rss_kib: 8 * 1024,
            queries: vec![ProfileQuery {
                label: "A".into(),
                rows,
            }],
        };
        profiles.insert("test_single".to_owned(), profile(10));
        profiles.insert("test_asyncio".to_owned(), profile(10));
        profiles.insert("py_test_cft".to_owned(), profile(11));
        let order: Vec<String> = ["test_single", "test_asyncio", "py_test_cft"]
            .map(String::from)
            .to_vec();
        assert_eq!(disagreeing(&profiles, &order), ["py_test_cft"]);
        let table = render(&export, Some(&cpu), &profiles, 5, 2);
        let row = |name: &str| {
            table
                .lines()
                .find(|l| l.starts_with(&format!("| {name} |")))
                .expect("row")
                .to_owned()
        };
        assert!(row("test_single").contains("| 1.00× |"));
        assert!(
            row("test_single").contains("| 19.00 | 19.00 | 95% |"),
            "{}",
            row("test_single")
        );
        // budget 5 on 2 cores: the bound is 19 / 2.
        assert!(
            row("test_asyncio").contains("| 2.00× | 19.00 | 9.50 | 95% | 2.32× |"),
            "{}",
            row("test_asyncio")
        );
        assert!(
            row("py_test_cft").contains("| 2.00× | — | — | — | 2.27× |"),
            "{}",
            row("py_test_cft")
        );
        assert!(row("test_single").contains("| 8.0 |"));
    }
}
