//! The managed server: a private `mariadbd` (or `mysqld`) with its own data
//! directory, config file, loopback port, unix socket and generated password.
//!
//! Layout of a home directory (default `target/dbio`):
//!
//! | file | what |
//! |---|---|
//! | `my.cnf` | written by dbio before every start, from `settings.json` |
//! | `settings.json` | server settings that persist (`optimizer_switch`, buffer pool) |
//! | `state.json` | port and socket, read by every client ([`model::managed`]) |
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
//!
//! Here: the home's layout and the admin connections. `lifecycle` starts
//! and stops the server, `config` writes what it starts with (port,
//! directories, `my.cnf`), `settings` keeps what persists, `status`
//! reports; the others as their names say (`home`, `user`, `process`,
//! `accounts`, `binary`, `cpus`, `settle`, `replicas`).

use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::Duration;

use model::files;
use model::managed::{self, ServerState};

use crate::Progress;
use crate::connect;
use crate::error::{DbioError, Result};

mod accounts;
mod binary;
mod config;
mod cpus;
pub mod home;
mod lifecycle;
mod process;
pub mod replicas;
mod settings;
mod settle;
mod status;
mod user;

pub use accounts::{open_accounts, secure_accounts, set_optimizer_switch};
pub use binary::find_server_binary;
pub use cpus::{cpu_seconds_of, cpus_of, cpus_of_task};
pub use settings::{Role, ServerSettings};
pub use settle::Settled;
pub use status::Status;
pub use user::chown_tree;

use accounts::generate_password;
use process::{Identity, PidState, inspect};

/// How long a start may take before dbio gives up (InnoDB recovery after a
/// crash included).
const START_DEADLINE: Duration = Duration::from_secs(120);
const STOP_DEADLINE: Duration = Duration::from_secs(60);
const POLL: Duration = Duration::from_millis(50);

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
}

/// The pid a pid file names, read without following a symlink (`run/` is
/// the server user's directory).
fn read_pid(file: &Path) -> Option<u32> {
    files::read_to_string(file).ok()?.trim().parse().ok()
}
