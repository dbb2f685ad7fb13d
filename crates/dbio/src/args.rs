//! `dbio`'s command line: the clap types, parsed before any work; `main.rs`
//! turns them into what each command does.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use dbio::dataset::Spec;
use dbio::dataset::generate::DEFAULT_SEED;
use dbio::{DbioError, Result, ServerSettings};

/// A MariaDB/MySQL server and the employees dataset for the dbio benchmarks,
/// with no setup: `dbio up`, then run any approach.
#[derive(Debug, Parser)]
#[command(version)]
pub(crate) struct Cli {
    /// Home of the managed server (default: target/dbio of the workspace this
    /// binary was built in, else of the one above the current directory).
    /// Must be a directory that no other user can change (docs/security.md: a safe home).
    #[arg(long, env = "DBIO_HOME", global = true, value_name = "DIR")]
    pub(crate) home: Option<PathBuf>,

    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Start the managed server if needed and make sure the dataset is loaded.
    Up {
        #[command(flatten)]
        data: DataArgs,
        #[command(flatten)]
        server: ServerArgs,
        /// Also run N read replicas of the server on this machine, each a
        /// server of its own replicating from it (MariaDB's GTID
        /// replication), with --server-cpus CPUs each, disjoint where the
        /// machine has them; 0 removes them. Persists until set again.
        #[arg(long, value_name = "N", value_parser = model::cli::replica_count)]
        replicas: Option<u32>,
    },
    /// Start, stop or inspect the managed server.
    Server {
        #[command(subcommand)]
        action: ServerAction,
    },
    /// Print the managed server's DATABASE_URL (password redacted unless --reveal).
    Url {
        /// Print the password too, e.g. for `export DATABASE_URL=$(dbio url --reveal)`.
        #[arg(long)]
        reveal: bool,
    },
    /// Load the dataset into DATABASE_URL (default: the managed server).
    Load {
        #[command(flatten)]
        data: DataArgs,
        /// Load the real test_db from a checkout of datacharmer/test_db instead.
        #[arg(long, value_name = "DIR")]
        from_test_db: Option<PathBuf>,
        #[command(flatten)]
        target: TargetArgs,
    },
    /// Check the loaded dataset's row counts and checksums.
    Verify {
        #[command(flatten)]
        target: TargetArgs,
        /// Print the checks as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Print, as JSON, what a benchmark result depends on: the server's
    /// version and settings and the dataset as verified now.
    Facts {
        #[command(flatten)]
        target: TargetArgs,
    },
    /// Relay TCP connections to the server with a fixed one-way latency in
    /// each direction (a network on one machine); runs until killed.
    Proxy {
        /// Milliseconds added to each direction (a round trip gains twice this).
        #[arg(long, value_name = "MS")]
        latency_ms: u64,
        /// The server to relay to (default: the managed server).
        #[arg(long, value_name = "HOST:PORT")]
        upstream: Option<std::net::SocketAddr>,
        /// Where to listen (default: a free port on 127.0.0.1); a loopback
        /// address unless --allow-remote.
        #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:0")]
        listen: std::net::SocketAddr,
        /// Allow a --listen address that other machines can reach: the
        /// proxy then exposes the loopback-only server to the network.
        #[arg(long)]
        allow_remote: bool,
        /// Most client connections relayed at once; more wait in the
        /// kernel's queue until one closes.
        #[arg(long, value_name = "N", default_value_t = dbio::proxy::DEFAULT_MAX_CONNECTIONS,
              value_parser = clap::value_parser!(u32).range(1..=100_000))]
        max_connections: u32,
        /// Write the port it listens on to this file once it listens.
        #[arg(long, value_name = "FILE")]
        port_file: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum ServerAction {
    /// Start the server (initialising it on first use) and wait until it is ready.
    Start(ServerArgs),
    /// Stop the server.
    Stop,
    /// Print whether it runs, and its version and settings.
    Status {
        #[arg(long)]
        json: bool,
    },
    /// Print the CPU seconds the server has used (for benchmarks: the
    /// difference between two readings is the server's work in between).
    Cpu {
        /// Append `LABEL<TAB>SECONDS` to this file instead of printing.
        #[arg(long, value_name = "FILE", requires = "label")]
        record: Option<PathBuf>,
        #[arg(long)]
        label: Option<String>,
        /// Settle first (see `dbio server settle`): for hyperfine's --prepare.
        #[arg(long)]
        settle: bool,
        /// Also record the CPU seconds of this process (the latency proxy)...
        #[arg(long, value_name = "PID", requires_all = ["proxy_record", "label"])]
        proxy_pid: Option<u32>,
        /// ...appending `LABEL<TAB>SECONDS` to this file.
        #[arg(long, value_name = "FILE", requires = "proxy_pid")]
        proxy_record: Option<PathBuf>,
    },
    /// Wait until no query of the benchmark user runs on the server (a
    /// client killed with SIGKILL leaves its queries running); kill those
    /// still running after --wait seconds.
    Settle {
        #[arg(long, default_value_t = 10, value_name = "SECS",
              value_parser = clap::value_parser!(u64).range(0..=3600))]
        wait: u64,
    },
}

/// The server a dataset command works on: only what it uses (its
/// connections open within dbio's own deadline, and the managed server's
/// home is `--home`).
#[derive(Debug, Args)]
pub(crate) struct TargetArgs {
    /// Server URL, mysql://USER:PASSWORD@HOST:PORT/DATABASE (default: the
    /// managed server).
    #[arg(long, env = "DATABASE_URL", hide_env_values = true, value_name = "URL")]
    pub(crate) database_url: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct DataArgs {
    /// Dataset size; 1.0 is test_db's (300,024 employees, 2,844,047 salaries).
    #[arg(long, default_value_t = 1.0)]
    pub(crate) scale: f64,
    /// Generator seed: the same scale and seed give identical rows.
    #[arg(long, default_value_t = DEFAULT_SEED)]
    pub(crate) seed: u64,
    /// Reload even if the same dataset is already loaded.
    #[arg(long)]
    pub(crate) force: bool,
}

#[derive(Debug, Args)]
pub(crate) struct ServerArgs {
    /// The server's optimizer_switch, e.g. 'split_materialized=off' (MariaDB
    /// plans the report query differently from MySQL 8); it persists across
    /// restarts until set again. 'default' returns to the server's own.
    #[arg(long, value_name = "FLAGS", value_parser = non_empty_switch)]
    pub(crate) optimizer_switch: Option<String>,
    /// InnoDB buffer pool size in MiB (default 1024).
    #[arg(long, value_name = "MIB")]
    pub(crate) buffer_pool_mib: Option<u64>,
    /// Pin the server to N CPUs (a small server's regime on a big machine);
    /// persists across restarts until set again; 'all' unpins it.
    #[arg(long, value_name = "N|all", value_parser = parse_cpus)]
    pub(crate) server_cpus: Option<u32>,
}

impl ServerArgs {
    pub(crate) fn settings(&self) -> ServerSettings {
        ServerSettings {
            optimizer_switch: self.optimizer_switch.clone(),
            buffer_pool_mib: self.buffer_pool_mib,
            server_cpus: self.server_cpus,
            role: None,
        }
    }
}

impl DataArgs {
    pub(crate) fn spec(&self) -> Result<Spec> {
        Spec::new(self.scale, self.seed).map_err(DbioError::Usage)
    }
}

/// `--optimizer-switch`: an empty one would be saved, yet leave the
/// running server's switch as it was (and a restart would revert it).
fn non_empty_switch(text: &str) -> std::result::Result<String, String> {
    if text.trim().is_empty() {
        Err("is empty; give flags such as split_materialized=off, or `default` for the server's own".into())
    } else {
        Ok(text.to_owned())
    }
}

/// `--server-cpus`: a count of at least 1, or `all` (stored as 0: unpinned).
fn parse_cpus(text: &str) -> std::result::Result<u32, String> {
    if text == "all" {
        return Ok(0);
    }
    match text.parse::<u32>() {
        Ok(0) => Err("must be at least 1 (or `all`)".into()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("`{text}` is not a number of CPUs (or `all`)")),
    }
}
