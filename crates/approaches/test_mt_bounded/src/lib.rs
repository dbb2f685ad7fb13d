//! One OS thread per query, all started at once, each gated by a counting
//! semaphore with `budget` permits before it asks the pool for a connection
//! (the blog's `threading.BoundedSemaphore`). The pool has the same cap, so
//! the semaphore, not the pool, is where threads wait. The approach is
//! `driver_mysql::Threads<Gated>`.

use std::sync::{Condvar, Mutex};

use common::outcome::join_workers;
use common::threads::query_thread;
use common::{Error, Finished};
use driver_mysql::{Batch, Schedule};

/// A counting semaphore; std has none. It wakes a thread only when one
/// waits: std's `Condvar::notify_one` is a `futex` call even when nobody
/// does (one per query, measured with `strace -c`).
#[derive(Debug)]
pub struct Semaphore {
    state: Mutex<Gate>,
    freed: Condvar,
}

#[derive(Debug)]
struct Gate {
    permits: usize,
    waiting: usize,
}

impl Semaphore {
    pub fn new(permits: usize) -> Semaphore {
        Semaphore {
            state: Mutex::new(Gate {
                permits,
                waiting: 0,
            }),
            freed: Condvar::new(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Gate> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Blocks until a permit is free; the permit returns when the guard drops.
    pub fn acquire(&self) -> Permit<'_> {
        let mut gate = self.lock();
        while gate.permits == 0 {
            gate.waiting += 1;
            gate = self.freed.wait(gate).unwrap_or_else(|p| p.into_inner());
            gate.waiting -= 1;
        }
        gate.permits -= 1;
        Permit(self)
    }
}

/// See [`Semaphore::acquire`].
#[derive(Debug)]
pub struct Permit<'a>(&'a Semaphore);

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        let mut gate = self.0.lock();
        gate.permits += 1;
        let wake = gate.waiting > 0;
        drop(gate);
        if wake {
            self.0.freed.notify_one();
        }
    }
}

/// A thread for every query, each waiting for a permit.
#[derive(Debug)]
pub struct Gated;

impl Schedule for Gated {
    fn schedule(batch: &Batch<'_>) -> Result<Vec<Finished>, Error> {
        let gate = &Semaphore::new(batch.budget);
        std::thread::scope(|s| {
            let threads = batch.queries.iter().map(|q| {
                let submitted = batch.release(q);
                let thread = query_thread().spawn_scoped(s, move || {
                    let _permit = gate.acquire();
                    batch.query_submitted_at(q, submitted)
                });
                (q, thread)
            });
            join_workers(threads.collect())
        })
    }

    const NAME: &'static str = "test_mt_bounded";

    fn threads(queries: usize) -> usize {
        queries
    }
}
