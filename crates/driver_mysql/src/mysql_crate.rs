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
pub use mysql_terms::{db_error, opts};

use crate::client::{Client, OnRow};

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
