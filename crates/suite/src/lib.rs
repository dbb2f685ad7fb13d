//! Every approach, in-process, for the tests and the bench of this package.
//!
//! The approaches are listed once, in `model::registry`: this table adds
//! their entry points, which only Rust can name, and
//! `tests/approaches.rs` checks that both agree with the workspace.

use common::approach::{Approach, run};
use common::{Error, Report, RunConfig};
use driver_mysql::Threads;
use std::time::{Duration, Instant};

/// An approach's prepare-and-execute, as a binary runs it.
pub type Entry = fn(&RunConfig) -> Result<Report, Error>;

/// An approach's run in its phases, each timed from outside.
pub type Phased = fn(&RunConfig) -> Result<Phases, Error>;

/// How long each phase of one run took, seen from outside the approach,
/// with the run's report.
#[derive(Debug)]
pub struct Phases {
    /// Building the pool (no connection opened) and the runtime.
    pub prepare: Duration,
    /// The execution, whose timed region (`wall_us`) lies inside it.
    pub execute: Duration,
    /// Dropping what was prepared: closing the connections, the runtime.
    pub close: Duration,
    pub report: Report,
}

macro_rules! approaches {
    ($($approach:ty),* $(,)?) => {
        /// Every approach, by package name, `test_single` (the baseline) first.
        pub const APPROACHES: [(&str, Entry); 6] = [$(entry::<$approach>()),*];
        /// The same approaches, run in timed phases.
        pub const PHASED: [(&str, Phased); 6] = [$(phased::<$approach>()),*];
    };
}

approaches![
    Threads<test_single::Single>,
    Threads<test_mt::ThreadPerQuery>,
    Threads<test_mt_bounded::Gated>,
    Threads<test_threadpool::Workers>,
    test_asyncio::TestAsyncio,
    test_async_std::TestAsyncStd,
];

const fn entry<A: Approach>() -> (&'static str, Entry) {
    (A::NAME, run::<A>)
}

const fn phased<A: Approach>() -> (&'static str, Phased) {
    (A::NAME, run_phased::<A>)
}

fn run_phased<A: Approach>(cfg: &RunConfig) -> Result<Phases, Error> {
    let t = Instant::now();
    let approach = A::prepare(&cfg.conn)?;
    let prepare = t.elapsed();
    let t = Instant::now();
    let report = approach.execute(&cfg.work)?;
    let execute = t.elapsed();
    let t = Instant::now();
    drop(approach);
    Ok(Phases {
        prepare,
        execute,
        close: t.elapsed(),
        report,
    })
}
