//! The blocking driver (`mysql` crate) used by the four thread-based
//! approaches: one [`Pool`] capped at the budget, built the same way for all.
//!
//! Settings chosen so both drivers do the same work per query: TCP as given
//! in the URL (the crate would otherwise switch to the unix socket), no TLS,
//! no health-check ping or `COM_RESET_CONNECTION` when a connection is
//! reused, no eager connections: every connection is opened on first use.

use std::time::Duration;

use mysql::prelude::Queryable;

use crate::error::{DbError, Error};
use crate::queries::Query;
use crate::report::{Clock, Gauge, QueryResult, RowSink};
use crate::settings::ConnConfig;

/// How long a thread waits for a pooled connection before it looks again
/// whether the pool has room (a broken connection frees its slot without
/// waking waiters; this bounds how long that can go unnoticed).
const RECHECK: Duration = Duration::from_millis(200);

/// Connection options for `budget` connections at most.
pub fn opts(conn: &ConnConfig, budget: usize) -> Result<mysql::Opts, Error> {
    let base = mysql::Opts::from_url(&conn.url.expose())
        .map_err(|e| Error::Config(format!("DATABASE_URL {} is not usable: {e}", conn.url)))?;
    let constraints = mysql::PoolConstraints::new(0, budget)
        .ok_or_else(|| Error::Config(format!("invalid connection budget {budget}")))?;
    let pool_opts = mysql::PoolOpts::default()
        .with_constraints(constraints)
        .with_reset_connection(false)
        .with_check_health(false);
    Ok(mysql::OptsBuilder::from_opts(base)
        .prefer_socket(false)
        .tcp_connect_timeout(Some(conn.connect_timeout))
        .pool_opts(pool_opts)
        .into())
}

/// A pool plus the run's clock and connection gauge: what a thread-based
/// approach needs to run one query.
#[derive(Debug)]
pub struct Runner {
    pool: mysql::Pool,
    url: String,
    pub clock: Clock,
    pub gauge: Gauge,
}

impl Runner {
    /// Creates the pool (no connection is opened yet) and starts the clock.
    pub fn new(conn: &ConnConfig, budget: usize) -> Result<Runner, Error> {
        let opts = opts(conn, budget)?;
        let clock = Clock::start();
        let pool = mysql::Pool::new(opts).map_err(|e| Error::Connect {
            url: conn.url.to_string(),
            source: e.into(),
        })?;
        Ok(Runner {
            pool,
            url: conn.url.to_string(),
            clock,
            gauge: Gauge::default(),
        })
    }

    fn connection(&self) -> Result<mysql::PooledConn, Error> {
        loop {
            match self.pool.try_get_conn(RECHECK) {
                Ok(conn) => return Ok(conn),
                Err(mysql::Error::DriverError(mysql::DriverError::Timeout)) => continue,
                Err(e) => {
                    return Err(Error::Connect {
                        url: self.url.clone(),
                        source: e.into(),
                    });
                }
            }
        }
    }

    /// Takes a connection from the pool (waiting while the budget is in use),
    /// runs `query` on it and returns the connection.
    pub fn run(&self, query: &Query) -> Result<QueryResult, Error> {
        let started_us = self.clock.offset_us();
        let mut conn = self.connection()?;
        let _held = self.gauge.hold();
        let connection_id = u64::from(conn.connection_id());
        let fail = |e: mysql::Error| Error::Query {
            label: query.label.clone(),
            at: std::time::Instant::now(),
            source: DbError::from(e),
        };
        let mut result = conn.query_iter(query.sql.as_str()).map_err(fail)?;
        let mut sink = RowSink::default();
        // The first result set is the query's; a template with several
        // statements would be a different benchmark, so they are not read.
        if let Some(set) = result.iter() {
            for row in set {
                let row = row.map_err(fail)?;
                let values: Vec<_> = (0..row.len()).map(|i| text(row.as_ref(i))).collect();
                sink.row(&values);
            }
        }
        drop(result);
        let finished_us = self.clock.offset_us();
        Ok(sink.finish(&query.label, started_us, finished_us, Some(connection_id)))
    }
}

/// The text-protocol value as the server sent it.
fn text(value: Option<&mysql::Value>) -> Option<&[u8]> {
    match value {
        Some(mysql::Value::Bytes(bytes)) => Some(bytes),
        // The text protocol sends every non-NULL value as bytes.
        _ => None,
    }
}
