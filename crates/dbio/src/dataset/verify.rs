//! Checks a loaded dataset against what was recorded when it was loaded:
//! each table's row count and checksum, recomputed on the server, and for
//! test_db's own data also test_db's expected row counts.

use mysql::prelude::Queryable;
use serde::Serialize;

use model::DbUrl;

use super::loader::{connect, read_meta};
use super::schema::Table;
use crate::error::{DbioError, Result, SqlContext};

/// One table's check.
#[derive(Debug, Clone, Serialize)]
pub struct TableCheck {
    pub table: String,
    pub recorded_rows: u64,
    pub recorded_crc: u64,
    pub found_rows: u64,
    pub found_crc: u64,
    /// test_db's published count, for data loaded from a test_db checkout.
    pub expected_rows: Option<u64>,
}

impl TableCheck {
    pub fn ok(&self) -> bool {
        self.found_rows == self.recorded_rows
            && self.found_crc == self.recorded_crc
            && self.expected_rows.is_none_or(|e| e == self.found_rows)
    }
}

/// The dataset's metadata and every table's check. Fails when there is no
/// complete load to check against; a mismatch is reported in the checks.
pub fn verify(url: &DbUrl) -> Result<(std::collections::HashMap<String, String>, Vec<TableCheck>)> {
    let mut conn = connect(url, None)?;
    let meta = read_meta(&mut conn)?;
    match meta.get("status").map(String::as_str) {
        Some("complete") => {}
        Some(other) => {
            return Err(DbioError::Verify(format!(
                "the last load did not finish (status `{other}`): run `dbio load --force`"
            )));
        }
        None => {
            return Err(DbioError::Verify(format!(
                "no dataset loaded by dbio in {url}: run `dbio up` (or `dbio load`)"
            )));
        }
    }
    let recorded: Vec<(String, u64, u64, Option<u64>)> = conn
        .query("SELECT table_name, row_count, crc_sum, expected_rows FROM _dbio_checksums ORDER BY table_name")
        .sql("cannot read _dbio_checksums")?;
    let mut checks = Vec::new();
    for table in Table::ALL {
        let Some((_, rows, crc, expected)) = recorded.iter().find(|r| r.0 == table.name()) else {
            return Err(DbioError::Verify(format!(
                "no checksum recorded for table {table}"
            )));
        };
        let (found_rows, found_crc): (u64, u64) = conn
            .query_first(table.checksum_sql())
            .sql(format!("cannot checksum table {table}"))?
            .unwrap_or((0, 0));
        checks.push(TableCheck {
            table: table.name().to_owned(),
            recorded_rows: *rows,
            recorded_crc: *crc,
            found_rows,
            found_crc,
            expected_rows: *expected,
        });
    }
    Ok((meta, checks))
}

/// The checks as text: the dataset's identity, then one line per table.
pub fn render(meta: &std::collections::HashMap<String, String>, checks: &[TableCheck]) -> String {
    use std::fmt::Write;
    let mut keys: Vec<_> = meta.iter().collect();
    keys.sort();
    let desc: Vec<String> = keys.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let mut out = format!("dataset: {}\n", desc.join(" "));
    for c in checks {
        let expected = c
            .expected_rows
            .map(|e| format!(" (test_db expects {e})"))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "{:<12} {:>10} rows  crc {:>20}  {}{expected}",
            c.table,
            c.found_rows,
            c.found_crc,
            if c.ok() { "ok" } else { "MISMATCH" }
        );
    }
    out
}
