//! Where the managed server (`dbio up`) keeps its state, and how a client
//! finds it.
//!
//! `dbio` writes [`ServerState`] into `<home>/state.json` and the password
//! into `<home>/password` (mode 0600); every approach reads them when no
//! `DATABASE_URL` is given. This module only reads and writes those files; it
//! never starts anything (that is the `dbio` crate's job).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The database the dataset lives in, on the managed server and by default.
pub const DATABASE: &str = "employees";
/// The account `dbio` creates on its managed server.
pub const USER: &str = "dbio";

/// The managed server's home: `$DBIO_HOME`, or `target/dbio` in this workspace.
/// An empty `DBIO_HOME` counts as unset (it would be the working directory:
/// a server home once landed in a crate's source folder that way).
pub fn default_home() -> PathBuf {
    if let Some(home) = std::env::var_os("DBIO_HOME").filter(|h| !h.is_empty()) {
        return PathBuf::from(home);
    }
    // `crates/common/../../target/dbio`, without `..` so it prints cleanly.
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let root = manifest.ancestors().nth(2).unwrap_or(manifest);
    root.join("target").join("dbio")
}

/// What a client needs to reach the managed server.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ServerState {
    /// TCP port on 127.0.0.1.
    pub port: u16,
    /// Unix socket path.
    pub socket: PathBuf,
}

impl ServerState {
    pub fn path(home: &Path) -> PathBuf {
        home.join("state.json")
    }

    pub fn password_path(home: &Path) -> PathBuf {
        home.join("password")
    }

    /// Reads the state of the server at `home`, or `None` when there is none.
    pub fn read(home: &Path) -> std::io::Result<Option<ServerState>> {
        match std::fs::read(Self::path(home)) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub fn read_password(home: &Path) -> std::io::Result<String> {
        Ok(std::fs::read_to_string(Self::password_path(home))?
            .trim()
            .to_owned())
    }

    /// The URL of the managed server's dataset, password included: hand it
    /// only to drivers, print it only through [`crate::DbUrl`].
    pub fn url(&self, home: &Path) -> std::io::Result<String> {
        let password = Self::read_password(home)?;
        Ok(format!(
            "mysql://{USER}:{password}@127.0.0.1:{}/{DATABASE}",
            self.port
        ))
    }
}
