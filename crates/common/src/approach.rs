//! What an approach is to the rest of the workspace: something prepared
//! once (a pool, a runtime) and then executed, each execution running the
//! whole query list and returning its [`Report`].
//!
//! The split lets the criterion bench time executions only, as tokio's own
//! benches build their runtime outside the measured loop, and it makes the
//! timed region the same in every approach ([`crate::outcome::Execution`]).

use crate::workload::Work;
use crate::{ConnConfig, Error, Report, RunConfig};

/// One way of scheduling the queries.
pub trait Approach: Sized {
    /// The package and binary name (`test_mt`, ...).
    const NAME: &'static str;

    /// Builds what executions share: a pool capped at the budget (no
    /// connection is opened yet) and, for the async approaches, a runtime.
    /// The prepared approach keeps `conn`: every execution runs under the
    /// same settings and reports them.
    fn prepare(conn: &ConnConfig) -> Result<Self, Error>;

    /// Runs every query of `work` once and reports. An open loop first
    /// opens the budget's connections, before its clock starts: its
    /// latencies are those of a running service, whose pool is warm.
    fn execute(&self, work: &Work) -> Result<Report, Error>;

    /// The first row of `sql`, on a connection of its own (not the pool's,
    /// which stays unopened until the timed run): for what a workload must
    /// know before its list is built, such as the key range.
    fn probe(&self, sql: &str) -> Result<Vec<Option<String>>, Error>;

    /// How many servers the run reads from (read replicas): 1 unless
    /// several were given.
    fn servers(&self) -> usize {
        1
    }

    /// [`Approach::probe`] on server `server` (0 is the first).
    fn probe_on(&self, server: usize, sql: &str) -> Result<Vec<Option<String>>, Error> {
        let _ = server;
        self.probe(sql)
    }

    /// [`Approach::probe_on`], each value with its column's name (for a
    /// statement whose columns are known by name only, `SHOW SLAVE STATUS`).
    fn probe_named(&self, server: usize, sql: &str)
    -> Result<Vec<(String, Option<String>)>, Error>;
}

/// Prepares and executes once, for a list that is already built.
pub fn run<A: Approach>(cfg: &RunConfig) -> Result<Report, Error> {
    A::prepare(&cfg.conn)?.execute(&cfg.work)
}
