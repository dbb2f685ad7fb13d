//! What a result depends on, recorded next to it as `host.json`: the
//! machine, the toolchain, the server and its settings, the dataset's
//! identity and checksums, the benchmark's parameters and the git revision.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

use mysql::prelude::Queryable;
use serde::{Deserialize, Serialize};

use common::DbUrl;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Host {
    /// UTC, ISO 8601.
    pub date: String,
    pub hostname: String,
    pub cpu_model: String,
    /// Logical CPUs.
    pub cores: usize,
    pub memory_bytes: u64,
    pub os: String,
    pub kernel: String,
    pub rustc: String,
    pub hyperfine: Option<String>,
    pub python: Option<String>,
    pub server: Server,
    pub dataset: Dataset,
    pub bench: Bench,
    pub git: Git,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Server {
    /// Password redacted.
    pub url: String,
    /// Whether it is dbio's managed server (then its CPU time is measured).
    pub managed: bool,
    pub version: String,
    pub optimizer_switch: String,
    pub innodb_buffer_pool_size: u64,
    pub max_connections: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Dataset {
    /// dbio's `_dbio_meta`: source, scale, seed, generator, status, loaded_at.
    pub meta: BTreeMap<String, String>,
    /// Per table: rows and checksum, as verified on the server for this run.
    pub tables: BTreeMap<String, TableSum>,
    pub verified: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TableSum {
    pub rows: u64,
    pub crc_sum: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Bench {
    pub command: String,
    pub budget: usize,
    pub runs: u32,
    pub warmup: u32,
    pub approaches: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Git {
    pub revision: String,
    /// Uncommitted changes to tracked files when the run started.
    pub dirty: bool,
}

/// Reads the facts of this machine and of the server at `url`.
pub fn collect(
    url: &DbUrl,
    managed: bool,
    bench: Bench,
    hyperfine: Option<&Path>,
    python: Option<&Path>,
) -> Result<Host, String> {
    let server = server_facts(url, managed)?;
    let dataset = dataset_facts(url)?;
    Ok(Host {
        date: utc_now(),
        hostname: first_line(&read_or("/proc/sys/kernel/hostname", "unknown")),
        cpu_model: cpu_model(),
        cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
        memory_bytes: mem_total(),
        os: os_name(),
        kernel: first_line(&read_or("/proc/sys/kernel/osrelease", "unknown")),
        rustc: command_line("rustc", &["--version"]).unwrap_or_else(|| "unknown".into()),
        hyperfine: hyperfine.and_then(|h| command_line(&h.display().to_string(), &["--version"])),
        python: python.and_then(|p| command_line(&p.display().to_string(), &["--version"])),
        server,
        dataset,
        bench,
        git: Git {
            revision: command_line("git", &["rev-parse", "HEAD"])
                .unwrap_or_else(|| "unknown".into()),
            dirty: command_line("git", &["status", "--porcelain", "--untracked-files=no"])
                .is_some_and(|s| !s.is_empty()),
        },
    })
}

fn server_facts(url: &DbUrl, managed: bool) -> Result<Server, String> {
    let opts =
        mysql::Opts::from_url(&url.expose()).map_err(|e| format!("DATABASE_URL {url}: {e}"))?;
    let mut conn = mysql::Conn::new(mysql::OptsBuilder::from_opts(opts).prefer_socket(false))
        .map_err(|e| format!("cannot connect to {url}: {e}"))?;
    let row: Option<(String, String, u64, u64)> = conn
        .query_first(
            "SELECT @@version, @@optimizer_switch, @@innodb_buffer_pool_size, @@max_connections",
        )
        .map_err(|e| format!("cannot read server variables: {e}"))?;
    let (version, optimizer_switch, innodb_buffer_pool_size, max_connections) =
        row.ok_or("the server returned no variables")?;
    Ok(Server {
        url: url.to_string(),
        managed,
        version,
        optimizer_switch,
        innodb_buffer_pool_size,
        max_connections,
    })
}

fn dataset_facts(url: &DbUrl) -> Result<Dataset, String> {
    let (meta, checks) = dbio::dataset::verify(url).map_err(|e| common::error::chain(&e))?;
    Ok(Dataset {
        verified: checks.iter().all(dbio::dataset::TableCheck::ok),
        meta: meta.into_iter().collect(),
        tables: checks
            .into_iter()
            .map(|c| {
                (
                    c.table,
                    TableSum {
                        rows: c.found_rows,
                        crc_sum: c.found_crc,
                    },
                )
            })
            .collect(),
    })
}

fn read_or(path: &str, default: &str) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|_| default.to_owned())
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or("").trim().to_owned()
}

fn command_line(program: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(program).args(args).output().ok()?;
    out.status.success().then(|| {
        let text = String::from_utf8_lossy(&out.stdout);
        let text = if text.trim().is_empty() {
            String::from_utf8_lossy(&out.stderr).into_owned()
        } else {
            text.into_owned()
        };
        first_line(&text)
    })
}

fn cpu_model() -> String {
    read_or("/proc/cpuinfo", "")
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name")
                .and_then(|r| r.split_once(':'))
                .map(|(_, v)| v.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".into())
}

fn mem_total() -> u64 {
    read_or("/proc/meminfo", "")
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
        .map_or(0, |kib| kib * 1024)
}

fn os_name() -> String {
    read_or("/etc/os-release", "")
        .lines()
        .find_map(|l| l.strip_prefix("PRETTY_NAME="))
        .map(|v| v.trim_matches('"').to_owned())
        .unwrap_or_else(|| "unknown".into())
}

/// The current time in UTC, `YYYY-MM-DDTHH:MM:SSZ`.
pub fn utc_now() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (y, m, d) = dbio::dataset::generate::civil_from_days((secs / 86_400) as i32);
    let rem = secs % 86_400;
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}
