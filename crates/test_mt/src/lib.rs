//! One OS thread per query, all started at once; the threads share one pool
//! capped at the budget, so all but `budget` of them wait for a connection
//! inside the pool (as the blog's threads waited on SQLAlchemy's pool).

use common::mysql_driver::Runner;
use common::{Error, Report, RunConfig};

pub const APPROACH: &str = "test_mt";

pub fn run(cfg: &RunConfig) -> Result<Report, Error> {
    let runner = Runner::new(&cfg.conn, cfg.conn.budget)?;
    let outcomes = std::thread::scope(|s| {
        let handles: Vec<_> = cfg
            .queries
            .iter()
            .map(|q| (q, s.spawn(|| runner.run(q))))
            .collect();
        handles
            .into_iter()
            .map(|(q, h)| {
                h.join()
                    .unwrap_or_else(|p| Err(common::report::panicked(&q.label, p)))
            })
            .collect::<Vec<_>>()
    });
    let results = outcomes.into_iter().collect::<Result<Vec<_>, _>>()?;
    Report::assemble(APPROACH, cfg, results, runner.clock, &runner.gauge)
}
