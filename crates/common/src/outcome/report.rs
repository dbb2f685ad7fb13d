//! Building a run's [`Report`] (the type is `model::report`) when its
//! clock stops: the results put in order, the process's CPU time and
//! memory.

use super::execution::Execution;
use super::finished::Finished;
use super::usage::ResourceUsage;
use crate::Report;
use crate::error::Error;

impl Execution {
    /// Stops the clock and builds the report (see [`assemble`]).
    pub fn finish(
        &self,
        approach: &str,
        driver: &str,
        conn: &crate::ConnConfig,
        work: &crate::workload::Work,
        results: Vec<Finished>,
    ) -> Result<Report, Error> {
        self.drain.disarm();
        assemble(approach, driver, conn, work, results, self)
    }
}

/// The report of an execution: `results` put in the order of the work's
/// queries, checking that each query ran exactly once, each made into the
/// report's form only now, after the clock; with the process's CPU time
/// and memory.
pub fn assemble(
    approach: &str,
    driver: &str,
    conn: &crate::ConnConfig,
    work: &crate::workload::Work,
    results: Vec<Finished>,
    exec: &Execution,
) -> Result<Report, Error> {
    let started = exec.started;
    let wall_us = exec.clock.offset_us();
    let usage = ResourceUsage::of_self();
    let queries = work.queries();
    let mut slots: Vec<Option<Finished>> = vec![None; queries.len()];
    for finished in results {
        let index = finished.index;
        match slots.get_mut(index) {
            Some(slot @ None) => *slot = Some(finished),
            Some(Some(_)) => {
                return Err(Error::Internal(format!(
                    "query {} ran twice",
                    queries[index].label
                )));
            }
            None => {
                return Err(Error::Internal(format!(
                    "a result for query #{index} of {}",
                    queries.len()
                )));
            }
        }
    }
    let drained = super::drained().is_some();
    let results = queries
        .iter()
        .zip(slots)
        .map(|(q, slot)| match slot {
            Some(f) => Ok(f.into_result(q, work.schedule())),
            // Cancelled at an open loop's drain deadline: counted.
            None if drained => Ok(unfinished(q, work, wall_us)),
            None => Err(Error::Internal(format!(
                "query {} has no result (lost)",
                q.label
            ))),
        })
        .collect::<Result<Vec<_>, Error>>()?;
    Ok(Report {
        approach: approach.to_owned(),
        driver: driver.to_owned(),
        workload: work.workload(),
        budget: conn.budget,
        server: conn.url().to_string(),
        servers: if conn.servers.len() > 1 {
            conn.servers.iter().map(ToString::to_string).collect()
        } else {
            Vec::new()
        },
        queries: results,
        wall_us,
        peak_connections: Some(exec.gauge.peak()),
        peak_threads: limits::memory::peak_threads(),
        cpu_user_us: usage.user_us,
        cpu_sys_us: usage.sys_us,
        max_rss_kib: usage.max_rss_kib,
        run_cpu_user_us: usage.user_us.saturating_sub(started.user_us),
        run_cpu_sys_us: usage.sys_us.saturating_sub(started.sys_us),
        condensed: None,
        open_loop: work.schedule().map(model::report::OpenLoop::of),
    })
}

/// The report of query `q`, still running or not started at the drain
/// deadline: no rows, released no sooner than due, its times the run's end.
fn unfinished(q: &crate::Query, work: &crate::workload::Work, end_us: u64) -> crate::QueryResult {
    let schedule = work.schedule();
    crate::QueryResult {
        label: q.label.clone(),
        rows: 0,
        digest: None,
        first_row: None,
        submitted_us: work.due_us(q.index),
        connected_us: end_us,
        first_row_us: end_us,
        finished_us: end_us,
        connection_id: None,
        server: None,
        moved_from: None,
        request: schedule.map(|s| s.request_of(q.index)),
        due_us: schedule.map(|s| s.due_us(q.index)),
        unfinished: true,
    }
}
