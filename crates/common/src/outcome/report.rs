//! Building a run's [`Report`] (the type is `model::report`): the rows of
//! each query as they stream in ([`RowSink`]), the results put in order,
//! the process's CPU time and memory.

use super::execution::{Clock, Execution, Sent};
use super::finished::{Finished, FirstRow};
use crate::Report;
use crate::error::Error;
use crate::queries::Query;

/// Collects one query's rows as they stream in: the count, the digest and
/// the first row. Every driver feeds it the same text values, so all
/// produce the same [`Finished`] for the same rows.
#[derive(Debug)]
pub struct RowSink {
    clock: Clock,
    digest: crate::digest::Digest,
    rows: u64,
    first_row: Option<FirstRow>,
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
            self.first_row = Some(FirstRow::new(values));
        }
        self.rows += 1;
    }

    pub fn finish(
        self,
        query: &Query,
        sent: Sent,
        finished_us: u64,
        connection_id: Option<u64>,
    ) -> Finished {
        Finished {
            index: query.index,
            rows: self.rows,
            digest: self.digest,
            first_row: self.first_row,
            submitted_us: sent.submitted_us,
            connected_us: sent.connected_us,
            first_row_us: self.first_row_us.unwrap_or(finished_us),
            finished_us,
            connection_id,
            server: None,
            moved_from: None,
        }
    }
}

/// The report of an execution: `results` put in the order of the work's
/// queries, checking that each query ran exactly once, each made into the
/// report's form only now, after the clock; with the process's CPU time
/// and memory.
pub fn assemble(
    approach: &str,
    conn: &crate::ConnConfig,
    work: &crate::workload::Work,
    results: Vec<Finished>,
    exec: &Execution,
    started: ResourceUsage,
) -> Result<Report, Error> {
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
    let results = queries
        .iter()
        .zip(slots)
        .map(|(q, slot)| {
            slot.map(|f| f.into_result(q))
                .ok_or_else(|| Error::Internal(format!("query {} has no result (lost)", q.label)))
        })
        .collect::<Result<Vec<_>, Error>>()?;
    Ok(Report {
        approach: approach.to_owned(),
        driver: String::new(),
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
        cpu_user_us: usage.user_us,
        cpu_sys_us: usage.sys_us,
        max_rss_kib: usage.max_rss_kib,
        run_cpu_user_us: usage.user_us.saturating_sub(started.user_us),
        run_cpu_sys_us: usage.sys_us.saturating_sub(started.sys_us),
        condensed: None,
    })
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
