//! An open-loop run (`bench.sh --arrivals 1,2,4`): requests arrive at a
//! set rate whether or not earlier ones have finished, and what counts is
//! the latency each request sees from its due time. One cell per rate
//! (`rate-R/`), summarised across rates as the latency curve and each
//! approach's capacity at the SLO.
//!
//! - this module: what the driver records per round ([`Record`]: each
//!   request's latency, kept whole so that rounds pool and resample), and
//!   a cell read back from its files ([`Cell`]);
//! - `service`: the ideal queue's service times, from a serial run, and
//!   the bound they give on the run's own schedule;
//! - `capacity`: the rate at which an approach's p99 first exceeds the SLO,
//!   with its bootstrap interval over rounds;
//! - `render`: the cell's table and the sweep's;
//! - `plot`: `latency.svg`, p99 against the offered rate.

mod capacity;
mod plot;
mod render;
mod service;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use model::latency::{self, Percentiles};
use model::report::Report;

use crate::host::Host;
use crate::{ReportError, Result, read_json, write};

pub use capacity::{Capacity, at_rates, capacity};
pub use service::Service;

/// One approach's timed open-loop run, as the driver keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Record {
    pub approach: String,
    /// The round it ran in, from 1.
    pub round: u32,
    /// Each finished request's latency, from its due time to its last
    /// row, in microseconds, in request order.
    pub request_latency_us: Vec<u64>,
    /// Requests cancelled at the drain deadline (left out above).
    pub unfinished: usize,
    pub query_p99_us: u64,
    /// How late the approach released its queries, p99.
    pub dispatch_lag_p99_us: u64,
    /// Finished requests per second, over the run.
    pub achieved_rate: f64,
    pub peak_connections: Option<usize>,
    /// Sampled (see [`Report::peak_threads`]): a burst can pass unseen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peak_threads: Option<usize>,
    pub max_rss_kib: u64,
}

impl Record {
    /// The record of an open-loop report; `None` for one batch.
    pub fn of(report: &Report, round: u32) -> Option<Record> {
        let summary = latency::summarize(report)?;
        Some(Record {
            approach: report.approach.clone(),
            round,
            request_latency_us: latency::request_latencies(report),
            unfinished: summary.unfinished,
            query_p99_us: summary.query_latency.p99_us,
            dispatch_lag_p99_us: summary.dispatch_lag.p99_us,
            achieved_rate: summary.achieved_rate,
            peak_connections: report.peak_connections,
            peak_threads: report.peak_threads,
            max_rss_kib: report.max_rss_kib,
        })
    }
}

/// The file of round `round`'s records in a cell.
pub fn round_file(round: u32) -> String {
    format!("open-loop-round-{round:03}.json")
}

/// The file of the ideal queue's service times in a cell.
pub const SERVICE: &str = "service.json";

/// One rate's cell, read back.
#[derive(Debug, Clone)]
pub struct Cell {
    pub dir: PathBuf,
    pub host: Host,
    pub rate: f64,
    /// Each approach's records, round by round, in the run's order.
    pub records: Vec<(String, Vec<Record>)>,
    /// The ideal queue's request latencies on this schedule.
    pub bound: Option<Vec<u64>>,
    pub service: Option<Service>,
    /// Server CPU seconds of each timed run, by approach.
    pub server_cpu: BTreeMap<String, Vec<f64>>,
}

impl Cell {
    pub fn read(dir: &Path) -> Result<Cell> {
        let host: Host = read_json(&dir.join("host.json"))?;
        let open = host
            .bench
            .open_loop
            .clone()
            .ok_or_else(|| ReportError::NoRounds(dir.to_owned()))?;
        let files = crate::list_named(dir, "open-loop-round-", ".json")?;
        if files.is_empty() {
            return Err(ReportError::NoRounds(dir.to_owned()));
        }
        let mut by_approach: BTreeMap<String, Vec<Record>> = BTreeMap::new();
        for file in &files {
            for record in read_json::<Vec<Record>>(file)? {
                by_approach
                    .entry(record.approach.clone())
                    .or_default()
                    .push(record);
            }
        }
        let records = host
            .bench
            .approaches
            .iter()
            .filter_map(|name| Some((name.clone(), by_approach.remove(name)?)))
            .collect();
        let service_path = dir.join(SERVICE);
        let service: Option<Service> = service_path
            .is_file()
            .then(|| read_json(&service_path))
            .transpose()?;
        let bound = service.as_ref().map(|s| s.bound(&open));
        let cpu_path = dir.join("server-cpu.tsv");
        let mut server_cpu = if cpu_path.is_file() {
            crate::server_cpu::per_command(&cpu_path)?
        } else {
            BTreeMap::new()
        };
        // The timed runs are the last `runs` of each (warm-up runs first).
        for runs in server_cpu.values_mut() {
            let keep = runs.len().min(host.bench.runs as usize);
            runs.drain(..runs.len() - keep);
        }
        Ok(Cell {
            dir: dir.to_owned(),
            rate: open.rate,
            host,
            records,
            bound,
            service,
            server_cpu,
        })
    }

    /// An approach's request latencies, pooled over the rounds `rounds`
    /// (indexes into its records).
    pub fn pooled(records: &[Record], rounds: impl IntoIterator<Item = usize>) -> Percentiles {
        Percentiles::of(
            rounds
                .into_iter()
                .filter_map(|i| records.get(i))
                .flat_map(|r| r.request_latency_us.iter().copied()),
        )
    }
}

/// Writes an open-loop cell's `table.md` and `README.md`.
pub fn write_cell(dir: &Path) -> Result<()> {
    let cell = Cell::read(dir)?;
    let table = render::cell(&cell);
    write(&dir.join("table.md"), &table)?;
    write(
        &dir.join("README.md"),
        &crate::run_dir::run_readme(dir, &cell.host, &table, &[]),
    )
}

/// Writes a rate sweep's summary at the top of its run directory: the
/// table of p50 and p99 by rate, the capacity at the SLO, `latency.svg`.
pub fn write_sweep(dir: &Path) -> Result<()> {
    let mut cells: Vec<Cell> = crate::list_named(dir, "rate-", "")?
        .into_iter()
        .filter(|p| p.join("host.json").is_file())
        .map(|p| Cell::read(&p))
        .collect::<Result<_>>()?;
    if cells.is_empty() {
        return Err(ReportError::NoRounds(dir.to_owned()));
    }
    cells.sort_by(|a, b| a.rate.total_cmp(&b.rate));
    let mut host = cells[0].host.clone();
    host.bench.rates = cells.iter().map(|c| c.rate).collect();
    write(&dir.join("host.json"), &crate::run_dir::to_json(&host))?;
    let slo = Slo::of(&cells, host.bench.slo_ms);
    let table = render::sweep(&cells, slo.as_ref());
    write(&dir.join("table.md"), &table)?;
    let picture = (
        "latency.svg",
        "request latency p99 against the offered rate",
    );
    plot::latency(&cells, slo.as_ref(), &dir.join(picture.0))?;
    write(
        &dir.join("README.md"),
        &crate::run_dir::run_readme(dir, &host, &table, &[picture]),
    )
}

/// The latency objective a sweep's capacities are read at.
#[derive(Debug, Clone, PartialEq)]
pub struct Slo {
    pub us: u64,
    /// Where it comes from, for the table.
    pub source: String,
}

impl Slo {
    /// `--slo`, or twice the unloaded latency of the serial run's service
    /// times; `None` with neither.
    pub fn of(cells: &[Cell], slo_ms: Option<f64>) -> Option<Slo> {
        if let Some(ms) = slo_ms {
            return Some(Slo {
                us: (ms * 1e3) as u64,
                source: "--slo".into(),
            });
        }
        let unloaded = cells.iter().find_map(|c| c.service.as_ref())?.unloaded_us();
        Some(Slo {
            us: 2 * unloaded,
            source: format!(
                "twice the unloaded latency, a lone request's time in the ideal queue ({:.1} ms)",
                unloaded as f64 / 1e3
            ),
        })
    }
}

/// `rate-R`: a cell's folder, the rate as the command line wrote it.
pub fn cell_name(rate: f64) -> String {
    format!("rate-{rate}")
}
