//! One OS thread per query, all started at once; the threads share one pool
//! capped at the budget, so all but `budget` of them wait for a connection
//! inside the pool (as the blog's threads waited on SQLAlchemy's pool).
//! The approach is `driver_mysql::Threads<ThreadPerQuery>`.

use common::outcome::join_all;
use common::threads::query_thread;
use common::{Error, QueryResult};
use driver_mysql::{Run, Schedule};

/// A thread for every query, at once.
#[derive(Debug)]
pub struct ThreadPerQuery;

impl Schedule for ThreadPerQuery {
    fn schedule(run: &Run<'_>) -> Result<Vec<QueryResult>, Error> {
        std::thread::scope(|s| {
            let spawn = |q| query_thread().spawn_scoped(s, move || run.query(q));
            let threads = run.queries.iter().map(|q| (q, spawn(q)));
            join_all(threads.collect())
        })
    }

    const NAME: &'static str = "test_mt";

    fn threads(queries: usize) -> usize {
        queries
    }
}
