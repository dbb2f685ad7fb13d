//! A sweep (`bench.sh --connections 1,2,4,...`): one cell per budget, each
//! a complete run folder (`budget-N/`), summarised as the curve the single
//! runs can only sample: each approach's speedup over the serial run of its
//! language at every budget, beside the ideal (the budget) and the bound
//! of each cell's table (its most limiting term).
//!
//! A sweep of read replicas (`--replicas 0,1,2`) has a cell per count
//! (`replicas-N/`) at one budget, summarised side by side by
//! [`crate::servers`].

use std::fmt::Write;
use std::path::{Path, PathBuf};

use crate::host::Host;
use crate::hyperfine::Export;
use crate::plot::Series;
use crate::server_cpu::{mean, per_command};
use crate::table::{Costs, Limit, Profile, Setting};
use crate::{ReportError, Result, list_dir, read_json};

/// One budget's cell, or one replica count's.
#[derive(Debug, Clone)]
pub struct Cell {
    pub budget: usize,
    /// The cell's read replicas, in a sweep of them.
    pub replicas: Option<u32>,
    pub dir: PathBuf,
    pub host: Host,
    pub export: Export,
    /// Server CPU per run, by command (empty without a managed server).
    pub server_cpu: std::collections::BTreeMap<String, Vec<f64>>,
    /// The latency proxy's CPU per run, by command (empty without one).
    pub proxy_cpu: std::collections::BTreeMap<String, Vec<f64>>,
    /// Queries per run (from the first approach's profile run).
    pub queries: Option<usize>,
}

/// The cells of a sweep folder, by budget or by replica count.
pub fn cells(dir: &Path) -> Result<Vec<Cell>> {
    let mut cells = Vec::new();
    for dir in list_dir(dir)? {
        let name = dir.file_name().unwrap_or_default().to_string_lossy();
        let number = |prefix: &str| name.strip_prefix(prefix).and_then(|n| n.parse().ok());
        let (budget, replicas) = match (number("budget-"), number("replicas-")) {
            (Some(budget), _) => (Some(budget), None),
            (None, Some(replicas)) => (None, Some(replicas as u32)),
            (None, None) => continue,
        };
        let host: Host = read_json(&dir.join("host.json"))?;
        let budget = budget.unwrap_or(host.bench.budget);
        let export = crate::hyperfine::load(&dir.join("hyperfine.json"))?;
        let readings = |file: &str| -> Result<_> {
            let path = dir.join(file);
            if path.is_file() {
                per_command(&path)
            } else {
                Ok(Default::default())
            }
        };
        let server_cpu = readings("server-cpu.tsv")?;
        let proxy_cpu = readings("proxy-cpu.tsv")?;
        let queries = match host.bench.approaches.first() {
            Some(first) => {
                let path = dir.join("profiles").join(format!("{first}.json"));
                let profile: Option<Profile> = path
                    .is_file()
                    .then(|| crate::table::read_profile(&path))
                    .transpose()?;
                profile.map(|p| p.len())
            }
            None => None,
        };
        cells.push(Cell {
            budget,
            replicas,
            dir,
            host,
            export,
            server_cpu,
            proxy_cpu,
            queries,
        });
    }
    cells.sort_by_key(|c| (c.replicas, c.budget));
    if cells.is_empty() {
        return Err(ReportError::NoRounds(dir.to_owned()));
    }
    if cells.iter().any(|c| c.replicas.is_some()) && cells.iter().any(|c| c.replicas.is_none()) {
        return Err(ReportError::MixedSweep(dir.to_owned()));
    }
    Ok(cells)
}

fn mean_at(c: &Cell, name: &str) -> Option<f64> {
    c.export
        .results
        .iter()
        .find(|b| b.command == name)
        .map(|b| b.mean)
}

/// An approach's speedup over the serial run of its language in a cell.
fn speedup_at(c: &Cell, name: &str) -> Option<f64> {
    Some(mean_at(c, model::registry::baseline_of(name))? / mean_at(c, name)?)
}

/// The speedup a cell's bound allows, and the term that sets it: the serial
/// mean over [`bound_seconds`].
fn bound_at(c: &Cell) -> Option<(f64, Limit)> {
    let (seconds, limit) = bound_seconds(c)?;
    Some((
        mean_at(
            c,
            model::registry::baseline(model::registry::Language::Rust),
        )? / seconds,
        limit,
    ))
}

/// A cell's bound: the mean of the concurrent runs' bounds, each the most
/// limiting term of its row in the cell's own table ([`Setting::bound`]),
/// and the term that sets most of them.
pub(crate) fn bound_seconds(c: &Cell) -> Option<(f64, Limit)> {
    let setting = Setting::of(&c.host, c.budget);
    let queries = c.queries?;
    let bounds: Vec<(f64, Limit)> = c
        .export
        .results
        .iter()
        .filter(|b| !model::registry::is_serial(&b.command))
        .filter_map(|b| {
            let costs = Costs {
                server_cpu: c.server_cpu.get(&b.command).and_then(|v| mean(v)),
                client_cpu: Some(b.user + b.system),
                proxy_cpu: c.proxy_cpu.get(&b.command).and_then(|v| mean(v)),
            };
            setting.bound(c.budget, queries, &costs)
        })
        .collect();
    let seconds = mean(&bounds.iter().map(|b| b.0).collect::<Vec<_>>())?;
    let mut limits: Vec<Limit> = bounds.iter().map(|b| b.1).collect();
    limits.sort();
    let limit = limits
        .chunk_by(|a, b| a == b)
        .max_by_key(|run| run.len())
        .map(|run| run[0])?;
    Some((seconds, limit))
}

/// The approaches, in the first cell's order.
pub(crate) fn names(cells: &[Cell]) -> Vec<String> {
    cells[0]
        .export
        .results
        .iter()
        .map(|b| b.command.clone())
        .collect()
}

/// The curves of `speedup.svg`: each approach's speedup by budget, and the
/// bound by budget.
pub fn curves(cells: &[Cell]) -> (Vec<Series>, Vec<(f64, f64)>) {
    let series = names(cells)
        .into_iter()
        .map(|name| Series {
            points: cells
                .iter()
                .filter_map(|c| Some((c.budget as f64, speedup_at(c, &name)?)))
                .collect(),
            name,
        })
        .collect();
    let bound = cells
        .iter()
        .filter_map(|c| Some((c.budget as f64, bound_at(c)?.0)))
        .collect();
    (series, bound)
}

/// The head of a sweep's table: a column per cell, named by `column`.
pub(crate) fn head(cells: &[Cell], column: impl Fn(&Cell) -> String) -> String {
    let mut out = String::from("| approach |");
    for c in cells {
        let _ = write!(out, " {} |", column(c));
    }
    out.push_str("\n|---|");
    for _ in cells {
        out.push_str("---:|");
    }
    out.push('\n');
    out
}

/// The sweep's table: means, speedups, the ideal and the bound per budget.
pub fn render(cells: &[Cell]) -> String {
    let mut out = head(cells, |c| format!("budget {}", c.budget));
    for name in &names(cells) {
        let _ = write!(out, "| {name} |");
        for c in cells {
            let cell = match (mean_at(c, name), speedup_at(c, name)) {
                (Some(m), Some(s)) => format!(" {s:.2}× ({m:.3} s) |"),
                (Some(m), None) => format!(" {m:.3} s |"),
                _ => " — |".to_owned(),
            };
            out.push_str(&cell);
        }
        out.push('\n');
    }
    out.push_str("| ideal (the budget) |");
    for c in cells {
        let _ = write!(out, " {}× |", c.budget);
    }
    out.push_str("\n| bound (its limit) |");
    for c in cells {
        let _ = write!(
            out,
            " {} |",
            bound_at(c).map_or("—".to_owned(), |(b, limit)| format!(
                "{b:.2}× ({})",
                limit.name()
            ))
        );
    }
    if cells
        .iter()
        .any(|c| crate::table::asyncio_not_beaten(&c.export).is_some())
    {
        out.push_str("\n| the blog's \"asyncio was the clear winner\" (Python) |");
        for c in cells {
            let held = match crate::table::asyncio_not_beaten(&c.export) {
                Some(not) if not.is_empty() => " holds |",
                Some(_) => " does not hold |",
                None => " — |",
            };
            out.push_str(held);
        }
    }
    out.push_str(
        "\n\nEach cell: the approach's speedup over the serial run of its language at the same \
         budget (its mean time in brackets). ideal: the budget. bound: the speedup the cell's \
         bounds allow, the serial mean over the mean bound of the concurrent runs, each the most \
         limiting term of its row in the cell's table (server CPU, all CPU on the machine, \
         waits or round trips), named in brackets. The blog's verdict holds where py_test_asyncio is measurably faster \
         (95% bootstrap interval of the ratio of means below 1) than every other Python \
         approach. Each budget's folder has its full table and verdicts.\n",
    );
    out
}
