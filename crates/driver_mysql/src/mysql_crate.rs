//! [`Client`] on the `mysql` crate (the default blocking driver).
//!
//! Settings chosen so both blocking drivers and sqlx do the same work per
//! query: TCP as given in the URL (the crate would otherwise switch to the
//! unix socket), no TLS, no health-check ping or `COM_RESET_CONNECTION`
//! when a connection is reused, no eager connections.

use std::time::Duration;

use mysql::prelude::Queryable;

use common::DbUrl;
use common::error::{DbError, Error};

use crate::client::{Client, OnRow};

/// A `mysql` error in the terms every driver shares, worded like sqlx's
/// (`1049 (42000): Unknown database 'x'`) rather than with its Debug-style
/// wrapping.
pub fn db_error(e: mysql::Error) -> DbError {
    let io = match &e {
        mysql::Error::IoError(io) => Some(io.kind()),
        // The packet codec's only source is the I/O error it wraps.
        mysql::Error::CodecError(codec) => std::error::Error::source(codec)
            .and_then(|s| s.downcast_ref::<std::io::Error>())
            .map(std::io::Error::kind),
        _ => None,
    };
    let (message, code) = match &e {
        mysql::Error::MySqlError(m) => (
            format!("{} ({}): {}", m.code, m.state, m.message),
            Some(m.code),
        ),
        mysql::Error::DriverError(d) => (d.to_string(), None),
        mysql::Error::IoError(io) => (io.to_string(), None),
        mysql::Error::CodecError(codec) => (
            std::error::Error::source(codec).map_or_else(|| codec.to_string(), ToString::to_string),
            None,
        ),
        other => (other.to_string(), None),
    };
    DbError {
        message,
        code,
        lost: io.is_some_and(DbError::is_lost),
    }
}

/// Connection options for `url`; `connect_timeout` bounds the TCP connect;
/// `max_packet` is the crate's `max_allowed_packet`, which bounds what it
/// reads (a packet, or a payload joined from several) and what it sends.
pub fn opts(
    url: &DbUrl,
    connect_timeout: Duration,
    max_packet: usize,
) -> Result<mysql::Opts, Error> {
    let base = mysql::Opts::from_url(&url.expose())
        .map_err(|e| Error::Config(format!("DATABASE_URL {url} is not usable: {e}")))?;
    Ok(mysql::OptsBuilder::from_opts(base)
        .prefer_socket(false)
        .tcp_connect_timeout(Some(connect_timeout))
        .max_allowed_packet(Some(max_packet))
        .into())
}

impl Client for mysql::Conn {
    type Opts = mysql::Opts;

    const NAME: &'static str = "mysql";

    fn opts(
        url: &DbUrl,
        connect_timeout: Duration,
        max_packet: usize,
    ) -> Result<mysql::Opts, Error> {
        opts(url, connect_timeout, max_packet)
    }

    fn with_io_timeout(opts: &mysql::Opts, within: Duration) -> mysql::Opts {
        mysql::OptsBuilder::from_opts(opts.clone())
            .read_timeout(Some(within))
            .write_timeout(Some(within))
            .into()
    }

    fn host(opts: &mysql::Opts) -> (String, u16) {
        (opts.get_ip_or_hostname().to_string(), opts.get_tcp_port())
    }

    fn open(opts: mysql::Opts) -> Result<Self, DbError> {
        mysql::Conn::new(opts).map_err(db_error)
    }

    fn rows(&mut self, sql: &str, row: &mut OnRow<'_>) -> Result<(), DbError> {
        let mut result = self.query_iter(sql).map_err(db_error)?;
        // The first result set is the query's (templates hold one
        // statement); dropping the result reads any other.
        if let Some(set) = result.iter() {
            for r in set {
                let r = r.map_err(db_error)?;
                let values: Vec<_> = (0..r.len()).map(|i| text(r.as_ref(i))).collect();
                row(&values);
            }
        }
        Ok(())
    }

    fn first_row_named(&mut self, sql: &str) -> Result<Vec<(String, Option<String>)>, DbError> {
        let row: Option<mysql::Row> = self.query_first(sql).map_err(db_error)?;
        Ok(row.map_or_else(Vec::new, |row| {
            (0..row.len())
                .map(|i| {
                    let name = row.columns_ref()[i].name_str().into_owned();
                    let value =
                        text(row.as_ref(i)).map(|v| String::from_utf8_lossy(v).into_owned());
                    (name, value)
                })
                .collect()
        }))
    }

    fn execute(&mut self, sql: &str) -> Result<(), DbError> {
        self.query_drop(sql).map_err(db_error)
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
