//! What an approach is to the rest of the workspace: something prepared
//! once (a pool, a runtime) and then executed, each execution running the
//! whole query list and returning its [`Report`].
//!
//! The split lets the criterion bench time executions only, as tokio's own
//! benches build their runtime outside the measured loop, and it makes the
//! timed region the same in every approach ([`crate::outcome::Execution`]).

use crate::{Error, Report, RunConfig};

/// One way of scheduling the queries.
pub trait Approach: Sized {
    /// The package and binary name (`test_mt`, ...).
    const NAME: &'static str;

    /// Builds what executions share: a pool capped at the budget (no
    /// connection is opened yet) and, for the async approaches, a runtime.
    fn prepare(cfg: &RunConfig) -> Result<Self, Error>;

    /// Runs every query of `cfg` once and reports.
    fn execute(&self, cfg: &RunConfig) -> Result<Report, Error>;
}

/// Prepares and executes once: what a binary does.
pub fn run<A: Approach>(cfg: &RunConfig) -> Result<Report, Error> {
    A::prepare(cfg)?.execute(cfg)
}
