//! What every approach shares, so that the approach crates differ only in
//! how they schedule the queries.
//!
//! - [`settings`]: the connection settings every binary flattens, validated
//!   into a [`ConnConfig`] (budget, URL, timeouts) before any work starts;
//! - [`queries`]: the blog's template expanded over `A`..`Z`;
//! - [`workload`]: the query lists (report, point lookups, server-side
//!   waits), built here for every approach;
//! - [`pool`]: the connection pool both drivers use (budget, connect
//!   deadline, the server ids of connections in use); the drivers
//!   themselves are crates of their own (`driver_mysql`, `driver_sqlx`),
//!   so that each approach links only its own;
//! - [`interrupt`]: Ctrl-C and SIGTERM cancel the run's queries on the server;
//! - [`outcome`]: results, the peak-connection gauge, the printed output;
//! - [`managed`]: how a client finds the server that `dbio up` started;
//! - [`files`]: writing and reading files without following a symlink;
//! - [`facts`]: what a result depends on (server settings, the verified
//!   dataset), as `dbio facts` prints them and `bench-report` records them;
//! - [`calendar`]: civil dates as day counts;
//! - [`registry`]: every approach by name (language, the blog script it
//!   mirrors, the blog's mean, its colour);
//! - [`approach`]: the trait every approach crate implements (prepare once,
//!   execute many times);
//! - [`threads`]: the thread-per-query approaches' stacks and thread limits;
//! - [`cli`]: the `main` that every approach binary calls.
//!
//! This crate links no database driver and starts no server; it times a
//! run (`outcome::Execution`) but leaves the running to the drivers.

pub mod approach;
pub mod calendar;
pub mod cli;
pub mod digest;
pub mod error;
pub mod facts;
pub mod files;
pub mod interrupt;
pub mod managed;
pub mod outcome;
pub mod pool;
pub mod queries;
pub mod registry;
pub mod settings;
pub mod splitmix;
pub mod threads;
pub mod workload;

pub use approach::Approach;
pub use error::{DbError, Error};
pub use outcome::{Clock, Execution, Gauge, QueryResult, Report};
pub use queries::Query;
pub use settings::{ConnConfig, ConnectionArgs, DbUrl, redact};

/// A checked run: connection settings and the work (workload and its
/// query list), for [`approach::run`].
#[derive(Debug, Clone)]
pub struct RunConfig {
    pub conn: ConnConfig,
    pub work: workload::Work,
}
