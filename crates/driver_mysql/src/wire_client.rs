//! [`Client`] on dbio's own `wire` client (`--blocking-driver wire`): the
//! same work per query at the protocol's cost, rows read in place.

use std::time::Duration;

use common::DbUrl;
use common::error::{DbError, Error};

use crate::client::{Client, OnRow};

/// Where and as whom a wire connection logs in (the password kept out of
/// `Debug`).
#[derive(Clone)]
pub struct WireOpts {
    host: String,
    port: u16,
    user: String,
    password: String,
    database: Option<String>,
    connect_timeout: Duration,
    io_timeout: Option<Duration>,
    max_packet: usize,
}

impl std::fmt::Debug for WireOpts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WireOpts")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("user", &self.user)
            .field("database", &self.database)
            .finish_non_exhaustive()
    }
}

fn db_error(e: wire::Error) -> DbError {
    DbError {
        message: e.to_string(),
        code: e.code(),
        lost: e.io_kind().is_some_and(DbError::is_lost),
    }
}

impl Client for wire::Conn {
    type Opts = WireOpts;

    const NAME: &'static str = "wire";

    fn opts(url: &DbUrl, connect_timeout: Duration, max_packet: usize) -> Result<WireOpts, Error> {
        Ok(WireOpts {
            // An IPv6 literal comes bracketed, as URLs write it.
            host: url
                .host()
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_owned(),
            port: url.port(),
            user: url.user_decoded(),
            password: url.password().unwrap_or_default(),
            database: url.database().map(str::to_owned),
            connect_timeout,
            io_timeout: None,
            max_packet,
        })
    }

    fn with_io_timeout(opts: &WireOpts, within: Duration) -> WireOpts {
        WireOpts {
            io_timeout: Some(within),
            ..opts.clone()
        }
    }

    fn host(opts: &WireOpts) -> (String, u16) {
        (opts.host.clone(), opts.port)
    }

    fn open(opts: WireOpts) -> Result<Self, DbError> {
        let endpoint = wire::Endpoint {
            host: &opts.host,
            port: opts.port,
            connect_timeout: opts.connect_timeout,
            io_timeout: opts.io_timeout,
        };
        let login = wire::Login {
            user: &opts.user,
            password: opts.password.as_bytes(),
            database: opts.database.as_deref(),
            max_packet: opts.max_packet,
        };
        wire::Conn::connect(&endpoint, &login).map_err(db_error)
    }

    fn rows(&mut self, sql: &str, row: &mut OnRow<'_>) -> Result<(), DbError> {
        self.query(sql, row).map_err(db_error)
    }

    fn first_row_named(&mut self, sql: &str) -> Result<Vec<(String, Option<String>)>, DbError> {
        self.query_first_named(sql).map_err(db_error)
    }

    fn execute(&mut self, sql: &str) -> Result<(), DbError> {
        self.query_drop(sql).map_err(db_error)
    }
}
