//! `dbio`: the managed server and the dataset, from the command line.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use common::cli::{emit, emit_line};
use common::error::chain;
use common::managed::HomeSource;
use dbio::dataset::generate::DEFAULT_SEED;
use dbio::dataset::{self, LoadOutcome, Spec};
use dbio::{DbioError, Progress, Result, Server, ServerSettings, stderr_progress};
use mysql::prelude::Queryable;

/// A MariaDB/MySQL server and the employees dataset for the dbio benchmarks,
/// with no setup: `dbio up`, then run any approach.
#[derive(Debug, Parser)]
#[command(version)]
struct Cli {
    /// Home of the managed server (default: target/dbio of the workspace this
    /// binary was built in, else of the one above the current directory).
    /// Must be a directory that no other user can change (README: a safe home).
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
        /// Also run N read replicas of the server on this machine, each a
        /// server of its own replicating from it (MariaDB's GTID
        /// replication), with --server-cpus CPUs each, disjoint where the
        /// machine has them; 0 removes them. Persists until set again.
        #[arg(long, value_name = "N", value_parser = common::cli::replica_count)]
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
struct TargetArgs {
    /// Server URL, mysql://USER:PASSWORD@HOST:PORT/DATABASE (default: the
    /// managed server).
    #[arg(long, env = "DATABASE_URL", hide_env_values = true, value_name = "URL")]
    database_url: Option<String>,
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
    #[arg(long, value_name = "FLAGS", value_parser = non_empty_switch)]
    optimizer_switch: Option<String>,
    /// InnoDB buffer pool size in MiB (default 1024).
    #[arg(long, value_name = "MIB")]
    buffer_pool_mib: Option<u64>,
    /// Pin the server to N CPUs (a small server's regime on a big machine);
    /// persists across restarts until set again; 'all' unpins it.
    #[arg(long, value_name = "N|all", value_parser = parse_cpus)]
    server_cpus: Option<u32>,
}

impl ServerArgs {
    fn settings(&self) -> ServerSettings {
        ServerSettings {
            optimizer_switch: self.optimizer_switch.clone(),
            buffer_pool_mib: self.buffer_pool_mib,
            server_cpus: self.server_cpus,
            role: None,
        }
    }
}

impl DataArgs {
    fn spec(&self) -> Result<Spec> {
        Spec::new(self.scale, self.seed).map_err(DbioError::Usage)
    }
}

/// `--server-cpus`: a count of at least 1, or `all` (stored as 0: unpinned).
/// `--optimizer-switch`: an empty one would be saved, yet leave the
/// running server's switch as it was (and a restart would revert it).
fn non_empty_switch(text: &str) -> std::result::Result<String, String> {
    if text.trim().is_empty() {
        Err("is empty; give flags such as split_materialized=off, or `default` for the server's own".into())
    } else {
        Ok(text.to_owned())
    }
}

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

/// How long `server cpu --settle` waits for leftover queries before killing them.
const SETTLE_WAIT: Duration = Duration::from_secs(10);

fn main() -> ExitCode {
    let cli: Cli = match common::cli::parse() {
        Ok(cli) => cli,
        Err(code) => return code,
    };
    // A panic (a driver's, on a reply it cannot handle) is one `error:`
    // line like any other failure, not Rust's message and exit 101.
    std::panic::set_hook(Box::new(|_| {}));
    let outcome = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(cli))) {
        Ok(outcome) => outcome,
        Err(panic) => {
            let text = common::fatal::panic_text(&*panic);
            eprintln!("error: the driver panicked: {}", common::redact(&text));
            return ExitCode::from(1);
        }
    };
    match outcome {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {}", common::redact(&chain(&e)));
            ExitCode::from(if matches!(e, DbioError::Usage(_)) {
                2
            } else {
                1
            })
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode> {
    let progress = stderr_progress();
    // The home is resolved only by the commands that use it: `load`,
    // `verify`, `facts` and `proxy` also work with no home at all.
    let home = Home(cli.home);
    match cli.command {
        Command::Up {
            data,
            server: args,
            replicas,
        } => up(&home.say(&progress)?, &data, &args, replicas, &progress)?,
        Command::Server { action } => return server_action(&home, action, &progress),
        Command::Url { reveal } => url(&home.say(&progress)?, reveal)?,
        Command::Load {
            data,
            from_test_db,
            target,
        } => load(&home, &data, from_test_db, &target, &progress)?,
        // They read small results: past the approaches' memory bound, a
        // broken or hostile server is feeding the `mysql` crate column
        // definitions without end, and the command ends with one line.
        Command::Verify { target, json } => {
            common::memory::bound_from_env()?;
            verify(&home, &target, json)?;
        }
        Command::Facts { target } => {
            common::memory::bound_from_env()?;
            facts(&home, &target)?;
        }
        Command::Proxy {
            latency_ms,
            upstream,
            listen,
            allow_remote,
            max_connections,
            port_file,
        } => {
            let upstream = match upstream {
                Some(addr) => addr,
                None => std::net::SocketAddr::from(([127, 0, 0, 1], home.server()?.url()?.port())),
            };
            let relay = ProxyArgs {
                latency: Duration::from_millis(latency_ms),
                upstream,
                listen,
                allow_remote,
                max_connections: max_connections as usize,
            };
            proxy(&relay, port_file, &progress)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `--home` (or `DBIO_HOME`) as given; resolved on first use.
struct Home(Option<PathBuf>);

impl Home {
    fn server(&self) -> Result<Server> {
        Ok(self.resolve()?.0)
    }

    fn resolve(&self) -> Result<(Server, HomeSource)> {
        match &self.0 {
            Some(home) => Ok((Server::open(home)?, HomeSource::Given)),
            None => Server::default_home(),
        }
    }

    /// The server, after saying which home it is and why.
    fn say(&self, progress: &Progress) -> Result<Server> {
        let (server, source) = self.resolve()?;
        progress(&format!("home {} ({source})", server.home().display()));
        Ok(server)
    }
}

/// The URL `target` names, or the managed server's of `home`.
fn target_url(home: &Home, target: &TargetArgs) -> Result<common::DbUrl> {
    match &target.database_url {
        Some(url) => Ok(common::DbUrl::parse(url)?),
        None => home.server()?.url(),
    }
}

fn up(
    server: &Server,
    data: &DataArgs,
    args: &ServerArgs,
    replicas: Option<u32>,
    progress: &Progress,
) -> Result<()> {
    let spec = data.spec()?;
    let mut settings = args.settings();
    if replicas.is_some_and(|n| n > 0) {
        // A new server starts with its binary log at once.
        settings.role = Some(dbio::server::Role::Primary);
    }
    if !server.start(&settings, progress)? {
        progress("the server is already running");
    }
    if let Some(count) = replicas {
        server.set_replicas(count, progress)?;
    } else {
        // Replicas made before run with the server's settings of now.
        let count = u32::try_from(server.replicas()?.len()).unwrap_or(u32::MAX);
        if count > 0 {
            server.set_replicas(count, progress)?;
        }
    }
    let url = server.url()?;
    if dataset::load(&url, spec, data.force, progress)? == LoadOutcome::AlreadyLoaded {
        progress(&format!("dataset already loaded ({spec}); --force reloads"));
    }
    if !server.replicas()?.is_empty() {
        server.wait_for_replicas(progress)?;
        // A dataset loaded before the server had replicas is not in its
        // binary log: loaded again, it reaches them.
        if !replicas_have(server, &url, spec)? {
            progress(
                "the replicas lack the dataset (loaded before they existed): loading it again on the primary",
            );
            // From nothing, in the log: a replica has none of the tables
            // that a reload would otherwise change in place.
            let database = url.database().unwrap_or("employees").replace('`', "``");
            server
                .admin_conn()?
                .query_drop(format!("DROP DATABASE IF EXISTS `{database}`"))
                .map_err(|e| {
                    DbioError::Internal(format!("cannot drop the dataset to load it again: {e}"))
                })?;
            dataset::load(&url, spec, true, progress)?;
            server.wait_for_replicas(progress)?;
            if !replicas_have(server, &url, spec)? {
                return Err(DbioError::Refused(
                    "the replicas applied the primary's log but lack the dataset; see `dbio server status`".into(),
                ));
            }
        }
        progress(&format!(
            "{} replica(s) have applied everything the primary has",
            server.replicas()?.len()
        ));
    }
    emit_line(format_args!("DATABASE_URL={url}"));
    progress(
        "every approach uses this server when DATABASE_URL is unset; `dbio url --reveal` prints the password",
    );
    Ok(())
}

/// Whether every replica of `server` has the dataset `spec` complete.
fn replicas_have(server: &Server, url: &common::DbUrl, spec: Spec) -> Result<bool> {
    for replica in server.replicas()? {
        let database = url.database().unwrap_or("employees");
        let exists: Option<String> = replica
            .admin_conn()?
            .exec_first(
                "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?",
                (database,),
            )
            .map_err(|e| {
                DbioError::Internal(format!("cannot list the replica's databases: {e}"))
            })?;
        if exists.is_none() {
            return Ok(false);
        }
        let mut conn = dataset::loader::connect(&replica.url()?.with_database(database), None)?;
        let meta = dataset::loader::read_meta(&mut conn)?;
        if !dataset::loader::is_complete(&meta, &dataset::loader::identity(spec)) {
            return Ok(false);
        }
    }
    Ok(true)
}

fn server_action(home: &Home, action: ServerAction, progress: &Progress) -> Result<ExitCode> {
    match action {
        ServerAction::Start(args) => {
            let server = home.say(progress)?;
            if !server.start(&args.settings(), progress)? {
                progress("the server is already running");
            }
            emit_line(format_args!("DATABASE_URL={}", server.url()?));
        }
        ServerAction::Stop => {
            if !home.say(progress)?.stop_all(progress)? {
                progress("the server is not running");
            }
        }
        ServerAction::Status { json } => {
            let status = home.server()?.status();
            if json {
                emit_line(to_json(&status));
            } else {
                emit(&status.to_string());
            }
            if !status.running {
                return Ok(ExitCode::from(3));
            }
            if status.answered == Some(false) {
                return Ok(ExitCode::from(1));
            }
        }
        ServerAction::Cpu {
            record,
            label,
            settle,
            proxy_pid,
            proxy_record,
        } => {
            let server = home.server()?;
            if settle {
                server.settle(SETTLE_WAIT, progress)?;
            }
            let (seconds, servers) = server.cpu_reading().ok_or_else(|| {
                DbioError::Refused(format!(
                    "no managed server running at {}",
                    server.home().display()
                ))
            })?;
            record_cpu(seconds, Some(&servers), record, label.as_deref())?;
            if let (Some(pid), Some(file)) = (proxy_pid, proxy_record) {
                let seconds = dbio::server::cpu_seconds_of(pid).ok_or_else(|| {
                    DbioError::Refused(format!("no process {pid} (the latency proxy) is running"))
                })?;
                record_cpu(seconds, None, Some(file), label.as_deref())?;
            }
        }
        ServerAction::Settle { wait } => {
            home.server()?.settle(Duration::from_secs(wait), progress)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn url(server: &Server, reveal: bool) -> Result<()> {
    let url = server.url()?;
    emit_line(if reveal {
        url.expose()
    } else {
        url.to_string()
    });
    Ok(())
}

fn load(
    home: &Home,
    data: &DataArgs,
    from_test_db: Option<PathBuf>,
    target: &TargetArgs,
    progress: &Progress,
) -> Result<()> {
    let url = target_url(home, target)?;
    let outcome = match from_test_db {
        Some(dir) => dataset::test_db::load_from_test_db(&url, &dir, data.force, progress)?,
        None => dataset::load(&url, data.spec()?, data.force, progress)?,
    };
    if outcome == LoadOutcome::AlreadyLoaded {
        progress("already loaded; nothing to do (--force reloads)");
    }
    Ok(())
}

fn verify(home: &Home, target: &TargetArgs, json: bool) -> Result<()> {
    let url = target_url(home, target)?;
    // The managed server's replicas are checked too, each against what it
    // says was loaded (what it replicated from the primary).
    let mut servers = vec![("server".to_owned(), url.clone())];
    if target.database_url.is_none() {
        for replica in home.server()?.replicas()? {
            let n = replica.replica_number().unwrap_or(0);
            let database = url.database().unwrap_or("employees");
            servers.push((
                format!("replica {n}"),
                replica.url()?.with_database(database),
            ));
        }
    }
    let mut ok = true;
    let mut reports = Vec::new();
    for (name, url) in &servers {
        let (meta, checks) = dataset::verify(url)?;
        let this_ok = checks.iter().all(dataset::TableCheck::ok);
        ok &= this_ok;
        if json {
            reports.push(serde_json::json!({ "server": name, "meta": meta, "tables": checks, "ok": this_ok }));
        } else {
            if servers.len() > 1 {
                emit_line(format_args!("== {name}"));
            }
            emit(&dataset::verify::render(&meta, &checks));
        }
    }
    if json {
        let mut first = reports.remove(0);
        if !reports.is_empty() {
            first["replicas"] = serde_json::Value::Array(reports);
            first["ok"] = serde_json::Value::Bool(ok);
        }
        emit_line(to_json(&first));
    }
    if !ok {
        return Err(DbioError::Verify(
            "the data differs from what was loaded: reload with `dbio load --force`".into(),
        ));
    }
    Ok(())
}

fn facts(home: &Home, target: &TargetArgs) -> Result<()> {
    emit_line(to_json(&dbio::facts::collect(&target_url(home, target)?)?));
    Ok(())
}

/// What `dbio proxy` relays, checked.
struct ProxyArgs {
    latency: Duration,
    upstream: std::net::SocketAddr,
    listen: std::net::SocketAddr,
    allow_remote: bool,
    max_connections: usize,
}

fn proxy(args: &ProxyArgs, port_file: Option<PathBuf>, progress: &Progress) -> Result<()> {
    if !args.listen.ip().is_loopback() && !args.allow_remote {
        return Err(DbioError::Usage(format!(
            "--listen {}: other machines could reach the managed server through the proxy (it listens on loopback only); listen on 127.0.0.1, or add --allow-remote to mean it",
            args.listen
        )));
    }
    let io = |what: &str, path: &std::path::Path| {
        let (what, path) = (what.to_owned(), path.to_owned());
        move |source| DbioError::Io { what, path, source }
    };
    let listen_path = PathBuf::from(args.listen.to_string());
    let proxy = dbio::proxy::Proxy::bind(
        args.listen,
        args.upstream,
        args.latency,
        args.max_connections,
    )
    .map_err(io("cannot listen", &listen_path))?;
    let addr = proxy
        .local_addr()
        .map_err(io("cannot listen", &listen_path))?;
    if let Some(file) = &port_file {
        common::files::write_replace(file, addr.port().to_string().as_bytes(), 0o644)
            .map_err(io("cannot write", file))?;
    }
    if !addr.ip().is_loopback() {
        progress(&format!(
            "listening on {addr}, which other machines can reach (--allow-remote)"
        ));
    }
    progress(&format!(
        "relaying {addr} to {} with {} ms each way, at most {} connections at once",
        args.upstream,
        args.latency.as_millis(),
        args.max_connections
    ));
    let log = Arc::clone(progress);
    proxy.serve(move |line| log(line));
    Ok(())
}

fn to_json(value: &impl serde::Serialize) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default()
}

/// `dbio server cpu`: print CPU seconds, or append them to a file with a
/// label (and the servers summed, when given: see
/// `bench_report::server_cpu`).
fn record_cpu(
    seconds: f64,
    servers: Option<&str>,
    record: Option<PathBuf>,
    label: Option<&str>,
) -> Result<()> {
    match (record, label) {
        (Some(path), Some(label)) => {
            use std::io::Write;
            let mut file =
                common::files::open_append(&path, 0o644).map_err(|source| DbioError::Io {
                    what: "cannot open".into(),
                    path: path.clone(),
                    source,
                })?;
            let servers = servers.map(|s| format!("\t{s}")).unwrap_or_default();
            writeln!(file, "{label}\t{seconds:.3}{servers}").map_err(|source| DbioError::Io {
                what: "cannot write".into(),
                path,
                source,
            })?;
        }
        _ => emit_line(format_args!("{seconds:.3}")),
    }
    Ok(())
}
