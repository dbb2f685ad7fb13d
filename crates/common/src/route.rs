//! Which server runs a query, when a run has more than one (read
//! replicas): one policy, here, for both drivers and every approach, so
//! that approaches still differ only in when they run a query, never in
//! where. Each server has its own pool with the whole budget; a query goes
//! to the server with the fewest queries in flight there (counted from the
//! moment it is routed, its wait for a connection included), and among
//! servers that tie, to the next one after the last chosen (round robin).
//!
//! Lock-free: the counts are atomics read once per query, so two queries
//! routed at the same moment may both see the same count; the next ones
//! see both. With one server every query goes to it, with no shared write
//! beyond its own count.

use std::sync::atomic::{AtomicUsize, Ordering};

/// See the module docs.
#[derive(Debug)]
pub struct Router {
    in_flight: Vec<AtomicUsize>,
    /// Where the search for the fewest starts (round robin among ties).
    next: AtomicUsize,
}

/// A query routed to `server`, counted there until dropped.
#[derive(Debug)]
pub struct Ticket<'a> {
    router: &'a Router,
    pub server: usize,
}

impl Drop for Ticket<'_> {
    fn drop(&mut self) {
        self.router.in_flight[self.server].fetch_sub(1, Ordering::Relaxed);
    }
}

impl Router {
    /// A router over `servers` servers (at least one).
    pub fn new(servers: usize) -> Router {
        Router {
            in_flight: (0..servers.max(1)).map(|_| AtomicUsize::new(0)).collect(),
            next: AtomicUsize::new(0),
        }
    }

    pub fn servers(&self) -> usize {
        self.in_flight.len()
    }

    /// Routes one query: the server with the fewest in flight, ties taken
    /// in turn.
    pub fn route(&self) -> Ticket<'_> {
        let n = self.in_flight.len();
        let server = if n == 1 {
            0
        } else {
            let start = self.next.load(Ordering::Relaxed) % n;
            let mut best = start;
            let mut fewest = usize::MAX;
            for i in 0..n {
                let s = (start + i) % n;
                let load = self.in_flight[s].load(Ordering::Relaxed);
                if load < fewest {
                    (best, fewest) = (s, load);
                }
            }
            self.next.store(best + 1, Ordering::Relaxed);
            best
        };
        self.in_flight[server].fetch_add(1, Ordering::Relaxed);
        Ticket {
            router: self,
            server,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ties_go_round_robin() {
        let router = Router::new(3);
        let order: Vec<usize> = (0..6).map(|_| router.route().server).collect();
        assert_eq!(order, [0, 1, 2, 0, 1, 2]);
    }

    #[test]
    fn the_fewest_in_flight_wins() {
        let router = Router::new(3);
        let a = router.route();
        let b = router.route();
        assert_eq!((a.server, b.server), (0, 1));
        // Server 2 has none in flight.
        let c = router.route();
        assert_eq!(c.server, 2);
        drop(b);
        // Server 1 is the only one with none now.
        assert_eq!(router.route().server, 1);
        // Counts come back to zero when the tickets drop.
        drop((a, c));
        assert!(
            router
                .in_flight
                .iter()
                .all(|c| c.load(Ordering::Relaxed) == 0)
        );
    }

    #[test]
    fn one_server_takes_everything() {
        let router = Router::new(1);
        let tickets: Vec<Ticket<'_>> = (0..4).map(|_| router.route()).collect();
        assert!(tickets.iter().all(|t| t.server == 0));
        assert_eq!(router.servers(), 1);
    }
}
