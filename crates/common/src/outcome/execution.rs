//! One execution's clock and gauge, and the steps every driver takes around
//! one query (count the connection, check the packet limit, stamp).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use super::finished::Finished;
use super::report::{ResourceUsage, RowSink};
use crate::Report;
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
/// last row arrived and, in a run on several servers, which one ran it.
pub fn end_query<C>(
    mut lease: crate::pool::Lease<'_, C>,
    held: GaugeGuard<'_>,
    outcome: Result<RowSink, Error>,
    query: &Query,
    sent: Sent,
    server: Option<usize>,
    exec: &Execution,
) -> Result<Finished, Error> {
    let finished_us = exec.clock.offset_us();
    if outcome.as_ref().is_err_and(Error::connection_lost) {
        lease.discard();
    }
    let connection_id = lease.id();
    drop(held);
    drop(lease);
    let mut result = outcome?.finish(query, sent, finished_us, Some(connection_id));
    result.server = server;
    Ok(result)
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
    /// The process's CPU time when the clock started.
    started: ResourceUsage,
}

impl Execution {
    pub fn start() -> Execution {
        let started = ResourceUsage::of_self();
        Execution {
            clock: Clock::start(),
            gauge: Gauge::default(),
            started,
        }
    }

    /// Stops the clock and builds the report (see [`super::assemble`]).
    pub fn finish(
        &self,
        approach: &str,
        driver: &str,
        conn: &crate::ConnConfig,
        work: &crate::workload::Work,
        results: Vec<Finished>,
    ) -> Result<Report, Error> {
        let mut report =
            super::report::assemble(approach, conn, work, results, self, self.started)?;
        report.driver = driver.to_owned();
        Ok(report)
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
