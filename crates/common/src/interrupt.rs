//! Ctrl-C and `kill`: an interrupted run cancels the queries it has running
//! on the server, then exits with 128 + the signal (130 for SIGINT, 143 for
//! SIGTERM) within [`GRACE`].
//!
//! Without this, the server goes on computing the queries of a client that
//! has gone (it notices only when it writes the result), and that CPU lands
//! in the next benchmark run. Each driver registers its run's pool and a
//! killer, which sends `KILL QUERY <id>` over a connection of its own for
//! every connection in use. The pool lends nothing more once cancelled;
//! what ends the wait is every connection coming back to the pool (its
//! query failed as killed), not the killer's replies.
//!
//! Killing goes in rounds, each on a thread and a connection of its own,
//! so that a `KILL` the server is slow to answer delays nothing else: a
//! round starts every [`RESEND`] for the connections still out that have no
//! `KILL` waiting for its answer (a later round also kills a query sent just
//! after a `KILL QUERY` reached its still idle connection). Within a round
//! the kills are paced: the next waits until the last victim's connection is
//! back (at most [`PACE`]). Why: MariaDB 10.11 holds a victim's
//! `LOCK_thd_kill` while it wakes it, and wakes a `SLEEP()` by try-locking
//! the server-wide sleep mutex for up to 2 s (`THD::abort_current_cond_wait`).
//! If that mutex is busy when the `KILL` arrives, the woken victim takes it
//! and then waits for its `LOCK_thd_kill`, and both wait the 2 s out (seen
//! with gdb; the victim shows as `Busy` in the process list). The usual
//! holder is the previous victim waking up; pacing lets it finish first.
//! SIGKILL cannot be handled: `scripts/bench.sh` checks before each timed
//! run that no query is left running (`dbio server settle`).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Arc, Mutex, Weak, mpsc};
use std::time::{Duration, Instant};

use crate::error::Error;
use crate::pool::{InFlight, remaining};

/// How long an interrupted run may spend cancelling before it exits.
pub const GRACE: Duration = Duration::from_millis(1500);

/// How often a round of `KILL QUERY` starts while connections are out.
pub const RESEND: Duration = Duration::from_millis(200);

/// The longest a round waits for a killed query's connection to come back
/// before it sends the next `KILL QUERY`.
pub const PACE: Duration = Duration::from_millis(50);

/// Opens a connection of its own, within the time given, and sends
/// `KILL QUERY` over it for each server connection id in turn, calling
/// [`Pace::killed`] after each one the server answered.
pub type Killer = Arc<dyn Fn(&[u64], Duration, &Pace) -> Result<(), String> + Send + Sync>;

/// A [`Killer`] from a closure (whose argument types this spells once).
pub fn killer(
    kill: impl Fn(&[u64], Duration, &Pace) -> Result<(), String> + Send + Sync + 'static,
) -> Killer {
    Arc::new(kill)
}

/// What a round of [`Killer`] reports back to the cancelling thread.
#[derive(Debug)]
enum Event {
    Sending(u64),
    Killed(u64),
    /// A round that stopped at an error: its `KILL`s are not waited on.
    Failed(Vec<u64>, String),
}

/// A round's link to the cancelling thread and the run's pool (clone it
/// into a future).
#[derive(Clone)]
pub struct Pace {
    events: mpsc::Sender<Event>,
    pool: Arc<dyn InFlight>,
}

impl std::fmt::Debug for Pace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pace").finish_non_exhaustive()
    }
}

impl Pace {
    /// Says that `KILL QUERY id` is being sent.
    pub fn sending(&self, id: u64) {
        // The cancelling thread may have finished already: nothing to tell.
        let _ = self.events.send(Event::Sending(id));
    }

    /// Says that the server answered `KILL QUERY id` (done, or: no such
    /// connection), then waits up to [`PACE`] for that connection to come
    /// back. Blocks the calling thread (a killer's runtime runs nothing
    /// else).
    pub fn killed(&self, id: u64) {
        let _ = self.events.send(Event::Killed(id));
        self.pool.wait_for(id, PACE);
    }
}

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

/// Cancels the registered run; returns how many connections had a query
/// running when they were told to stop.
fn cancel_in_flight(until: Instant) -> Result<usize, String> {
    let registered = CURRENT.lock().unwrap_or_else(|p| p.into_inner()).take();
    let Some(Registered { pool, kill }) = registered else {
        return Ok(0);
    };
    let Some(pool) = pool.upgrade() else {
        return Ok(0);
    };
    let mut out = pool.cancel();
    let (events, heard) = mpsc::channel();
    let pace = Pace {
        events,
        pool: Arc::clone(&pool),
    };
    let mut told = BTreeSet::new();
    let mut rounds = Rounds::default();
    let mut next_round = Instant::now();
    while !out.is_empty() {
        let now = Instant::now();
        rounds.take(&heard);
        if now >= until {
            let cause = rounds
                .failure
                .map_or_else(String::new, |e| format!(" (last `KILL QUERY`: {e})"));
            return Err(format!(
                "{} queries were still running on the server when the process exited{cause}",
                out.len()
            ));
        }
        if now >= next_round {
            // A `KILL` still unanswered holds its victim: another one for
            // the same victim would only queue behind it.
            let ids: Vec<u64> = out
                .iter()
                .copied()
                .filter(|id| !rounds.unanswered(*id))
                .collect();
            if !ids.is_empty() {
                round(&kill, &ids, remaining(until), pace.clone());
                told.extend(ids);
            }
            next_round = now + RESEND;
        }
        pool.wait_returned(remaining(next_round.min(until)).min(Duration::from_millis(20)));
        out = pool.in_use();
    }
    rounds.take(&heard);
    match rounds.failure {
        // Not one `KILL` got through: the queries ended for another reason
        // (the server went away), which is not a cancellation to report.
        Some(e) if rounds.answered.is_empty() => Err(format!(
            "could not cancel the running queries on the server: {e}"
        )),
        _ => Ok(told.len()),
    }
}

/// What the rounds have reported so far.
#[derive(Debug, Default)]
struct Rounds {
    /// `KILL QUERY` sent for these ids, and how many times.
    sent: BTreeMap<u64, usize>,
    /// Answered, and how many times.
    answered: BTreeMap<u64, usize>,
    failure: Option<String>,
}

impl Rounds {
    fn take(&mut self, events: &mpsc::Receiver<Event>) {
        for event in events.try_iter() {
            match event {
                Event::Sending(id) => *self.sent.entry(id).or_default() += 1,
                Event::Killed(id) => *self.answered.entry(id).or_default() += 1,
                Event::Failed(ids, e) => {
                    for id in ids {
                        if let Some(&sent) = self.sent.get(&id) {
                            self.answered.insert(id, sent);
                        }
                    }
                    self.failure = Some(e);
                }
            }
        }
    }

    fn unanswered(&self, id: u64) -> bool {
        self.sent.get(&id) > self.answered.get(&id)
    }
}

/// Starts one round of `KILL QUERY` for `ids` on a thread of its own, which
/// reports through `pace`; nobody waits for it.
fn round(kill: &Killer, ids: &[u64], within: Duration, pace: Pace) {
    let kill = Arc::clone(kill);
    let failed = pace.events.clone();
    let spawned = std::thread::Builder::new().name("dbio-kill".into()).spawn({
        let ids = ids.to_vec();
        move || {
            if let Err(e) = kill(&ids, within, &pace) {
                let _ = pace.events.send(Event::Failed(ids, e));
            }
        }
    });
    if let Err(e) = spawned {
        let e = format!("cannot start a thread to send it: {e}");
        let _ = failed.send(Event::Failed(ids.to_vec(), e));
    }
}
