//! Ctrl-C and `kill`: an interrupted run cancels the queries it has running
//! on the server, then exits with 128 + the signal (130 for SIGINT, 143 for
//! SIGTERM) within [`GRACE`].
//!
//! Without this, the server goes on computing the queries of a client that
//! has gone (it notices only when it writes the result), and that CPU lands
//! in the next benchmark run. Each driver registers its run's pool and a
//! killer, which sends `KILL QUERY <id>` over a connection of its own for
//! every connection in use; the pool lends nothing more once cancelled, and
//! the killer repeats until every connection has come back (a query sent
//! just after a `KILL QUERY` reached its idle connection is killed on the
//! next round). SIGKILL cannot be handled: `scripts/bench.sh` checks before
//! each timed run that no query is left running (`dbio server settle`).

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Mutex, Weak};
use std::time::{Duration, Instant};

use crate::error::Error;
use crate::pool::{InFlight, remaining};

/// How long an interrupted run may spend cancelling before it exits.
pub const GRACE: Duration = Duration::from_millis(1500);

/// Sends `KILL QUERY` for each server connection id within the time given.
pub type Killer = Box<dyn Fn(&[u64], Duration) -> Result<(), String> + Send + Sync>;

struct Registered {
    pool: Weak<dyn InFlight>,
    kill: Killer,
}

static CURRENT: Mutex<Option<Registered>> = Mutex::new(None);
static SIGNALLED: AtomicI32 = AtomicI32::new(0);

/// Makes `pool` the run to cancel on a signal (the pool is held weakly: a
/// finished run's connections are not kept alive by this).
pub fn register(pool: Weak<dyn InFlight>, kill: Killer) {
    let mut current = CURRENT.lock().unwrap_or_else(|p| p.into_inner());
    *current = Some(Registered { pool, kill });
}

/// Whether a signal has started the exit: the run's own error (its queries
/// were killed) is then not the one to print.
pub fn signalled() -> bool {
    SIGNALLED.load(Ordering::SeqCst) != 0
}

/// Blocks the calling thread until the signal handler ends the process.
pub fn wait_for_exit() -> ! {
    loop {
        std::thread::park();
    }
}

/// Handles SIGINT and SIGTERM on a thread of their own for the rest of the
/// process's life. Called once by each binary's `main`.
pub fn install() -> Result<(), Error> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let mut signals =
        signal_hook::iterator::Signals::new([SIGINT, SIGTERM]).map_err(|source| Error::Io {
            what: "cannot handle SIGINT and SIGTERM".into(),
            source,
        })?;
    std::thread::Builder::new()
        .name("dbio-signals".into())
        .spawn(move || {
            if let Some(signal) = signals.forever().next() {
                exit_on(signal);
            }
        })
        .map_err(|source| Error::Io {
            what: "cannot start the signal thread".into(),
            source,
        })?;
    Ok(())
}

fn exit_on(signal: i32) -> ! {
    SIGNALLED.store(signal, Ordering::SeqCst);
    let name = if signal == signal_hook::consts::SIGINT {
        "SIGINT"
    } else {
        "SIGTERM"
    };
    let outcome = cancel_in_flight(Instant::now() + GRACE);
    let line = match outcome {
        Ok(0) => format!("error: interrupted by {name}; no query was running"),
        Ok(1) => format!("error: interrupted by {name}; cancelled the running query on the server"),
        Ok(n) => {
            format!("error: interrupted by {name}; cancelled {n} running queries on the server")
        }
        Err(e) => format!("error: interrupted by {name}; {e}"),
    };
    eprintln!("{line}");
    std::process::exit(128 + signal)
}

/// Cancels the registered run; returns how many connections had a query killed.
fn cancel_in_flight(until: Instant) -> Result<usize, String> {
    let registered = CURRENT.lock().unwrap_or_else(|p| p.into_inner()).take();
    let Some(Registered { pool, kill }) = registered else {
        return Ok(0);
    };
    let Some(pool) = pool.upgrade() else {
        return Ok(0);
    };
    let mut ids = pool.cancel();
    let mut killed = BTreeSet::new();
    while !ids.is_empty() {
        if Instant::now() >= until {
            return Err(format!(
                "{} queries were still running on the server when the process exited",
                ids.len()
            ));
        }
        kill(&ids, remaining(until))
            .map_err(|e| format!("could not cancel the running queries on the server: {e}"))?;
        killed.extend(ids);
        pool.wait_returned(Duration::from_millis(50));
        ids = pool.in_use();
    }
    Ok(killed.len())
}
