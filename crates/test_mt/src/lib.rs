//! One OS thread per query, all started at once; the threads share one pool
//! capped at the budget, so all but `budget` of them wait for a connection
//! inside the pool (as the blog's threads waited on SQLAlchemy's pool).

use common::mysql_driver::Runner;
use common::report::join_all;
use common::{Error, Report, RunConfig};

pub const APPROACH: &str = "test_mt";

pub fn run(cfg: &RunConfig) -> Result<Report, Error> {
    let runner = Runner::new(&cfg.conn, cfg.conn.budget)?;
    let results = std::thread::scope(|s| {
        join_all(
            cfg.queries
                .iter()
                .map(|q| (q, s.spawn(|| runner.run(q))))
                .collect(),
        )
    })?;
    Report::assemble(APPROACH, cfg, results, runner.clock, &runner.gauge)
}
