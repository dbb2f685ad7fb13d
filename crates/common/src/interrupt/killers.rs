//! The killers: how one pool's running queries are cancelled on the server.
//!
//! One killer at a time, on a thread and a connection of its own, takes
//! the connections to kill one by one from a queue, and paces its kills:
//! the next waits until the last victim's connection is back (at most
//! [`PACE`]). Why one, and paced: MariaDB 10.11 holds a victim's
//! `LOCK_thd_kill` while it wakes it, and wakes a `SLEEP()` by try-locking
//! the server-wide sleep mutex for up to 2 s (`THD::abort_current_cond_wait`).
//! If that mutex is busy when the `KILL` arrives, the woken victim takes it
//! and then waits for its `LOCK_thd_kill`, and both wait the 2 s out (seen
//! with gdb; the victim shows as `Busy` in the process list). While they
//! wait, every other sleeper's `KILL` stalls the same way. The usual holder
//! is the previous victim waking up, or a parallel `KILL`: pacing lets it
//! finish first. A killer whose `KILL` goes unanswered for [`STUCK`] is
//! left behind and a new one takes the queue, without that victim. A
//! connection still out [`RESEND`] after its `KILL` was answered is queued
//! again: its query was sent just after the `KILL` reached it idle.
//!
//! The price of one killer is a round trip per running query: through
//! `dbio proxy --latency-ms 25`, 16 `SLEEP()` queries took 1.0 s to cancel;
//! at 50 ms they do not fit in [`GRACE`](super::GRACE), and the exit line says how many
//! were left running.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::{Arc, Condvar, Mutex, mpsc};
use std::time::{Duration, Instant};

use limits::deadline::remaining;

use crate::pool::InFlight;

/// How long a killed connection may stay out before it is killed again,
/// and the shortest time between two killers' starts.
pub const RESEND: Duration = Duration::from_millis(200);

/// How long a `KILL QUERY` may go unanswered before its killer is left
/// behind (a stalled `KILL`, not a slow network: a round trip is less).
pub const STUCK: Duration = Duration::from_millis(500);

/// The longest a killer waits for a killed query's connection to come back
/// before it sends the next `KILL QUERY`.
pub const PACE: Duration = Duration::from_millis(50);

/// Opens a connection of its own, within the time given, and sends
/// `KILL QUERY` over it for each id [`Pace::next`] gives, calling
/// [`Pace::killed`] after each one the server answered.
pub type Killer = Arc<dyn Fn(Duration, &Pace) -> Result<(), String> + Send + Sync>;

/// A [`Killer`] from a closure (whose argument types this spells once).
pub fn killer(
    kill: impl Fn(Duration, &Pace) -> Result<(), String> + Send + Sync + 'static,
) -> Killer {
    Arc::new(kill)
}

/// What a killer (by number) reports back to the cancelling thread.
#[derive(Debug)]
enum Event {
    /// Killer `killer` takes connection `id` off the queue.
    Sending { killer: u64, id: u64 },
    /// The server answered killer `killer`'s `KILL QUERY id`.
    Killed { killer: u64, id: u64 },
    /// A killer that stopped at an error (the `KILL` it had in flight, if
    /// any, is no longer waited for).
    Failed(u64, String),
}

/// The connections waiting for a `KILL QUERY`, and which killer may send
/// them.
#[derive(Debug, Default)]
struct Queue {
    ids: VecDeque<u64>,
    killer: u64,
}

/// What the killers and the cancelling thread share.
struct Shared {
    queue: Mutex<Queue>,
    queued: Condvar,
    events: mpsc::Sender<Event>,
    pool: Arc<dyn InFlight>,
}

impl Shared {
    fn tell(&self, event: Event) {
        // The cancelling thread may have finished already: nothing to tell.
        let _ = self.events.send(event);
    }
}

/// A killer's link to the queue, the cancelling thread and the run's pool
/// (clone it into a future).
#[derive(Clone)]
pub struct Pace {
    shared: Arc<Shared>,
    /// This killer's number: once another has replaced it, it gets no more.
    killer: u64,
}

impl std::fmt::Debug for Pace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pace")
            .field("killer", &self.killer)
            .finish_non_exhaustive()
    }
}

impl Pace {
    /// The next server connection id to send `KILL QUERY` for, waiting for
    /// one to be queued; `None` once another killer has replaced this one.
    pub fn next(&self) -> Option<u64> {
        let mut queue = lock(&self.shared.queue);
        loop {
            if queue.killer != self.killer {
                return None;
            }
            if let Some(id) = queue.ids.pop_front() {
                self.shared.tell(Event::Sending {
                    killer: self.killer,
                    id,
                });
                return Some(id);
            }
            queue = self
                .shared
                .queued
                .wait(queue)
                .unwrap_or_else(|p| p.into_inner());
        }
    }

    /// Says that the server answered `KILL QUERY id` (done, or: no such
    /// connection), then waits up to [`PACE`] for that connection to come
    /// back. Blocks the calling thread (a killer's runtime runs nothing
    /// else).
    pub fn killed(&self, id: u64) {
        self.shared.tell(Event::Killed {
            killer: self.killer,
            id,
        });
        self.shared.pool.wait_for(id, PACE);
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

/// Cancels what `pool` has running, with `kill`'s killers, by `until`;
/// returns how many connections had a query running when told to stop.
pub(super) fn cancel_pool(
    pool: Arc<dyn InFlight>,
    kill: &Killer,
    until: Instant,
) -> Result<usize, String> {
    let mut out = pool.cancel();
    let (events, heard) = mpsc::channel();
    let shared = Arc::new(Shared {
        queue: Mutex::default(),
        queued: Condvar::new(),
        events,
        pool: Arc::clone(&pool),
    });
    let mut victims = Victims::default();
    while !out.is_empty() {
        let now = Instant::now();
        victims.take(&heard, now);
        if now >= until {
            let cause = match victims.failure {
                Some(e) => format!(" (last `KILL QUERY`: {e})"),
                None if victims.sent.is_empty() => {
                    " (no connection to send `KILL QUERY` over opened in time)".to_owned()
                }
                None => String::new(),
            };
            return Err(format!(
                "{} queries were still running on the server when the process exited{cause}",
                out.len()
            ));
        }
        let mut queue = lock(&shared.queue);
        for &id in &out {
            if !queue.ids.contains(&id) && victims.due(id, now) {
                queue.ids.push_back(id);
            }
        }
        shared.queued.notify_all();
        if !queue.ids.is_empty() && victims.replace_killer(now) {
            queue.killer += 1;
            victims.killer = Some(KillerState::started(queue.killer, now));
            let pace = Pace {
                shared: Arc::clone(&shared),
                killer: queue.killer,
            };
            drop(queue);
            start_killer(kill, remaining(until), pace);
        } else {
            drop(queue);
        }
        pool.wait_returned(remaining(until).min(Duration::from_millis(20)));
        out = pool.in_use();
    }
    victims.take(&heard, Instant::now());
    match victims.failure {
        // Not one `KILL` got through: the queries ended for another reason
        // (the server went away), which is not a cancellation to report.
        Some(e) if !victims.confirmed => Err(format!(
            "could not cancel the running queries on the server: {e}"
        )),
        _ => Ok(victims.sent.len()),
    }
}

/// The killer that may send now.
#[derive(Debug)]
struct KillerState {
    number: u64,
    started: Instant,
    failed: bool,
}

impl KillerState {
    fn started(number: u64, now: Instant) -> KillerState {
        KillerState {
            number,
            started: now,
            failed: false,
        }
    }
}

/// What the killers have reported so far.
#[derive(Debug, Default)]
struct Victims {
    /// Every id a `KILL QUERY` was sent for.
    sent: BTreeSet<u64>,
    /// Per killer, the id of its `KILL QUERY` not answered yet, and since
    /// when (a killer left behind keeps its entry).
    in_flight: BTreeMap<u64, (u64, Instant)>,
    /// When each id's last `KILL QUERY` was answered or given up.
    settled: BTreeMap<u64, Instant>,
    /// Whether the server has answered any `KILL QUERY`.
    confirmed: bool,
    killer: Option<KillerState>,
    failure: Option<String>,
}

impl Victims {
    fn take(&mut self, events: &mpsc::Receiver<Event>, now: Instant) {
        for event in events.try_iter() {
            match event {
                Event::Sending { killer, id } => {
                    self.sent.insert(id);
                    self.in_flight.insert(killer, (id, now));
                }
                Event::Killed { killer, id } => {
                    self.in_flight.remove(&killer);
                    self.settled.insert(id, now);
                    self.confirmed = true;
                }
                Event::Failed(killer, e) => {
                    if let Some((id, _)) = self.in_flight.remove(&killer) {
                        self.settled.insert(id, now);
                    }
                    if let Some(current) = &mut self.killer
                        && current.number == killer
                    {
                        current.failed = true;
                    }
                    self.failure = Some(e);
                }
            }
        }
    }

    /// Whether `id`, still out, needs a `KILL QUERY` now: never sent one,
    /// or its last was answered [`RESEND`] ago. One still unanswered holds
    /// its victim: another would only queue behind it.
    fn due(&self, id: u64, now: Instant) -> bool {
        if self.in_flight.values().any(|&(victim, _)| victim == id) {
            return false;
        }
        match self.settled.get(&id) {
            None => !self.sent.contains(&id),
            Some(&at) => now.duration_since(at) >= RESEND,
        }
    }

    /// Whether a new killer should take over: none has started, or this
    /// one has failed or is stuck, and started [`RESEND`] ago or more.
    fn replace_killer(&self, now: Instant) -> bool {
        let Some(killer) = &self.killer else {
            return true;
        };
        let stuck = self
            .in_flight
            .get(&killer.number)
            .is_some_and(|&(_, since)| now.duration_since(since) >= STUCK);
        (killer.failed || stuck) && now.duration_since(killer.started) >= RESEND
    }
}

/// Starts a killer on a thread of its own, which reports through `pace`;
/// nobody waits for it.
fn start_killer(kill: &Killer, within: Duration, pace: Pace) {
    let kill = Arc::clone(kill);
    let (shared, number) = (Arc::clone(&pace.shared), pace.killer);
    let spawned = std::thread::Builder::new()
        .name("dbio-kill".into())
        .spawn(move || {
            if let Err(e) = kill(within, &pace) {
                pace.shared.tell(Event::Failed(pace.killer, e));
            }
        });
    if let Err(e) = spawned {
        let e = format!("cannot start a thread to send it: {e}");
        shared.tell(Event::Failed(number, e));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn heard(victims: &mut Victims, at: Instant, events: Vec<Event>) {
        let (tx, rx) = mpsc::channel();
        for event in events {
            tx.send(event).expect("send");
        }
        victims.take(&rx, at);
    }

    #[test]
    fn a_connection_is_killed_again_only_after_its_kill_was_answered_and_resend_passed() {
        let t0 = Instant::now();
        let mut victims = Victims::default();
        assert!(victims.due(7, t0), "never sent: due");
        heard(&mut victims, t0, vec![Event::Sending { killer: 1, id: 7 }]);
        assert!(
            !victims.due(7, t0 + STUCK * 4),
            "unanswered: a second KILL would queue behind it"
        );
        heard(&mut victims, t0, vec![Event::Killed { killer: 1, id: 7 }]);
        assert!(!victims.due(7, t0 + RESEND / 2), "answered just now");
        assert!(
            victims.due(7, t0 + RESEND),
            "answered, still out after RESEND"
        );
        assert!(victims.confirmed);
        heard(
            &mut victims,
            t0,
            vec![
                Event::Sending { killer: 1, id: 8 },
                Event::Failed(1, "gone".into()),
            ],
        );
        assert!(victims.due(8, t0 + RESEND), "a failed KILL is tried again");
        assert_eq!(victims.failure.as_deref(), Some("gone"));
    }

    #[test]
    fn a_killer_is_replaced_when_it_failed_or_is_stuck_and_not_sooner_than_resend() {
        let t0 = Instant::now();
        let mut victims = Victims::default();
        assert!(victims.replace_killer(t0), "none started yet");
        victims.killer = Some(KillerState::started(1, t0));
        assert!(!victims.replace_killer(t0 + STUCK * 2), "idle, not stuck");
        heard(&mut victims, t0, vec![Event::Sending { killer: 1, id: 7 }]);
        assert!(
            !victims.replace_killer(t0 + STUCK / 2),
            "a round trip, not a stall"
        );
        assert!(victims.replace_killer(t0 + STUCK), "unanswered for STUCK");
        // The stuck killer's victim is not killed again by the next one.
        victims.killer = Some(KillerState::started(2, t0));
        assert!(!victims.due(7, t0 + STUCK * 4));
        // Reports of a killer already replaced change nothing for the new one.
        heard(&mut victims, t0, vec![Event::Failed(1, "old".into())]);
        assert!(!victims.replace_killer(t0 + RESEND));
        heard(&mut victims, t0, vec![Event::Failed(2, "refused".into())]);
        assert!(
            !victims.replace_killer(t0 + RESEND / 2),
            "not sooner than RESEND"
        );
        assert!(victims.replace_killer(t0 + RESEND), "failed");
    }
}
