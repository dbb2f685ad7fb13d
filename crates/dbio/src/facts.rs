//! The facts about a server that a benchmark result depends on: its version
//! and settings, and the dataset as verified on it now. `dbio facts` prints
//! them as JSON; the `bench` driver records them in `host.json` (it reads,
//! it does not connect).

use mysql::prelude::Queryable;

use model::DbUrl;
pub use model::facts::{DatasetFacts, Facts, ServerFacts, TableSum};

use crate::dataset::{self, TableCheck};
use crate::error::{Result, SqlContext};

/// Reads the facts of the server and dataset at `url`.
pub fn collect(url: &DbUrl) -> Result<Facts> {
    let mut conn = dataset::loader::connect(url, None)?;
    let row: Option<(String, String, u64, u64)> = conn
        .query_first(
            "SELECT @@version, @@optimizer_switch, @@innodb_buffer_pool_size, @@max_connections",
        )
        .sql("cannot read the server's variables")?;
    let (version, optimizer_switch, innodb_buffer_pool_size, max_connections) =
        row.unwrap_or_default();
    let (meta, checks) = dataset::verify(url)?;
    Ok(Facts {
        server: ServerFacts {
            url: url.to_string(),
            version,
            optimizer_switch,
            innodb_buffer_pool_size,
            max_connections,
        },
        dataset: DatasetFacts {
            verified: checks.iter().all(TableCheck::ok),
            meta: meta.into_iter().collect(),
            tables: checks
                .into_iter()
                .map(|c| {
                    let sum = TableSum {
                        rows: c.found_rows,
                        crc_sum: c.found_crc,
                    };
                    (c.table, sum)
                })
                .collect(),
        },
    })
}
