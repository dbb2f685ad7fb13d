//! Starting (the secured bootstrap, the initialiser, readiness) and
//! stopping the managed server, and clearing what a crash left.

use std::fs;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use model::files;
use model::managed::{self, ServerState};
use mysql::prelude::Queryable;

use crate::Progress;
use crate::error::{DbioError, IoContext, Result, SqlContext};

use super::accounts::{generate_password, secure_accounts, set_optimizer_switch};
use super::binary::{find_install_db, find_server_binary, flavor_of};
use super::cpus::{self, allowed_cpus, cpu_set, cpus_for, pin_process};
use super::process::{PidState, inspect, signal, wait_gone};
use super::settings::ServerSettings;
use super::user::ServerUser;
use super::{Flavor, POLL, START_DEADLINE, STOP_DEADLINE, Server, home, read_pid};

/// How a server is started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
    /// First start of a new data directory: socket only, root without a
    /// password until [`secure_accounts`] is done.
    Bootstrap,
    /// Every other start: TCP on 127.0.0.1 and the socket.
    Serve,
}

/// What a failed server process said, in one line: its last error lines
/// across `logs`, or, when none is marked as an error, the last lines of the
/// last log.
pub(super) fn excerpt(logs: &[&Path]) -> String {
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

impl Server {
    /// Before a start: waits for a crashed server that is still closing its
    /// files and port, then removes the pid files and socket it left. A
    /// socket that something still listens on is never removed.
    pub(super) fn clear_leftovers(&self) -> Result<()> {
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

    /// A new data directory with secured accounts, and the password file.
    /// The server runs only on its private socket meanwhile, and is stopped
    /// at the end.
    pub(super) fn bootstrap(
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

    pub(super) fn initialise(&self, binary: &Path, flavor: Flavor) -> Result<()> {
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
    pub(super) fn spawn_and_wait(
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
    pub(super) fn terminate(&self, pid: u32) -> Result<()> {
        self.end(pid, libc::SIGTERM)
    }

    /// Kills the server `pid` (left by an interrupted first start: nothing
    /// in it is worth a clean shutdown) and waits until it is gone.
    pub(super) fn kill(&self, pid: u32) -> Result<()> {
        self.end(pid, libc::SIGKILL)
    }

    /// Sends `sig` and waits until the server is gone (a server that
    /// outlives SIGTERM is killed), then removes what it left behind.
    pub(super) fn end(&self, pid: u32, sig: libc::c_int) -> Result<()> {
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
}
