//! One OS thread per query, all started at once, each gated by a counting
//! semaphore with `budget` permits before it asks the pool for a connection
//! (the blog's `threading.BoundedSemaphore`). The pool has the same cap, so
//! the semaphore, not the pool, is where threads wait.

use std::sync::{Condvar, Mutex};

use common::outcome::join_all;
use common::{Approach, Error, Execution, Report, RunConfig};
use driver_mysql::BlockingRunner;

/// A counting semaphore; std has none.
#[derive(Debug)]
pub struct Semaphore {
    permits: Mutex<usize>,
    freed: Condvar,
}

impl Semaphore {
    pub fn new(permits: usize) -> Semaphore {
        Semaphore {
            permits: Mutex::new(permits),
            freed: Condvar::new(),
        }
    }

    /// Blocks until a permit is free; the permit returns when the guard drops.
    pub fn acquire(&self) -> Permit<'_> {
        let mut permits = self.permits.lock().unwrap_or_else(|p| p.into_inner());
        while *permits == 0 {
            permits = self.freed.wait(permits).unwrap_or_else(|p| p.into_inner());
        }
        *permits -= 1;
        Permit(self)
    }
}

/// See [`Semaphore::acquire`].
#[derive(Debug)]
pub struct Permit<'a>(&'a Semaphore);

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        *self.0.permits.lock().unwrap_or_else(|p| p.into_inner()) += 1;
        self.0.freed.notify_one();
    }
}

/// See the crate docs.
#[derive(Debug)]
pub struct TestMtBounded(BlockingRunner);

impl Approach for TestMtBounded {
    const NAME: &'static str = "test_mt_bounded";

    fn prepare(cfg: &RunConfig) -> Result<Self, Error> {
        BlockingRunner::new(&cfg.conn, cfg.conn.budget).map(TestMtBounded)
    }

    fn execute(&self, cfg: &RunConfig) -> Result<Report, Error> {
        let exec = Execution::start();
        let gate = Semaphore::new(cfg.conn.budget);
        let results = std::thread::scope(|s| {
            let threads = cfg.queries.iter().map(|q| {
                let thread = s.spawn(|| {
                    let _permit = gate.acquire();
                    self.0.run(q, &exec)
                });
                (q, thread)
            });
            join_all(threads.collect())
        })?;
        exec.finish(Self::NAME, cfg, results)
    }
}
