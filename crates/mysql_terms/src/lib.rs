//! The `mysql` crate in the terms every part of dbio shares, for the
//! blocking driver (`driver_mysql`) and `dbio`'s own connections alike:
//! its errors as [`DbError`], its options as the run's settings ask.

use std::time::Duration;

use model::DbUrl;
use model::error::{DbError, Error};

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
