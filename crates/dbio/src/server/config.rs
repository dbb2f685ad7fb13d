//! The server's configuration: its port, its directories, and the
//! `my.cnf` written before every start.

use std::fs;
use std::net::TcpListener;

use model::files;
use model::managed::ServerState;

use crate::error::{IoContext, Result};

use super::lifecycle::Mode;
use super::settings::{Role, ServerSettings};
use super::user::ServerUser;
use super::{Flavor, Server, home};

/// The first port the kernel hands out to outgoing connections (Linux).
pub(super) fn ephemeral_ports_start() -> Option<u16> {
    fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

impl Server {
    /// The port of the last run if it is still free, or a new free one.
    ///
    /// New ports come from below the kernel's ephemeral range: a port from
    /// that range can be taken as the source port of any outgoing connection
    /// while the server is down, and the server's URL would change on restart.
    pub(super) fn choose_port(&self) -> Result<u16> {
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
    pub(super) fn prepare_dirs(&self, owner: Option<&ServerUser>) -> Result<()> {
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

    pub(super) fn write_cnf(
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
}
