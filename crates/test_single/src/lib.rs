//! Serial: one connection, the queries one after another, in order.
//!
//! The baseline every speedup is measured against. The pool is the same as
//! in the threaded approaches, capped at one connection whatever the budget.

use common::{Approach, Error, Execution, Report, RunConfig};
use driver_mysql::BlockingRunner;

/// See the crate docs.
#[derive(Debug)]
pub struct TestSingle(BlockingRunner);

impl Approach for TestSingle {
    const NAME: &'static str = "test_single";

    fn prepare(cfg: &RunConfig) -> Result<Self, Error> {
        BlockingRunner::new(&cfg.conn, 1).map(TestSingle)
    }

    fn execute(&self, cfg: &RunConfig) -> Result<Report, Error> {
        let exec = Execution::start();
        let results = cfg
            .queries
            .iter()
            .map(|q| self.0.run(q, &exec))
            .collect::<Result<Vec<_>, _>>()?;
        exec.finish(Self::NAME, cfg, results)
    }
}
