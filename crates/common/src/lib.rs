//! The run-time harness every approach shares, so that the approach
//! crates differ only in how they schedule the queries: the connection
//! pool, signals, the timed execution, the thread limits and the binaries'
//! `main`. The types it works on are `model`'s, re-exported here under the
//! same paths.
//!
//! - [`approach`]: the trait every approach crate implements (prepare once,
//!   execute many times);
//! - [`pool`]: the connection pool both drivers use (budget, fail fast,
//!   the server ids of connections in use; the connect deadline is
//!   `limits::deadline`'s); the drivers
//!   themselves are crates of their own (`driver_mysql`, `driver_sqlx`),
//!   so that each approach links only its own;
//! - [`interrupt`]: Ctrl-C, SIGTERM and SIGHUP cancel the run's queries on
//!   the server;
//! - [`fatal`]: a panic, or the memory watchdog, ends the run the same way;
//! - [`outcome`]: the one clock and connection gauge of a timed execution,
//!   the rows as they stream in, the report built from them;
//! - [`threads`]: the thread-per-query approaches' stacks and thread limits;
//! - [`heap`]: the allocator's growth step, set before the run;
//! - [`memory`]: the watchdog that bounds the client's own memory;
//! - [`cli`]: the `main` that every approach binary calls.
//!
//! This crate links no database driver and starts no server; it times a
//! run (`outcome::Execution`) but leaves the running to the drivers.

pub mod approach;
pub mod cli;
pub mod fatal;
pub mod heap;
pub mod interrupt;
pub mod memory;
pub mod outcome;
pub mod pool;
pub mod route;
pub mod threads;
pub mod upstream;

pub use approach::Approach;
pub use model::{ConnConfig, ConnectionArgs};
pub use model::{
    DbError, DbUrl, Error, Query, QueryResult, Report, arrivals, bound, calendar, digest, error,
    facts, files, latency, managed, queries, redact, registry, settings, splitmix, workload,
};
pub use outcome::{Clock, Execution, Finished, Gauge};

/// A checked run: connection settings and the work (workload and its
/// query list), for [`approach::run`].
#[derive(Debug, Clone)]
pub struct RunConfig {
    pub conn: ConnConfig,
    pub work: workload::Work,
}
