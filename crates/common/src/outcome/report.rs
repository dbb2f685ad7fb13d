//! Building a run's [`Report`] (the type is `model::report`): the rows of
//! each query as they stream in ([`RowSink`]), the results put in order,
//! the process's CPU time and memory.

use super::execution::{Clock, Execution, Sent};
use crate::error::Error;
use crate::{QueryResult, Report};

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
            server: None,
            moved_from: None,
        }
    }
}

/// The report of an execution: `results` put in the order of the work's
/// queries, checking that each query ran exactly once, with the process's
/// CPU time and memory.
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
