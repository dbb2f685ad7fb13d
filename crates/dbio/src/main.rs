//! `dbio`: the managed server and the dataset, from the command line.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use dbio::dataset::{self, LoadOutcome, Spec};
use dbio::{DbioError, Progress, Result, Server, stderr_progress};
use model::cli::{emit, emit_line};
use model::error::chain;
use model::managed::HomeSource;
use mysql::prelude::Queryable;

mod args;

use args::{Cli, Command, DataArgs, ServerAction, ServerArgs, TargetArgs};

/// How long `server cpu --settle` waits for leftover queries before killing them.
const SETTLE_WAIT: Duration = Duration::from_secs(10);

fn main() -> ExitCode {
    let cli: Cli = match model::cli::parse() {
        Ok(cli) => cli,
        Err(code) => return code,
    };
    // A panic (a driver's, on a reply it cannot handle) is one `error:`
    // line like any other failure, not Rust's message and exit 101.
    std::panic::set_hook(Box::new(|_| {}));
    let outcome = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(cli))) {
        Ok(outcome) => outcome,
        Err(panic) => {
            let text = limits::panic_text(&*panic);
            eprintln!("error: the driver panicked: {}", model::redact(&text));
            return ExitCode::from(1);
        }
    };
    match outcome {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {}", model::redact(&chain(&e)));
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
            bound_memory()?;
            verify(&home, &target, json)?;
        }
        Command::Facts { target } => {
            bound_memory()?;
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

/// The memory bound of the commands that read a server's results
/// (`DBIO_MAX_MEMORY`, [`limits::memory`]): past it, one line and exit 1.
/// dbio runs no query to cancel: its connections end with the process.
fn bound_memory() -> Result<()> {
    limits::memory::watch(limits::memory::limit_from_env(), |line| {
        eprintln!("error: {line}");
        std::process::exit(1);
    })?;
    Ok(())
}

/// The URL `target` names, or the managed server's of `home`.
fn target_url(home: &Home, target: &TargetArgs) -> Result<model::DbUrl> {
    match &target.database_url {
        Some(url) => Ok(model::DbUrl::parse(url)?),
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
fn replicas_have(server: &Server, url: &model::DbUrl, spec: Spec) -> Result<bool> {
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
        model::files::write_replace(file, addr.port().to_string().as_bytes(), 0o644)
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
                model::files::open_append(&path, 0o644).map_err(|source| DbioError::Io {
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
