//! Every connection dbio opens for itself (administration, loading,
//! verifying), each under a deadline: the `mysql` crate bounds only the TCP
//! connect, and a server that accepts but never answers (a silent
//! listener, a server stopped with SIGSTOP) would hang the handshake.

use std::time::Duration;

use limits::deadline::{Diagnosis, bounded};

use crate::error::{DbioError, Result, SqlContext};

/// How long opening a connection (connect, handshake, login) may take.
pub const CONNECT_DEADLINE: Duration = Duration::from_secs(10);

/// How long an administrative statement may take before the server is
/// taken for stopped (reading the process list, `KILL QUERY`, accounts).
pub const ADMIN_DEADLINE: Duration = Duration::from_secs(30);

/// Opens a connection with `opts` within [`CONNECT_DEADLINE`]; `what` says
/// what it was for (and whom) in the error.
pub fn open(opts: mysql::Opts, what: &str) -> Result<mysql::Conn> {
    let target = match opts.get_socket() {
        Some(socket) => Target::Socket(socket.to_owned()),
        None => Target::Tcp(opts.get_ip_or_hostname().to_string(), opts.get_tcp_port()),
    };
    let opened = bounded(CONNECT_DEADLINE, move || mysql::Conn::new(opts))
        .map_err(|e| DbioError::Refused(format!("{what}: {e}")))?;
    match opened {
        Some(conn) => conn.sql(what.to_owned()),
        None => Err(DbioError::Timeout(format!(
            "{what}: {}",
            match target {
                Target::Socket(socket) => format!(
                    "the server did not answer on {socket} within {} s (is it stopped, e.g. with SIGSTOP, or overloaded?)",
                    CONNECT_DEADLINE.as_secs()
                ),
                Target::Tcp(host, port) => {
                    Diagnosis::default().of_timeout(&host, port, CONNECT_DEADLINE)
                }
            }
        ))),
    }
}

enum Target {
    Socket(String),
    Tcp(String, u16),
}
