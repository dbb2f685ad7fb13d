//! Settling: no query of the benchmark user is left running before a timed run.

use std::time::{Duration, Instant};

use model::managed;
use mysql::prelude::Queryable;

use super::{POLL, STOP_DEADLINE, Server, cpu_seconds_of};
use crate::Progress;
use crate::error::{DbioError, Result, SqlContext};

/// What [`Server::settle`] found and did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Settled {
    /// Queries that were running when it looked.
    pub found: usize,
    /// Of those, queries still running at the deadline, which it killed.
    pub killed: usize,
}

impl Server {
    /// Makes sure no query of the benchmark user is running before a timed
    /// run: a client killed with SIGKILL (which cannot cancel anything)
    /// leaves its queries computing on the server, and their CPU would land
    /// in the next run. Waits up to `wait` for them to finish, then kills
    /// what is left (`KILL QUERY`) and waits for it to go.
    pub fn settle(&self, wait: Duration, progress: &Progress) -> Result<Settled> {
        let mut conn = self.admin_conn()?;
        let running = |conn: &mut mysql::Conn| -> Result<Vec<(u64, u64)>> {
            conn.exec(
                "SELECT ID, TIME FROM information_schema.PROCESSLIST \
                 WHERE USER = ? AND ID <> CONNECTION_ID() AND COMMAND = 'Query'",
                (managed::USER,),
            )
            .sql("cannot read the process list")
        };
        let found = running(&mut conn)?;
        if found.is_empty() {
            return Ok(Settled::default());
        }
        let oldest = found.iter().map(|(_, t)| t).max().copied().unwrap_or(0);
        progress(&format!(
            "{} queries of `{}` are still running on the server (the oldest for {oldest} s), left by an earlier run; waiting up to {} s for them",
            found.len(),
            managed::USER,
            wait.as_secs()
        ));
        let mut settled = Settled {
            found: found.len(),
            killed: 0,
        };
        let until = Instant::now() + wait;
        let mut left = found;
        while !left.is_empty() && Instant::now() < until {
            std::thread::sleep(POLL);
            left = running(&mut conn)?;
        }
        if left.is_empty() {
            return Ok(settled);
        }
        for (id, _) in &left {
            match conn.query_drop(format!("KILL QUERY {id}")) {
                // Unknown thread: it ended meanwhile.
                Err(mysql::Error::MySqlError(e)) if e.code == 1094 => {}
                other => other.sql("cannot kill a leftover query")?,
            }
        }
        settled.killed = left.len();
        progress(&format!("killed {} leftover queries", left.len()));
        let until = Instant::now() + STOP_DEADLINE;
        while !running(&mut conn)?.is_empty() {
            if Instant::now() > until {
                return Err(DbioError::Timeout(format!(
                    "queries of `{}` were still running {} s after KILL QUERY",
                    managed::USER,
                    STOP_DEADLINE.as_secs()
                )));
            }
            std::thread::sleep(POLL);
        }
        Ok(settled)
    }

    /// CPU seconds (user + system) the running server, and each of its
    /// running replicas, has used so far, from `/proc/<pid>/stat`; `None`
    /// when the server is not running.
    pub fn cpu_seconds(&self) -> Option<f64> {
        self.cpu_reading().map(|(seconds, _)| seconds)
    }

    /// [`Server::cpu_seconds`], and the servers it summed, as
    /// `primary=PID replica-1=PID ...` (a server alone is `primary`): a
    /// replica that dies between two readings leaves the second, which
    /// is how a run that lost one is told apart (`bench_report::server_cpu`).
    pub fn cpu_reading(&self) -> Option<(f64, String)> {
        let pid = self.running_pid()?;
        let mut seconds = cpu_seconds_of(pid)?;
        let mut servers = vec![format!("primary={pid}")];
        // With replicas, the work of every server of the home.
        for replica in self.replicas().unwrap_or_default() {
            let Some(pid) = replica.running_pid() else {
                continue;
            };
            if let Some(s) = cpu_seconds_of(pid) {
                seconds += s;
                let n = replica.replica_number().unwrap_or(0);
                servers.push(format!("replica-{n}={pid}"));
            }
        }
        Some((seconds, servers.join(" ")))
    }
}
