//! tokio: one task per query, all spawned at once and awaited together, over
//! one pool capped at the budget (the blog's asyncio + aiomysql pool).
//!
//! The runtime is tokio's current-thread scheduler: every task runs on the
//! thread that runs the approach, as Python's asyncio runs one event loop.
//! The multi-threaded default spread the same tasks over a worker per core,
//! which woke idle workers with a `futex` and raced replies into reads that
//! would block: 2.4 to 3.5 system calls a lookup against 2.1 here. It also
//! gave the client's work both cores: on 50,000 lookups on 2 cores it ended
//! 11% sooner on 8% more CPU (ARCHITECTURE.md, "What a query costs the
//! client").

use std::sync::Arc;

use common::outcome::collect_results;
use common::workload::Work;
use common::{Approach, ConnConfig, Error, Execution, Query, Report};
use driver_sqlx::{AsyncRunner, BlockOn};

/// See the crate docs.
#[derive(Debug)]
pub struct TestAsyncio {
    runtime: tokio::runtime::Runtime,
    runner: Arc<AsyncRunner>,
    conn: ConnConfig,
}

impl Approach for TestAsyncio {
    const NAME: &'static str = "test_asyncio";

    fn prepare(conn: &ConnConfig) -> Result<Self, Error> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|source| Error::Io {
                what: "cannot start the tokio runtime".into(),
                source,
            })?;
        // The killer runs on a runtime of its own: the run's may be shutting
        // down by then (its tasks end as their queries are killed).
        let block_on: BlockOn = Arc::new(|f| {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| format!("cannot start a tokio runtime: {e}"))?
                .block_on(f)
        });
        let runner = AsyncRunner::new(conn, block_on)?;
        Ok(TestAsyncio {
            runtime,
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
        self.runtime.block_on(self.runner.probe(server, sql))
    }

    fn probe_named(
        &self,
        server: usize,
        sql: &str,
    ) -> Result<Vec<(String, Option<String>)>, Error> {
        self.runtime.block_on(self.runner.probe_named(server, sql))
    }

    fn execute(&self, work: &Work) -> Result<Report, Error> {
        self.runtime.block_on(async {
            // Tasks own what they use: the list is shared before the clock
            // starts (the thread-based approaches borrow it).
            let queries: Arc<[Query]> = work.queries().into();
            if work.schedule().is_some() {
                self.runner.warm().await?;
            }
            let exec = Arc::new(Execution::start_for(work));
            let mut tasks = Vec::with_capacity(queries.len());
            let spawn = |i: usize| {
                let (runner, exec, queries) = (
                    Arc::clone(&self.runner),
                    Arc::clone(&exec),
                    Arc::clone(&queries),
                );
                let submitted = exec.clock.offset_us();
                tokio::spawn(async move { runner.run(&queries[i], &exec, submitted).await })
            };
            if work.schedule().is_none() {
                // One batch: every task at once.
                tasks.extend((0..queries.len()).map(spawn));
            } else {
                // Spawned when due. tokio's timer ticks in milliseconds, and
                // every release was up to a tick late (request p50 1.1-1.4
                // ms for 1,000 lookups a second; 0.4-0.5 ms with the due
                // times from a thread of their own). What lag is left is
                // the one loop being busy with the other tasks.
                let mut due = dispatch_clock(work, exec.clock)?;
                while let Some(i) = due.recv().await {
                    tasks.push(spawn(i));
                }
            }
            let mut outcomes = Vec::with_capacity(tasks.len());
            for (q, task) in work.queries().iter().zip(tasks) {
                outcomes.push(task.await.unwrap_or_else(|join| {
                    Err(Error::Worker {
                        label: q.label.clone(),
                        reason: join.to_string(),
                    })
                }));
            }
            let results = collect_results(outcomes);
            // Connections stay open for the next execution, as in the
            // thread-based approaches; they close when the pool is dropped.
            exec.finish(Self::NAME, driver_sqlx::NAME, &self.conn, work, results?)
        })
    }
}

/// A thread that sends each query's index when it is due (std's sleep is
/// precise to tens of microseconds); it stops when the receiver is gone.
fn dispatch_clock(
    work: &Work,
    clock: common::Clock,
) -> Result<tokio::sync::mpsc::UnboundedReceiver<usize>, Error> {
    let due: Vec<u64> = (0..work.len()).map(|i| work.due_us(i)).collect();
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    std::thread::Builder::new()
        .name("dbio-dispatch".into())
        .spawn(move || {
            for (i, at) in due.into_iter().enumerate() {
                clock.wait_until(at);
                if tx.send(i).is_err() {
                    return;
                }
            }
        })
        .map_err(|source| Error::Io {
            what: "cannot start the dispatch clock's thread".into(),
            source,
        })?;
    Ok(rx)
}
