//! tokio: one task per query, all spawned at once and awaited together, over
//! one sqlx pool capped at the budget (the blog's asyncio + aiomysql pool).
//! The runtime is tokio's multi-threaded default (one worker per core).

use std::sync::Arc;

use common::report::collect_results;
use common::sqlx_driver::Runner;
use common::{Error, Report, RunConfig};

pub const APPROACH: &str = "test_asyncio";

pub fn run(cfg: &RunConfig) -> Result<Report, Error> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|source| Error::Io {
            what: "cannot start the tokio runtime".into(),
            source,
        })?;
    runtime.block_on(run_async(cfg))
}

pub async fn run_async(cfg: &RunConfig) -> Result<Report, Error> {
    // The killer runs on a runtime of its own: the run's may be shutting
    // down by then (its tasks end as their queries are killed).
    let block_on: common::sqlx_driver::BlockOn = Arc::new(|f| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start a tokio runtime: {e}"))?
            .block_on(f)
    });
    let runner = Arc::new(Runner::new(&cfg.conn, cfg.conn.budget, block_on)?);
    let queries = Arc::new(cfg.queries.clone());
    let tasks: Vec<_> = (0..queries.len())
        .map(|i| {
            let (runner, queries) = (Arc::clone(&runner), Arc::clone(&queries));
            tokio::spawn(async move { runner.run(&queries[i]).await })
        })
        .collect();
    let mut outcomes = Vec::with_capacity(tasks.len());
    for (q, task) in cfg.queries.iter().zip(tasks) {
        outcomes.push(task.await.unwrap_or_else(|join| {
            Err(Error::Worker {
                label: q.label.clone(),
                reason: join.to_string(),
            })
        }));
    }
    runner.close().await;
    let results = collect_results(outcomes)?;
    Report::assemble(APPROACH, cfg, results, runner.clock, &runner.gauge)
}
