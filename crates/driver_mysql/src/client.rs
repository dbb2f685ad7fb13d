//! What a blocking driver must do for the thread-based approaches, so both
//! run the same work per query: open a connection, stream one query's rows
//! as text values, run a statement for its first row or for nothing.

use std::time::Duration;

use common::DbUrl;
use common::error::{DbError, Error};
pub use wire::OnRow;

/// A blocking connection to one server.
pub trait Client: Sized + Send + 'static {
    /// How to connect: parsed from the URL once per server.
    type Opts: Clone + Send + Sync + std::fmt::Debug + 'static;

    /// The driver's name in reports (`--blocking-driver`'s value).
    const NAME: &'static str;

    /// Options for `url`; `connect_timeout` bounds the TCP connect, and
    /// no packet longer than `max_packet` is accepted (or sent).
    fn opts(url: &DbUrl, connect_timeout: Duration, max_packet: usize)
    -> Result<Self::Opts, Error>;

    /// The same options with every read and write bounded by `within`
    /// (for the connections that kill queries on a signal).
    fn with_io_timeout(opts: &Self::Opts, within: Duration) -> Self::Opts;

    /// Host and port, for diagnosing a connect that does not finish.
    fn host(opts: &Self::Opts) -> (String, u16);

    /// Connects and logs in (the caller bounds how long it may take).
    fn open(opts: Self::Opts) -> Result<Self, DbError>;

    /// Runs `sql`; each row of its first result set goes to `row`, as the
    /// text the server sent (`None` for NULL).
    fn rows(&mut self, sql: &str, row: &mut OnRow<'_>) -> Result<(), DbError>;

    /// Runs `sql` and returns its first row, each value with its column name.
    fn first_row_named(&mut self, sql: &str) -> Result<Vec<(String, Option<String>)>, DbError>;

    /// Runs `sql` and drops what it returns.
    fn execute(&mut self, sql: &str) -> Result<(), DbError>;
}
