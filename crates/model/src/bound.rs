//! The open-loop bound: a run's own arrival schedule fed through an ideal
//! queue, whose latencies no client can beat on that schedule. The queue
//! has the budget's connections as its servers and serves in due order,
//! first come first served, each query for its service time and nothing
//! more: no round trip beyond it, no dispatch lag, no connect. For sleeps
//! of a fixed length it is exactly an M/D/c queue (Poisson arrivals,
//! deterministic service, c connections) over the same due times.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// When each query would finish in the ideal queue: `due_us[i]` and
/// `service_us[i]` are query `i`'s due time and service time, in due order;
/// `connections` serve them.
pub fn ideal_finish(due_us: &[u64], service_us: &[u64], connections: usize) -> Vec<u64> {
    let mut free: BinaryHeap<Reverse<u64>> = (0..connections.max(1)).map(|_| Reverse(0)).collect();
    due_us
        .iter()
        .zip(service_us)
        .map(|(&due, &service)| {
            let Reverse(at) = free.pop().unwrap_or(Reverse(0));
            let end = due.max(at) + service;
            free.push(Reverse(end));
            end
        })
        .collect()
}

/// Each request's latency in the ideal queue: request `r` is due at
/// `due_us[r]` and is `service_us.len()` queries, served in that order for
/// those times; it ends when its last query does.
pub fn ideal_requests(due_us: &[u64], service_us: &[u64], connections: usize) -> Vec<u64> {
    let per = service_us.len().max(1);
    let dues: Vec<u64> = due_us
        .iter()
        .flat_map(|&d| std::iter::repeat_n(d, per))
        .collect();
    let services: Vec<u64> = due_us
        .iter()
        .flat_map(|_| service_us.iter().copied())
        .collect();
    ideal_finish(&dues, &services, connections)
        .chunks(per)
        .zip(due_us)
        .map(|(ends, &due)| ends.iter().max().copied().unwrap_or(due) - due)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_idle_queue_serves_at_once_and_a_busy_one_queues_in_due_order() {
        // Two connections, 10 µs each: the third query, due with the
        // others, waits for the first connection to free.
        assert_eq!(ideal_finish(&[0, 0, 0], &[10, 10, 10], 2), [10, 10, 20]);
        // Spaced wider than the service: nobody waits.
        assert_eq!(ideal_finish(&[0, 50, 100], &[10, 10, 10], 1), [10, 60, 110]);
        // One connection, arrivals faster than service: the queue grows.
        assert_eq!(ideal_finish(&[0, 5, 10], &[10, 10, 10], 1), [10, 20, 30]);
        assert!(ideal_finish(&[], &[], 3).is_empty());
    }

    #[test]
    fn a_request_ends_with_its_last_query() {
        // Two connections; a request of three queries of 10 µs: two at
        // once, the third after them (ends at 20). The second, due at 15,
        // starts at 15 and 20, its third at 25: it ends at 35, 20 late.
        assert_eq!(ideal_requests(&[0, 15], &[10, 10, 10], 2), [20, 20]);
        assert_eq!(ideal_requests(&[0, 100], &[10], 1), [10, 10]);
    }
}
