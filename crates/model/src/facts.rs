//! The facts about a server that a benchmark result depends on: its version
//! and settings, and the dataset as verified on it. `dbio facts` collects
//! them (it connects); the `bench` driver records them in `host.json`
//! (it only reads). Types only, so that the renderer links no driver.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The server's version and the settings that change a query's cost.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ServerFacts {
    /// Password redacted.
    pub url: String,
    pub version: String,
    pub optimizer_switch: String,
    pub innodb_buffer_pool_size: u64,
    pub max_connections: u64,
}

/// The dataset, as verified on the server.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DatasetFacts {
    /// dbio's `_dbio_meta`: source, scale, seed, generator, status, loaded_at.
    pub meta: BTreeMap<String, String>,
    /// Per table: rows and checksum, recomputed on the server.
    pub tables: BTreeMap<String, TableSum>,
    pub verified: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TableSum {
    pub rows: u64,
    pub crc_sum: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Facts {
    pub server: ServerFacts,
    pub dataset: DatasetFacts,
}
