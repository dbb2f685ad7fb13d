//! What every approach returns and prints: per query the row count, digest,
//! first row and timing; per run the wall time, the peak number of
//! connections in use, and the process's own CPU time and peak memory.
//!
//! The text output is what the blog's scripts printed (each query's first row
//! and row count) plus a summary line; `--json` prints the [`Report`] instead.

use std::io::{self, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::error::Error;
use crate::queries::Query;

/// The instant a run started; results carry offsets from it.
#[derive(Debug, Clone, Copy)]
pub struct Clock(Instant);

impl Clock {
    pub fn start() -> Clock {
        Clock(Instant::now())
    }

    /// Microseconds since the start.
    pub fn offset_us(&self) -> u64 {
        u64::try_from(self.0.elapsed().as_micros()).unwrap_or(u64::MAX)
    }

    pub fn elapsed(&self) -> Duration {
        self.0.elapsed()
    }
}

/// When a query was submitted (the approach decided to run it) and when it
/// had its connection and was sent: microseconds from the execution's start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sent {
    pub submitted_us: u64,
    pub connected_us: u64,
}

/// Starts one query for either driver, once it has its connection: counts
/// the connection in use, checks that the query fits the server's packet
/// limit, and stamps when it is sent.
pub fn begin_query<'e, C>(
    lease: &crate::pool::Lease<'_, C>,
    query: &Query,
    submitted_us: u64,
    exec: &'e Execution,
) -> Result<(GaugeGuard<'e>, Sent), Error> {
    let held = exec.gauge.hold();
    query.fits(lease.max_packet())?;
    let sent = Sent {
        submitted_us,
        connected_us: exec.clock.offset_us(),
    };
    Ok((held, sent))
}

/// Ends one query for either driver: the gauge drops before the connection
/// goes back to the pool (its next user counts it again), a connection the
/// failure broke is discarded, and the result is stamped with when the
/// last row arrived.
pub fn end_query<C>(
    mut lease: crate::pool::Lease<'_, C>,
    held: GaugeGuard<'_>,
    outcome: Result<RowSink, Error>,
    query: &Query,
    sent: Sent,
    exec: &Execution,
) -> Result<QueryResult, Error> {
    let finished_us = exec.clock.offset_us();
    if outcome.as_ref().is_err_and(Error::connection_lost) {
        lease.discard();
    }
    let connection_id = lease.id();
    drop(held);
    drop(lease);
    Ok(outcome?.finish(&query.label, sent, finished_us, Some(connection_id)))
}

/// One execution of the query list: the clock that times it and the gauge
/// of connections in use. Every approach starts it before scheduling the
/// first query and [`finish`](Execution::finish)es it as soon as the last
/// result is collected: closing connections (and dropping the pool or
/// runtime) is outside the timed region in every approach.
#[derive(Debug)]
pub struct Execution {
    pub clock: Clock,
    pub gauge: Gauge,
}

impl Execution {
    pub fn start() -> Execution {
        Execution {
            clock: Clock::start(),
            gauge: Gauge::default(),
        }
    }

    /// Stops the clock and builds the report (see [`Report::assemble`]).
    pub fn finish(
        &self,
        approach: &str,
        cfg: &crate::RunConfig,
        results: Vec<QueryResult>,
    ) -> Result<Report, Error> {
        Report::assemble(approach, cfg, results, self.clock, &self.gauge)
    }
}

/// Counts connections in use, and the most that were in use at once.
#[derive(Debug, Default)]
pub struct Gauge {
    current: AtomicUsize,
    peak: AtomicUsize,
}

impl Gauge {
    /// Marks one connection in use until the guard drops.
    pub fn hold(&self) -> GaugeGuard<'_> {
        let now = self.current.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak.fetch_max(now, Ordering::SeqCst);
        GaugeGuard(self)
    }

    pub fn peak(&self) -> usize {
        self.peak.load(Ordering::SeqCst)
    }
}

/// See [`Gauge::hold`].
#[derive(Debug)]
pub struct GaugeGuard<'a>(&'a Gauge);

impl Drop for GaugeGuard<'_> {
    fn drop(&mut self) {
        self.0.current.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The outcome of one query.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct QueryResult {
    pub label: String,
    pub rows: u64,
    /// See [`crate::digest`]: equal for equal row sets, whatever their order.
    pub digest: String,
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
            digest: self.digest.hex(),
            first_row: self.first_row,
            submitted_us: sent.submitted_us,
            connected_us: sent.connected_us,
            first_row_us: self.first_row_us.unwrap_or(finished_us),
            finished_us,
            connection_id,
        }
    }
}

/// One run of one approach.
#[derive(Debug, Clone, Serialize)]
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
    /// The most connections the run had in use at once, counted by the client.
    pub peak_connections: usize,
    /// The whole process's CPU time and peak resident memory at the end.
    pub cpu_user_us: u64,
    pub cpu_sys_us: u64,
    pub max_rss_kib: u64,
}

impl Report {
    /// Puts `results` in the order of `queries`, checking that each query ran
    /// exactly once.
    pub fn assemble(
        approach: &str,
        cfg: &crate::RunConfig,
        mut results: Vec<QueryResult>,
        clock: Clock,
        gauge: &Gauge,
    ) -> Result<Report, Error> {
        let wall_us = clock.offset_us();
        let queries = &cfg.queries;
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
        let usage = ResourceUsage::of_self();
        Ok(Report {
            approach: approach.to_owned(),
            workload: cfg.workload,
            budget: cfg.conn.budget,
            server: cfg.conn.url.to_string(),
            queries: results,
            wall_us,
            peak_connections: gauge.peak(),
            cpu_user_us: usage.user_us,
            cpu_sys_us: usage.sys_us,
            max_rss_kib: usage.max_rss_kib,
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
                q.label, q.rows, q.digest, first
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
            self.peak_connections,
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

/// CPU time and peak memory of this process, from `getrusage`.
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

/// Every query's result, or the one error that explains the failure.
///
/// One cause often fails several queries: a killed session or a stopped
/// server also fails the queries that later take a connection it broke, and
/// those, listed first, would hide it. So the earliest query failure wins;
/// errors not tied to a moment come after, in the order given, and echoes
/// ([`Error::is_echo`]: stopped because of another failure) last.
pub fn collect_results(
    outcomes: impl IntoIterator<Item = Result<QueryResult, Error>>,
) -> Result<Vec<QueryResult>, Error> {
    let mut results = Vec::new();
    let mut errors = Vec::new();
    for outcome in outcomes {
        match outcome {
            Ok(r) => results.push(r),
            Err(e) => errors.push(e),
        }
    }
    let cause = (0..errors.len()).min_by_key(|&i| {
        let e = &errors[i];
        (e.is_echo(), e.at().is_none(), e.at(), i)
    });
    match cause {
        Some(i) => Err(errors.swap_remove(i)),
        None => Ok(results),
    }
}

/// A query's thread, or why the OS would not start it.
pub type Started<'scope> =
    io::Result<std::thread::ScopedJoinHandle<'scope, Result<QueryResult, Error>>>;

/// Joins every thread of a thread-per-query approach (all of them, even
/// after a failure, so none outlives the run) and returns the results, or
/// the error [`collect_results`] picks. A thread the OS refused to start
/// (`Builder::spawn_scoped`'s error: thousands of queries) fails its query
/// with one clear error instead of a panic.
pub fn join_all(handles: Vec<(&Query, Started<'_>)>) -> Result<Vec<QueryResult>, Error> {
    let outcomes: Vec<_> = handles
        .into_iter()
        .map(|(q, h)| match h {
            Ok(h) => h.join().unwrap_or_else(|p| Err(panicked(&q.label, p))),
            Err(source) => Err(Error::Io {
                what: format!("cannot start a thread for query {}", q.label),
                source,
            }),
        })
        .collect();
    collect_results(outcomes)
}

/// The error for a worker (thread or task) that panicked while running `label`.
pub fn panicked(label: &str, payload: Box<dyn std::any::Any + Send>) -> Error {
    let reason = payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panic".to_owned());
    Error::Worker {
        label: label.to_owned(),
        reason,
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;
    use crate::error::DbError;

    fn lost(label: &str, at: Instant) -> Result<QueryResult, Error> {
        Err(Error::Query {
            label: label.into(),
            at,
            source: DbError {
                message: "broken pipe".into(),
                code: None,
                lost: true,
            },
        })
    }

    fn label(e: Error) -> String {
        match e {
            Error::Query { label, .. } | Error::Worker { label, .. } => label,
            other => panic!("unexpected {other}"),
        }
    }

    #[test]
    fn the_earliest_failure_is_reported_whatever_the_order() {
        let t0 = Instant::now();
        let later = t0 + Duration::from_millis(5);
        let outcomes = vec![lost("F", later), lost("K", t0), lost("M", later)];
        let err = collect_results(outcomes).expect_err("failed");
        assert_eq!(label(err), "K");
        assert!(
            collect_results(vec![lost("K", t0)])
                .expect_err("failed")
                .to_string()
                .contains("query K failed")
        );
    }

    #[test]
    fn failures_not_tied_to_a_moment_come_after_query_failures() {
        let worker = Err(Error::Worker {
            label: "A".into(),
            reason: "panic".into(),
        });
        let err = collect_results(vec![worker, lost("B", Instant::now())]).expect_err("failed");
        assert_eq!(label(err), "B");
        let worker = Err(Error::Worker {
            label: "A".into(),
            reason: "panic".into(),
        });
        assert_eq!(
            label(collect_results(vec![worker]).expect_err("failed")),
            "A"
        );
        assert!(collect_results(Vec::new()).expect("no failure").is_empty());
    }
}
