//! One OS thread per query, all started at once, each gated by a counting
//! semaphore with `budget` permits before it asks the pool for a connection
//! (the blog's `threading.BoundedSemaphore`). The pool has the same cap, so
//! the semaphore, not the pool, is where threads wait.

use std::sync::{Condvar, Mutex};

use common::mysql_driver::Runner;
use common::report::join_all;
use common::{Error, Report, RunConfig};

pub const APPROACH: &str = "test_mt_bounded";

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

pub fn run(cfg: &RunConfig) -> Result<Report, Error> {
    let runner = Runner::new(&cfg.conn, cfg.conn.budget)?;
    let gate = Semaphore::new(cfg.conn.budget);
    let results = std::thread::scope(|s| {
        join_all(
            cfg.queries
                .iter()
                .map(|q| {
                    let (runner, gate) = (&runner, &gate);
                    let thread = s.spawn(move || {
                        let _permit = gate.acquire();
                        runner.run(q)
                    });
                    (q, thread)
                })
                .collect(),
        )
    })?;
    Report::assemble(APPROACH, cfg, results, runner.clock, &runner.gauge)
}
