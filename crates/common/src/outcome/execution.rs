//! One execution: its clock and the gauge of connections in use.

use std::sync::atomic::{AtomicUsize, Ordering};

use super::clock::Clock;
use super::drain::Drain;
use super::usage::ResourceUsage;
use crate::workload::Work;

/// One execution of the query list: the clock that times it and the gauge
/// of connections in use. Every approach starts it before scheduling the
/// first query and [`finish`](Execution::finish)es it as soon as the last
/// result is collected: closing connections (and dropping the pool or
/// runtime) is outside the timed region in every approach.
#[derive(Debug)]
pub struct Execution {
    pub clock: Clock,
    pub gauge: Gauge,
    /// The process's CPU time when the clock started.
    pub(super) started: ResourceUsage,
    /// An open loop's drain deadline, watched until the last result is in.
    pub(super) drain: Drain,
}

impl Execution {
    pub fn start() -> Execution {
        let started = ResourceUsage::of_self();
        Execution {
            clock: Clock::start(),
            gauge: Gauge::default(),
            started,
            drain: Drain::default(),
        }
    }

    /// Starts the execution of `work`, with the watch on its drain
    /// deadline in an open loop ([`Drain`]).
    pub fn start_for(work: &Work) -> Execution {
        let mut exec = Execution::start();
        exec.drain = Drain::arm(work, &exec.clock);
        exec
    }
}

/// Counts connections in use, and the most that were in use at once.
#[derive(Debug, Default)]
pub struct Gauge {
    current: AtomicUsize,
    peak: AtomicUsize,
}

impl Gauge {
    /// Marks one connection in use until the guard drops.
    pub fn hold(&self) -> GaugeGuard<'_> {
        let now = self.current.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak.fetch_max(now, Ordering::SeqCst);
        GaugeGuard(self)
    }

    pub fn peak(&self) -> usize {
        self.peak.load(Ordering::SeqCst)
    }
}

/// See [`Gauge::hold`].
#[derive(Debug)]
pub struct GaugeGuard<'a>(&'a Gauge);

impl Drop for GaugeGuard<'_> {
    fn drop(&mut self) {
        self.0.current.fetch_sub(1, Ordering::SeqCst);
    }
}
