//! The async driver (sqlx) used by the tokio and async-std approaches: one
//! `MySqlPool` capped at the budget, the same for both runtimes.
//!
//! Queries go through `raw_sql`, i.e. the text protocol (`COM_QUERY`), as in
//! the `mysql` driver and the blog's Python drivers. The session `SET` that
//! sqlx sends after connecting by default is turned off, so a connection
//! costs the same handshake in both drivers. TLS is off in both.

use std::str::FromStr;
use std::time::Duration;

use futures::TryStreamExt;
use sqlx::mysql::{MySqlConnectOptions, MySqlPool, MySqlPoolOptions, MySqlRow, MySqlSslMode};
use sqlx::{AssertSqlSafe, Connection, Row};

use crate::error::{DbError, Error};
use crate::queries::Query;
use crate::report::{Clock, Gauge, QueryResult, RowSink};
use crate::settings::ConnConfig;

/// Connect options from the URL, with sqlx's extra session setup turned off.
pub fn connect_options(conn: &ConnConfig) -> Result<MySqlConnectOptions, Error> {
    let opts = MySqlConnectOptions::from_str(&conn.url.expose()).map_err(|e| {
        Error::Config(format!(
            "DATABASE_URL {} is not usable: {}",
            conn.url,
            crate::redact(&e.to_string())
        ))
    })?;
    Ok(opts
        .ssl_mode(MySqlSslMode::Disabled)
        .pipes_as_concat(false)
        .no_engine_substitution(false)
        .timezone(None)
        .set_names(false))
}

/// A lazily connecting pool plus the run's clock and connection gauge.
#[derive(Debug)]
pub struct Runner {
    pool: MySqlPool,
    opts: MySqlConnectOptions,
    url: String,
    budget: u32,
    pub clock: Clock,
    pub gauge: Gauge,
}

impl Runner {
    /// Creates the pool (no connection is opened yet) and starts the clock.
    /// Must be called inside the runtime the queries will run on.
    pub fn new(conn: &ConnConfig, budget: usize) -> Result<Runner, Error> {
        let opts = connect_options(conn)?;
        let budget = u32::try_from(budget).map_err(|_| Error::Config("budget too large".into()))?;
        let clock = Clock::start();
        let pool = MySqlPoolOptions::new()
            .max_connections(budget)
            .min_connections(0)
            .acquire_timeout(conn.connect_timeout)
            .test_before_acquire(false)
            .max_lifetime(None)
            .idle_timeout(None)
            .connect_lazy_with(opts.clone());
        Ok(Runner {
            pool,
            opts,
            url: conn.url.to_string(),
            budget,
            clock,
            gauge: Gauge::default(),
        })
    }

    /// Takes a connection, waiting while the whole budget is in use.
    ///
    /// sqlx's acquire timeout covers both the wait for a free slot and the
    /// connect; only the second means trouble. When it fires with the budget
    /// in use, the wait goes on; otherwise the real cause is found by one
    /// direct connection attempt (sqlx itself says only "pool timed out").
    async fn connection(&self) -> Result<sqlx::pool::PoolConnection<sqlx::MySql>, Error> {
        loop {
            match self.pool.acquire().await {
                Ok(conn) => return Ok(conn),
                Err(sqlx::Error::PoolTimedOut)
                    if self.pool.size() >= self.budget && self.pool.num_idle() == 0 =>
                {
                    continue;
                }
                Err(sqlx::Error::PoolTimedOut) => return Err(self.diagnose().await),
                Err(e) => return Err(self.connect_error(e)),
            }
        }
    }

    async fn diagnose(&self) -> Error {
        let attempt = sqlx::mysql::MySqlConnection::connect_with(&self.opts);
        let timeout = Duration::from_secs(5);
        match futures::future::select(Box::pin(attempt), Box::pin(sleep(timeout))).await {
            futures::future::Either::Left((Err(e), _)) => self.connect_error(e),
            futures::future::Either::Left((Ok(conn), _)) => {
                drop(conn);
                self.connect_error(sqlx::Error::PoolTimedOut)
            }
            futures::future::Either::Right(_) => self.connect_error(sqlx::Error::PoolTimedOut),
        }
    }

    fn connect_error(&self, e: sqlx::Error) -> Error {
        Error::Connect {
            url: self.url.clone(),
            source: DbError::from(e),
        }
    }

    /// Takes a connection from the pool, runs `query` on it and returns it.
    pub async fn run(&self, query: &Query) -> Result<QueryResult, Error> {
        let started_us = self.clock.offset_us();
        let mut conn = self.connection().await?;
        let _held = self.gauge.hold();
        let fail = |e: sqlx::Error| Error::Query {
            label: query.label.clone(),
            at: std::time::Instant::now(),
            source: DbError::from(e),
        };
        let mut rows_stream = sqlx::raw_sql(AssertSqlSafe(query.sql.clone())).fetch(&mut *conn);
        let mut sink = RowSink::default();
        while let Some(row) = rows_stream.try_next().await.map_err(fail)? {
            let values = (0..row.len())
                .map(|i| text(&row, i))
                .collect::<Result<Vec<_>, _>>();
            sink.row(&values.map_err(fail)?);
        }
        drop(rows_stream);
        let finished_us = self.clock.offset_us();
        Ok(sink.finish(&query.label, started_us, finished_us, None))
    }

    /// Closes every connection (waits for the server to see them go).
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// The text-protocol value as the server sent it; unchecked, because the
/// text form of any column type is what the digest is defined over.
fn text(row: &MySqlRow, i: usize) -> Result<Option<&[u8]>, sqlx::Error> {
    row.try_get_unchecked::<Option<&[u8]>, _>(i)
}

/// A runtime-neutral sleep: a thread that completes a oneshot. Used only on
/// the error path, so its cost does not matter.
async fn sleep(d: Duration) {
    let (tx, rx) = futures::channel::oneshot::channel::<()>();
    std::thread::spawn(move || {
        std::thread::sleep(d);
        let _ = tx.send(());
    });
    let _ = rx.await;
}
