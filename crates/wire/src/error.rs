//! What can go wrong on a connection, typed so a caller can tell a server's
//! refusal (the connection stays usable) from a broken connection.

use std::io;

/// An error of the wire client.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The socket failed (refused, reset, closed, timed out): the
    /// connection is not usable any more.
    #[error("{0}")]
    Io(#[from] io::Error),
    /// The server answered with an error packet (`ERR`): the connection is
    /// still usable unless the error was a login's.
    #[error("{code} ({state}): {message}")]
    Server {
        code: u16,
        state: String,
        message: String,
    },
    /// The server sent something this client does not speak (an auth
    /// plugin other than `mysql_native_password`, `LOAD DATA LOCAL`, a
    /// malformed packet): the connection is not usable any more.
    #[error("{0}")]
    Unsupported(String),
    /// A packet over the client's limit (`--max-packet`), either way: a
    /// reply's breaks the connection (its rest is not read).
    #[error("{0}")]
    TooLarge(String),
}

impl Error {
    pub(crate) fn malformed(what: &str) -> Error {
        Error::Unsupported(format!("malformed packet from the server: {what}"))
    }

    /// The server's error code, for a server error.
    pub fn code(&self) -> Option<u16> {
        match self {
            Error::Server { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// The I/O error kind, when the socket failed.
    pub fn io_kind(&self) -> Option<io::ErrorKind> {
        match self {
            Error::Io(e) => Some(e.kind()),
            _ => None,
        }
    }

    /// The connection cannot be used after this error.
    pub fn breaks_connection(&self) -> bool {
        !matches!(self, Error::Server { .. })
    }
}

/// A result of the wire client.
pub type Result<T> = std::result::Result<T, Error>;
