//! A fixed pool of `budget` worker threads fed through a crossbeam channel,
//! results collected as they complete (the blog's `ThreadPoolExecutor` with
//! `as_completed`). At most `budget` queries are ever in flight, so workers
//! never wait on the connection pool.

use crossbeam::channel;

use common::outcome::collect_results;
use common::{Approach, Error, Execution, Query, Report, RunConfig};
use driver_mysql::BlockingRunner;

/// See the crate docs.
#[derive(Debug)]
pub struct TestThreadpool(BlockingRunner);

impl Approach for TestThreadpool {
    const NAME: &'static str = "test_threadpool";

    fn prepare(cfg: &RunConfig) -> Result<Self, Error> {
        BlockingRunner::new(&cfg.conn, cfg.conn.budget).map(TestThreadpool)
    }

    fn execute(&self, cfg: &RunConfig) -> Result<Report, Error> {
        let exec = Execution::start();
        let workers = cfg.conn.budget.min(cfg.queries.len()).max(1);
        let (jobs_tx, jobs_rx) = channel::unbounded::<&Query>();
        let (done_tx, done_rx) = channel::unbounded();
        for q in &cfg.queries {
            // The receiver lives until the scope below ends: cannot fail.
            let _ = jobs_tx.send(q);
        }
        drop(jobs_tx);
        let (outcomes, died) = std::thread::scope(|s| {
            let workers: Vec<_> = (0..workers)
                .map(|_| {
                    let (jobs, done, exec) = (jobs_rx.clone(), done_tx.clone(), &exec);
                    s.spawn(move || {
                        for q in jobs {
                            let _ = done.send(self.0.run(q, exec));
                        }
                    })
                })
                .collect();
            drop(done_tx);
            // As completed: the channel closes when every worker has finished.
            let outcomes: Vec<_> = done_rx.iter().collect();
            let died = workers.into_iter().filter_map(|w| w.join().err()).count();
            (outcomes, died)
        });
        if died > 0 {
            return Err(Error::Worker {
                label: "(pool)".into(),
                reason: format!("{died} worker thread(s) panicked"),
            });
        }
        exec.finish(Self::NAME, cfg, collect_results(outcomes)?)
    }
}
