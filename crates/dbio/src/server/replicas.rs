//! Read replicas of the managed server (`dbio up --replicas N`). Each is a
//! server with a home of its own under the primary's (`replicas/1`,
//! `replicas/2`, ...): its own data directory, port, socket, password and
//! locked-down accounts, replicating from the primary with MariaDB's GTID
//! replication (`CHANGE MASTER TO ... MASTER_USE_GTID = slave_pos`), read
//! only. The primary writes a binary log from the moment it has replicas
//! and keeps it, so a replica added later starts from its beginning; dbio's
//! own account statements stay out of it (`sql_log_bin = 0`), so that every
//! server keeps its own accounts and passwords.

use std::fs;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use mysql::prelude::Queryable;
use serde::Serialize;

use super::{Flavor, Role, Server, ServerSettings, binary, generate_password};
use crate::Progress;
use crate::error::{DbioError, IoContext, Result, SqlContext};
use model::{files, managed};

/// The account replicas read the primary's log as (127.0.0.1 only,
/// `REPLICATION SLAVE` only, its own generated password).
pub const REPLICATION_USER: &str = "dbio_repl";

/// The most replicas one home may have.
pub use model::cli::MAX_REPLICAS;

/// What each server needs beyond its buffer pool, for the memory check.
const SERVER_OVERHEAD_MIB: u64 = 256;

/// How long replicas may take to apply what the primary has logged (a
/// whole load of the dataset included).
const CATCH_UP: Duration = Duration::from_secs(900);

/// How often the wait for replicas says how far they are.
const REPORT_EVERY: Duration = Duration::from_secs(10);

/// One poll of a replica's position (`MASTER_GTID_WAIT`'s timeout, seconds).
const WAIT_STEP_S: u32 = 2;

/// A replica's replication, as `dbio server status` shows it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Replication {
    /// `Slave_IO_Running`: `Yes`, `No` or `Connecting`.
    pub io_running: String,
    /// `Slave_SQL_Running`: `Yes` or `No`.
    pub sql_running: String,
    /// `Seconds_Behind_Master`; none while replication is stopped.
    pub lag_seconds: Option<u64>,
    /// `@@gtid_slave_pos`: the last transaction it applied.
    pub gtid_position: String,
    /// The last error of either thread.
    pub last_error: Option<String>,
}

impl Replication {
    /// Both threads run.
    pub fn running(&self) -> bool {
        self.io_running == "Yes" && self.sql_running == "Yes"
    }
}

impl Server {
    fn replicas_dir(&self) -> PathBuf {
        self.home.join("replicas")
    }

    /// Replica `n` of this home (its home need not exist yet).
    fn replica(&self, n: u32) -> Result<Server> {
        Server::open(self.replicas_dir().join(n.to_string()))
    }

    /// The replicas this home has, in order (1, 2, ...): those whose
    /// bootstrap completed ([`managed::REPLICA_READY`]).
    pub fn replicas(&self) -> Result<Vec<Server>> {
        managed::replica_homes(&self.home)
            .into_iter()
            .map(Server::open)
            .collect()
    }

    /// Replica homes whose bootstrap did not complete (a full disk, Ctrl-C
    /// while it initialised): no replica, stopped and removed by
    /// [`Server::set_replicas`].
    fn unfinished_replicas(&self) -> Result<Vec<Server>> {
        managed::numbered_replicas(&self.home)
            .into_iter()
            .filter(|path| !path.join(managed::REPLICA_READY).is_file())
            .map(Server::open)
            .collect()
    }

    /// Which replica this server is, from its settings; `None` for a
    /// primary or a server alone.
    pub fn replica_number(&self) -> Option<u32> {
        match self.settings().ok()?.role {
            Some(Role::Replica(n)) => Some(n),
            _ => None,
        }
    }

    /// Gives the running primary exactly `count` replicas, each started
    /// with the primary's settings and following its log; `0` stops and
    /// removes them (the primary's binary log ends at its next restart).
    /// Does not wait for them: see [`Server::wait_for_replicas`].
    pub fn set_replicas(&self, count: u32, progress: &Progress) -> Result<()> {
        if count > MAX_REPLICAS {
            return Err(DbioError::Usage(format!(
                "--replicas {count}: at most {MAX_REPLICAS}"
            )));
        }
        for unfinished in self.unfinished_replicas()? {
            progress(&format!(
                "the replica at {} never finished its bootstrap",
                unfinished.home().display()
            ));
            unfinished.remove(progress)?;
        }
        let existing = self.replicas()?;
        for extra in existing.iter().filter(|r| r.replica_number() > Some(count)) {
            extra.remove(progress)?;
        }
        if count == 0 {
            let mut settings = self.settings()?;
            if settings.role.take().is_some() {
                self.save_settings(&settings)?;
                progress("no replicas; the primary keeps its binary log until it restarts");
            }
            let _ = fs::remove_dir(self.replicas_dir());
            return Ok(());
        }
        if binary::flavor_of(&binary::find_server_binary()?)? != Flavor::MariaDb {
            return Err(DbioError::Refused(
                "replicas use MariaDB's GTID replication; this server binary is MySQL's".into(),
            ));
        }
        let have = existing.len() as u32;
        self.check_memory_for(count.saturating_sub(have))?;
        self.become_primary(progress)?;
        let password = self.replication_account()?;
        let port = self.url()?.port();
        let primary = self.settings()?;
        for n in 1..=count {
            let replica = self.replica(n)?;
            let settings = ServerSettings {
                role: Some(Role::Replica(n)),
                server_cpus: Some(primary.server_cpus.unwrap_or(0)),
                ..primary.clone()
            };
            progress(&format!("replica {n}: {}", replica.home().display()));
            replica.start(&settings, progress)?;
            replica.follow(port, &password)?;
            let ready = replica.home().join(managed::REPLICA_READY);
            files::write_replace(&ready, b"", 0o644).ctx("cannot write", &ready)?;
        }
        Ok(())
    }

    /// Refuses `more` new servers when the memory available cannot hold
    /// their buffer pools, naming how many fit.
    fn check_memory_for(&self, more: u32) -> Result<()> {
        if more == 0 {
            return Ok(());
        }
        let Some(available) = available_mib() else {
            return Ok(());
        };
        let each = self
            .settings()?
            .buffer_pool_mib
            .unwrap_or(ServerSettings::DEFAULT_BUFFER_POOL_MIB)
            + SERVER_OVERHEAD_MIB;
        match memory_refusal(more, each, available) {
            Some(why) => Err(DbioError::Refused(why)),
            None => Ok(()),
        }
    }

    /// Makes the running server write a binary log with GTIDs, restarting
    /// it when it does not yet.
    fn become_primary(&self, progress: &Progress) -> Result<()> {
        let logging: Option<u64> = self
            .admin_conn()?
            .query_first("SELECT @@log_bin")
            .sql("cannot ask whether the server logs")?;
        let mut settings = self.settings()?;
        if logging == Some(1) && settings.role == Some(Role::Primary) {
            return Ok(());
        }
        progress("restarting the server with a binary log, for its replicas");
        settings.role = Some(Role::Primary);
        self.save_settings(&settings)?;
        self.stop(progress)?;
        self.start(&ServerSettings::default(), progress)?;
        Ok(())
    }

    /// The replication account on the primary, with its password (made
    /// once, kept in `replication-password`, mode 0600); outside the
    /// binary log, so replicas never get it.
    fn replication_account(&self) -> Result<String> {
        let path = self.home.join("replication-password");
        let password = match files::read_to_string(&path) {
            Ok(text) => text.trim().to_owned(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let password = generate_password()?;
                files::write_replace(&path, password.as_bytes(), 0o600)
                    .ctx("cannot write", &path)?;
                password
            }
            Err(e) => return Err(e).ctx("cannot read", &path),
        };
        let mut conn = self.admin_conn()?;
        let account = format!("'{REPLICATION_USER}'@'127.0.0.1'");
        for sql in [
            "SET SESSION sql_log_bin = 0".to_owned(),
            format!("CREATE USER IF NOT EXISTS {account} IDENTIFIED BY '{password}'"),
            format!("ALTER USER {account} IDENTIFIED BY '{password}'"),
            format!("GRANT REPLICATION SLAVE ON *.* TO {account}"),
        ] {
            conn.query_drop(sql)
                .sql("cannot set up the replication account")?;
        }
        Ok(password)
    }

    /// Points this replica at the primary on `port` and starts replicating
    /// from where it stopped (from the log's beginning the first time).
    fn follow(&self, port: u16, password: &str) -> Result<()> {
        let mut conn = self.admin_conn()?;
        // `read_only` binds every account but those with READ_ONLY ADMIN,
        // which ALL PRIVILEGES includes: dbio's own account gives it up here,
        // so that nothing a benchmark runs can write to a replica. Only an
        // account that holds it may revoke it: this connection's own
        // account (localhost) goes last.
        let grants: Vec<String> = conn.query("SHOW GRANTS").sql("cannot read dbio's grants")?;
        if grants
            .iter()
            .any(|g| g.contains("ALL PRIVILEGES") || g.contains("READ_ONLY ADMIN"))
        {
            for host in ["127.0.0.1", "::1", "localhost"] {
                match conn.query_drop(format!(
                    "REVOKE READ_ONLY ADMIN ON *.* FROM '{}'@'{host}'",
                    managed::USER
                )) {
                    // Not granted there (ER_NONEXISTING_GRANT).
                    Err(mysql::Error::MySqlError(e)) if e.code == 1141 => {}
                    other => other.sql("cannot make the replica read-only for dbio's account")?,
                }
            }
        }
        for sql in [
            "STOP SLAVE".to_owned(),
            format!(
                "CHANGE MASTER TO MASTER_HOST = '127.0.0.1', MASTER_PORT = {port}, \
                 MASTER_USER = '{REPLICATION_USER}', MASTER_PASSWORD = '{password}', \
                 MASTER_USE_GTID = slave_pos, MASTER_CONNECT_RETRY = 1"
            ),
            "START SLAVE".to_owned(),
        ] {
            conn.query_drop(sql)
                .sql("cannot start replicating from the primary")?;
        }
        Ok(())
    }

    /// Waits, up to a deadline, until every replica has applied all the
    /// primary has logged so far; fails at once, with its error, when a
    /// replica stops replicating.
    pub fn wait_for_replicas(&self, progress: &Progress) -> Result<()> {
        let replicas = self.replicas()?;
        if replicas.is_empty() {
            return Ok(());
        }
        let target: String = self
            .admin_conn()?
            .query_first("SELECT @@gtid_binlog_pos")
            .sql("cannot read the primary's log position")?
            .unwrap_or_default();
        let deadline = Instant::now() + CATCH_UP;
        for replica in &replicas {
            let n = replica.replica_number().unwrap_or(0);
            let mut conn = replica.admin_conn()?;
            let mut said = Instant::now();
            loop {
                let reached: Option<i64> = conn
                    .exec_first("SELECT MASTER_GTID_WAIT(?, ?)", (&target, WAIT_STEP_S))
                    .sql("cannot wait for the replica")?;
                if reached == Some(0) {
                    break;
                }
                let state = replication_of(&mut conn)?;
                if let Some(error) = state.as_ref().and_then(|s| s.last_error.clone()) {
                    return Err(DbioError::Refused(format!(
                        "replica {n} stopped replicating: {error}"
                    )));
                }
                if Instant::now() > deadline {
                    return Err(DbioError::Timeout(format!(
                        "replica {n} did not apply the primary's log (up to {target}) within {} s; `dbio server status` shows where it is",
                        CATCH_UP.as_secs()
                    )));
                }
                if said.elapsed() > REPORT_EVERY {
                    let at = state.map_or_else(String::new, |s| s.gtid_position);
                    progress(&format!(
                        "replica {n}: applied up to {at}, the primary is at {target}"
                    ));
                    said = Instant::now();
                }
            }
        }
        Ok(())
    }

    /// This replica's replication now; `None` when it is not running or
    /// replicates nothing.
    pub fn replication(&self) -> Option<Replication> {
        replication_of(&mut self.admin_conn().ok()?).ok().flatten()
    }

    /// Stops this replica and removes its home.
    fn remove(&self, progress: &Progress) -> Result<()> {
        progress(&format!("removing the replica at {}", self.home.display()));
        self.stop(progress)?;
        // remove_dir_all does not follow symlinks inside the tree.
        fs::remove_dir_all(&self.home).ctx("cannot remove", &self.home)
    }

    /// Stops the replicas, then the server itself; whether the server ran.
    pub fn stop_all(&self, progress: &Progress) -> Result<bool> {
        for replica in self.replicas()? {
            replica.stop(progress)?;
        }
        self.stop(progress)
    }
}

/// `SHOW SLAVE STATUS` and the applied position, on a replica's connection.
fn replication_of(conn: &mut mysql::Conn) -> Result<Option<Replication>> {
    let row: Option<mysql::Row> = conn
        .query_first("SHOW SLAVE STATUS")
        .sql("cannot read the replica's status")?;
    let Some(row) = row else {
        return Ok(None);
    };
    let text = |name: &str| -> Option<String> {
        row.get_opt::<Option<String>, &str>(name)
            .and_then(std::result::Result::ok)
            .flatten()
            .filter(|s| !s.is_empty())
    };
    let position: Option<String> = conn
        .query_first("SELECT @@gtid_slave_pos")
        .sql("cannot read the replica's position")?;
    Ok(Some(Replication {
        io_running: text("Slave_IO_Running").unwrap_or_default(),
        sql_running: text("Slave_SQL_Running").unwrap_or_default(),
        lag_seconds: text("Seconds_Behind_Master").and_then(|s| s.parse().ok()),
        gtid_position: position.unwrap_or_default(),
        last_error: text("Last_SQL_Error").or_else(|| text("Last_IO_Error")),
    }))
}

/// Why `more` new servers of `each` MiB do not fit in `available` MiB,
/// naming how many do; `None` when they fit.
fn memory_refusal(more: u32, each: u64, available: u64) -> Option<String> {
    let need = u64::from(more) * each;
    (need > available).then(|| {
        format!(
            "{more} more replica(s) need about {need} MiB ({each} MiB each: the buffer pool and {SERVER_OVERHEAD_MIB} MiB), and {available} MiB are available: at most {} more fit (or a smaller --buffer-pool-mib)",
            available / each
        )
    })
}

/// `MemAvailable` from `/proc/meminfo`, MiB.
fn available_mib() -> Option<u64> {
    let text = fs::read_to_string("/proc/meminfo").ok()?;
    let kib: u64 = text
        .lines()
        .find_map(|l| l.strip_prefix("MemAvailable:"))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    Some(kib / 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replicas_beyond_the_memory_available_are_refused_with_what_fits() {
        assert_eq!(memory_refusal(2, 1000, 2000), None);
        let why = memory_refusal(3, 1000, 2500).expect("refused");
        assert!(why.contains("need about 3000 MiB"), "{why}");
        assert!(why.contains("at most 2 more fit"), "{why}");
        assert!(memory_refusal(0, 1000, 0).is_none());
    }
}
