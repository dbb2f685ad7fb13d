//! Errors of the managed server and the dataset tools.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum DbioError {
    /// A command-line argument dbio cannot accept (exit 2, as clap's).
    #[error("{0}")]
    Usage(String),

    /// The machine, the home or the server is not in a state dbio will
    /// work in (an unsafe home, no such process, a server it does not
    /// recognise); the message says what to change.
    #[error("{0}")]
    Refused(String),

    #[error(
        "no MariaDB/MySQL server binary found (looked for mariadbd and mysqld on PATH, /usr/sbin, /usr/local/sbin, /usr/local/mysql/bin); install one: `sudo apt-get install -y mariadb-server` (or set DBIO_MYSQLD=/path/to/mariadbd)"
    )]
    NoServerBinary,

    #[error("{what} ({path})")]
    Io {
        what: String,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("{what} failed: {tail} (see {log})")]
    Process {
        what: String,
        log: PathBuf,
        tail: String,
    },

    #[error("{0}")]
    Timeout(String),

    #[error("{what}")]
    Sql {
        what: String,
        #[source]
        source: model::DbError,
    },

    #[error(transparent)]
    Common(#[from] model::Error),

    #[error("dataset check failed: {0}")]
    Verify(String),

    /// A bug: a worker thread panicked.
    #[error("internal: {0}")]
    Internal(String),
}

pub type Result<T, E = DbioError> = std::result::Result<T, E>;

pub(crate) trait IoContext<T> {
    fn ctx(self, what: impl Into<String>, path: impl Into<PathBuf>) -> Result<T>;
}

impl<T> IoContext<T> for std::io::Result<T> {
    fn ctx(self, what: impl Into<String>, path: impl Into<PathBuf>) -> Result<T> {
        self.map_err(|source| DbioError::Io {
            what: what.into(),
            path: path.into(),
            source,
        })
    }
}

pub(crate) trait SqlContext<T> {
    fn sql(self, what: impl Into<String>) -> Result<T>;
}

impl<T> SqlContext<T> for std::result::Result<T, mysql::Error> {
    fn sql(self, what: impl Into<String>) -> Result<T> {
        self.map_err(|e| DbioError::Sql {
            what: what.into(),
            source: mysql_terms::db_error(e),
        })
    }
}
