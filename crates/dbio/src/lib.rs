//! dbio: a database for the benchmarks with no setup.
//!
//! - [`server`]: a private MariaDB/MySQL server under `target/dbio`
//!   (start, stop, status, URL), recovered after a crash;
//! - [`dataset`]: the employees dataset with test_db's schema and row counts,
//!   generated deterministically from a scale and a seed (or loaded from a
//!   test_db checkout), loaded idempotently and verified by checksum;
//! - [`facts`]: the server's version and settings and the verified dataset,
//!   as recorded with every benchmark result;
//! - [`proxy`]: a TCP proxy that adds network latency in front of a server.
//!
//! Everything works against a user's own server too: the dataset functions
//! take any `mysql://` URL.

use std::sync::Arc;

pub mod connect;
pub mod dataset;
pub mod error;
pub mod facts;
pub mod proxy;
pub mod server;

pub use error::{DbioError, Result};
pub use server::{Server, ServerSettings};

/// Where long operations report what they are doing (one line per call).
pub type Progress = Arc<dyn Fn(&str) + Send + Sync>;

/// Progress to stderr, prefixed with `dbio: `.
pub fn stderr_progress() -> Progress {
    Arc::new(|line: &str| eprintln!("dbio: {line}"))
}

/// Progress that is dropped (for tests and quiet runs).
pub fn no_progress() -> Progress {
    Arc::new(|_: &str| {})
}
