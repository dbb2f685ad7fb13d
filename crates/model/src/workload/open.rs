//! An open-loop run of a workload (`--arrivals`): its settings checked
//! ([`OpenLoop`]), and the work cut into requests due on the schedule
//! ([`Work::open`], [`crate::arrivals`]).

use super::{Work, Workload, WorkloadArgs};
use crate::arrivals::{self, Arrivals, Process, Schedule};
use crate::error::Error;
use crate::queries::{self, Query};

/// `--drain-timeout`'s default, and its bound, in seconds.
pub const DEFAULT_DRAIN_TIMEOUT: u32 = 60;
pub const MAX_DRAIN_TIMEOUT: u32 = 86_400;

/// The requests of an open-loop run, when `--requests` is not given.
pub const DEFAULT_REQUESTS: u32 = 100;

/// A checked open loop: the arrivals and the queries of a point or sleep
/// request.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OpenLoop {
    pub arrivals: Arrivals,
    pub fanout: u32,
    pub drain_timeout_s: u32,
}

impl Work {
    /// The same work as an open loop: the report's (or dashboard's) queries
    /// once per request; a point or sleep list, which holds requests ×
    /// fanout queries, cut into requests of `fanout`. Each query's label
    /// gains its request (`r007/A`).
    pub fn open(self, open: OpenLoop) -> Work {
        let requests = open.arrivals.requests as usize;
        let (base, per_request) = match self.workload {
            Workload::Report => {
                let n = self.queries.len();
                let once = self.queries;
                let all = (0..requests).flat_map(|_| once.iter().cloned()).collect();
                (all, n)
            }
            Workload::Point | Workload::Sleep => (self.queries, open.fanout as usize),
        };
        let per = per_request.max(1);
        let queries = base
            .into_iter()
            .enumerate()
            .map(|(index, q)| Query {
                label: format!("{}/{}", queries::label('r', index / per, requests), q.label),
                sql: q.sql,
                index,
            })
            .collect();
        Work {
            queries,
            schedule: Some(Schedule::new(open.arrivals, per, open.drain_timeout_s)),
            ..self
        }
    }
}

impl WorkloadArgs {
    /// The open loop's settings, checked; `None` without `--arrivals`, when
    /// every open-loop option is refused (it would be ignored).
    pub(super) fn open_loop(&self) -> Result<Option<OpenLoop>, Error> {
        let rate = match self.arrivals[..] {
            [] => None,
            [rate] => Some(rate),
            _ => {
                return Err(Error::Config(
                    "--arrivals takes one rate per run; a list of rates is for bench, which sweeps it (scripts/bench.sh --arrivals 1,2,4)".into(),
                ));
            }
        };
        let Some(rate) = rate else {
            for (given, flag) in [
                (self.requests.is_some(), "--requests"),
                (self.arrival_process.is_some(), "--arrival-process"),
                (self.arrival_seed.is_some(), "--arrival-seed"),
                (self.fanout.is_some(), "--fanout"),
                (self.drain_timeout.is_some(), "--drain-timeout"),
            ] {
                if given {
                    return Err(Error::Config(format!(
                        "{flag} applies to an open-loop run, with --arrivals (it would be ignored)"
                    )));
                }
            }
            return Ok(None);
        };
        if self.count.is_some() {
            return Err(Error::Config(
                "--count is the closed loop's: with --arrivals, --requests and --fanout say how many queries run".into(),
            ));
        }
        let fanout = match (self.workload, self.fanout) {
            (Workload::Report, Some(_)) => {
                return Err(Error::Config(
                    "--fanout applies to --workload point and sleep; a report request is the whole report".into(),
                ));
            }
            (_, Some(0)) => return Err(Error::Config("--fanout must be at least 1".into())),
            (_, fanout) => fanout.unwrap_or(1),
        };
        let arrivals = Arrivals::new(
            rate,
            self.requests.unwrap_or(DEFAULT_REQUESTS),
            self.arrival_process.unwrap_or(Process::Poisson),
            self.arrival_seed.unwrap_or(arrivals::DEFAULT_SEED),
        )?;
        let drain_timeout_s = match self.drain_timeout {
            Some(0) => return Err(Error::Config("--drain-timeout must be at least 1".into())),
            Some(s) if s > MAX_DRAIN_TIMEOUT => {
                return Err(Error::Config(format!(
                    "--drain-timeout must be at most {MAX_DRAIN_TIMEOUT} (a day)"
                )));
            }
            s => s.unwrap_or(DEFAULT_DRAIN_TIMEOUT),
        };
        Ok(Some(OpenLoop {
            arrivals,
            fanout,
            drain_timeout_s,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::{Plan, sleep};

    fn open(workload: Workload, rate: f64) -> WorkloadArgs {
        WorkloadArgs {
            workload,
            count: None,
            sleep_ms: None,
            queries: None,
            allow_writes: false,
            arrivals: vec![rate],
            requests: Some(3),
            arrival_process: Some(Process::Constant),
            arrival_seed: None,
            fanout: None,
            drain_timeout: None,
        }
    }

    #[test]
    fn an_open_loop_report_is_the_report_once_per_request_due_on_the_schedule() {
        let Plan::Ready(work) = open(Workload::Report, 2.0).validate().expect("open") else {
            panic!("the report needs no key range");
        };
        assert_eq!(work.len(), 3 * 26);
        let q = &work.queries()[26 + 1];
        assert_eq!((q.label.as_str(), q.index), ("r2/B", 27));
        assert!(q.sql.contains("'B%'"), "{}", q.sql);
        let schedule = work.schedule().expect("open loop");
        assert_eq!((schedule.request_of(27), work.due_us(27)), (1, 500_000));
        assert_eq!(work.due_us(3 * 26 - 1), 1_000_000);
    }

    #[test]
    fn an_open_loop_sleep_run_has_fanout_queries_per_request() {
        let args = WorkloadArgs {
            fanout: Some(2),
            ..open(Workload::Sleep, 10.0)
        };
        let Plan::Ready(work) = args.validate().expect("open") else {
            panic!("sleeps need no key range");
        };
        let labels: Vec<&str> = work.queries().iter().map(|q| q.label.as_str()).collect();
        assert_eq!(
            labels,
            ["r1/s1", "r1/s2", "r2/s3", "r2/s4", "r3/s5", "r3/s6"]
        );
        let due: Vec<u64> = (0..6).map(|i| work.due_us(i)).collect();
        assert_eq!(due, [0, 0, 100_000, 100_000, 200_000, 200_000]);
        assert_eq!(work.due_us(0), 0);
        assert!(sleep(3, 5).schedule().is_none(), "one batch: no schedule");
    }

    #[test]
    fn open_loop_options_that_would_be_ignored_or_clash_are_refused() {
        let closed = |f: fn(&mut WorkloadArgs)| {
            let mut args = open(Workload::Sleep, 1.0);
            args.arrivals = Vec::new();
            args.requests = None;
            args.arrival_process = None;
            f(&mut args);
            args.validate().expect_err("refused").to_string()
        };
        assert!(
            closed(|a| a.requests = Some(5)).contains("--requests applies to an open-loop run")
        );
        assert!(closed(|a| a.fanout = Some(2)).contains("--fanout applies"));
        assert!(closed(|a| a.arrival_seed = Some(2)).contains("--arrival-seed applies"));
        assert!(closed(|a| a.drain_timeout = Some(5)).contains("--drain-timeout applies"));
        assert!(
            closed(|a| a.arrival_process = Some(Process::Poisson)).contains("--arrival-process")
        );
        let refused = |args: WorkloadArgs| args.validate().expect_err("refused").to_string();
        let counted = WorkloadArgs {
            count: Some(5),
            ..open(Workload::Point, 1.0)
        };
        assert!(refused(counted).contains("--count is the closed loop's"));
        let fanned = WorkloadArgs {
            fanout: Some(2),
            ..open(Workload::Report, 1.0)
        };
        assert!(refused(fanned).contains("--fanout applies to --workload point and sleep"));
        let zero = WorkloadArgs {
            fanout: Some(0),
            ..open(Workload::Sleep, 1.0)
        };
        assert!(refused(zero).contains("--fanout must be at least 1"));
        let huge = WorkloadArgs {
            requests: Some(arrivals::MAX_REQUESTS),
            fanout: Some(2),
            ..open(Workload::Sleep, 1.0)
        };
        assert!(refused(huge).contains("must be at most"));
        assert!(refused(open(Workload::Sleep, 0.0)).contains("--arrivals must be more than 0"));
        let listed = WorkloadArgs {
            arrivals: vec![1.0, 2.0],
            ..open(Workload::Sleep, 1.0)
        };
        assert!(refused(listed).contains("one rate per run"));
        for (timeout, says) in [(0, "at least 1"), (MAX_DRAIN_TIMEOUT + 1, "at most")] {
            let drained = WorkloadArgs {
                drain_timeout: Some(timeout),
                ..open(Workload::Sleep, 1.0)
            };
            assert!(refused(drained).contains(says), "{timeout}");
        }
    }
}
