//! The ideal queue's service times, measured by one serial run of
//! `test_single` (one batch, one connection, an idle server) before the
//! rates' rounds, and the bound they give on a run's own schedule
//! ([`model::bound`]): the latency percentiles no client can beat there.
//!
//! The model, by workload:
//! - sleep: each query holds a connection for the shortest serial time
//!   (the sleep and one round trip); the budget's connections serve. An
//!   M/D/c queue over the same due times, exact up to the client's own
//!   overhead and the spread of the round trip;
//! - point: each lookup for the shortest serial round trip, on the
//!   budget's connections. The client's CPU is not in it: past the
//!   client's capacity the measurements leave the bound;
//!
//! The shortest, not the median: at high load a queue amplifies a small
//! difference in service time, and a bound taken from the median is beaten
//! by runs whose round trips came in under it.
//! - report (or dashboard): each query for its own serial time, on
//!   min(budget, the server's cores) servers, first come first served.
//!   A CPU-bound query cannot run faster than it does alone, and no more
//!   run at once than there are cores; the server's real sharing (several
//!   queries per core, slowed) is not modelled.

use serde::{Deserialize, Serialize};

use model::report::{OpenLoop, Report};
use model::workload::Workload;

/// What the ideal queue serves.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Service {
    /// Each query of one request, in order: its service time, µs.
    pub per_query_us: Vec<u64>,
    /// How many serve at once.
    pub connections: usize,
    /// The model, in one sentence, for the table.
    pub model: String,
}

impl Service {
    /// The service of `workload`'s requests of `per_request` queries, from
    /// `serial`, a one-connection run of the same queries (for the report,
    /// one request's; for point and sleep, a sample).
    pub fn of(
        serial: &Report,
        workload: Workload,
        per_request: usize,
        budget: usize,
        server_cores: usize,
    ) -> Option<Service> {
        let times = serial_times(serial);
        if times.is_empty() {
            return None;
        }
        Some(match workload {
            Workload::Report => {
                let connections = budget.min(server_cores).max(1);
                Service {
                    per_query_us: times,
                    connections,
                    model: format!(
                        "each query for its time in a serial run, on min(budget {budget}, server cores {server_cores}) = {connections} servers, first come first served"
                    ),
                }
            }
            Workload::Point | Workload::Sleep => {
                let shortest = times.iter().copied().min().unwrap_or(0);
                Service {
                    per_query_us: vec![shortest; per_request.max(1)],
                    connections: budget.max(1),
                    model: format!(
                        "each {} for the shortest of {} serial times ({:.2} ms), on the budget's {budget} connections, first come first served",
                        if workload == Workload::Point {
                            "lookup"
                        } else {
                            "sleep"
                        },
                        times.len(),
                        shortest as f64 / 1e3,
                    ),
                }
            }
        })
    }

    /// A lone request's latency in the ideal queue: the unloaded latency.
    pub fn unloaded_us(&self) -> u64 {
        model::bound::ideal_requests(&[0], &self.per_query_us, self.connections)
            .first()
            .copied()
            .unwrap_or(0)
    }

    /// Each request's latency in the ideal queue, on `open`'s schedule.
    pub fn bound(&self, open: &OpenLoop) -> Vec<u64> {
        let Ok(requests) = u32::try_from(open.requests) else {
            return Vec::new();
        };
        let Ok(arrivals) =
            model::arrivals::Arrivals::new(open.rate, requests, open.process, open.seed)
        else {
            return Vec::new();
        };
        model::bound::ideal_requests(&arrivals.due_us(), &self.per_query_us, self.connections)
    }
}

/// How long each query of a serial run took, in the list's order: from
/// when it could start (sent, connected, and the query before it on the
/// one connection done) to its last row.
fn serial_times(serial: &Report) -> Vec<u64> {
    let mut ends: Vec<u64> = serial.queries.iter().map(|q| q.finished_us).collect();
    ends.sort_unstable();
    serial
        .queries
        .iter()
        .map(|q| {
            let before = ends.partition_point(|&e| e < q.finished_us);
            let previous = before.checked_sub(1).map_or(0, |i| ends[i]);
            let start = q.submitted_us.max(q.connected_us).max(previous);
            q.finished_us.saturating_sub(start)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::report::QueryResult;

    fn query(label: &str, submitted: u64, finished: u64) -> QueryResult {
        QueryResult {
            label: label.into(),
            rows: 1,
            digest: None,
            first_row: None,
            submitted_us: submitted,
            connected_us: 5,
            first_row_us: finished,
            finished_us: finished,
            connection_id: Some(1),
            server: None,
            moved_from: None,
            request: None,
            due_us: None,
            unfinished: false,
        }
    }

    fn serial(queries: Vec<QueryResult>) -> Report {
        Report {
            approach: "test_single".into(),
            driver: String::new(),
            workload: Workload::Report,
            budget: 1,
            server: "s".into(),
            servers: Vec::new(),
            queries,
            wall_us: 0,
            peak_connections: Some(1),
            peak_threads: None,
            cpu_user_us: 0,
            cpu_sys_us: 0,
            max_rss_kib: 0,
            run_cpu_user_us: 0,
            run_cpu_sys_us: 0,
            condensed: None,
            open_loop: None,
        }
    }

    #[test]
    fn a_serial_query_costs_from_the_end_of_the_one_before_it() {
        // All sent at 0, run one after another on one connection
        // (connected at 5): B ends first in this list's second place.
        let run = serial(vec![
            query("A", 0, 105),
            query("B", 0, 130),
            query("C", 0, 430),
        ]);
        let service = Service::of(&run, Workload::Report, 3, 5, 2).expect("service");
        assert_eq!(service.per_query_us, [100, 25, 300]);
        assert_eq!(service.connections, 2, "two cores bound five connections");
        let sleeps = Service::of(&run, Workload::Sleep, 2, 5, 2).expect("service");
        assert_eq!(sleeps.per_query_us, [25, 25], "the shortest, fanout times");
        assert_eq!(sleeps.connections, 5);
    }

    #[test]
    fn the_bound_runs_the_schedule_through_the_ideal_queue() {
        let service = Service {
            per_query_us: vec![50_000],
            connections: 1,
            model: String::new(),
        };
        // Constant arrivals at 10/s (every 100 ms), 50 ms each: no wait.
        let open = OpenLoop {
            rate: 10.0,
            requests: 3,
            process: model::arrivals::Process::Constant,
            seed: 1,
            per_request: 1,
            drain_timeout_s: None,
        };
        assert_eq!(service.bound(&open), [50_000; 3]);
        // At 40/s (every 25 ms) the queue grows by 25 ms a request.
        let faster = OpenLoop { rate: 40.0, ..open };
        assert_eq!(service.bound(&faster), [50_000, 75_000, 100_000]);
        let report = Service {
            per_query_us: vec![10, 20, 30],
            connections: 2,
            model: String::new(),
        };
        assert_eq!(report.unloaded_us(), 40, "10 and 20 at once, then 30");
    }
}
