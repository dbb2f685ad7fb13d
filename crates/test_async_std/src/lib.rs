//! async-std: one task per query, all spawned at once and awaited together,
//! over one sqlx pool capped at the budget. Same work as `test_asyncio`, on
//! the other runtime (async-std is discontinued upstream; kept for the
//! comparison).

use std::sync::Arc;

use common::report::collect_results;
use common::sqlx_driver::Runner;
use common::{Error, Report, RunConfig};

pub const APPROACH: &str = "test_async_std";

pub fn run(cfg: &RunConfig) -> Result<Report, Error> {
    async_std::task::block_on(run_async(cfg))
}

pub async fn run_async(cfg: &RunConfig) -> Result<Report, Error> {
    let block_on: common::sqlx_driver::BlockOn = Arc::new(async_std::task::block_on);
    let runner = Arc::new(Runner::new(&cfg.conn, cfg.conn.budget, block_on)?);
    let queries = Arc::new(cfg.queries.clone());
    let tasks: Vec<_> = (0..queries.len())
        .map(|i| {
            let (runner, queries) = (Arc::clone(&runner), Arc::clone(&queries));
            async_std::task::spawn(async move { runner.run(&queries[i]).await })
        })
        .collect();
    // async-std's JoinHandle re-raises a task's panic here; nothing to map.
    let outcomes = futures::future::join_all(tasks).await;
    runner.close().await;
    let results = collect_results(outcomes)?;
    Report::assemble(APPROACH, cfg, results, runner.clock, &runner.gauge)
}
