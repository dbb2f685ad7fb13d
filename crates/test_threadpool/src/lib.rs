//! A fixed pool of `budget` worker threads fed through a crossbeam channel,
//! results collected as they complete (the blog's `ThreadPoolExecutor` with
//! `as_completed`). At most `budget` queries are ever in flight, so workers
//! never wait on the connection pool. The approach is
//! `driver_mysql::Threads<Workers>`.

use crossbeam::channel;

use common::outcome::collect_results;
use common::{Error, Query, QueryResult};
use driver_mysql::{Run, Schedule};

/// `budget` workers taking queries from a channel.
#[derive(Debug)]
pub struct Workers;

impl Schedule for Workers {
    fn schedule(run: &Run<'_>) -> Result<Vec<QueryResult>, Error> {
        let workers = run.budget.min(run.queries.len()).max(1);
        let (jobs_tx, jobs_rx) = channel::unbounded::<(&Query, u64)>();
        let (done_tx, done_rx) = channel::unbounded();
        for q in run.queries {
            // Submitted as queued, like ThreadPoolExecutor.submit. The
            // receiver lives until the scope below ends: cannot fail.
            let _ = jobs_tx.send((q, run.now_us()));
        }
        drop(jobs_tx);
        let (outcomes, died) = std::thread::scope(|s| {
            let workers: Vec<_> = (0..workers)
                .map(|_| {
                    let (jobs, done) = (jobs_rx.clone(), done_tx.clone());
                    s.spawn(move || {
                        for (q, submitted) in jobs {
                            let _ = done.send(run.query_from(q, submitted));
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
        collect_results(outcomes)
    }

    const NAME: &'static str = "test_threadpool";
}
