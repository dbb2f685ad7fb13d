//! What every approach returns and prints: per query the row count, digest,
//! first row and timing; per run the wall time, the peak number of
//! connections in use, and the process's own CPU time and peak memory.
//!
//! The text output is what the blog's scripts printed (each query's first row
//! and row count) plus a summary line; `--json` prints the [`Report`] instead.
//!
//! - `execution`: the clock, the gauge of connections in use, and the
//!   steps every driver takes around one query;
//! - `finished`: what the run keeps of each query until the clock stops
//!   (numbers and the first row's bytes, nothing formatted);
//! - `report`: the rows as they stream in, and the run's [`Report`] (the
//!   type is `model::report`) built from them after the clock;
//! - `collect`: joining workers and picking the error that explains a
//!   failed run.

mod collect;
mod execution;
mod finished;
mod report;

pub use collect::{Started, collect_results, join_workers, panicked};
pub use execution::{Clock, Execution, Gauge, GaugeGuard, Sent, begin_query, end_query};
pub use finished::{Finished, FirstRow};
pub use model::report::{QueryResult, Report};
pub use report::{ResourceUsage, RowSink, assemble};
