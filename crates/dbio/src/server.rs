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
//! | `data/` | the data directory |
//! | `mysqld.pid`, `mysqld.sock`, `error.log` | the running server's |
//! | `lock` | held while a dbio command changes anything here |
//!
//! Readiness is polled (a connection attempt every 50 ms) until a deadline,
//! never slept for. A pid file or socket left by a crashed server is removed
//! before the next start.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::managed::{self, ServerState};
use mysql::prelude::Queryable;
use serde::{Deserialize, Serialize};

use crate::Progress;
use crate::error::{DbioError, IoContext, Result, SqlContext};

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
    }
}

/// Which server software a binary is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    MariaDb,
    MySql,
}

/// A managed server's home directory and the binary that serves it.
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
    pub port: Option<u16>,
    pub socket: Option<PathBuf>,
    pub version: Option<String>,
    pub optimizer_switch: Option<String>,
    pub buffer_pool_bytes: Option<u64>,
    pub max_connections: Option<u64>,
}

impl Server {
    pub fn new(home: impl Into<PathBuf>) -> Server {
        let home = home.into();
        // Absolute, because the server is recognised by its config file path.
        let home = std::path::absolute(&home).unwrap_or(home);
        Server { home }
    }

    /// The server at `$DBIO_HOME` or `target/dbio`.
    pub fn default_home() -> Server {
        Server::new(managed::default_home())
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
    fn socket(&self) -> PathBuf {
        self.home.join("mysqld.sock")
    }
    fn pid_file(&self) -> PathBuf {
        self.home.join("mysqld.pid")
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
    fn settings_path(&self) -> PathBuf {
        self.home.join("settings.json")
    }
    fn bootstrapped_marker(&self) -> PathBuf {
        self.home.join("bootstrapped")
    }

    /// Holds an exclusive lock on this home until the file is dropped, so
    /// that concurrent dbio commands (parallel tests) take turns.
    pub fn lock(&self) -> Result<File> {
        fs::create_dir_all(&self.home).ctx("cannot create the server's home", &self.home)?;
        let path = self.home.join("lock");
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .ctx("cannot open lock file", &path)?;
        file.lock().ctx("cannot lock", &path)?;
        Ok(file)
    }

    pub fn settings(&self) -> Result<ServerSettings> {
        let path = self.settings_path();
        match fs::read(&path) {
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
        json.and_then(|j| fs::write(&path, j))
            .ctx("cannot write", path)
    }

    /// The pid of the running server of this home, if one is running.
    /// A stale pid file (process gone, or not this home's server) is removed
    /// together with the socket, so that the next start is clean.
    pub fn running_pid(&self) -> Option<u32> {
        let pid: u32 = fs::read_to_string(self.pid_file())
            .ok()?
            .trim()
            .parse()
            .ok()?;
        match inspect(pid, &self.cnf()) {
            PidState::Ours => return Some(pid),
            // A crashed or killed server still closing its files and port:
            // starting another now would find both taken.
            PidState::Exiting => {
                wait_gone(pid, &self.cnf(), STOP_DEADLINE);
            }
            PidState::Other => {}
        }
        let _ = fs::remove_file(self.pid_file());
        let _ = fs::remove_file(self.socket());
        None
    }

    /// Starts the server if it is not running (initialising the data
    /// directory on first use) and waits until it accepts connections.
    /// Returns whether it was started by this call.
    pub fn start(&self, requested: &ServerSettings, progress: &Progress) -> Result<bool> {
        let _lock = self.lock()?;
        let mut settings = self.settings()?;
        settings.merge(requested);
        self.save_settings(&settings)?;
        if self.running_pid().is_some() {
            // Running: apply a changed optimizer_switch live as well.
            if let Some(switch) = &requested.optimizer_switch {
                let mut conn = self.admin_conn()?;
                set_optimizer_switch(&mut conn, switch)?;
            }
            return Ok(false);
        }
        let binary = find_server_binary()?;
        let flavor = flavor_of(&binary)?;
        let port = self.choose_port()?;
        self.write_cnf(flavor, port, &settings)?;
        if !self.bootstrapped_marker().exists() {
            progress("initialising a new data directory");
            self.initialise(&binary, flavor)?;
        }
        progress(&format!(
            "starting {} on 127.0.0.1:{port}",
            binary.display()
        ));
        self.spawn_and_wait(&binary)?;
        if !self.bootstrapped_marker().exists() {
            self.bootstrap()?;
        }
        let state = ServerState {
            port,
            socket: self.socket(),
        };
        let path = ServerState::path(&self.home);
        let json = serde_json::to_vec_pretty(&state).map_err(std::io::Error::other);
        json.and_then(|j| fs::write(&path, j))
            .ctx("cannot write", path)?;
        Ok(true)
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

    fn write_cnf(&self, flavor: Flavor, port: u16, settings: &ServerSettings) -> Result<()> {
        let mut cnf = String::from(
            "# Written by dbio before every start; edit settings.json or use dbio flags instead.\n[mysqld]\n",
        );
        let mut set = |k: &str, v: &dyn std::fmt::Display| cnf.push_str(&format!("{k}={v}\n"));
        set("datadir", &self.data_dir().display());
        set("socket", &self.socket().display());
        set("pid-file", &self.pid_file().display());
        set("log-error", &self.error_log().display());
        set("tmpdir", &self.tmp_dir().display());
        set("port", &port);
        set("bind-address", &"127.0.0.1");
        if is_root() {
            set("user", &"root");
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
        cnf.push_str("skip-name-resolve\nskip-log-bin\n");
        if flavor == Flavor::MySql {
            cnf.push_str("mysqlx=OFF\n");
        }
        fs::create_dir_all(self.tmp_dir()).ctx("cannot create", self.tmp_dir())?;
        fs::write(self.cnf(), cnf).ctx("cannot write", self.cnf())
    }

    fn initialise(&self, binary: &Path, flavor: Flavor) -> Result<()> {
        let data = self.data_dir();
        if data.exists() {
            // Left by an initialisation that did not finish.
            fs::remove_dir_all(&data).ctx("cannot clear an unfinished data directory", &data)?;
        }
        let log = self.home.join("install.log");
        let out = File::create(&log).ctx("cannot create", &log)?;
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

    fn spawn_and_wait(&self, binary: &Path) -> Result<()> {
        let _ = fs::remove_file(self.socket());
        let log = self.error_log();
        let out = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .ctx("cannot open", &log)?;
        let err = out.try_clone().ctx("cannot open", &log)?;
        let mut child = Command::new(binary)
            .arg(format!("--defaults-file={}", self.cnf().display()))
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            // Its own process group: a Ctrl-C meant for dbio does not stop it.
            .process_group(0)
            .spawn()
            .ctx("cannot start the server", binary)?;
        let deadline = Instant::now() + START_DEADLINE;
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                return Err(DbioError::Process {
                    what: format!("the server exited during start-up ({status})"),
                    tail: excerpt(&[&log]),
                    log,
                });
            }
            if self.socket().exists() && self.root_conn().is_ok() || self.admin_conn().is_ok() {
                return Ok(());
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

    /// Connection as root over the socket: possible only until bootstrap
    /// gives root a password, i.e. on a fresh data directory.
    fn root_conn(&self) -> Result<mysql::Conn> {
        let opts = mysql::OptsBuilder::new()
            .socket(Some(self.socket().to_string_lossy().into_owned()))
            .user(Some("root"))
            .pass(None::<String>);
        mysql::Conn::new(opts).sql("cannot connect as root over the socket")
    }

    /// Connection as the dbio user over the socket.
    pub fn admin_conn(&self) -> Result<mysql::Conn> {
        let password = ServerState::read_password(&self.home).ctx(
            "cannot read the password",
            ServerState::password_path(&self.home),
        )?;
        let opts = mysql::OptsBuilder::new()
            .socket(Some(self.socket().to_string_lossy().into_owned()))
            .user(Some(managed::USER))
            .pass(Some(password));
        mysql::Conn::new(opts).sql("cannot connect to the managed server")
    }

    /// Creates the dbio user with a generated password and gives root the
    /// same password, so that no account is left without one.
    fn bootstrap(&self) -> Result<()> {
        let password = generate_password()?;
        let path = ServerState::password_path(&self.home);
        let mut file = OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(true)
            .mode(0o600)
            .open(&path)
            .ctx("cannot create", &path)?;
        file.write_all(password.as_bytes())
            .ctx("cannot write", &path)?;
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).ctx("cannot chmod", &path)?;
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
        fs::write(self.bootstrapped_marker(), b"").ctx("cannot write", self.bootstrapped_marker())
    }

    /// Stops the server if it runs; returns whether it did.
    pub fn stop(&self, progress: &Progress) -> Result<bool> {
        let _lock = self.lock()?;
        let Some(pid) = self.running_pid() else {
            return Ok(false);
        };
        progress(&format!("stopping the server (pid {pid})"));
        signal(pid, libc::SIGTERM);
        if !wait_gone(pid, &self.cnf(), STOP_DEADLINE) {
            signal(pid, libc::SIGKILL);
            return Err(DbioError::Timeout(format!(
                "the server (pid {pid}) did not stop within {} s and was killed",
                STOP_DEADLINE.as_secs()
            )));
        }
        let _ = fs::remove_file(self.pid_file());
        Ok(true)
    }

    /// What is known about the server, asking it when it runs.
    pub fn status(&self) -> Status {
        let pid = self.running_pid();
        let state = ServerState::read(&self.home).ok().flatten();
        let mut status = Status {
            home: self.home.clone(),
            running: pid.is_some(),
            pid,
            port: state.as_ref().map(|s| s.port),
            socket: state.map(|s| s.socket),
            version: None,
            optimizer_switch: None,
            buffer_pool_bytes: None,
            max_connections: None,
        };
        if pid.is_some()
            && let Ok(mut conn) = self.admin_conn()
        {
            let row: Option<(String, String, u64, u64)> = conn
                .query_first("SELECT @@version, @@optimizer_switch, @@innodb_buffer_pool_size, @@max_connections")
                .ok()
                .flatten();
            if let Some((version, switch, pool, max)) = row {
                status.version = Some(version);
                status.optimizer_switch = Some(switch);
                status.buffer_pool_bytes = Some(pool);
                status.max_connections = Some(max);
            }
        }
        status
    }

    /// The URL of the managed server's dataset (password included).
    pub fn url(&self) -> Result<common::DbUrl> {
        let state = ServerState::read(&self.home)
            .ctx("cannot read", ServerState::path(&self.home))?
            .ok_or_else(|| {
                DbioError::Usage(format!(
                    "no managed server at {}: run `dbio up` first",
                    self.home.display()
                ))
            })?;
        let url = state.url(&self.home).ctx(
            "cannot read the password",
            ServerState::password_path(&self.home),
        )?;
        Ok(common::DbUrl::parse(&url)?)
    }
}

impl Server {
    /// CPU seconds (user + system) the running server has used so far, from
    /// `/proc/<pid>/stat`; `None` when it is not running.
    pub fn cpu_seconds(&self) -> Option<f64> {
        let pid = self.running_pid()?;
        let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        // Fields after the parenthesised name: state is field 3, utime 14, stime 15.
        let rest = stat.rsplit_once(')')?.1;
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let utime: u64 = fields.get(11)?.parse().ok()?;
        let stime: u64 = fields.get(12)?.parse().ok()?;
        Some((utime + stime) as f64 / clock_ticks_per_second())
    }
}

fn clock_ticks_per_second() -> f64 {
    // SAFETY: sysconf has no preconditions.
    #[allow(unsafe_code)]
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if ticks > 0 { ticks as f64 } else { 100.0 }
}

/// Sets `optimizer_switch` for new sessions.
pub fn set_optimizer_switch(conn: &mut mysql::Conn, switch: &str) -> Result<()> {
    conn.exec_drop("SET GLOBAL optimizer_switch = ?", (switch,))
        .sql(format!("the server refused optimizer_switch '{switch}'"))
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    #[allow(unsafe_code)]
    unsafe {
        libc::geteuid() == 0
    }
}

fn signal(pid: u32, sig: libc::c_int) {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return;
    };
    // SAFETY: kill has no memory-safety preconditions.
    #[allow(unsafe_code)]
    unsafe {
        libc::kill(pid, sig);
    }
}

/// What the process `pid` is to the server whose config file is `cnf`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PidState {
    /// Our server, running.
    Ours,
    /// A server process on its way out: its memory (and so its command line)
    /// is gone, but its files and ports may still be open.
    Exiting,
    /// Gone, a zombie whose threads have all exited, or another program.
    Other,
}

fn inspect(pid: u32, cnf: &Path) -> PidState {
    let proc = PathBuf::from(format!("/proc/{pid}"));
    let Ok(stat) = fs::read_to_string(proc.join("stat")) else {
        return PidState::Other;
    };
    // "pid (comm) state ...": the state follows the parenthesised name.
    let Some((head, rest)) = stat.rsplit_once(')') else {
        return PidState::Other;
    };
    let comm = head.split_once('(').map_or("", |(_, c)| c);
    let is_server = matches!(comm, "mariadbd" | "mysqld");
    if dead(rest) {
        // A dead main thread: the other threads may still be closing the
        // process's files, which are released only when the last one exits.
        return if is_server && live_threads(&proc) {
            PidState::Exiting
        } else {
            PidState::Other
        };
    }
    let Ok(cmdline) = fs::read(proc.join("cmdline")) else {
        return PidState::Other;
    };
    let wanted = format!("--defaults-file={}", cnf.display());
    if cmdline
        .split(|&b| b == 0)
        .any(|arg| arg == wanted.as_bytes())
    {
        return PidState::Ours;
    }
    if cmdline.is_empty() && is_server {
        PidState::Exiting
    } else {
        PidState::Other
    }
}

/// Whether the state in a `/proc/<pid>/stat` tail (after the name) is dead.
fn dead(after_comm: &str) -> bool {
    matches!(after_comm.split_whitespace().next(), Some("Z" | "X") | None)
}

/// Whether any thread of the process in `proc` has not finished exiting.
fn live_threads(proc: &Path) -> bool {
    let Ok(tasks) = fs::read_dir(proc.join("task")) else {
        return false;
    };
    tasks.flatten().any(|task| {
        fs::read_to_string(task.path().join("stat"))
            .ok()
            .and_then(|stat| stat.rsplit_once(')').map(|(_, rest)| !dead(rest)))
            .unwrap_or(false)
    })
}

/// Waits, up to `deadline`, until `pid` is neither our server nor exiting.
fn wait_gone(pid: u32, cnf: &Path, deadline: Duration) -> bool {
    let until = Instant::now() + deadline;
    while inspect(pid, cnf) != PidState::Other {
        if Instant::now() > until {
            return false;
        }
        std::thread::sleep(POLL);
    }
    true
}

/// `$DBIO_MYSQLD`, else `mariadbd` or `mysqld` on PATH or the usual places.
pub fn find_server_binary() -> Result<PathBuf> {
    if let Some(path) = std::env::var_os("DBIO_MYSQLD") {
        return Ok(PathBuf::from(path));
    }
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    dirs.extend(["/usr/sbin", "/usr/local/sbin", "/usr/local/mysql/bin"].map(PathBuf::from));
    for name in ["mariadbd", "mysqld"] {
        if let Some(found) = dirs.iter().map(|d| d.join(name)).find(|p| p.is_file()) {
            return Ok(found);
        }
    }
    Err(DbioError::NoServerBinary)
}

fn flavor_of(binary: &Path) -> Result<Flavor> {
    let out = Command::new(binary)
        .arg("--version")
        .output()
        .ctx("cannot run the server binary", binary)?;
    let text = String::from_utf8_lossy(&out.stdout).to_lowercase();
    Ok(if text.contains("mariadb") {
        Flavor::MariaDb
    } else {
        Flavor::MySql
    })
}

fn find_install_db(binary: &Path) -> Result<PathBuf> {
    let mut dirs = vec![];
    if let Some(dir) = binary.parent() {
        dirs.push(dir.to_path_buf());
        if let Some(up) = dir.parent() {
            dirs.push(up.join("bin"));
            dirs.push(up.join("scripts"));
        }
    }
    dirs.extend(["/usr/bin", "/usr/local/bin"].map(PathBuf::from));
    ["mariadb-install-db", "mysql_install_db"]
        .iter()
        .flat_map(|name| dirs.iter().map(move |d| d.join(name)))
        .find(|p| p.is_file())
        .ok_or_else(|| {
            DbioError::Usage(format!(
                "found {} but not mariadb-install-db next to it; install the full server package: `sudo apt-get install -y mariadb-server`",
                binary.display()
            ))
        })
}

/// 24 random alphanumerics from the OS.
fn generate_password() -> Result<String> {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    let mut bytes = [0u8; 24];
    File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .ctx("cannot read random bytes", "/dev/urandom")?;
    Ok(bytes
        .iter()
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect())
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
