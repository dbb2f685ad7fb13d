//! Which server runs a query, when a run has more than one (read
//! replicas): one policy, here, for both drivers and every approach, so
//! that approaches still differ only in when they run a query, never in
//! where. Each server has its own pool with the whole budget; a query goes
//! to the server with the fewest queries in flight there (counted from the
//! moment it is routed, its wait for a connection included), and among
//! servers that tie, to the next one after the last chosen (round robin).
//!
//! A server lost during the run ([`Router::lose`]) gets no more queries;
//! the query that found it lost runs once more on another (the drivers do
//! that), and with none left there is nowhere to route.
//!
//! Lock-free: the counts are atomics read once per query, so two queries
//! routed at the same moment may both see the same count; the next ones
//! see both. With one server every query goes to it, with no shared write
//! beyond its own count.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use crate::error::Error;
use crate::outcome::Finished;

/// See the module docs.
#[derive(Debug)]
pub struct Router {
    in_flight: Vec<AtomicUsize>,
    /// Where the search for the fewest starts (round robin among ties).
    next: AtomicUsize,
    /// Servers lost during the run.
    lost: Vec<AtomicBool>,
    /// Each server as errors name it (password redacted).
    names: Vec<String>,
}

/// What becomes of a query after its try on one server.
#[derive(Debug)]
pub enum Settled {
    /// Its outcome stands.
    Done(Result<Finished, Error>),
    /// Its server was lost: run it once more, on another.
    Retry,
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
    /// A router over the servers named `names` (at least one).
    pub fn new(names: Vec<String>) -> Router {
        let n = names.len().max(1);
        Router {
            in_flight: (0..n).map(|_| AtomicUsize::new(0)).collect(),
            next: AtomicUsize::new(0),
            lost: (0..n).map(|_| AtomicBool::new(false)).collect(),
            names,
        }
    }

    /// [`Router::route`], or the error that names every server, all lost.
    pub fn ticket(&self) -> Result<Ticket<'_>, Error> {
        self.route()
            .ok_or_else(|| Error::ServersLost(self.names.clone()))
    }

    /// The failover, the same for both drivers: a query whose server was
    /// lost (unreachable, shut down, its connection broken) in a run on
    /// several marks that server lost and runs once more elsewhere; any
    /// other outcome stands.
    pub fn settle(&self, server: usize, outcome: Result<Finished, Error>) -> Settled {
        match outcome {
            Err(e) if self.servers() > 1 && e.server_lost() => {
                self.lose(server);
                Settled::Retry
            }
            outcome => Settled::Done(outcome),
        }
    }

    /// The outcome of a query's second try, on `server`, after its first
    /// server `moved_from` was lost: it names where it ran first; a second
    /// server lost is marked so, and with none left the error names them
    /// all. There is no third try.
    pub fn retried(
        &self,
        moved_from: usize,
        server: usize,
        outcome: Result<Finished, Error>,
    ) -> Result<Finished, Error> {
        match outcome {
            Ok(mut result) => {
                result.moved_from = Some(moved_from);
                Ok(result)
            }
            Err(e) if e.server_lost() => {
                self.lose(server);
                match self.route() {
                    None => Err(Error::ServersLost(self.names.clone())),
                    Some(_) => Err(e),
                }
            }
            Err(e) => Err(e),
        }
    }

    pub fn servers(&self) -> usize {
        self.in_flight.len()
    }

    /// Marks `server` lost: no query is routed to it any more.
    pub fn lose(&self, server: usize) {
        self.lost[server].store(true, Ordering::Relaxed);
    }

    /// Routes one query: the server with the fewest in flight, ties taken
    /// in turn, among those not lost; `None` when every server is lost.
    pub fn route(&self) -> Option<Ticket<'_>> {
        let n = self.in_flight.len();
        let up = |s: usize| !self.lost[s].load(Ordering::Relaxed);
        let server = if n == 1 {
            up(0).then_some(0)?
        } else {
            let start = self.next.load(Ordering::Relaxed) % n;
            let mut best = None;
            let mut fewest = usize::MAX;
            for i in 0..n {
                let s = (start + i) % n;
                let load = self.in_flight[s].load(Ordering::Relaxed);
                if up(s) && load < fewest {
                    (best, fewest) = (Some(s), load);
                }
            }
            let best = best?;
            self.next.store(best + 1, Ordering::Relaxed);
            best
        };
        self.in_flight[server].fetch_add(1, Ordering::Relaxed);
        Some(Ticket {
            router: self,
            server,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(n: usize) -> Vec<String> {
        (1..=n).map(|i| format!("server {i}")).collect()
    }

    #[test]
    fn only_a_lost_server_moves_a_query() {
        let router = Router::new(names(2));
        let lost = Error::Stopped { server_lost: true };
        assert!(matches!(router.settle(0, Err(lost)), Settled::Retry));
        assert!(router.route().is_some_and(|t| t.server == 1));
        // Waiters stopped by a connect the server refused (1226, say) echo
        // that refusal: they stay, and the refusal is the run's error.
        assert!(matches!(
            router.settle(1, Err(Error::Stopped { server_lost: false })),
            Settled::Done(Err(_))
        ));
        let answered = Error::Config("a server's own answer".into());
        assert!(matches!(
            router.settle(1, Err(answered)),
            Settled::Done(Err(_))
        ));
        router.lose(1);
        let err = router.ticket().expect_err("none left");
        assert!(err.to_string().contains("server 1, server 2"), "{err}");
        // The second try's server lost too, none left: every name.
        let two = Router::new(names(2));
        two.lose(0);
        let err = two
            .retried(0, 1, Err(Error::Stopped { server_lost: true }))
            .expect_err("none left");
        assert!(
            matches!(err, Error::ServersLost(ref n) if n.len() == 2),
            "{err}"
        );
        // One server: nowhere to move to.
        let one = Router::new(names(1));
        assert!(matches!(
            one.settle(0, Err(Error::Stopped { server_lost: true })),
            Settled::Done(Err(_))
        ));
    }

    #[test]
    fn a_lost_server_gets_nothing_and_none_left_is_none() {
        let router = Router::new(names(3));
        router.lose(1);
        let order: Vec<usize> = (0..4)
            .map(|_| router.route().expect("a server").server)
            .collect();
        assert_eq!(order, [0, 2, 0, 2]);
        router.lose(0);
        router.lose(2);
        assert!(router.route().is_none());
        let one = Router::new(names(1));
        one.lose(0);
        assert!(one.route().is_none());
    }

    #[test]
    fn ties_go_round_robin() {
        let router = Router::new(names(3));
        let order: Vec<usize> = (0..6)
            .map(|_| router.route().expect("a server").server)
            .collect();
        assert_eq!(order, [0, 1, 2, 0, 1, 2]);
    }

    #[test]
    fn the_fewest_in_flight_wins() {
        let router = Router::new(names(3));
        let a = router.route().expect("a server");
        let b = router.route().expect("a server");
        assert_eq!((a.server, b.server), (0, 1));
        // Server 2 has none in flight.
        let c = router.route().expect("a server");
        assert_eq!(c.server, 2);
        drop(b);
        // Server 1 is the only one with none now.
        assert_eq!(router.route().expect("a server").server, 1);
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
        let router = Router::new(names(1));
        let tickets: Vec<Ticket<'_>> = (0..4).flat_map(|_| router.route()).collect();
        assert_eq!(tickets.len(), 4);
        assert!(tickets.iter().all(|t| t.server == 0));
        assert_eq!(router.servers(), 1);
    }
}
