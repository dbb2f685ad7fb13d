//! Serial: one connection, the queries one after another, in order.
//!
//! The baseline every speedup is measured against. The pool is the same as
//! in the threaded approaches, capped at one connection whatever the budget.
//! The approach is `driver_mysql::Threads<Single>`.

use common::outcome::{collect_results, drained};
use common::{Error, Finished};
use driver_mysql::{Batch, Schedule};

/// In order, on one connection.
#[derive(Debug)]
pub struct Single;

impl Schedule for Single {
    fn schedule(batch: &Batch<'_>) -> Result<Vec<Finished>, Error> {
        let mut outcomes = Vec::with_capacity(batch.queries.len());
        for q in batch.queries {
            let submitted = batch.release(q);
            let outcome = batch.query_submitted_at(q, submitted);
            let failed = outcome.is_err();
            outcomes.push(outcome);
            // A failure ends the run, unless an open loop's drain deadline
            // caused it: the rest then fail at once and count as unfinished.
            if failed && drained().is_none() {
                break;
            }
        }
        collect_results(outcomes)
    }

    fn connections(_budget: usize) -> usize {
        1
    }

    const NAME: &'static str = "test_single";
}
