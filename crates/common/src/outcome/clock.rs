//! The run's clock, and when a query was submitted and sent on it.

use std::time::{Duration, Instant};

/// The instant a run started; results carry offsets from it.
#[derive(Debug, Clone, Copy)]
pub struct Clock(Instant);

impl Clock {
    pub fn start() -> Clock {
        Clock(Instant::now())
    }

    /// Microseconds since the start.
    pub fn offset_us(&self) -> u64 {
        u64::try_from(self.0.elapsed().as_micros()).unwrap_or(u64::MAX)
    }

    pub fn elapsed(&self) -> Duration {
        self.0.elapsed()
    }

    /// The instant `offset_us` after the start: when a query is due, for a
    /// runtime's timer.
    pub fn at(&self, offset_us: u64) -> Instant {
        self.0 + Duration::from_micros(offset_us)
    }

    /// Blocks the calling thread until `due_us` (at once when it has
    /// passed) and returns now, on the clock: when a query due then was
    /// released. An open loop's one addition to every thread-based
    /// schedule; in one batch every query is due at 0.
    pub fn wait_until(&self, due_us: u64) -> u64 {
        // Due at the start (every query of one batch): no clock read more
        // than before there was an open loop.
        if due_us > 0 {
            let due = self.at(due_us);
            let now = Instant::now();
            if due > now {
                std::thread::sleep(due - now);
            }
        }
        self.offset_us()
    }
}

/// When a query was submitted (the approach decided to run it) and when it
/// had its connection and was sent: microseconds from the execution's start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sent {
    pub submitted_us: u64,
    pub connected_us: u64,
}
