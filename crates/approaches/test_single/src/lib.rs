//! Serial: one connection, the queries one after another, in order.
//!
//! The baseline every speedup is measured against. The pool is the same as
//! in the threaded approaches, capped at one connection whatever the budget.
//! The approach is `driver_mysql::Threads<Single>`.

use common::{Error, Finished};
use driver_mysql::{Batch, Schedule};

/// In order, on one connection.
#[derive(Debug)]
pub struct Single;

impl Schedule for Single {
    fn schedule(batch: &Batch<'_>) -> Result<Vec<Finished>, Error> {
        batch
            .queries
            .iter()
            .map(|q| {
                let submitted = batch.release(q);
                batch.query_submitted_at(q, submitted)
            })
            .collect()
    }

    fn connections(_budget: usize) -> usize {
        1
    }

    const NAME: &'static str = "test_single";
}
