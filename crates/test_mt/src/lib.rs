//! One OS thread per query, all started at once; the threads share one pool
//! capped at the budget, so all but `budget` of them wait for a connection
//! inside the pool (as the blog's threads waited on SQLAlchemy's pool).

use common::outcome::join_all;
use common::{Approach, Error, Execution, Report, RunConfig};
use driver_mysql::BlockingRunner;

/// See the crate docs.
#[derive(Debug)]
pub struct TestMt(BlockingRunner);

impl Approach for TestMt {
    const NAME: &'static str = "test_mt";

    fn prepare(cfg: &RunConfig) -> Result<Self, Error> {
        BlockingRunner::new(&cfg.conn, cfg.conn.budget).map(TestMt)
    }

    fn execute(&self, cfg: &RunConfig) -> Result<Report, Error> {
        let exec = Execution::start();
        let results = std::thread::scope(|s| {
            let threads = cfg
                .queries
                .iter()
                .map(|q| (q, s.spawn(|| self.0.run(q, &exec))));
            join_all(threads.collect())
        })?;
        exec.finish(Self::NAME, cfg, results)
    }
}
