//! async-std: one task per query, all spawned at once and awaited together,
//! over one pool capped at the budget. Same work as `test_asyncio`, on the
//! other runtime (async-std is discontinued upstream; kept for the
//! comparison).

use std::sync::Arc;

use common::outcome::collect_results;
use common::{Approach, ConnConfig, Error, Execution, Query, Report, RunConfig};
use driver_sqlx::{AsyncRunner, BlockOn};

/// See the crate docs.
#[derive(Debug)]
pub struct TestAsyncStd(Arc<AsyncRunner>);

impl Approach for TestAsyncStd {
    const NAME: &'static str = "test_async_std";

    fn prepare(conn: &ConnConfig) -> Result<Self, Error> {
        // async-std's executor is global: nothing to build.
        let block_on: BlockOn = Arc::new(async_std::task::block_on);
        let runner = AsyncRunner::new(conn, conn.budget, block_on)?;
        Ok(TestAsyncStd(Arc::new(runner)))
    }

    fn probe(&self, sql: &str) -> Result<Vec<Option<String>>, Error> {
        async_std::task::block_on(self.0.probe(sql))
    }

    fn execute(&self, cfg: &RunConfig) -> Result<Report, Error> {
        async_std::task::block_on(async {
            let exec = Arc::new(Execution::start());
            let queries: Arc<[Query]> = cfg.queries.clone().into();
            let tasks: Vec<_> = (0..queries.len())
                .map(|i| {
                    let (runner, exec, queries) =
                        (Arc::clone(&self.0), Arc::clone(&exec), Arc::clone(&queries));
                    let submitted = exec.clock.offset_us();
                    async_std::task::spawn(async move {
                        runner.run(&queries[i], &exec, submitted).await
                    })
                })
                .collect();
            // async-std's JoinHandle re-raises a task's panic here; nothing to map.
            let results = collect_results(futures::future::join_all(tasks).await);
            // Connections stay open for the next execution, as in the
            // thread-based approaches; they close when the pool is dropped.
            exec.finish(Self::NAME, cfg, results?)
        })
    }
}
