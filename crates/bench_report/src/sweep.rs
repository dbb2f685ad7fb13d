//! A sweep (`bench.sh --connections 1,2,4,...`): one cell per budget, each
//! a complete run folder (`budget-N/`), summarised as the curve the single
//! runs can only sample: each approach's speedup over the serial run of its
//! language at every budget, beside the ideal (the budget) and the bound
//! the server allows (its CPU per run over min(budget, cores)).

use std::fmt::Write;
use std::path::{Path, PathBuf};

use crate::host::Host;
use crate::hyperfine::Export;
use crate::plot::Series;
use crate::server_cpu::{mean, per_command};
use crate::{ReportError, Result, list_dir, read_json};

/// One budget's cell.
#[derive(Debug, Clone)]
pub struct Cell {
    pub budget: usize,
    pub dir: PathBuf,
    pub host: Host,
    pub export: Export,
    /// Server CPU per run, by command (empty without a managed server).
    pub server_cpu: std::collections::BTreeMap<String, Vec<f64>>,
}

/// The cells of a sweep folder, by budget.
pub fn cells(dir: &Path) -> Result<Vec<Cell>> {
    let mut cells = Vec::new();
    for dir in list_dir(dir)? {
        let name = dir.file_name().unwrap_or_default().to_string_lossy();
        let Some(budget) = name.strip_prefix("budget-").and_then(|b| b.parse().ok()) else {
            continue;
        };
        let host: Host = read_json(&dir.join("host.json"))?;
        let export = crate::hyperfine::load(&dir.join("hyperfine.json"))?;
        let cpu_path = dir.join("server-cpu.tsv");
        let server_cpu = if cpu_path.is_file() {
            per_command(&cpu_path)?
        } else {
            Default::default()
        };
        cells.push(Cell {
            budget,
            dir,
            host,
            export,
            server_cpu,
        });
    }
    cells.sort_by_key(|c| c.budget);
    if cells.is_empty() {
        return Err(ReportError::NoRounds(dir.to_owned()));
    }
    Ok(cells)
}

fn serial(command: &str) -> &'static str {
    if command.starts_with("py_") {
        "py_test_single"
    } else {
        "test_single"
    }
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
    Some(mean_at(c, serial(name))? / mean_at(c, name)?)
}

/// The speedup the server allows in a cell: the serial mean over the mean
/// server CPU of the concurrent runs spread over min(budget, server cores).
fn bound_at(c: &Cell) -> Option<f64> {
    let cores = c
        .host
        .bench
        .server_cpus
        .map_or(c.host.cores, |n| (n as usize).min(c.host.cores));
    let concurrent: Vec<f64> = c
        .server_cpu
        .iter()
        .filter(|(name, _)| !name.ends_with("test_single"))
        .filter_map(|(_, v)| mean(v))
        .collect();
    let cpu = mean(&concurrent)?;
    Some(mean_at(c, "test_single")? / (cpu / c.budget.min(cores).max(1) as f64))
}

/// The approaches, in the first cell's order.
fn names(cells: &[Cell]) -> Vec<String> {
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
        .filter_map(|c| Some((c.budget as f64, bound_at(c)?)))
        .collect();
    (series, bound)
}

/// The sweep's table: means, speedups, the ideal and the bound per budget.
pub fn render(cells: &[Cell]) -> String {
    let mut out = String::from("| approach |");
    for c in cells {
        let _ = write!(out, " budget {} |", c.budget);
    }
    out.push_str("\n|---|");
    for _ in cells {
        out.push_str("---:|");
    }
    out.push('\n');
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
    out.push_str("\n| bound (server CPU / min(budget, cores)) |");
    for c in cells {
        let _ = write!(
            out,
            " {} |",
            bound_at(c).map_or("—".to_owned(), |b| format!("{b:.2}×"))
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
         budget (its mean time in brackets). ideal: the budget. bound: the speedup the server \
         allows, the serial mean over (mean server CPU of the concurrent runs / min(budget, \
         server cores)). The blog's verdict holds where py_test_asyncio is measurably faster \
         (95% bootstrap interval of the ratio of means below 1) than every other Python \
         approach. Each budget's folder has its full table and verdicts.\n",
    );
    out
}
