//! The results of a `scripts/bench.sh` run, as tables a reader can trust:
//! what ran, on what, and how the approaches compare, as ratios.
//!
//! - [`host`]: the facts a result depends on (CPU, memory, OS, toolchain,
//!   server version and settings, dataset identity, git revision);
//! - [`c_client`]: a C client's CPU per query beside the Rust approaches';
//! - [`hyperfine`]: hyperfine's JSON export, as written by `--export-json`;
//! - [`server_cpu`]: the managed server's CPU seconds, read before and after
//!   every timed run by hyperfine's `--prepare`/`--conclude`;
//! - [`table`]: the Markdown table, with the blog's published ratios, and
//!   the verdicts, with [`stats`]' confidence intervals;
//! - [`sweep`]: a budget sweep's cells summarised as speedup against budget;
//! - [`plot`]: the pictures (SVG): wall times, timelines, speedup curves;
//! - [`index`]: `results/README.md`, an index of runs and the latest table.
//!
//! Nothing here measures or connects: it reads what bench.sh recorded,
//! including `dbio facts` for the server and the dataset.

pub mod c_client;
pub mod compare;
pub mod host;
pub mod hyperfine;
pub mod index;
pub mod open_loop;
pub mod plot;
pub mod run_dir;
pub mod server_cpu;
pub mod servers;
pub mod stats;
pub mod sweep;
pub mod table;

/// Errors while reading a run.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("cannot read {path}")]
    Read {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot parse {path}: {message}")]
    Parse {
        path: std::path::PathBuf,
        message: String,
    },
    #[error("cannot write {path}")]
    Write {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot draw {path}: {message}")]
    Plot {
        path: std::path::PathBuf,
        message: String,
    },
    #[error("{} is not a results folder: {why}", dir.display())]
    NotARun {
        dir: std::path::PathBuf,
        why: String,
    },
    #[error("no hyperfine-round-*.json in {0}")]
    NoRounds(std::path::PathBuf),
    #[error("{0} holds both budget-N and replicas-N cells: a sweep has one axis")]
    MixedSweep(std::path::PathBuf),
    #[error("row counts differ from {baseline}'s in: {} (see {dir})", differ.join(", "))]
    RowsDiffer {
        baseline: String,
        differ: Vec<String>,
        dir: std::path::PathBuf,
    },
}

pub type Result<T, E = ReportError> = std::result::Result<T, E>;

pub fn read(path: &std::path::Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|source| ReportError::Read {
        path: path.to_owned(),
        source,
    })
}

/// Reads and parses a JSON file.
pub fn read_json<T: serde::de::DeserializeOwned>(path: &std::path::Path) -> Result<T> {
    serde_json::from_str(&read(path)?).map_err(|e| ReportError::Parse {
        path: path.to_owned(),
        message: e.to_string(),
    })
}

/// The entries of a directory, as paths.
pub fn list_dir(dir: &std::path::Path) -> Result<Vec<std::path::PathBuf>> {
    let entries = std::fs::read_dir(dir).map_err(|source| ReportError::Read {
        path: dir.to_owned(),
        source,
    })?;
    Ok(entries.flatten().map(|e| e.path()).collect())
}

/// The entries of a directory named `prefix…suffix`, sorted by name (a
/// run's rounds, a sweep's cells).
pub fn list_named(
    dir: &std::path::Path,
    prefix: &str,
    suffix: &str,
) -> Result<Vec<std::path::PathBuf>> {
    let mut named: Vec<std::path::PathBuf> = list_dir(dir)?
        .into_iter()
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(prefix) && n.ends_with(suffix))
        })
        .collect();
    named.sort();
    Ok(named)
}

/// Writes `text` to `path` under a private name, then renames it there:
/// a symlink planted at `path` is replaced, never followed
/// ([`model::files::write_replace`]).
pub fn write(path: &std::path::Path, text: &str) -> Result<()> {
    model::files::write_replace(path, text.as_bytes(), 0o644).map_err(|source| ReportError::Write {
        path: path.to_owned(),
        source,
    })
}

#[cfg(test)]
mod tests {
    /// C2 of the third hostile pass: `table.md` was written through a
    /// symlink planted in the run folder, creating a file where it pointed.
    #[test]
    fn a_symlink_planted_where_a_table_goes_is_replaced_not_followed() {
        let dir = std::env::temp_dir().join(format!("dbio-report-write-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("dir");
        let target = dir.join("elsewhere");
        let table = dir.join("table.md");
        std::os::unix::fs::symlink(&target, &table).expect("link");
        super::write(&table, "| a |\n").expect("write");
        assert!(!target.exists(), "written through the link");
        assert!(std::fs::symlink_metadata(&table).expect("table").is_file());
        assert_eq!(std::fs::read_to_string(&table).expect("read"), "| a |\n");
        std::fs::remove_dir_all(&dir).expect("cleanup");
    }
}
