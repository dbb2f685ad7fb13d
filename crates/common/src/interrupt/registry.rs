//! The run to cancel: its pools, one per server, each with its killer,
//! registered by the driver before the clock and taken by the exit.

use std::sync::{Mutex, Weak};
use std::time::Instant;

use super::killers::{Killer, cancel_pool};
use crate::pool::InFlight;

#[derive(Clone)]
struct Registered {
    pool: Weak<dyn InFlight>,
    kill: Killer,
}

static CURRENT: Mutex<Vec<Registered>> = Mutex::new(Vec::new());

/// Makes these pools, one per server of a run on several (one for a run on
/// one server), the run to cancel on a signal: each is cancelled at once,
/// with its own killer. The pools are held weakly: a finished run's
/// connections are not kept alive by this.
pub fn register_all(pools: Vec<(Weak<dyn InFlight>, Killer)>) {
    *lock(&CURRENT) = pools
        .into_iter()
        .map(|(pool, kill)| Registered { pool, kill })
        .collect();
}

/// Cancels the registered run, every server's pool at once; returns how
/// many connections had a query running when they were told to stop. The
/// pools lend nothing more afterwards: the run is over (a signal's exit, a
/// fatal error, an open loop's drain deadline).
pub(crate) fn cancel_in_flight(until: Instant) -> Result<usize, String> {
    let registered = lock(&CURRENT).clone();
    let outcomes: Vec<Result<usize, String>> = std::thread::scope(|s| {
        let cancelling: Vec<_> = registered
            .into_iter()
            .map(|Registered { pool, kill }| {
                s.spawn(move || match pool.upgrade() {
                    Some(pool) => cancel_pool(pool, &kill, until),
                    None => Ok(0),
                })
            })
            .collect();
        cancelling
            .into_iter()
            .map(|c| {
                c.join()
                    .unwrap_or_else(|_| Err("a cancelling thread panicked".into()))
            })
            .collect()
    });
    let mut cancelled = 0;
    for outcome in outcomes {
        cancelled += outcome?;
    }
    Ok(cancelled)
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}
