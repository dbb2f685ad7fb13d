//! A sweep (`bench.sh --connections 1,2,4,...`): one cell per budget, each
//! a complete run folder (`budget-N/`), summarised as the curve the single
//! runs can only sample: each approach's speedup over the serial run of its
//! language at every budget, beside the ideal (the budget) and the bound
//! the server allows (its CPU per run over min(budget, cores)).

use std::fmt::Write;
use std::path::{Path, PathBuf};

use crate::host::Host;
use crate::hyperfine::Export;
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
    let names: Vec<String> = cells[0]
        .export
        .results
        .iter()
        .map(|b| b.command.clone())
        .collect();
    let mean_at = |c: &Cell, name: &str| {
        c.export
            .results
            .iter()
            .find(|b| b.command == name)
            .map(|b| b.mean)
    };
    for name in &names {
        let _ = write!(out, "| {name} |");
        for c in cells {
            let cell = match (mean_at(c, name), mean_at(c, serial(name))) {
                (Some(m), Some(s)) => format!(" {:.2}× ({m:.3} s) |", s / m),
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
        let bound = match (mean(&concurrent), mean_at(c, "test_single")) {
            (Some(cpu), Some(single)) => {
                format!(
                    " {:.2}× |",
                    single / (cpu / c.budget.min(cores).max(1) as f64)
                )
            }
            _ => " — |".to_owned(),
        };
        out.push_str(&bound);
    }
    out.push_str(
        "\n\nEach cell: the approach's speedup over the serial run of its language at the same \
         budget (its mean time in brackets). ideal: the budget. bound: the speedup the server \
         allows, the serial mean over (mean server CPU of the concurrent runs / min(budget, \
         server cores)). Each budget's folder has its full table and verdicts.\n",
    );
    out
}
