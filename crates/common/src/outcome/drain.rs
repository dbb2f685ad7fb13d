//! An open loop's end: the run ends when its last request finishes, or at
//! its drain deadline (the last request's due time and `--drain-timeout`).
//! Then what still runs is cancelled on the server, as a signal cancels it
//! ([`crate::interrupt`]), and every query without a result is reported as
//! unfinished: counted, never dropped, never an error of the run.

use std::sync::Mutex;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::Instant;

use crate::interrupt::{GRACE, cancel_in_flight};
use crate::outcome::Clock;
use crate::workload::Work;

/// When the current run passed its drain deadline, if it did.
static DRAINED_AT: Mutex<Option<Instant>> = Mutex::new(None);

fn drained_at() -> std::sync::MutexGuard<'static, Option<Instant>> {
    DRAINED_AT
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// When the current run was drained: its queries failing from then on
/// were cancelled by the drain, not failures of the run.
pub fn drained() -> Option<Instant> {
    *drained_at()
}

/// The drain deadline's watch over one execution; dropping it (the run
/// ended first) stops the watch.
#[derive(Debug, Default)]
pub struct Drain {
    stop: Mutex<Option<mpsc::Sender<()>>>,
}

impl Drain {
    /// Watches `work`'s drain deadline on `clock`: nothing to watch in one
    /// batch.
    pub fn arm(work: &Work, clock: &Clock) -> Drain {
        *drained_at() = None;
        let Some(schedule) = work.schedule() else {
            return Drain::default();
        };
        let deadline = clock.at(schedule.drain_deadline_us());
        let (stop, stopped) = mpsc::channel::<()>();
        let watch = move || {
            let wait = deadline.saturating_duration_since(Instant::now());
            if let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(wait) {
                *drained_at() = Some(Instant::now());
                // Best effort, bounded by GRACE: a query the killers miss
                // ends with its connection when the process exits.
                let _ = cancel_in_flight(Instant::now() + GRACE);
            }
        };
        match std::thread::Builder::new()
            .name("dbio-drain".into())
            .spawn(watch)
        {
            Ok(_) => Drain {
                stop: Mutex::new(Some(stop)),
            },
            // No watch: the run ends when its last request does.
            Err(_) => Drain::default(),
        }
    }

    /// Stops the watch: the last result is in.
    pub fn disarm(&self) {
        self.stop
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
    }
}
