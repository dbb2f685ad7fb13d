//! `results/README.md`: every run, newest first, and the latest run's
//! picture and table.

use std::fmt::Write;
use std::path::Path;

use crate::host::Host;
use crate::{Result, list_dir, read, read_json, write};

/// A run directory holds `host.json` and `table.md`.
pub fn runs(results: &Path) -> Result<Vec<(String, Host)>> {
    let mut runs = Vec::new();
    for dir in list_dir(results)? {
        let (host, table) = (dir.join("host.json"), dir.join("table.md"));
        if host.is_file() && table.is_file() {
            let name = dir.file_name().unwrap_or_default().to_string_lossy();
            runs.push((name.into_owned(), read_json::<Host>(&host)?));
        }
    }
    runs.sort_by(|a, b| b.1.date.cmp(&a.1.date).then(b.0.cmp(&a.0)));
    Ok(runs)
}

/// The workload as the index shows it: `point 10000, 5 ms latency`.
fn workload(bench: &crate::host::Bench) -> String {
    let mut text = bench.workload.clone();
    if let Some(n) = bench.count {
        text.push_str(&format!(" {n}"));
    }
    if let Some(ms) = bench.sleep_ms {
        text.push_str(&format!(" × {ms} ms"));
    }
    if let Some(ms) = bench.latency_ms {
        text.push_str(&format!(", {ms} ms latency"));
    }
    if let Some(open) = &bench.open_loop {
        let rates: Vec<String> = if bench.rates.is_empty() {
            vec![open.rate.to_string()]
        } else {
            bench.rates.iter().map(ToString::to_string).collect()
        };
        text.push_str(&format!(
            ", open loop: {} requests at {}/s",
            open.requests,
            rates.join(",")
        ));
    }
    text
}

/// How many servers the run read from: 1 plus its replicas, or each
/// count of a replica sweep (`1,2,3`).
fn servers(bench: &crate::host::Bench) -> String {
    if bench.replica_sweep.is_empty() {
        (1 + bench.replicas.unwrap_or(0)).to_string()
    } else {
        let counts: Vec<String> = bench
            .replica_sweep
            .iter()
            .map(|n| (1 + n).to_string())
            .collect();
        counts.join(",")
    }
}

/// When the run's approaches wrote their output: the reports of runs made
/// before the output went through one buffer after the run also lack the
/// in-run CPU figures that came with it, which tells them apart.
fn output(run: &Path, host: &Host) -> &'static str {
    let cell = match (host.bench.budgets.first(), host.bench.replica_sweep.first()) {
        (Some(budget), _) => run.join(format!("budget-{budget}")),
        (None, Some(replicas)) => run.join(format!("replicas-{replicas}")),
        (None, None) => match host.bench.rates.first() {
            Some(rate) => run.join(crate::open_loop::cell_name(*rate)),
            None => run.to_path_buf(),
        },
    };
    let first = host
        .bench
        .approaches
        .first()
        .map(|a| cell.join("profiles").join(format!("{a}.json")));
    match first.map(|path| crate::table::read_profile(&path)) {
        Some(Ok(profile)) if profile.run_cpu_us().is_none() => "per query, timed",
        Some(Ok(_)) => "after the run",
        _ => "—",
    }
}

/// Whether the run was built with uncommitted changes: its own record, or
/// any of its cells' (a sweep's top record is its first cell's, and the
/// tree may change while the later cells run).
fn dirty(run: &Path, host: &Host) -> bool {
    host.git.dirty
        || list_dir(run).is_ok_and(|dirs| {
            dirs.iter()
                .map(|d| d.join("host.json"))
                .filter(|h| h.is_file())
                .any(|h| read_json::<Host>(&h).is_ok_and(|cell| cell.git.dirty))
        })
}

/// Rewrites `results/README.md`.
pub fn update(results: &Path) -> Result<()> {
    let runs = runs(results)?;
    let mut out = String::from(
        "# Results\n\nEvery run of `scripts/bench.sh --commit`, newest first. Each folder holds \
         hyperfine's JSON, the table, `host.json` (machine, server, dataset, git revision) and the \
         exact command. Compare approaches within a run, as ratios: runs on different machines or \
         days are not comparable in absolute time. output: when the approaches wrote each \
         query's line; in the runs marked `per query, timed` every approach wrote it unbuffered \
         inside its timed run (one `write` a query), so their times and client CPU include \
         printing, which weighs on point lookups (superseded by the point runs of 2026-11-30). \
         git: the revision the binaries were built from; `(dirty)`: with uncommitted changes, \
         which that revision does not reproduce (the point, sleep and latency runs of \
         2026-11-27 are repeated from committed code in 2026-12-01-vm-7, -vm-8 and -vm-9, the \
         report sweep 2026-11-27-vm-6 in 2026-12-01-vm-15). \
         The async approaches ran their tasks on multi-threaded runtimes (tokio's default, \
         async-std's global executor) up to 2026-12-01-vm-9, and on one thread since \
         2026-12-01-vm-10 (revision 9980fa4), as Python's asyncio does.\n\n",
    );
    out.push_str("| run | date | workload | scale | budget | server | servers | server CPUs | optimizer_switch split_materialized | output | git |\n|---|---|---|---:|---:|---|---:|---:|---|---|---|\n");
    for (name, host) in &runs {
        let split = host
            .server
            .optimizer_switch
            .split(',')
            .find(|f| f.starts_with("split_materialized="))
            .and_then(|f| f.split_once('='))
            .map_or("—", |(_, v)| v);
        let _ = writeln!(
            out,
            "| [{name}]({name}/README.md) | {} | {} | {} | {} | {} | {} | {} | {split} | {} | `{}`{} |",
            host.date,
            workload(&host.bench),
            host.dataset.meta.get("scale").map_or("—", String::as_str),
            if host.bench.budgets.is_empty() {
                host.bench.budget.to_string()
            } else {
                host.bench
                    .budgets
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(",")
            },
            host.server.version,
            servers(&host.bench),
            // Pinned, or all of the machine's.
            host.bench
                .server_cpus
                .map_or_else(|| format!("all ({})", host.cores), |n| n.to_string()),
            output(&results.join(name), host),
            host.git.revision.get(..10).unwrap_or(&host.git.revision),
            if dirty(&results.join(name), host) {
                " (dirty)"
            } else {
                ""
            },
        );
    }
    if let Some((name, _)) = runs.first() {
        let table = read(&results.join(name).join("table.md"))?;
        let _ = write!(out, "\n## Latest: {name}\n\n");
        // Its picture: the curve of a sweep, the spread of a single run.
        for (file, what) in [
            (
                "latency.svg",
                "request latency p99 against the offered rate",
            ),
            ("speedup.svg", "speedup against budget"),
            ("walltimes.svg", "wall time of every run"),
        ] {
            if results.join(name).join(file).is_file() {
                let _ = write!(out, "![{what}]({name}/{file})\n\n");
                break;
            }
        }
        out.push_str(&table);
    }
    write(&results.join("README.md"), &out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-11-27-vm-6's top record is clean and four of its cells are not
    /// (issue 27): the index must say dirty.
    #[test]
    fn a_sweep_with_a_dirty_cell_is_dirty() {
        let results = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../results");
        let run = results.join("2026-11-27-vm-6");
        let host: Host = read_json(&run.join("host.json")).expect("host.json");
        assert!(!host.git.dirty, "the premise: a clean top record");
        assert!(dirty(&run, &host));
        let clean = results.join("2026-12-01-vm-15");
        let host: Host = read_json(&clean.join("host.json")).expect("host.json");
        assert!(!dirty(&clean, &host));
    }
}
