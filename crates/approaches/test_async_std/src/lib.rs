//! async-std: one task per query, all spawned at once and awaited together,
//! over one pool capped at the budget. Same work as `test_asyncio`, on the
//! other runtime (async-std is discontinued upstream; kept for the
//! comparison).
//!
//! The tasks are local (`spawn_local`): they run on the thread that blocks
//! on them, one event loop as in `test_asyncio` and Python's asyncio, and
//! async-io's reactor is driven by that thread. Spawned onto async-std's
//! global executor (a thread per core, the reactor on a thread of its own),
//! every read that would block re-armed its interest with `epoll_ctl`, set a
//! timer and woke the reactor through a pipe: 3.6 to 8.8 system calls a
//! lookup against 2.1 here, and 8% slower on 32% more CPU
//! (ARCHITECTURE.md, "What a query costs the client").

use std::sync::Arc;

use common::outcome::collect_results;
use common::workload::Work;
use common::{Approach, ConnConfig, Error, Execution, Query, Report};
use driver_sqlx::{AsyncRunner, BlockOn};

/// See the crate docs.
#[derive(Debug)]
pub struct TestAsyncStd {
    runner: Arc<AsyncRunner>,
    conn: ConnConfig,
}

impl Approach for TestAsyncStd {
    const NAME: &'static str = "test_async_std";

    fn prepare(conn: &ConnConfig) -> Result<Self, Error> {
        // async-std's executor is global: nothing to build.
        let block_on: BlockOn = Arc::new(async_std::task::block_on);
        let runner = AsyncRunner::new(conn, block_on)?;
        Ok(TestAsyncStd {
            runner: Arc::new(runner),
            conn: conn.clone(),
        })
    }

    fn probe(&self, sql: &str) -> Result<Vec<Option<String>>, Error> {
        self.probe_on(0, sql)
    }

    fn servers(&self) -> usize {
        self.runner.servers()
    }

    fn probe_on(&self, server: usize, sql: &str) -> Result<Vec<Option<String>>, Error> {
        async_std::task::block_on(self.runner.probe(server, sql))
    }

    fn probe_named(
        &self,
        server: usize,
        sql: &str,
    ) -> Result<Vec<(String, Option<String>)>, Error> {
        async_std::task::block_on(self.runner.probe_named(server, sql))
    }

    fn execute(&self, work: &Work) -> Result<Report, Error> {
        async_std::task::block_on(async {
            // Tasks own what they use: the list is shared before the clock
            // starts (the thread-based approaches borrow it).
            let queries: Arc<[Query]> = work.queries().into();
            if work.schedule().is_some() {
                self.runner.warm().await?;
            }
            let exec = Arc::new(Execution::start_for(work));
            let mut tasks = Vec::with_capacity(queries.len());
            for i in 0..queries.len() {
                // Spawned when due: at once in one batch.
                let due_us = work.due_us(i);
                if due_us > 0 {
                    let due = exec.clock.at(due_us);
                    let wait = due.saturating_duration_since(std::time::Instant::now());
                    if !wait.is_zero() {
                        async_std::task::sleep(wait).await;
                    }
                }
                let (runner, exec, queries) = (
                    Arc::clone(&self.runner),
                    Arc::clone(&exec),
                    Arc::clone(&queries),
                );
                let submitted = exec.clock.offset_us();
                tasks.push(async_std::task::spawn_local(async move {
                    runner.run(&queries[i], &exec, submitted).await
                }));
            }
            // async-std's JoinHandle re-raises a task's panic here; nothing to map.
            let results = collect_results(futures::future::join_all(tasks).await);
            // Connections stay open for the next execution, as in the
            // thread-based approaches; they close when the pool is dropped.
            exec.finish(Self::NAME, driver_sqlx::NAME, &self.conn, work, results?)
        })
    }
}
