//! One OS thread per query, all started at once; the threads share one pool
//! capped at the budget, so all but `budget` of them wait for a connection
//! inside the pool (as the blog's threads waited on SQLAlchemy's pool).
//! The approach is `driver_mysql::Threads<ThreadPerQuery>`.

use common::outcome::join_workers;
use common::threads::query_thread;
use common::{Error, Finished};
use driver_mysql::{Batch, Schedule};

/// A thread for every query, at once.
#[derive(Debug)]
pub struct ThreadPerQuery;

impl Schedule for ThreadPerQuery {
    fn schedule(batch: &Batch<'_>) -> Result<Vec<Finished>, Error> {
        std::thread::scope(|s| {
            let spawn = |q| {
                let submitted = batch.release(q);
                query_thread().spawn_scoped(s, move || batch.query_submitted_at(q, submitted))
            };
            let threads = batch.queries.iter().map(|q| (q, spawn(q)));
            join_workers(threads.collect())
        })
    }

    const NAME: &'static str = "test_mt";

    fn threads(queries: usize) -> usize {
        queries
    }
}
