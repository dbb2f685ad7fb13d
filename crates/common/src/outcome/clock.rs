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
}

/// When a query was submitted (the approach decided to run it) and when it
/// had its connection and was sent: microseconds from the execution's start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sent {
    pub submitted_us: u64,
    pub connected_us: u64,
}
