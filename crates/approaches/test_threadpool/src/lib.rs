//! A fixed pool of `budget` worker threads fed through a crossbeam channel
//! (the blog's `ThreadPoolExecutor`; its `as_completed` loop printed each
//! result as it came, which nothing here does during the run, so each
//! worker keeps its results until the queue is empty). At most `budget` queries are ever in flight, so workers
//! never wait on the connection pool. The approach is
//! `driver_mysql::Threads<Workers>`.

use crossbeam::channel;

use common::outcome::collect_results;
use common::{Error, Finished, Query};
use driver_mysql::{Batch, Schedule};

/// `budget` workers taking queries from a channel.
#[derive(Debug)]
pub struct Workers;

impl Schedule for Workers {
    fn schedule(batch: &Batch<'_>) -> Result<Vec<Finished>, Error> {
        let workers = batch.budget.min(batch.queries.len()).max(1);
        let (jobs_tx, jobs_rx) = channel::unbounded::<(&Query, u64)>();
        // Submitted as queued, like ThreadPoolExecutor.submit, when due.
        // What is due at the start (every query, in one batch) is queued
        // before the workers start, the rest as it falls due. The receivers
        // live until the scope below ends: sending cannot fail.
        let first_later = batch.queries.partition_point(|q| batch.due_us(q) == 0);
        let (due_now, due_later) = batch.queries.split_at(first_later);
        for q in due_now {
            let _ = jobs_tx.send((q, batch.release(q)));
        }
        // Each worker keeps its results and hands them over when it ends:
        // a channel back to this thread would wake it for every query (a
        // futex call, and spinning with sched_yield), where nothing is done
        // with a result before the last one is in.
        let (outcomes, died) = std::thread::scope(|s| {
            let workers: Vec<_> = (0..workers)
                .map(|_| {
                    let jobs = jobs_rx.clone();
                    s.spawn(move || {
                        jobs.iter()
                            .map(|(q, submitted)| batch.query_submitted_at(q, submitted))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            for q in due_later {
                let _ = jobs_tx.send((q, batch.release(q)));
            }
            drop(jobs_tx);
            let mut outcomes = Vec::with_capacity(batch.queries.len());
            let mut died = 0;
            for worker in workers {
                match worker.join() {
                    Ok(done) => outcomes.extend(done),
                    Err(_) => died += 1,
                }
            }
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
