//! Typed errors of a run, with the cause chain kept intact.
//!
//! Binaries print them as one line (`error: ...: cause: cause`) through
//! [`crate::cli`]; nothing here ever contains a password, because every URL
//! that reaches an error message is a [`crate::DbUrl`], which redacts itself.

use std::path::PathBuf;

/// Everything that can stop a run.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The settings did not validate; nothing was started.
    #[error("{0}")]
    Config(String),

    /// This machine cannot run the approach at this size (a thread
    /// limit); nothing was started. The binaries exit with
    /// [`crate::cli::REFUSED`], so that a benchmark can leave the approach
    /// out of the run and say why, instead of stopping.
    #[error("{0}")]
    MachineLimit(String),

    /// A query file could not be read.
    #[error("cannot read the query file {path}")]
    QueryFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// Could not open a connection to the server.
    #[error("cannot connect to {url}")]
    Connect {
        url: String,
        #[source]
        source: DbError,
    },

    /// A query failed on the server or the connection broke while it ran.
    #[error("query {label} failed")]
    Query {
        label: String,
        /// When the failure was seen: of several, the earliest is the cause.
        at: std::time::Instant,
        #[source]
        source: DbError,
    },

    /// The query is larger than the server accepts in one packet. Checked
    /// before sending, the same way in both drivers (the server would close
    /// the connection, which sqlx reports as a lost connection).
    #[error(
        "query {label} is {bytes} bytes, more than the server's max_allowed_packet ({max} bytes): shorten the template or raise max_allowed_packet on the server"
    )]
    QueryTooLarge { label: String, bytes: u64, max: u64 },

    /// SIGINT or SIGTERM arrived: the pool lends nothing more.
    #[error("interrupted")]
    Interrupted,

    /// Another query could not open a connection; the ones still waiting
    /// for one stop instead of trying in turn. `server_lost`: that query
    /// found its server gone ([`Error::server_lost`]), so these may move to
    /// another; otherwise they only echo its error.
    #[error("stopped: another query could not connect")]
    Stopped { server_lost: bool },

    /// Every server of a run on several was lost during it: nothing was
    /// left to move their queries to.
    #[error("every server was lost during the run: {}", .0.join(", "))]
    ServersLost(Vec<String>),

    /// An approach's worker died (a panic in a thread or task).
    #[error("worker for query {label} died: {reason}")]
    Worker { label: String, reason: String },

    /// The approach returned a result set that does not match the query list:
    /// a query lost or run twice. Never expected; checked on every run.
    #[error("internal: {0}")]
    Internal(String),

    /// Could not start the async runtime or another OS resource.
    #[error("{what}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
}

/// A driver's error, in the terms both drivers share: its text, the
/// server's error number when the server sent one, and whether the
/// connection broke. Each driver crate converts its own errors; `Display`
/// adds a hint for the causes a user can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}{}", hint(self))]
pub struct DbError {
    /// The driver's message (`1049 (42000): Unknown database 'x'` style for
    /// server errors).
    pub message: String,
    /// The server's error number, when the server sent one.
    pub code: Option<u16>,
    /// The open connection broke under the driver (end of stream, broken
    /// pipe, reset): the server went away or closed the session.
    pub lost: bool,
}

impl DbError {
    /// A connection that could not be set up, for a reason found by dbio
    /// (a silent server, a deadline).
    pub fn setup(message: impl Into<String>) -> DbError {
        DbError {
            message: message.into(),
            code: None,
            lost: false,
        }
    }

    /// The server's error number, when the server sent one.
    pub fn server_code(&self) -> Option<u16> {
        self.code
    }

    /// Whether an open connection broke under the driver.
    pub fn connection_lost(&self) -> bool {
        self.lost
    }

    /// Whether an I/O error of this kind means a broken connection.
    pub fn is_lost(kind: std::io::ErrorKind) -> bool {
        matches!(
            kind,
            std::io::ErrorKind::UnexpectedEof
                | std::io::ErrorKind::BrokenPipe
                | std::io::ErrorKind::ConnectionReset
                | std::io::ErrorKind::ConnectionAborted
        )
    }
}

impl Error {
    /// Query `label` failed now, for `source`.
    pub fn query(label: &str, source: DbError) -> Error {
        Error::Query {
            label: label.to_owned(),
            at: std::time::Instant::now(),
            source,
        }
    }

    /// When a query failure was seen; `None` for errors that are not tied
    /// to one moment of the run.
    pub fn at(&self) -> Option<std::time::Instant> {
        match self {
            Error::Query { at, .. } => Some(*at),
            _ => None,
        }
    }

    /// Whether this failure broke the query's connection (so the pool must
    /// not lend it again).
    pub fn connection_lost(&self) -> bool {
        matches!(self, Error::Query { source, .. } if source.connection_lost())
    }

    /// Whether the server itself went away (a run on several servers moves
    /// the query to another): it could not be reached, shut down, or broke
    /// the connection, or its pool stopped after that; not an error the
    /// server answered a query with.
    pub fn server_lost(&self) -> bool {
        // 1053: server shutdown in progress; 1927: connection killed (a
        // shutdown kills every connection).
        let shutting_down = |e: &DbError| matches!(e.server_code(), Some(1053 | 1927));
        match self {
            Error::Connect { source, .. } => {
                source.server_code().is_none() || shutting_down(source)
            }
            Error::Query { source, .. } => source.connection_lost() || shutting_down(source),
            Error::Stopped { server_lost } => *server_lost,
            _ => false,
        }
    }

    /// Whether the error only echoes another one ([`Error::Stopped`],
    /// [`Error::Interrupted`]): never the one to report when there is another.
    pub fn is_echo(&self) -> bool {
        matches!(self, Error::Stopped { .. } | Error::Interrupted)
    }

    /// Whether the server could not be reached at all (as opposed to a
    /// server that answered with an error).
    pub fn unreachable(&self) -> bool {
        match self {
            Error::Connect { source, .. } => source.server_code().is_none(),
            _ => false,
        }
    }
}

/// What to do about the errors a user meets first.
fn hint(e: &DbError) -> &'static str {
    if e.connection_lost() {
        return " (the server closed the connection: it was stopped or restarted, or the session was killed)";
    }
    match e.server_code() {
        Some(1045) => " (check the user and password in DATABASE_URL)",
        Some(1049) => {
            " (the database does not exist: run `dbio up`, or `dbio load` against your own server)"
        }
        Some(1146) => " (the dataset is not loaded: run `dbio up`)",
        Some(1226) => {
            " (the server's per-user connection limit, MAX_USER_CONNECTIONS, is reached: the budget must fit under it, with one connection more for the probe before the run)"
        }
        Some(1040) => {
            " (the server has reached its max_connections limit: other clients hold connections, or the budget is above the limit)"
        }
        Some(1927) | Some(1317) => " (the connection was killed on the server)",
        _ => "",
    }
}

/// Formats an error and its whole cause chain on one line.
pub fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut next = e.source();
    while let Some(cause) = next {
        let text = cause.to_string();
        // Drivers often repeat the inner message verbatim; print it once.
        if !out.ends_with(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        next = cause.source();
    }
    out.replace('\n', " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server_error(code: u16, message: &str) -> Error {
        Error::Connect {
            url: "mysql://u:***@h/db".into(),
            source: DbError {
                message: format!("{code} (08004): {message}"),
                code: Some(code),
                lost: false,
            },
        }
    }

    #[test]
    fn too_many_connections_names_max_connections_and_is_not_unreachable() {
        let e = server_error(1040, "Too many connections");
        let text = chain(&e);
        assert!(text.contains("max_connections limit"), "{text}");
        // The managed server answered: no "is it running?" hint.
        assert!(!e.unreachable());
        let io = Error::Connect {
            url: "mysql://h/db".into(),
            source: DbError::setup("Connection refused (os error 111)"),
        };
        assert!(io.unreachable());
    }
}
