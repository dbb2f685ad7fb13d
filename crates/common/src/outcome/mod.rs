//! What every approach returns and prints: per query the row count, digest,
//! first row and timing; per run the wall time, the peak number of
//! connections in use, and the process's own CPU time and peak memory.
//!
//! The text output is what the blog's scripts printed (each query's first row
//! and row count) plus a summary line; `--json` prints the [`Report`] instead.
//!
//! - `clock`: the run's clock, and when a query was submitted and sent;
//! - `usage`: the process's CPU time and peak memory;
//! - `execution`: one execution's clock and gauge of connections in use;
//! - `rows`: the steps every driver takes around one query, and its rows
//!   as they stream in;
//! - `finished`: what the run keeps of each query until the clock stops
//!   (numbers and the first row's bytes, nothing formatted);
//! - `report`: the run's [`Report`] (the type is `model::report`), built
//!   after the clock;
//! - `collect`: joining workers and picking the error that explains a
//!   failed run;
//! - `drain`: an open loop's end at its drain deadline.

mod clock;
mod collect;
mod drain;
mod execution;
mod finished;
mod report;
mod rows;
mod usage;

pub use clock::{Clock, Sent};
pub use collect::{Started, collect_results, join_workers, panicked};
pub use drain::{Drain, drained};
pub use execution::{Execution, Gauge, GaugeGuard};
pub use finished::{Finished, FirstRow};
pub use model::report::{QueryResult, Report};
pub use report::assemble;
pub use rows::{RowSink, begin_query, end_query};
pub use usage::ResourceUsage;
