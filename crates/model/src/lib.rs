//! The typed model of dbio: what every part shares and no part runs. The
//! approaches (through `common`, the run-time harness), the `bench` driver
//! and the `bench_report` renderer all speak these types; nothing here
//! connects to a server, starts a thread or times anything.
//!
//! - [`settings`]: the connection settings every binary flattens, validated
//!   into a [`ConnConfig`] (budget, URL, timeouts) before any work starts;
//! - [`queries`]: the blog's template expanded over its 26 prefixes;
//! - [`arrivals`]: an open-loop run's requests and when each is due;
//! - [`workload`]: the query lists (report, point lookups, server-side
//!   waits), each built with its workload as one [`workload::Work`];
//! - [`bound`]: an open loop's schedule through an ideal queue, the
//!   latencies no client can beat;
//! - [`latency`]: an open-loop run's latencies, dispatch lag and rate;
//! - [`digest`]: the order-independent digest of a result's rows;
//! - [`report`]: one run's [`Report`], printed by every approach and read
//!   back by the renderer;
//! - [`registry`]: every approach by name (language, the blog script it
//!   mirrors, the blog's mean, its colour);
//! - [`error`]: driver-neutral errors;
//! - [`managed`]: the managed server's state files, and how a client finds
//!   the server that `dbio up` started;
//! - [`facts`]: what a result depends on (server settings, the verified
//!   dataset), as `dbio facts` prints them and the driver records them;
//! - [`files`]: writing and reading files without following a symlink;
//! - [`url`]: a server's URL that never shows its password, and redaction;
//! - [`trust`]: directories no other local user controls, and locks that
//!   name their holder;
//! - [`calendar`]: civil dates as day counts;
//! - [`splitmix`]: the one fixed pseudo-random sequence;
//! - [`cli`]: clap's errors as one line, stdout that tolerates a closed pipe.

pub mod arrivals;
pub mod bound;
pub mod calendar;
pub mod cli;
pub mod digest;
pub mod error;
pub mod facts;
pub mod files;
pub mod latency;
pub mod managed;
pub mod queries;
pub mod registry;
pub mod report;
pub mod settings;
pub mod splitmix;
pub mod statements;
pub mod trust;
pub mod url;
pub mod workload;

pub use error::{DbError, Error};
pub use queries::Query;
pub use report::{Condensed, Latency, QueryResult, Report};
pub use settings::{ConnConfig, ConnectionArgs, DbUrl, redact};
