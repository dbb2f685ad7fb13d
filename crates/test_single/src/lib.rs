//! Serial: one connection, the queries one after another, in order.
//!
//! The baseline every speedup is measured against. The pool is the same as
//! in the threaded approaches, capped at one connection whatever the budget.

use common::mysql_driver::Runner;
use common::{Error, Report, RunConfig};

pub const APPROACH: &str = "test_single";

pub fn run(cfg: &RunConfig) -> Result<Report, Error> {
    let runner = Runner::new(&cfg.conn, 1)?;
    let results = cfg
        .queries
        .iter()
        .map(|q| runner.run(q))
        .collect::<Result<Vec<_>, _>>()?;
    Report::assemble(APPROACH, cfg, results, runner.clock, &runner.gauge)
}
