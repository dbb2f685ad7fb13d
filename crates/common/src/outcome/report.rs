//! One query's result, one run's [`Report`], and their text and JSON output.

use std::io::{self, Write};

use serde::{Deserialize, Serialize};

use super::execution::{Clock, Execution, Sent};
use crate::error::Error;

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
}

/// Collects one query's rows as they stream in: the count, the digest and
/// the first row. Both drivers feed it the same text values, so both
/// produce the same [`QueryResult`] for the same rows.
#[derive(Debug)]
pub struct RowSink {
    clock: Clock,
    digest: crate::digest::Digest,
    rows: u64,
    first_row: Option<Vec<Option<String>>>,
    first_row_us: Option<u64>,
}

impl RowSink {
    /// A sink that stamps the first row's arrival on `exec`'s clock.
    pub fn new(exec: &Execution) -> RowSink {
        RowSink {
            clock: exec.clock,
            digest: crate::digest::Digest::default(),
            rows: 0,
            first_row: None,
            first_row_us: None,
        }
    }

    /// Adds one row, given as its values in text form (`None` for NULL).
    pub fn row(&mut self, values: &[Option<&[u8]>]) {
        let mut hasher = crate::digest::RowHasher::default();
        for value in values {
            hasher.value(*value);
        }
        self.digest.add_row(hasher);
        if self.rows == 0 {
            self.first_row_us = Some(self.clock.offset_us());
            let text = |v: &Option<&[u8]>| v.map(|v| String::from_utf8_lossy(v).into_owned());
            self.first_row = Some(values.iter().map(text).collect());
        }
        self.rows += 1;
    }

    pub fn finish(
        self,
        label: &str,
        sent: Sent,
        finished_us: u64,
        connection_id: Option<u64>,
    ) -> QueryResult {
        QueryResult {
            label: label.to_owned(),
            rows: self.rows,
            digest: Some(self.digest.hex()),
            first_row: self.first_row,
            submitted_us: sent.submitted_us,
            connected_us: sent.connected_us,
            first_row_us: self.first_row_us.unwrap_or(finished_us),
            finished_us,
            connection_id,
        }
    }
}

/// One run of one approach: what `--json` prints, in every approach, Rust
/// and Python, and what the renderer reads back (the same type both ways).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Report {
    pub approach: String,
    /// `report`, `point` or `sleep`.
    pub workload: crate::workload::Workload,
    pub budget: usize,
    /// The server, password redacted.
    pub server: String,
    /// In query order.
    pub queries: Vec<QueryResult>,
    pub wall_us: u64,
    /// The most connections the run had in use at once, counted by the
    /// client's pool: every Rust approach; `None` from the Python scripts,
    /// whose drivers do not count (the budget test counts on the server).
    pub peak_connections: Option<usize>,
    /// The whole process's CPU time and peak resident memory at the end.
    pub cpu_user_us: u64,
    pub cpu_sys_us: u64,
    pub max_rss_kib: u64,
    /// The process's CPU time between the wall clock's two points: the
    /// client's cost of the work itself, without start-up and output.
    pub run_cpu_user_us: u64,
    pub run_cpu_sys_us: u64,
}

impl Report {
    /// Puts `results` in the order of `queries`, checking that each query ran
    /// exactly once.
    pub fn assemble(
        approach: &str,
        conn: &crate::ConnConfig,
        work: &crate::workload::Work,
        mut results: Vec<QueryResult>,
        exec: &Execution,
        started: ResourceUsage,
    ) -> Result<Report, Error> {
        let wall_us = exec.clock.offset_us();
        let usage = ResourceUsage::of_self();
        let queries = work.queries();
        if results.len() != queries.len() {
            return Err(Error::Internal(format!(
                "{} results for {} queries",
                results.len(),
                queries.len()
            )));
        }
        let order: std::collections::HashMap<&str, usize> = queries
            .iter()
            .enumerate()
            .map(|(i, q)| (q.label.as_str(), i))
            .collect();
        results.sort_by_key(|r| order.get(r.label.as_str()).copied());
        for (q, r) in queries.iter().zip(&results) {
            if q.label != r.label {
                return Err(Error::Internal(format!(
                    "query {} has no result (lost or run twice)",
                    q.label
                )));
            }
        }
        Ok(Report {
            approach: approach.to_owned(),
            workload: work.workload(),
            budget: conn.budget,
            server: conn.url.to_string(),
            queries: results,
            wall_us,
            peak_connections: Some(exec.gauge.peak()),
            cpu_user_us: usage.user_us,
            cpu_sys_us: usage.sys_us,
            max_rss_kib: usage.max_rss_kib,
            run_cpu_user_us: usage.user_us.saturating_sub(started.user_us),
            run_cpu_sys_us: usage.sys_us.saturating_sub(started.sys_us),
        })
    }

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
        )
    }

    pub fn write_json(&self, out: &mut impl Write) -> io::Result<()> {
        serde_json::to_writer_pretty(&mut *out, self)?;
        writeln!(out)
    }
}

#[derive(Debug, Clone, Copy)]
pub struct ResourceUsage {
    pub user_us: u64,
    pub sys_us: u64,
    pub max_rss_kib: u64,
}

impl ResourceUsage {
    pub fn of_self() -> ResourceUsage {
        let mut ru = std::mem::MaybeUninit::<libc::rusage>::zeroed();
        // SAFETY: getrusage fills the struct it is given; zeroed is a valid rusage.
        #[allow(unsafe_code)]
        let ru = unsafe {
            libc::getrusage(libc::RUSAGE_SELF, ru.as_mut_ptr());
            ru.assume_init()
        };
        let us = |tv: libc::timeval| (tv.tv_sec as u64) * 1_000_000 + tv.tv_usec as u64;
        ResourceUsage {
            user_us: us(ru.ru_utime),
            sys_us: us(ru.ru_stime),
            // Linux reports ru_maxrss in KiB.
            max_rss_kib: ru.ru_maxrss as u64,
        }
    }
}
