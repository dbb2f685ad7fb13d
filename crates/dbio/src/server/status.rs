//! What `dbio server status` says: the server's pid, address, version
//! and settings, and its URL.

use std::path::PathBuf;

use model::managed::{self, ServerState};
use mysql::prelude::Queryable;
use serde::Serialize;

use crate::error::{DbioError, IoContext, Result};

use super::cpus::{self, cpus_of};
use super::settings::Role;
use super::{Server, replicas};

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
    pub fn url(&self) -> Result<model::DbUrl> {
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
