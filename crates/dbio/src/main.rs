//! `dbio`: the managed server and the dataset, from the command line.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use common::error::chain;
use common::settings::ConnectionArgs;
use dbio::dataset::generate::DEFAULT_SEED;
use dbio::dataset::{self, LoadOutcome, Spec};
use dbio::{DbioError, Result, Server, ServerSettings, stderr_progress};

/// A MariaDB/MySQL server and the employees dataset for the dbio benchmarks,
/// with no setup: `dbio up`, then run any approach.
#[derive(Debug, Parser)]
#[command(version)]
struct Cli {
    /// Home of the managed server (default: target/dbio in this workspace).
    #[arg(long, env = "DBIO_HOME", global = true, value_name = "DIR")]
    home: Option<PathBuf>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Start the managed server if needed and make sure the dataset is loaded.
    Up {
        #[command(flatten)]
        data: DataArgs,
        #[command(flatten)]
        server: ServerArgs,
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
        conn: ConnectionArgs,
    },
    /// Check the loaded dataset's row counts and checksums.
    Verify {
        #[command(flatten)]
        conn: ConnectionArgs,
        /// Print the checks as JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
enum ServerAction {
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
    },
    /// Wait until no query of the benchmark user runs on the server (a
    /// client killed with SIGKILL leaves its queries running); kill those
    /// still running after --wait seconds.
    Settle {
        #[arg(long, default_value_t = 10, value_name = "SECS")]
        wait: u64,
    },
}

#[derive(Debug, Args)]
struct DataArgs {
    /// Dataset size; 1.0 is test_db's (300,024 employees, 2,844,047 salaries).
    #[arg(long, default_value_t = 1.0)]
    scale: f64,
    /// Generator seed: the same scale and seed give identical rows.
    #[arg(long, default_value_t = DEFAULT_SEED)]
    seed: u64,
    /// Reload even if the same dataset is already loaded.
    #[arg(long)]
    force: bool,
}

#[derive(Debug, Args)]
struct ServerArgs {
    /// The server's optimizer_switch, e.g. 'split_materialized=off' (MariaDB
    /// plans the report query differently from MySQL 8); it persists across
    /// restarts until set again. 'default' returns to the server's own.
    #[arg(long, value_name = "FLAGS")]
    optimizer_switch: Option<String>,
    /// InnoDB buffer pool size in MiB (default 1024).
    #[arg(long, value_name = "MIB")]
    buffer_pool_mib: Option<u64>,
}

impl ServerArgs {
    fn settings(&self) -> ServerSettings {
        ServerSettings {
            optimizer_switch: self.optimizer_switch.clone(),
            buffer_pool_mib: self.buffer_pool_mib,
        }
    }
}

impl DataArgs {
    fn spec(&self) -> Result<Spec> {
        Spec::new(self.scale, self.seed).map_err(DbioError::Usage)
    }
}

/// How long `server cpu --settle` waits for leftover queries before killing them.
const SETTLE_WAIT: Duration = Duration::from_secs(10);

fn main() -> ExitCode {
    let cli: Cli = match common::cli::parse() {
        Ok(cli) => cli,
        Err(code) => return code,
    };
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {}", common::redact(&chain(&e)));
            ExitCode::from(1)
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode> {
    let server = cli
        .home
        .clone()
        .map_or_else(Server::default_home, Server::new);
    let progress = stderr_progress();
    // Connection settings default to the managed server of --home.
    let with_home = |mut conn: ConnectionArgs| {
        if conn.dbio_home.is_none() {
            conn.dbio_home = Some(server.home().to_owned());
        }
        conn
    };
    match cli.command {
        Command::Up { data, server: args } => {
            let spec = data.spec()?;
            let started = server.start(&args.settings(), &progress)?;
            if !started {
                progress("the server is already running");
            }
            let url = server.url()?;
            report_load(dataset::load(&url, spec, data.force, &progress)?, spec);
            println!("DATABASE_URL={url}");
            eprintln!(
                "dbio: every approach uses this server when DATABASE_URL is unset; `dbio url --reveal` prints the password"
            );
        }
        Command::Server { action } => match action {
            ServerAction::Cpu {
                record,
                label,
                settle,
            } => {
                if settle {
                    server.settle(SETTLE_WAIT, &progress)?;
                }
                record_cpu(&server, record, label)?;
            }
            ServerAction::Settle { wait } => {
                server.settle(Duration::from_secs(wait), &progress)?;
            }
            ServerAction::Start(args) => {
                if !server.start(&args.settings(), &progress)? {
                    progress("the server is already running");
                }
                println!("DATABASE_URL={}", server.url()?);
            }
            ServerAction::Stop => {
                if !server.stop(&progress)? {
                    progress("the server is not running");
                }
            }
            ServerAction::Status { json } => {
                let status = server.status();
                if json {
                    println!(
                        "{}",
                        serde_json::to_string_pretty(&status).unwrap_or_default()
                    );
                } else {
                    println!("home:             {}", status.home.display());
                    println!(
                        "running:          {}",
                        status
                            .pid
                            .map_or("no".to_owned(), |p| format!("yes (pid {p})"))
                    );
                    if let Some(port) = status.port {
                        println!("address:          127.0.0.1:{port}");
                    }
                    if let Some(v) = &status.version {
                        println!("version:          {v}");
                    }
                    if let Some(b) = status.buffer_pool_bytes {
                        println!("buffer pool:      {} MiB", b >> 20);
                    }
                    if let Some(m) = status.max_connections {
                        println!("max_connections:  {m}");
                    }
                    if let Some(s) = &status.optimizer_switch {
                        println!("optimizer_switch: {s}");
                    }
                }
                if !status.running {
                    return Ok(ExitCode::from(3));
                }
            }
        },
        Command::Url { reveal } => {
            let url = server.url()?;
            println!(
                "{}",
                if reveal {
                    url.expose()
                } else {
                    url.to_string()
                }
            );
        }
        Command::Load {
            data,
            from_test_db,
            conn,
        } => {
            let conn = with_home(conn).validate()?;
            let outcome = match from_test_db {
                Some(dir) => {
                    dataset::test_db::load_from_test_db(&conn.url, &dir, data.force, &progress)?
                }
                None => dataset::load(&conn.url, data.spec()?, data.force, &progress)?,
            };
            if outcome == LoadOutcome::AlreadyLoaded {
                progress("already loaded; nothing to do (--force reloads)");
            }
        }
        Command::Verify { conn, json } => {
            let conn = with_home(conn).validate()?;
            let (meta, checks) = dataset::verify(&conn.url)?;
            let ok = checks.iter().all(dataset::TableCheck::ok);
            if json {
                let doc = serde_json::json!({ "meta": meta, "tables": checks, "ok": ok });
                println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
            } else {
                let mut keys: Vec<_> = meta.iter().collect();
                keys.sort();
                let desc: Vec<String> = keys.iter().map(|(k, v)| format!("{k}={v}")).collect();
                println!("dataset: {}", desc.join(" "));
                for c in &checks {
                    let expected = c
                        .expected_rows
                        .map(|e| format!(" (test_db expects {e})"))
                        .unwrap_or_default();
                    println!(
                        "{:<12} {:>10} rows  crc {:>20}  {}{expected}",
                        c.table,
                        c.found_rows,
                        c.found_crc,
                        if c.ok() { "ok" } else { "MISMATCH" }
                    );
                }
            }
            if !ok {
                return Err(DbioError::Verify(
                    "the data differs from what was loaded: reload with `dbio load --force`".into(),
                ));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn report_load(outcome: LoadOutcome, spec: Spec) {
    if outcome == LoadOutcome::AlreadyLoaded {
        eprintln!("dbio: dataset already loaded ({spec}); --force reloads");
    }
}

/// `dbio server cpu`: print the server's CPU seconds, or append them to a file.
fn record_cpu(server: &Server, record: Option<PathBuf>, label: Option<String>) -> Result<()> {
    let seconds = server.cpu_seconds().ok_or_else(|| {
        DbioError::Usage(format!(
            "no managed server running at {}",
            server.home().display()
        ))
    })?;
    match (record, label) {
        (Some(path), Some(label)) => {
            use std::io::Write;
            let mut file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
                .map_err(|source| DbioError::Io {
                    what: "cannot open".into(),
                    path: path.clone(),
                    source,
                })?;
            writeln!(file, "{label}\t{seconds:.3}").map_err(|source| DbioError::Io {
                what: "cannot write".into(),
                path,
                source,
            })?;
        }
        _ => println!("{seconds:.3}"),
    }
    Ok(())
}
