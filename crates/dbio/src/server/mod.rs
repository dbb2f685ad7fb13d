//! The managed server: a private `mariadbd` (or `mysqld`) with its own data
//! directory, config file, loopback port, unix socket and generated password.
//!
//! Layout of a home directory (default `target/dbio`):
//!
//! | file | what |
//! |---|---|
//! | `my.cnf` | written by dbio before every start, from `settings.json` |
//! | `settings.json` | server settings that persist (`optimizer_switch`, buffer pool) |
//! | `state.json` | port and socket, read by every client ([`common::managed`]) |
//! | `password` | the `dbio` user's password, mode 0600 |
//! | `bootstrapped` | written once the accounts are secured and the server served |
//! | `data/` | the data directory |
//! | `run/` | the server's socket and pid file; mode 0700, so only the server's OS user (and root) can use the socket |
//! | `tmp/`, `files/` | the server's tmpdir and `secure_file_priv` (the only place `SELECT ... INTO OUTFILE` may write) |
//! | `error.log`, `install.log` | what the server and its initialiser said |
//! | `lock` | held while a dbio command changes anything here |
//!
//! Security: the server never runs as OS root (started by root, it runs as
//! the `mysql` account, or `nobody` where there is none; `DBIO_SERVER_USER`
//! names another), it listens on 127.0.0.1 only, and no account can log in
//! without a password or the socket's credentials. A new data directory is
//! secured before the server is ever reachable: the first start runs it
//! with `skip-networking` and the private socket, sets every password,
//! drops the initialiser's other root and anonymous accounts, checks that
//! none without a password is left, and only then restarts it on TCP.
//! A first start that is interrupted is started over by the next.
//!
//! Readiness is polled (a connection attempt every 50 ms) until a deadline,
//! never slept for. A pid file or socket left by a crashed server is removed
//! before the next start.

use std::fs::{self, File};
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::files;
use common::managed::{self, ServerState};
use mysql::prelude::Queryable;
use serde::{Deserialize, Serialize};

use crate::Progress;
use crate::connect;
use crate::error::{DbioError, IoContext, Result, SqlContext};

mod accounts;
mod binary;
mod cpus;
pub mod home;
mod process;
pub mod replicas;
mod settle;
mod user;

pub use accounts::{open_accounts, secure_accounts, set_optimizer_switch};
pub use binary::find_server_binary;
pub use cpus::{cpu_seconds_of, cpus_of, cpus_of_task};
pub use settle::Settled;
pub use user::chown_tree;

use accounts::generate_password;
use binary::{find_install_db, flavor_of};
use cpus::{allowed_cpus, cpu_set, cpus_for, pin_process};
use process::{Identity, PidState, inspect, signal, wait_gone};
use user::ServerUser;

/// How long a start may take before dbio gives up (InnoDB recovery after a
/// crash included).
const START_DEADLINE: Duration = Duration::from_secs(120);
const STOP_DEADLINE: Duration = Duration::from_secs(60);
const POLL: Duration = Duration::from_millis(50);

/// Server settings that persist across restarts.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct ServerSettings {
    /// `optimizer_switch` for the server; `None` keeps the server's default.
    pub optimizer_switch: Option<String>,
    /// InnoDB buffer pool, MiB.
    pub buffer_pool_mib: Option<u64>,
    /// How many CPUs the server may use (the first N this machine allows
    /// dbio); `None`: all. Requested as 0, it means "all again".
    #[serde(default)]
    pub server_cpus: Option<u32>,
    /// Its part in replication; `None`: a server alone (no binary log).
    #[serde(default)]
    pub role: Option<Role>,
}

/// A managed server's part in replication ([`replicas`]).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Writes a binary log with GTIDs that its replicas read (server id 1).
    Primary,
    /// Replica number N (server id N + 1), read-only, applying the
    /// primary's log; pinned to the N-th slot of CPUs after the primary's.
    Replica(u32),
}

impl Role {
    /// Which slot of `--server-cpus` CPUs the server takes: the primary the
    /// first, replica N the N+1-th, so that servers get disjoint CPUs where
    /// the machine has them.
    pub fn cpu_slot(role: Option<Role>) -> usize {
        match role {
            Some(Role::Replica(n)) => n as usize,
            _ => 0,
        }
    }
}

impl ServerSettings {
    /// Buffer pool default: the scale-1.0 dataset with indexes is ~300 MiB;
    /// 1 GiB holds it with room for the query's temporary tables.
    pub const DEFAULT_BUFFER_POOL_MIB: u64 = 1024;

    /// The `optimizer_switch` value that means "the server's own default".
    pub const DEFAULT_SWITCH: &'static str = "default";

    /// Overrides these settings with any that are given; an optimizer
    /// switch of `default` forgets the stored one.
    pub fn merge(&mut self, other: &ServerSettings) {
        match other.optimizer_switch.as_deref() {
            Some(Self::DEFAULT_SWITCH) => self.optimizer_switch = None,
            Some(_) => self.optimizer_switch.clone_from(&other.optimizer_switch),
            None => {}
        }
        if other.buffer_pool_mib.is_some() {
            self.buffer_pool_mib = other.buffer_pool_mib;
        }
        match other.server_cpus {
            Some(0) => self.server_cpus = None,
            Some(n) => self.server_cpus = Some(n),
            None => {}
        }
        if other.role.is_some() {
            self.role = other.role;
        }
    }
}

/// Which server software a binary is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    MariaDb,
    MySql,
}

/// A managed server, known by its canonical home directory (the binary
/// that serves it is found at each start).
#[derive(Debug, Clone)]
pub struct Server {
    home: PathBuf,
}

/// What `status` finds.
#[derive(Debug, Clone, Serialize)]
pub struct Status {
    pub home: PathBuf,
    pub running: bool,
    pub pid: Option<u32>,
    /// Whether the running server answered (`false`: stopped with
    /// SIGSTOP, or hung); `None` when it does not run.
    pub answered: Option<bool>,
    pub port: Option<u16>,
    pub socket: Option<PathBuf>,
    pub version: Option<String>,
    pub optimizer_switch: Option<String>,
    pub buffer_pool_bytes: Option<u64>,
    pub max_connections: Option<u64>,
    /// The CPUs the server process may run on (`Cpus_allowed_list`).
    pub cpus: Option<String>,
    /// Its part in replication (none: a server alone).
    pub role: Option<Role>,
    /// A replica's replication, asked of it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replication: Option<replicas::Replication>,
    /// A primary's replicas, each as its own status.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub replicas: Vec<Status>,
}

impl std::fmt::Display for Status {
    /// What `dbio server status` prints.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "home:             {}", self.home.display())?;
        match (self.pid, self.answered) {
            (Some(pid), Some(false)) => writeln!(
                f,
                "running:          yes (pid {pid}), but it did not answer (stopped with SIGSTOP? `kill -CONT {pid}`)"
            )?,
            (Some(pid), _) => writeln!(f, "running:          yes (pid {pid})")?,
            (None, _) => writeln!(f, "running:          no")?,
        }
        if let Some(port) = self.port {
            writeln!(f, "address:          127.0.0.1:{port}")?;
        }
        if let Some(v) = &self.version {
            writeln!(f, "version:          {v}")?;
        }
        if let Some(b) = self.buffer_pool_bytes {
            writeln!(f, "buffer pool:      {} MiB", b >> 20)?;
        }
        if let Some(m) = self.max_connections {
            writeln!(f, "max_connections:  {m}")?;
        }
        if let Some(c) = &self.cpus {
            writeln!(f, "cpus:             {c}")?;
        }
        if let Some(s) = &self.optimizer_switch {
            writeln!(f, "optimizer_switch: {s}")?;
        }
        match self.role {
            Some(Role::Primary) => writeln!(
                f,
                "role:             primary, {} replica(s)",
                self.replicas.len()
            )?,
            Some(Role::Replica(n)) => writeln!(f, "role:             replica {n}")?,
            None => {}
        }
        if let Some(r) = &self.replication {
            writeln!(
                f,
                "replication:      io {}, sql {}, lag {}, applied up to {}",
                r.io_running,
                r.sql_running,
                r.lag_seconds
                    .map_or("unknown".to_owned(), |s| format!("{s} s")),
                if r.gtid_position.is_empty() {
                    "nothing yet"
                } else {
                    &r.gtid_position
                }
            )?;
            if let Some(e) = &r.last_error {
                writeln!(f, "last error:       {e}")?;
            }
        }
        for replica in &self.replicas {
            writeln!(f)?;
            write!(f, "{replica}")?;
        }
        Ok(())
    }
}

impl Server {
    /// The server whose home is `home`, named by its canonical path (one
    /// server is never two homes). Refuses a home that another user
    /// controls, or whose path the server's tools cannot carry
    /// ([`home`]). The home need not exist yet.
    pub fn open(home: impl AsRef<Path>) -> Result<Server> {
        let home = home::canonical(home.as_ref())?;
        home::check_owners(&home)?;
        Ok(Server { home })
    }

    /// The server at `$DBIO_HOME`, else `target/dbio` of this workspace
    /// (see [`managed::default_home`]), and where that was found.
    pub fn default_home() -> Result<(Server, managed::HomeSource)> {
        let (home, source) = managed::default_home().map_err(DbioError::Refused)?;
        Ok((Server::open(home)?, source))
    }

    pub fn home(&self) -> &Path {
        &self.home
    }
    fn data_dir(&self) -> PathBuf {
        self.home.join("data")
    }
    fn cnf(&self) -> PathBuf {
        self.home.join("my.cnf")
    }
    fn identity(&self) -> Identity {
        Identity {
            cnf: self.cnf(),
            data: self.data_dir(),
        }
    }
    /// The server's own directory for its socket and pid file: mode 0700, so
    /// that no other OS user can reach the socket.
    fn run_dir(&self) -> PathBuf {
        self.home.join("run")
    }
    fn socket(&self) -> PathBuf {
        self.run_dir().join("mysqld.sock")
    }
    fn pid_file(&self) -> PathBuf {
        self.run_dir().join("mysqld.pid")
    }
    pub fn error_log(&self) -> PathBuf {
        self.home.join("error.log")
    }
    /// The server's own tmpdir. Never the shared `/tmp`: a starting server
    /// deletes every `#sql*` file in its tmpdir, including the temporary
    /// tables of another server that is initialising at the same moment.
    fn tmp_dir(&self) -> PathBuf {
        self.home.join("tmp")
    }
    /// `secure_file_priv`: the only directory the server reads or writes
    /// files in for SQL statements (`INTO OUTFILE`, `LOAD_FILE`).
    fn files_dir(&self) -> PathBuf {
        self.home.join("files")
    }
    fn settings_path(&self) -> PathBuf {
        self.home.join("settings.json")
    }
    fn bootstrapped_marker(&self) -> PathBuf {
        self.home.join("bootstrapped")
    }

    /// Holds an exclusive lock on this home until the file is dropped, so
    /// that concurrent dbio commands (parallel tests) take turns; creates
    /// the home first if needed.
    pub fn lock(&self, progress: &Progress) -> Result<File> {
        home::lock(&self.home, progress)
    }

    pub fn settings(&self) -> Result<ServerSettings> {
        let path = self.settings_path();
        match files::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| DbioError::Io {
                what: "corrupt settings file".into(),
                path,
                source: std::io::Error::new(std::io::ErrorKind::InvalidData, e),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(ServerSettings::default()),
            Err(e) => Err(e).ctx("cannot read", path),
        }
    }

    fn save_settings(&self, settings: &ServerSettings) -> Result<()> {
        let path = self.settings_path();
        let json = serde_json::to_vec_pretty(settings).map_err(std::io::Error::other);
        json.and_then(|j| files::write_replace(&path, &j, 0o644))
            .ctx("cannot write", path)
    }

    /// The pid of the running server of this home, if one is running: the
    /// one its pid file names, else the one found by its config file or
    /// data directory among the machine's processes. Changes nothing (a
    /// pid file that names another process is cleared only by a start).
    pub fn running_pid(&self) -> Option<u32> {
        let id = self.identity();
        [self.pid_file(), self.legacy_pid_file()]
            .into_iter()
            .filter_map(|file| read_pid(&file))
            .find(|&pid| inspect(pid, &id) == PidState::Ours)
            .or_else(|| process::find_server(&id))
    }

    /// Where dbio kept the pid file (and socket) before `run/`: a server
    /// started there by an older dbio runs as root, and is restarted.
    fn legacy_pid_file(&self) -> PathBuf {
        self.home.join("mysqld.pid")
    }

    /// Before a start: waits for a crashed server that is still closing its
    /// files and port, then removes the pid files and socket it left. A
    /// socket that something still listens on is never removed.
    fn clear_leftovers(&self) -> Result<()> {
        let id = self.identity();
        for file in [self.pid_file(), self.legacy_pid_file()] {
            if let Some(pid) = read_pid(&file)
                && inspect(pid, &id) == PidState::Exiting
            {
                wait_gone(pid, &id, STOP_DEADLINE);
            }
        }
        for socket in [self.socket(), self.legacy_pid_file().with_extension("sock")] {
            if std::os::unix::net::UnixStream::connect(&socket).is_ok() {
                return Err(DbioError::Refused(format!(
                    "a server that dbio does not recognise as this home's listens on {}; stop it before starting this one",
                    socket.display()
                )));
            }
            let _ = fs::remove_file(&socket);
        }
        let _ = fs::remove_file(self.pid_file());
        let _ = fs::remove_file(self.legacy_pid_file());
        Ok(())
    }

    /// Starts the server if it is not running (initialising and securing
    /// the data directory on first use) and waits until it accepts
    /// connections. Returns whether it was started by this call.
    ///
    /// Settings are saved only once the server has taken them: a requested
    /// `optimizer_switch` is applied live after the start, and one the
    /// server refuses is reported and forgotten instead of blocking every
    /// later start.
    pub fn start(&self, requested: &ServerSettings, progress: &Progress) -> Result<bool> {
        let _lock = self.lock(progress)?;
        if let Some(n) = requested.server_cpus.filter(|n| *n > 0) {
            let allowed = allowed_cpus();
            if n as usize > allowed.len() {
                return Err(DbioError::Usage(format!(
                    "--server-cpus {n}: this machine lets dbio use {} CPUs",
                    allowed.len()
                )));
            }
        }
        let saved = self.settings()?;
        let bootstrapped = self.bootstrapped_marker().exists();
        if let Some(pid) = read_pid(&self.legacy_pid_file())
            .filter(|&pid| inspect(pid, &self.identity()) == PidState::Ours)
        {
            progress("restarting a server that an older dbio started as OS root");
            self.terminate(pid)?;
        }
        let started = match self.running_pid() {
            Some(_) if bootstrapped => false,
            running => {
                if let Some(pid) = running {
                    progress("a first start of this server was interrupted; starting it over");
                    self.kill(pid)?;
                }
                // The saved switch was accepted before; a requested one is
                // applied live below and saved only if the server takes it,
                // so that a refused one never replaces the saved one.
                let mut for_start = saved.clone();
                for_start.merge(&ServerSettings {
                    optimizer_switch: None,
                    ..requested.clone()
                });
                self.clear_leftovers()?;
                let binary = find_server_binary()?;
                let flavor = flavor_of(&binary)?;
                let owner = ServerUser::for_this_process()?;
                let port = self.choose_port()?;
                self.prepare_dirs(owner.as_ref())?;
                if !bootstrapped {
                    self.bootstrap(&binary, flavor, owner.as_ref(), port, progress)?;
                }
                self.write_cnf(flavor, owner.as_ref(), port, &for_start, Mode::Serve)?;
                progress(&format!(
                    "starting {} on 127.0.0.1:{port}",
                    binary.display()
                ));
                self.spawn_and_wait(&binary, Mode::Serve, cpus_for(&for_start))?;
                if !bootstrapped {
                    let marker = self.bootstrapped_marker();
                    files::write_replace(&marker, b"", 0o644).ctx("cannot write", &marker)?;
                }
                let state = ServerState {
                    port,
                    socket: self.socket(),
                };
                let path = ServerState::path(&self.home);
                let json = serde_json::to_vec_pretty(&state).map_err(std::io::Error::other);
                json.and_then(|j| files::write_replace(&path, &j, 0o644))
                    .ctx("cannot write", path)?;
                self.save_settings(&for_start)?;
                true
            }
        };
        if !started && requested.server_cpus.is_some() {
            // Running: pin it now (every thread; new ones inherit).
            let mut settings = self.settings()?;
            settings.merge(&ServerSettings {
                server_cpus: requested.server_cpus,
                ..ServerSettings::default()
            });
            if let Some(pid) = self.running_pid() {
                pin_process(pid, &cpus_for(&settings))?;
            }
            self.save_settings(&settings)?;
        }
        let mut conn = self.admin_conn()?;
        // Homes made before accounts were secured at bootstrap are fixed here.
        secure_accounts(&mut conn)?;
        if let Some(switch) = &requested.optimizer_switch {
            set_optimizer_switch(&mut conn, switch)?;
            let mut settings = self.settings()?;
            settings.merge(requested);
            self.save_settings(&settings)?;
        }
        Ok(started)
    }

    /// The port of the last run if it is still free, or a new free one.
    ///
    /// New ports come from below the kernel's ephemeral range: a port from
    /// that range can be taken as the source port of any outgoing connection
    /// while the server is down, and the server's URL would change on restart.
    fn choose_port(&self) -> Result<u16> {
        let free = |port: u16| TcpListener::bind(("127.0.0.1", port)).is_ok();
        if let Ok(Some(state)) = ServerState::read(&self.home)
            && free(state.port)
        {
            return Ok(state.port);
        }
        const LOWEST: u16 = 10_000;
        let below = ephemeral_ports_start().unwrap_or(32_768);
        if below > LOWEST + 100 {
            let span = u64::from(below - LOWEST);
            // A random start, so that servers started at once try different ports.
            let start = std::hash::BuildHasher::hash_one(
                &std::collections::hash_map::RandomState::new(),
                &self.home,
            ) % span;
            for i in 0..span.min(1_000) {
                let port = LOWEST + u16::try_from((start + i) % span).unwrap_or(0);
                if free(port) {
                    return Ok(port);
                }
            }
        }
        let listener =
            TcpListener::bind(("127.0.0.1", 0)).ctx("cannot find a free port", "127.0.0.1")?;
        Ok(listener
            .local_addr()
            .ctx("cannot find a free port", "127.0.0.1")?
            .port())
    }

    /// Creates the server's directories, private to the OS user it runs as,
    /// and hands them (and the data directory, if any) to that user.
    fn prepare_dirs(&self, owner: Option<&ServerUser>) -> Result<()> {
        for dir in [self.run_dir(), self.tmp_dir(), self.files_dir()] {
            home::private_dir(&dir)?;
        }
        let log = self.error_log();
        home::open_log(&log, false)?;
        let Some(owner) = owner else {
            return Ok(());
        };
        owner.check_can_reach(&self.home)?;
        for path in [
            self.run_dir(),
            self.tmp_dir(),
            self.files_dir(),
            self.data_dir(),
            log,
        ] {
            owner.chown_tree(&path)?;
        }
        Ok(())
    }

    fn write_cnf(
        &self,
        flavor: Flavor,
        owner: Option<&ServerUser>,
        port: u16,
        settings: &ServerSettings,
        mode: Mode,
    ) -> Result<()> {
        let mut cnf = String::from(
            "# Written by dbio before every start; edit settings.json or use dbio flags instead.\n[mysqld]\n",
        );
        let mut set = |k: &str, v: &dyn std::fmt::Display| cnf.push_str(&format!("{k}={v}\n"));
        set("datadir", &self.data_dir().display());
        set("socket", &self.socket().display());
        set("pid-file", &self.pid_file().display());
        set("log-error", &self.error_log().display());
        set("tmpdir", &self.tmp_dir().display());
        set("secure-file-priv", &self.files_dir().display());
        set("port", &port);
        set("bind-address", &"127.0.0.1");
        if let Some(owner) = owner {
            set("user", &owner.name);
        }
        set("max_connections", &1000);
        set("performance_schema", &"ON");
        set(
            "innodb_buffer_pool_size",
            &format!(
                "{}M",
                settings
                    .buffer_pool_mib
                    .unwrap_or(ServerSettings::DEFAULT_BUFFER_POOL_MIB)
            ),
        );
        // Loading speed only; the benchmark reads.
        set("innodb_flush_log_at_trx_commit", &2);
        set("local_infile", &"ON");
        set("character-set-server", &"utf8mb4");
        if let Some(switch) = &settings.optimizer_switch {
            set("optimizer_switch", &format!("'{switch}'"));
        }
        cnf.push_str("skip-name-resolve\n");
        match settings.role {
            None => cnf.push_str("skip-log-bin\n"),
            Some(Role::Primary) => {
                // Every write in a binary log with GTIDs, kept: a replica
                // added later reads it from the start.
                cnf.push_str(
                    "server_id=1\nlog-bin=binlog\nbinlog_format=ROW\ngtid_strict_mode=ON\n",
                );
            }
            Some(Role::Replica(n)) => {
                cnf.push_str(&format!(
                    "server_id={}\nskip-log-bin\nrelay-log=relay\nread_only=ON\ngtid_strict_mode=ON\n",
                    n + 1
                ));
            }
        }
        if mode == Mode::Bootstrap {
            cnf.push_str("skip-networking\n");
        }
        if flavor == Flavor::MySql {
            cnf.push_str("mysqlx=OFF\n");
        }
        files::write_replace(&self.cnf(), cnf.as_bytes(), 0o644).ctx("cannot write", self.cnf())
    }

    /// A new data directory with secured accounts, and the password file.
    /// The server runs only on its private socket meanwhile, and is stopped
    /// at the end.
    fn bootstrap(
        &self,
        binary: &Path,
        flavor: Flavor,
        owner: Option<&ServerUser>,
        port: u16,
        progress: &Progress,
    ) -> Result<()> {
        progress("initialising a new data directory");
        self.write_cnf(
            flavor,
            owner,
            port,
            &ServerSettings::default(),
            Mode::Bootstrap,
        )?;
        self.initialise(binary, flavor)?;
        if let Some(owner) = owner {
            owner.chown_tree(&self.data_dir())?;
        }
        let mut child = self.spawn_and_wait(binary, Mode::Bootstrap, cpus::machine_cpus())?;
        progress("securing the accounts (the server is not on the network yet)");
        let password = generate_password()?;
        let path = ServerState::password_path(&self.home);
        files::write_replace(&path, password.as_bytes(), 0o600).ctx("cannot write", &path)?;
        let mut conn = self.root_conn()?;
        for host in ["localhost", "127.0.0.1", "::1"] {
            let user = format!("'{}'@'{host}'", managed::USER);
            conn.query_drop(format!(
                "CREATE USER IF NOT EXISTS {user} IDENTIFIED BY '{password}'"
            ))
            .sql("cannot create the dbio user")?;
            conn.query_drop(format!(
                "GRANT ALL PRIVILEGES ON *.* TO {user} WITH GRANT OPTION"
            ))
            .sql("cannot grant privileges")?;
        }
        conn.query_drop(format!(
            "ALTER USER 'root'@'localhost' IDENTIFIED BY '{password}'"
        ))
        .sql("cannot set root's password")?;
        secure_accounts(&mut conn)?;
        drop(conn);
        let pid = self.running_pid().ok_or_else(|| {
            DbioError::Refused(format!(
                "the server of {} exited during its first start; see {}",
                self.home.display(),
                self.error_log().display()
            ))
        })?;
        self.terminate(pid)?;
        let _ = child.wait();
        Ok(())
    }

    fn initialise(&self, binary: &Path, flavor: Flavor) -> Result<()> {
        let data = self.data_dir();
        if data.exists() {
            // Left by an initialisation that did not finish.
            fs::remove_dir_all(&data).ctx("cannot clear an unfinished data directory", &data)?;
        }
        let log = self.home.join("install.log");
        let out = home::open_log(&log, true)?;
        let err = out.try_clone().ctx("cannot open", &log)?;
        let defaults = format!("--defaults-file={}", self.cnf().display());
        let mut cmd = match flavor {
            Flavor::MariaDb => {
                let script = find_install_db(binary)?;
                let mut c = Command::new(script);
                c.arg(&defaults)
                    .arg("--auth-root-authentication-method=normal")
                    .arg("--skip-test-db");
                c
            }
            Flavor::MySql => {
                let mut c = Command::new(binary);
                c.arg(&defaults).arg("--initialize-insecure");
                c
            }
        };
        let status = cmd
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .status()
            .ctx("cannot run the database initialiser", binary)?;
        if !status.success() {
            return Err(DbioError::Process {
                what: "initialising the data directory".into(),
                // The initialiser's own output only says where to look.
                tail: excerpt(&[&log, &self.error_log()]),
                log: self.error_log(),
            });
        }
        Ok(())
    }

    /// Starts the server and waits until it takes connections; returns the
    /// child so that a caller that stops it again can reap it.
    fn spawn_and_wait(
        &self,
        binary: &Path,
        mode: Mode,
        cpus: Vec<usize>,
    ) -> Result<std::process::Child> {
        let log = self.error_log();
        let out = home::open_log(&log, false)?;
        let err = out.try_clone().ctx("cannot open", &log)?;
        let mut cmd = Command::new(binary);
        cmd.arg(format!("--defaults-file={}", self.cnf().display()))
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            // Its own process group: a Ctrl-C meant for dbio does not stop it.
            .process_group(0);
        // Pinned before exec, so that every thread the server starts
        // inherits the set; unpinned means every CPU of the machine,
        // whatever set dbio itself was started with.
        let set = cpu_set(&cpus);
        // SAFETY: the closure only calls sched_setaffinity, which is
        // async-signal-safe, on a set built before the fork.
        #[allow(unsafe_code)]
        unsafe {
            cmd.pre_exec(move || {
                if libc::sched_setaffinity(0, size_of::<libc::cpu_set_t>(), &set) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let mut child = cmd.spawn().ctx("cannot start the server", binary)?;
        let deadline = Instant::now() + START_DEADLINE;
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                return Err(DbioError::Process {
                    what: format!("the server exited during start-up ({status})"),
                    tail: excerpt(&[&log]),
                    log,
                });
            }
            let ready = self.socket().exists()
                && match mode {
                    Mode::Bootstrap => self.root_conn().is_ok(),
                    Mode::Serve => self.admin_conn().is_ok(),
                };
            if ready {
                return Ok(child);
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                return Err(DbioError::Timeout(format!(
                    "the server did not accept connections within {} s; see {}",
                    START_DEADLINE.as_secs(),
                    log.display()
                )));
            }
            std::thread::sleep(POLL);
        }
    }

    /// Connection as root over the socket, without a password: possible only
    /// during bootstrap, while the server is on its private socket alone.
    fn root_conn(&self) -> Result<mysql::Conn> {
        let opts = self.socket_opts().user(Some("root")).pass(None::<String>);
        connect::open(opts.into(), "cannot connect as root over the socket")
    }

    /// Connection as the dbio user over the socket; opening it and every
    /// statement on it have deadlines ([`connect`]).
    pub fn admin_conn(&self) -> Result<mysql::Conn> {
        let password = self.password()?;
        let opts = self
            .socket_opts()
            .user(Some(managed::USER))
            .pass(Some(password));
        connect::open(opts.into(), "cannot connect to the managed server")
    }

    fn socket_opts(&self) -> mysql::OptsBuilder {
        mysql::OptsBuilder::new()
            .socket(Some(self.socket().to_string_lossy().into_owned()))
            .read_timeout(Some(connect::ADMIN_DEADLINE))
            .write_timeout(Some(connect::ADMIN_DEADLINE))
    }

    fn password(&self) -> Result<String> {
        ServerState::read_password(&self.home).map_err(|source| {
            let path = ServerState::password_path(&self.home);
            let what = if source.kind() == std::io::ErrorKind::PermissionDenied {
                "cannot read the managed server's password (it belongs to the user who ran `dbio up`: run as that user, or set DATABASE_URL)"
            } else {
                "cannot read the managed server's password"
            };
            DbioError::Io {
                what: what.into(),
                path,
                source,
            }
        })
    }

    /// Stops the server if it runs; returns whether it did.
    pub fn stop(&self, progress: &Progress) -> Result<bool> {
        let _lock = self.lock(progress)?;
        let Some(pid) = self.running_pid() else {
            return Ok(false);
        };
        progress(&format!("stopping the server (pid {pid})"));
        self.terminate(pid)?;
        Ok(true)
    }

    /// Asks the server `pid` to shut down and waits until it has.
    fn terminate(&self, pid: u32) -> Result<()> {
        self.end(pid, libc::SIGTERM)
    }

    /// Kills the server `pid` (left by an interrupted first start: nothing
    /// in it is worth a clean shutdown) and waits until it is gone.
    fn kill(&self, pid: u32) -> Result<()> {
        self.end(pid, libc::SIGKILL)
    }

    /// Sends `sig` and waits until the server is gone (a server that
    /// outlives SIGTERM is killed), then removes what it left behind.
    fn end(&self, pid: u32, sig: libc::c_int) -> Result<()> {
        signal(pid, sig);
        if !wait_gone(pid, &self.identity(), STOP_DEADLINE) {
            signal(pid, libc::SIGKILL);
            return Err(DbioError::Timeout(format!(
                "the server (pid {pid}) did not exit within {} s and was killed",
                STOP_DEADLINE.as_secs()
            )));
        }
        let _ = fs::remove_file(self.pid_file());
        let _ = fs::remove_file(self.legacy_pid_file());
        let _ = fs::remove_file(self.socket());
        Ok(())
    }

    /// What is known about the server, asking it when it runs.
    pub fn status(&self) -> Status {
        let pid = self.running_pid();
        let state = ServerState::read(&self.home).ok().flatten();
        let mut status = Status {
            home: self.home.clone(),
            running: pid.is_some(),
            pid,
            answered: None,
            port: state.as_ref().map(|s| s.port),
            socket: state.map(|s| s.socket),
            version: None,
            optimizer_switch: None,
            buffer_pool_bytes: None,
            max_connections: None,
            cpus: pid.and_then(cpus_of),
            role: self.settings().ok().and_then(|s| s.role),
            replication: None,
            replicas: Vec::new(),
        };
        if matches!(status.role, Some(Role::Replica(_))) && pid.is_some() {
            status.replication = self.replication();
        }
        status.replicas = self
            .replicas()
            .unwrap_or_default()
            .iter()
            .map(Server::status)
            .collect();
        // A stopped process cannot answer: said at once, without waiting
        // out the connect deadline.
        if pid.is_some_and(|pid| !cpus::is_stopped(pid)) {
            let row: Option<(String, String, u64, u64)> = self.admin_conn().ok().and_then(|mut conn| {
                conn.query_first("SELECT @@version, @@optimizer_switch, @@innodb_buffer_pool_size, @@max_connections")
                    .ok()
                    .flatten()
            });
            status.answered = Some(row.is_some());
            if let Some((version, switch, pool, max)) = row {
                status.version = Some(version);
                status.optimizer_switch = Some(switch);
                status.buffer_pool_bytes = Some(pool);
                status.max_connections = Some(max);
            }
        } else if pid.is_some() {
            status.answered = Some(false);
        }
        status
    }

    /// The URL of the managed server's dataset (password included), found
    /// as every client finds it ([`managed::url`]), after checking that the
    /// password file is safe to read.
    pub fn url(&self) -> Result<common::DbUrl> {
        if ServerState::read(&self.home)
            .ctx("cannot read", ServerState::path(&self.home))?
            .is_none()
        {
            return Err(DbioError::Refused(format!(
                "no managed server at {}: run `dbio up` first",
                self.home.display()
            )));
        }
        self.password()?;
        Ok(managed::url(&self.home)?)
    }
}

/// The pid a pid file names, read without following a symlink (`run/` is
/// the server user's directory).
fn read_pid(file: &Path) -> Option<u32> {
    files::read_to_string(file).ok()?.trim().parse().ok()
}

/// How a server is started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// First start of a new data directory: socket only, root without a
    /// password until [`secure_accounts`] is done.
    Bootstrap,
    /// Every other start: TCP on 127.0.0.1 and the socket.
    Serve,
}

/// The first port the kernel hands out to outgoing connections (Linux).
fn ephemeral_ports_start() -> Option<u16> {
    fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// What a failed server process said, in one line: its last error lines
/// across `logs`, or, when none is marked as an error, the last lines of the
/// last log.
fn excerpt(logs: &[&Path]) -> String {
    const KEEP: usize = 4;
    let texts: Vec<String> = logs
        .iter()
        .map(|p| fs::read_to_string(p).unwrap_or_default())
        .collect();
    let non_empty = |t: &'_ String| -> Vec<String> {
        t.lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(String::from)
            .collect()
    };
    let mut picked: Vec<String> = texts
        .iter()
        .flat_map(non_empty)
        .filter(|l| l.contains("[ERROR]") || l.starts_with("ERROR"))
        .collect();
    if picked.is_empty() {
        picked = texts.last().map(non_empty).unwrap_or_default();
    }
    let from = picked.len().saturating_sub(KEEP);
    picked[from..].join(" | ")
}
