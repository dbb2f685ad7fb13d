//! One query's result and one run's [`Report`]: what every approach, Rust
//! and Python, prints with `--json`, and what the renderer reads back, the
//! same type both ways; and the blog's text output.

use std::io::{self, Write};

use serde::{Deserialize, Serialize};

/// One query's result, as every approach (Rust and Python) reports it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct QueryResult {
    pub label: String,
    pub rows: u64,
    /// See [`crate::digest`]: equal for equal row sets, whatever their order.
    /// Always computed by the Rust approaches; `None` from a Python script
    /// run without `--digests` (pure-Python hashing is too slow for timed
    /// runs).
    pub digest: Option<String>,
    /// The first row in text form (`None` for SQL NULL); empty result: `None`.
    pub first_row: Option<Vec<Option<String>>>,
    /// Offsets from the execution's start, in microseconds, the same in
    /// every approach: when the approach decided to run the query (before
    /// any wait for a permit, a worker or a connection), when it had its
    /// connection and was sent, when its first row arrived (the end of the
    /// result for an empty one) and when its last row did. Queue wait is
    /// `connected - submitted`, time to first row `first_row - connected`.
    pub submitted_us: u64,
    pub connected_us: u64,
    pub first_row_us: u64,
    pub finished_us: u64,
    /// The server's id of the connection that ran it.
    pub connection_id: Option<u64>,
    /// Which of the run's servers ran it, as an index into
    /// [`Report::servers`]; only in a run with more than one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<usize>,
    /// The server it was routed to first, when that server was lost during
    /// the run and the query ran again on `server`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub moved_from: Option<usize>,
    /// In an open-loop run only: its request, from 0, and that request's
    /// due time on the run's clock. Its latency is `finished - due`;
    /// `submitted - due` is how late the approach released it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_us: Option<u64>,
    /// An open-loop query still running, or not yet started, at the run's
    /// drain deadline: cancelled on the server, with no rows; its times
    /// are the deadline's.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unfinished: bool,
}

/// One run of one approach: what `--json` prints, in every approach, Rust
/// and Python, and what the renderer reads back (the same type both ways).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Report {
    pub approach: String,
    /// The client library that ran the queries (`mysql` or `wire` for the
    /// thread-based approaches, `sqlx`, `pymysql`, `aiomysql`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub driver: String,
    /// `report`, `point` or `sleep`.
    pub workload: crate::workload::Workload,
    pub budget: usize,
    /// The server, password redacted (the first, with several).
    pub server: String,
    /// Every server of a run with more than one (read replicas), passwords
    /// redacted, in the order queries name them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub servers: Vec<String>,
    /// In query order.
    pub queries: Vec<QueryResult>,
    pub wall_us: u64,
    /// The most connections the run had in use at once, counted by the
    /// client's pool: every Rust approach; `None` from the Python scripts,
    /// whose drivers do not count (the budget test counts on the server).
    pub peak_connections: Option<usize>,
    /// The most threads the process ran: in Rust, sampled ten times a
    /// second by the memory watchdog (absent with `--max-memory 0`); in
    /// Python, the interpreter's threads as each result came in (a sampler
    /// thread would take the GIL from the run it measures).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peak_threads: Option<usize>,
    /// The whole process's CPU time and peak resident memory at the end.
    pub cpu_user_us: u64,
    pub cpu_sys_us: u64,
    pub max_rss_kib: u64,
    /// The process's CPU time between the wall clock's two points: the
    /// client's cost of the work itself, without start-up and output.
    pub run_cpu_user_us: u64,
    pub run_cpu_sys_us: u64,
    /// Set only where a long report is stored beside its results (the
    /// `bench` driver's profile runs): `queries` is then empty and this
    /// holds what the renderer needs of them. No approach sets it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub condensed: Option<Condensed>,
    /// An open-loop run's arrivals (`--arrivals`); `None`: one batch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open_loop: Option<OpenLoop>,
}

/// An open-loop run's settings, as its report states them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenLoop {
    /// Requests per second, offered.
    pub rate: f64,
    pub requests: usize,
    pub process: crate::arrivals::Process,
    pub seed: u64,
    /// Queries per request.
    pub per_request: usize,
    /// How long the run could go on after its last request was due; `None`
    /// where there is no such deadline (the Python scripts, so far).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drain_timeout_s: Option<u64>,
}

impl OpenLoop {
    pub fn of(schedule: &crate::arrivals::Schedule) -> OpenLoop {
        OpenLoop {
            rate: schedule.arrivals.rate,
            requests: schedule.requests(),
            process: schedule.arrivals.process,
            seed: schedule.arrivals.seed,
            per_request: schedule.per_request,
            drain_timeout_s: Some(schedule.drain_timeout.as_secs()),
        }
    }
}

/// A long report's queries, condensed for storage (50,000 point lookups
/// would otherwise commit megabytes per approach): how many ran, an
/// order-independent fingerprint of every (label, row count), so that runs
/// can still be checked for the same rows, and their latency percentiles.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Condensed {
    pub count: usize,
    pub rows_fingerprint: String,
    /// `None` when a query lacked its timestamps.
    pub latency: Option<Latency>,
}

/// Per-query times of one run, in milliseconds: queue wait (submitted to
/// connected) and time to first row (connected to first row) at the
/// median, and latency (submitted to last row: what the caller of one
/// query waits, queueing included) at the median, the 95th percentile and
/// the maximum. Percentiles are nearest-rank.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Latency {
    pub queue_p50_ms: f64,
    pub first_row_p50_ms: f64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub max_ms: f64,
}

impl Report {
    pub fn total_rows(&self) -> u64 {
        self.queries.iter().map(|q| q.rows).sum()
    }

    /// The blog's output: each query's first row and row count, then a summary.
    pub fn write_text(&self, out: &mut impl Write) -> io::Result<()> {
        for q in &self.queries {
            let first = match &q.first_row {
                None => "-".to_owned(),
                Some(row) => {
                    let cells: Vec<&str> =
                        row.iter().map(|v| v.as_deref().unwrap_or("NULL")).collect();
                    format!("({})", cells.join(", "))
                }
            };
            writeln!(
                out,
                "{}: {:>5} rows  digest {}  first {}",
                q.label,
                q.rows,
                q.digest.as_deref().unwrap_or("-"),
                first
            )?;
        }
        writeln!(
            out,
            "{}: {} queries, {} rows in {:.3} s; budget {}, peak {} connections; cpu {:.3} s user + {:.3} s sys; max rss {} KiB; server {}",
            self.approach,
            self.queries.len(),
            self.total_rows(),
            self.wall_us as f64 / 1e6,
            self.budget,
            self.peak_connections.map_or("?".into(), |n| n.to_string()),
            self.cpu_user_us as f64 / 1e6,
            self.cpu_sys_us as f64 / 1e6,
            self.max_rss_kib,
            self.server,
        )?;
        if !self.driver.is_empty() {
            writeln!(out, "{}: driver {}", self.approach, self.driver)?;
        }
        if let (Some(open), Some(s)) = (&self.open_loop, crate::latency::summarize(self)) {
            writeln!(
                out,
                "{}: open loop: {} requests of {} queries offered at {}/s ({}), achieved {:.2}/s; request latency p50/p90/p99/p99.9/max {}; query latency {}; dispatch lag p99 {:.2} ms",
                self.approach,
                s.requests,
                open.per_request,
                s.offered_rate,
                open.process.name(),
                s.achieved_rate,
                s.request_latency.in_ms(),
                s.query_latency.in_ms(),
                s.dispatch_lag.p99_us as f64 / 1e3,
            )?;
            if s.unfinished > 0 {
                writeln!(
                    out,
                    "{}: {} of {} requests unfinished at the drain timeout ({} s after the last was due): cancelled on the server, left out of the latencies",
                    self.approach,
                    s.unfinished,
                    s.requests,
                    open.drain_timeout_s.unwrap_or_default()
                )?;
            }
        }
        for (server, moved) in self.moved() {
            let name = self.servers.get(server).map_or("?", String::as_str);
            writeln!(
                out,
                "{}: {moved} queries moved from server {} ({name}), lost during the run",
                self.approach,
                server + 1
            )?;
        }
        Ok(())
    }

    /// How many queries moved from each server lost during the run, by
    /// server index.
    pub fn moved(&self) -> std::collections::BTreeMap<usize, usize> {
        let mut moved = std::collections::BTreeMap::new();
        for from in self.queries.iter().filter_map(|q| q.moved_from) {
            *moved.entry(from).or_insert(0) += 1;
        }
        moved
    }

    /// How many queries ran on each server of a run on several, by server
    /// index (as long as `servers`); `Err` names the first query that names
    /// no server of the run.
    pub fn per_server(&self) -> Result<Vec<usize>, String> {
        let mut ran = vec![0; self.servers.len()];
        for q in &self.queries {
            match q.server.and_then(|s| ran.get_mut(s)) {
                Some(n) => *n += 1,
                None => return Err(q.label.clone()),
            }
        }
        Ok(ran)
    }

    pub fn write_json(&self, out: &mut impl Write) -> io::Result<()> {
        serde_json::to_writer_pretty(&mut *out, self)?;
        writeln!(out)
    }
}
