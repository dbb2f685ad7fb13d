//! The workloads: which query list an approach runs. The list is built
//! once, here, for every approach (and mirrored by
//! `scripts/python/dbio/workload.py`); approach crates do not change per
//! workload.
//!
//! - `report`: the blog's 26 report queries (the server's CPU dominates);
//! - `point`: `--count` primary-key lookups on `employees`, keys drawn
//!   deterministically from the loaded dataset's key range, literal values
//!   over the text protocol (the client and the round trip dominate);
//! - `sleep`: `--count` queries that each wait `--sleep-ms` on the server
//!   without using its CPU (pure waiting: concurrency up to the budget is
//!   free).
//!
//! With `--arrivals` the run is an open loop ([`crate::arrivals`]): the list
//! holds `--requests` requests, each the whole report (or dashboard), or
//! `--fanout` lookups or sleeps, due on the arrival schedule.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

mod open;

pub use open::{DEFAULT_DRAIN_TIMEOUT, DEFAULT_REQUESTS, MAX_DRAIN_TIMEOUT, OpenLoop};

use crate::arrivals::{self, Process, Schedule};
use crate::error::Error;
use crate::queries::{self, Query};

/// Which query list to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Workload {
    Report,
    Point,
    Sleep,
}

impl Workload {
    pub fn name(self) -> &'static str {
        match self {
            Workload::Report => "report",
            Workload::Point => "point",
            Workload::Sleep => "sleep",
        }
    }
}

/// The workload settings every binary flattens.
#[derive(Debug, Clone, clap::Args)]
pub struct WorkloadArgs {
    /// report: the blog's 26 queries; point: --count primary-key lookups;
    /// sleep: --count queries that wait --sleep-ms on the server.
    #[arg(long, env = "DBIO_WORKLOAD", value_enum, default_value_t = Workload::Report)]
    pub workload: Workload,

    /// How many queries, for point (default 10000) and sleep (default 100).
    #[arg(long, env = "DBIO_COUNT", value_name = "N")]
    pub count: Option<u32>,

    /// How long each sleep query waits on the server, in milliseconds
    /// (default 50); for --workload sleep only.
    #[arg(long, env = "DBIO_SLEEP_MS", value_name = "MS")]
    pub sleep_ms: Option<u32>,

    /// The report's queries (default: queries/report.sql, built in): a
    /// template, `{}` for the LIKE prefix; or a dashboard, your own
    /// statements separated by `;`, run on read-only sessions.
    #[arg(long, value_name = "FILE")]
    pub queries: Option<PathBuf>,

    /// Run a dashboard's statements on sessions that may write. Each
    /// statement then runs once per run (once per round in bench, once
    /// per request with --arrivals).
    #[arg(long, env = "DBIO_ALLOW_WRITES")]
    pub allow_writes: bool,

    /// Open loop: requests arrive at RATE a second (digits, a fraction
    /// allowed) whether or not earlier ones have finished, and each query's
    /// latency counts from its request's due time. Without it: one batch,
    /// every query due at once. One rate per run; bench takes a list
    /// (`--arrivals 1,2,4`) and sweeps it.
    #[arg(long, env = "DBIO_ARRIVALS", value_name = "RATE", value_delimiter = ',',
          value_parser = arrivals::parse_rate)]
    pub arrivals: Vec<f64>,

    /// How many requests an open-loop run makes (default 100).
    #[arg(long, env = "DBIO_REQUESTS", value_name = "N")]
    pub requests: Option<u32>,

    /// How the arrivals are spaced (default poisson).
    #[arg(long, env = "DBIO_ARRIVAL_PROCESS", value_enum, value_name = "PROCESS")]
    pub arrival_process: Option<Process>,

    /// The seed of the Poisson gaps (default fixed: every approach, in both
    /// languages, gets the same schedule).
    #[arg(long, env = "DBIO_ARRIVAL_SEED", value_name = "N")]
    pub arrival_seed: Option<u64>,

    /// Queries per request of an open-loop point or sleep run (default 1);
    /// a report request is the whole report.
    #[arg(long, env = "DBIO_FANOUT", value_name = "K")]
    pub fanout: Option<u32>,

    /// How long an open-loop run may go on after its last request is due
    /// (default 60): then what still runs is cancelled on the server and
    /// counted as unfinished.
    #[arg(long, env = "DBIO_DRAIN_TIMEOUT", value_name = "SECS")]
    pub drain_timeout: Option<u32>,
}

/// A workload and its query list, built together so that they cannot
/// disagree: what an approach executes.
#[derive(Debug, Clone, PartialEq)]
pub struct Work {
    workload: Workload,
    queries: Vec<Query>,
    /// The queries are the user's own statements (`--queries` with a
    /// dashboard): the run's sessions are read-only unless writes are
    /// allowed.
    dashboard: bool,
    /// An open-loop run's requests and their due times; `None`: one batch,
    /// every query due at 0.
    schedule: Option<Schedule>,
}

impl Work {
    /// The report workload over `queries` (the blog's, or a template's).
    pub fn report(mut queries: Vec<Query>) -> Work {
        for (index, q) in queries.iter_mut().enumerate() {
            q.index = index;
        }
        Work {
            workload: Workload::Report,
            queries,
            dashboard: false,
            schedule: None,
        }
    }

    /// The report workload over a dashboard's own statements.
    pub fn dashboard(queries: Vec<Query>) -> Work {
        Work {
            dashboard: true,
            ..Work::report(queries)
        }
    }

    /// An open-loop run's schedule ([`Work::open`]).
    pub fn schedule(&self) -> Option<&Schedule> {
        self.schedule.as_ref()
    }

    /// When query `index` is due, on the run's clock: 0 in one batch.
    pub fn due_us(&self, index: usize) -> u64 {
        self.schedule.as_ref().map_or(0, |s| s.due_us(index))
    }

    /// Whether the queries are a dashboard's ([`Work::dashboard`]).
    pub fn is_dashboard(&self) -> bool {
        self.dashboard
    }

    pub fn workload(&self) -> Workload {
        self.workload
    }

    pub fn queries(&self) -> &[Query] {
        &self.queries
    }

    pub fn len(&self) -> usize {
        self.queries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.queries.is_empty()
    }
}

/// A checked workload: its query list, or what is needed to build it.
#[derive(Debug, Clone, PartialEq)]
pub enum Plan {
    /// The list is known.
    Ready(Work),
    /// Point lookups: the list needs the dataset's key range first
    /// ([`KEY_RANGE`], asked once before the timed run).
    Point { count: u32, open: Option<OpenLoop> },
}

/// The query that finds the range point lookups draw their keys from.
pub const KEY_RANGE: &str = "SELECT MIN(emp_no), MAX(emp_no) FROM employees";

/// The dataset's load status, as `dbio load` records it.
pub const DATASET_STATUS: &str = "SELECT v FROM _dbio_meta WHERE k = 'status'";
/// What makes two loaded datasets the same one: in a run on several
/// servers, every server must answer this as the first does.
pub const DATASET_IDENTITY: &str = "SELECT GROUP_CONCAT(CONCAT(k, '=', v) ORDER BY k SEPARATOR ' ') \
     FROM _dbio_meta WHERE k IN ('source', 'generator', 'scale', 'seed')";

/// What makes a server itself: two URLs that reach one server (`127.0.0.1`
/// and `localhost`, a port through a proxy) answer this the same, and a run
/// on several servers refuses them (the budget is per server).
pub const SERVER_IDENTITY: &str = "SELECT @@hostname, @@port, @@datadir";
/// MySQL's own identity of a server, asked besides [`SERVER_IDENTITY`]
/// where the server has one (MariaDB has not: its error is ignored).
pub const SERVER_UUID: &str = "SELECT @@server_uuid";

/// Refuses a dataset whose load did not finish (a disk that filled up, a
/// killed `dbio load`): its tables may be empty or partial, and a run on
/// them would report rows that mean nothing. `probe` runs [`DATASET_STATUS`]
/// on a connection of its own, before the clock. A database without
/// `_dbio_meta` was not loaded by dbio (the real test_db, a user's own
/// copy) and is taken as it is.
pub fn check_dataset(
    probe: impl FnOnce(&str) -> Result<Vec<Option<String>>, Error>,
) -> Result<(), Error> {
    let status = match probe(DATASET_STATUS) {
        Ok(row) => row.into_iter().next().flatten(),
        Err(Error::Query { source, .. }) if source.server_code() == Some(1146) => return Ok(()),
        Err(e) => return Err(e),
    };
    match status.as_deref() {
        Some("complete") => Ok(()),
        Some(other) => Err(Error::Config(format!(
            "the dataset is incomplete: its load ended in state `{other}` (a load that did not finish, e.g. on a full disk); reload it with `dbio load --force`"
        ))),
        None => Err(Error::Config(
            "the dataset has no load status in _dbio_meta (a load that did not finish); reload it with `dbio load --force`".into(),
        )),
    }
}

pub const DEFAULT_POINT_COUNT: u32 = 10_000;
/// The most queries a run may have: every query is built before the run
/// (4294967295 sleeps once asked for 206 GB).
pub const MAX_COUNT: u32 = 1_000_000;
/// The longest a sleep query may wait on the server: an hour.
pub const MAX_SLEEP_MS: u32 = 3_600_000;
pub const DEFAULT_SLEEP_COUNT: u32 = 100;
pub const DEFAULT_SLEEP_MS: u32 = 50;

impl WorkloadArgs {
    /// Checks the settings; builds the list where nothing else is needed.
    pub fn validate(&self) -> Result<Plan, Error> {
        let plan = self.plan()?;
        if self.allow_writes && !plan.is_dashboard() {
            return Err(Error::Config(
                "--allow-writes applies to a dashboard (--queries FILE with statements of its own, no `{}`)".into(),
            ));
        }
        Ok(plan)
    }

    /// Whether the run's sessions are read-only: a dashboard's, unless
    /// writes are allowed.
    pub fn read_only(&self, plan: &Plan) -> bool {
        plan.is_dashboard() && !self.allow_writes
    }

    /// How long each sleep query waits: `--sleep-ms`, or its default.
    pub fn sleep_ms(&self) -> u32 {
        self.sleep_ms.unwrap_or(DEFAULT_SLEEP_MS)
    }

    fn plan(&self) -> Result<Plan, Error> {
        let Some(open) = self.open_loop()? else {
            return self.closed_plan(None);
        };
        let too_many = |per_request: u64| {
            (u64::from(open.arrivals.requests) * per_request > u64::from(MAX_COUNT)).then(|| {
                Error::Config(format!(
                    "--requests × the queries of a request must be at most {MAX_COUNT} (every query is built before the run)"
                ))
            })
        };
        // Checked before any list is built: a point or sleep request is
        // `fanout` queries; a report request, the template's or dashboard's.
        if self.workload != Workload::Report
            && let Some(e) = too_many(u64::from(open.fanout))
        {
            return Err(e);
        }
        Ok(
            match self.closed_plan(Some(open.arrivals.requests * open.fanout))? {
                Plan::Ready(work) => {
                    if let Some(e) = too_many(work.len() as u64) {
                        return Err(e);
                    }
                    Plan::Ready(work.open(open))
                }
                Plan::Point { count, .. } => Plan::Point {
                    count,
                    open: Some(open),
                },
            },
        )
    }

    /// The one batch's plan; `count` is an open loop's number of point or
    /// sleep queries (requests × fanout), in place of `--count`.
    fn closed_plan(&self, open_count: Option<u32>) -> Result<Plan, Error> {
        if self.sleep_ms.is_some() && self.workload != Workload::Sleep {
            return Err(Error::Config(
                "--sleep-ms applies to --workload sleep (it would be ignored)".into(),
            ));
        }
        if self.queries.is_some() && self.workload != Workload::Report {
            return Err(Error::Config(
                "--queries is a template for --workload report".into(),
            ));
        }
        let count = |default: u32| match open_count.or(self.count) {
            Some(n) if open_count.is_some() => Ok(n),
            Some(0) => Err(Error::Config("--count must be at least 1".into())),
            Some(n) if n > MAX_COUNT => Err(Error::Config(format!(
                "--count must be at most {MAX_COUNT} (every query is built before the run)"
            ))),
            Some(n) => Ok(n),
            None => Ok(default),
        };
        match self.workload {
            Workload::Report => {
                if self.count.is_some() {
                    return Err(Error::Config(
                        "--count applies to --workload point and sleep; the report is 26 queries"
                            .into(),
                    ));
                }
                let loaded = queries::load(self.queries.as_deref())?;
                Ok(Plan::Ready(if loaded.dashboard {
                    Work::dashboard(loaded.queries)
                } else {
                    Work::report(loaded.queries)
                }))
            }
            Workload::Point => Ok(Plan::Point {
                count: count(DEFAULT_POINT_COUNT)?,
                open: None,
            }),
            Workload::Sleep => {
                let ms = self.sleep_ms();
                if ms == 0 {
                    return Err(Error::Config("--sleep-ms must be at least 1".into()));
                }
                if ms > MAX_SLEEP_MS {
                    return Err(Error::Config(format!(
                        "--sleep-ms must be at most {MAX_SLEEP_MS} (an hour)"
                    )));
                }
                Ok(Plan::Ready(sleep(count(DEFAULT_SLEEP_COUNT)?, ms)))
            }
        }
    }
}

impl Plan {
    /// Whether the queries are a dashboard's own statements.
    pub fn is_dashboard(&self) -> bool {
        matches!(self, Plan::Ready(work) if work.is_dashboard())
    }

    /// The query list, given the answer to [`KEY_RANGE`] where it is needed
    /// (`key_range` is called only then).
    pub fn queries(
        self,
        key_range: impl FnOnce() -> Result<Vec<Option<String>>, Error>,
    ) -> Result<Work, Error> {
        match self {
            Plan::Ready(work) => Ok(work),
            Plan::Point { count, open } => {
                let row = key_range()?;
                let key = |i: usize| {
                    row.get(i)
                        .and_then(Option::as_deref)
                        .and_then(|v| v.parse::<u64>().ok())
                };
                match (key(0), key(1)) {
                    (Some(lo), Some(hi)) if lo <= hi => {
                        let work = point(count, lo, hi);
                        Ok(match open {
                            Some(open) => work.open(open),
                            None => work,
                        })
                    }
                    _ => Err(Error::Config(
                        "the employees table is empty: load the dataset (`dbio up`) before --workload point"
                            .into(),
                    )),
                }
            }
        }
    }
}

/// [`queries::label`] for a list of `count`.
fn label(prefix: char, i: u32, count: u32) -> String {
    queries::label(prefix, i as usize, count as usize)
}

/// `count` primary-key lookups, keys drawn from `lo..=hi` by SplitMix64
/// with a fixed seed: the same list for the same dataset, in every approach
/// and in the Python scripts.
pub fn point(count: u32, lo: u64, hi: u64) -> Work {
    let span = hi - lo + 1;
    let mut rng = crate::splitmix::SplitMix64(0x5eed_d810);
    let queries = (0..count)
        .map(|i| {
            let key = lo + rng.next_u64() % span;
            Query {
                label: label('p', i, count),
                sql: format!(
                    "SELECT emp_no, birth_date, first_name, last_name, gender, hire_date \
                     FROM employees WHERE emp_no = {key}"
                ),
                index: i as usize,
            }
        })
        .collect();
    Work {
        workload: Workload::Point,
        queries,
        dashboard: false,
        schedule: None,
    }
}

/// `count` queries that each wait `ms` on the server (`SLEEP()` uses no
/// CPU) and return their own label.
pub fn sleep(count: u32, ms: u32) -> Work {
    let queries = (0..count)
        .map(|i| {
            let label = label('s', i, count);
            Query {
                sql: format!(
                    "SELECT SLEEP({}.{:03}) AS slept, '{label}' AS q",
                    ms / 1000,
                    ms % 1000
                ),
                label,
                index: i as usize,
            }
        })
        .collect();
    Work {
        workload: Workload::Sleep,
        queries,
        dashboard: false,
        schedule: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn point_keys_are_deterministic_and_in_range() {
        let work = point(1000, 10_001, 13_000);
        assert_eq!(work, point(1000, 10_001, 13_000));
        assert_eq!(work.workload(), Workload::Point);
        let a = work.queries();
        assert_eq!(a.len(), 1000);
        assert_eq!(a[0].label, "p0001");
        assert_eq!(a[999].label, "p1000");
        let keys: Vec<u64> = a
            .iter()
            .map(|q| {
                q.sql
                    .rsplit(' ')
                    .next()
                    .and_then(|k| k.parse().ok())
                    .expect("key")
            })
            .collect();
        assert!(keys.iter().all(|k| (10_001..=13_000).contains(k)));
        let distinct: std::collections::BTreeSet<_> = keys.iter().collect();
        assert!(distinct.len() > 800, "keys barely vary: {}", distinct.len());
        // Pinned: the Python scripts draw the same keys.
        assert_eq!(keys[..3], [12_799, 11_424, 11_073]);
    }

    #[test]
    fn sleep_queries_wait_and_name_themselves() {
        let work = sleep(3, 1250);
        assert_eq!(work.workload(), Workload::Sleep);
        let q = work.queries();
        assert_eq!(q[2].label, "s3");
        assert_eq!(q[2].sql, "SELECT SLEEP(1.250) AS slept, 's3' AS q");
    }

    #[test]
    fn settings_are_checked() {
        let args = |workload, count| WorkloadArgs {
            workload,
            count,
            sleep_ms: None,
            queries: None,
            allow_writes: false,
            arrivals: Vec::new(),
            requests: None,
            arrival_process: None,
            arrival_seed: None,
            fanout: None,
            drain_timeout: None,
        };
        assert!(args(Workload::Report, Some(5)).validate().is_err());
        for workload in [Workload::Report, Workload::Point] {
            let slept = WorkloadArgs {
                sleep_ms: Some(50),
                ..args(workload, None)
            };
            let err = slept.validate().expect_err("ignored").to_string();
            assert!(
                err.contains("--sleep-ms applies to --workload sleep"),
                "{err}"
            );
        }
        let writes = WorkloadArgs {
            allow_writes: true,
            ..args(Workload::Report, None)
        };
        let err = writes.validate().expect_err("the blog's template");
        assert!(err.to_string().contains("applies to a dashboard"), "{err}");
        assert!(args(Workload::Point, Some(0)).validate().is_err());
        assert_eq!(
            args(Workload::Point, None).validate().expect("point"),
            Plan::Point {
                count: 10_000,
                open: None
            }
        );
        match args(Workload::Sleep, None).validate().expect("sleep") {
            Plan::Ready(q) => assert_eq!(q.len(), 100),
            other => panic!("{other:?}"),
        }
        let empty = Plan::Point {
            count: 3,
            open: None,
        }
        .queries(|| Ok(vec![None, None]));
        assert!(empty.is_err());
    }
}
