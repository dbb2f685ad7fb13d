//! dbio's minimal blocking client for the MySQL/MariaDB text protocol.
//!
//! It does only what a lookup needs, at the cost the protocol sets: one
//! `send` per query, one `recv` per reply that arrives in one segment,
//! rows read in place from one buffer the connection keeps (no allocation
//! per row or column definition), `mysql_native_password` logins over TCP
//! without TLS. It exists to measure what a driver costs: the thread-based
//! approaches run on it with `--blocking-driver wire`, and against the
//! `mysql` crate by default.
//!
//! Not spoken (each refused with an [`Error::Unsupported`] that says so):
//! other auth plugins (MySQL 8's `caching_sha2_password`), TLS, unix
//! sockets, `LOAD DATA LOCAL`, prepared statements, compression.

mod bytes;
mod error;
mod framed;
mod handshake;
mod packet;
mod result;

use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

pub use error::{Error, Result};
use framed::Framed;
pub use handshake::Login;

/// What receives each row: its values in column order, as the server sent
/// them in text (`None` for SQL NULL), borrowed until the next row.
pub type OnRow<'a> = dyn FnMut(&[Option<&[u8]>]) + 'a;

/// `COM_QUIT` and `COM_QUERY`.
const COM_QUIT: u8 = 0x01;
const COM_QUERY: u8 = 0x03;

/// Where to connect and how long each step may take.
#[derive(Debug, Clone, Copy)]
pub struct Endpoint<'a> {
    pub host: &'a str,
    pub port: u16,
    /// Bounds the TCP connect to each address the host resolves to.
    pub connect_timeout: Duration,
    /// Bounds every read and write afterwards; `None` waits as long as the
    /// server takes (a query's own duration is the measurement).
    pub io_timeout: Option<Duration>,
}

/// One logged-in connection.
#[derive(Debug)]
pub struct Conn {
    framed: Framed,
    caps: u32,
    connection_id: u32,
    /// Set by an error after which the stream's state is unknown.
    broken: bool,
}

impl Conn {
    /// Connects over TCP and logs in.
    pub fn connect(endpoint: &Endpoint<'_>, login: &Login<'_>) -> Result<Conn> {
        let stream = tcp(endpoint)?;
        stream.set_nodelay(true)?;
        stream.set_read_timeout(endpoint.io_timeout)?;
        stream.set_write_timeout(endpoint.io_timeout)?;
        let mut framed = Framed::new(stream, login.max_packet);
        let session = handshake::login(&mut framed, login)?;
        Ok(Conn {
            framed,
            caps: session.caps,
            connection_id: session.connection_id,
            broken: false,
        })
    }

    /// The server's id of this connection (as `CONNECTION_ID()` gives it,
    /// truncated to 32 bits by the greeting).
    pub fn connection_id(&self) -> u32 {
        self.connection_id
    }

    /// Runs `sql`; each row of its first result set goes to `row`.
    pub fn query(&mut self, sql: &str, row: &mut OnRow<'_>) -> Result<()> {
        self.command(sql, None, row)
    }

    /// Runs `sql` and returns its first row with each value's column name.
    pub fn query_first_named(&mut self, sql: &str) -> Result<Vec<(String, Option<String>)>> {
        let mut names = Vec::new();
        let mut first: Option<Vec<Option<String>>> = None;
        self.command(sql, Some(&mut names), &mut |values| {
            if first.is_none() {
                let text = |v: &Option<&[u8]>| v.map(|v| String::from_utf8_lossy(v).into_owned());
                first = Some(values.iter().map(text).collect());
            }
        })?;
        Ok(first.map_or_else(Vec::new, |values| names.into_iter().zip(values).collect()))
    }

    /// Runs `sql` and drops what it returns.
    pub fn query_drop(&mut self, sql: &str) -> Result<()> {
        self.command(sql, None, &mut |_| {})
    }

    fn command(
        &mut self,
        sql: &str,
        names: Option<&mut Vec<String>>,
        row: &mut OnRow<'_>,
    ) -> Result<()> {
        if self.broken {
            return Err(Error::Unsupported(
                "the connection broke on an earlier error".into(),
            ));
        }
        self.framed.reset_seq();
        let outcome = self
            .framed
            .send(&[&[COM_QUERY], sql.as_bytes()])
            .and_then(|()| result::read(&mut self.framed, self.caps, names, row));
        if outcome.as_ref().is_err_and(Error::breaks_connection) {
            self.broken = true;
        }
        outcome
    }
}

impl Drop for Conn {
    /// Says goodbye (`COM_QUIT`) so the server logs no aborted connection;
    /// never waits long for it.
    fn drop(&mut self) {
        if self.broken {
            return;
        }
        let _ = self
            .framed
            .stream()
            .set_write_timeout(Some(Duration::from_millis(100)));
        self.framed.reset_seq();
        let _ = self.framed.send(&[&[COM_QUIT]]);
    }
}

/// The first address of `host` that accepts a TCP connection.
fn tcp(endpoint: &Endpoint<'_>) -> Result<TcpStream> {
    let mut last = None;
    for addr in (endpoint.host, endpoint.port).to_socket_addrs()? {
        match TcpStream::connect_timeout(&addr, endpoint.connect_timeout) {
            Ok(stream) => return Ok(stream),
            Err(e) => last = Some(e),
        }
    }
    Err(Error::Io(last.unwrap_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::NotFound,
            format!("{} resolves to no address", endpoint.host),
        )
    })))
}
