//! hyperfine's `--export-json` format (the fields this project reads).

use std::path::Path;

use serde::Deserialize;

use crate::{ReportError, Result, read};

#[derive(Debug, Clone, Deserialize)]
pub struct Export {
    pub results: Vec<Benchmark>,
}

/// One command's timings, in seconds.
#[derive(Debug, Clone, Deserialize)]
pub struct Benchmark {
    pub command: String,
    pub mean: f64,
    pub stddev: Option<f64>,
    pub min: f64,
    pub max: f64,
    /// Mean user and system CPU time of the command.
    pub user: f64,
    pub system: f64,
    pub times: Vec<f64>,
    /// Peak resident memory of each run, in bytes (hyperfine ≥ 1.19).
    #[serde(default)]
    pub memory_usage_byte: Option<Vec<u64>>,
    #[serde(default)]
    pub exit_codes: Vec<Option<i32>>,
}

impl Benchmark {
    /// The largest peak memory over the runs, in MiB.
    pub fn max_rss_mib(&self) -> Option<f64> {
        let max = self.memory_usage_byte.as_ref()?.iter().max()?;
        Some(*max as f64 / f64::from(1 << 20))
    }
}

pub fn load(path: &Path) -> Result<Export> {
    serde_json::from_str(&read(path)?).map_err(|e| ReportError::Parse {
        path: path.to_owned(),
        message: e.to_string(),
    })
}
