//! The server settings that persist across restarts (`settings.json`),
//! and a server's part in replication.

use model::files;
use serde::{Deserialize, Serialize};

use crate::error::{DbioError, IoContext, Result};

use super::Server;

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

impl Server {
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

    pub(super) fn save_settings(&self, settings: &ServerSettings) -> Result<()> {
        let path = self.settings_path();
        let json = serde_json::to_vec_pretty(settings).map_err(std::io::Error::other);
        json.and_then(|j| files::write_replace(&path, &j, 0o644))
            .ctx("cannot write", path)
    }
}
