//! Where the managed server (`dbio up`) keeps its state, and how a client
//! finds it.
//!
//! `dbio` writes [`ServerState`] into `<home>/state.json` and the password
//! into `<home>/password` (mode 0600); every approach reads them when no
//! `DATABASE_URL` is given. This module only reads and writes those files; it
//! never starts anything (that is the `dbio` crate's job), and reads no
//! file through a symlink.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The database the dataset lives in, on the managed server and by default.
pub const DATABASE: &str = "employees";
/// The account `dbio` creates on its managed server.
pub const USER: &str = "dbio";

/// Where a managed server's home was found, for saying which home is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HomeSource {
    /// `--home` or `DBIO_HOME`.
    Given,
    /// `target/dbio` of the workspace the running binary was built in.
    Binary,
    /// `target/dbio` of the workspace above the current directory.
    CurrentDir,
}

impl std::fmt::Display for HomeSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            HomeSource::Given => "from --home or DBIO_HOME",
            HomeSource::Binary => "the workspace this binary was built in",
            HomeSource::CurrentDir => "the workspace above the current directory",
        })
    }
}

/// The managed server's home when none is given: `target/dbio` of the
/// workspace this binary sits in (`<root>/target/<profile>/...`), else of
/// the workspace found upward from the current directory. Resolved when
/// the program runs, never fixed at build time: a moved or copied checkout
/// uses its own server. An empty `DBIO_HOME` counts as unset (it would be
/// the working directory: a server home once landed in a crate's source
/// folder that way).
pub fn default_home() -> Result<(PathBuf, HomeSource), String> {
    if let Some(home) = std::env::var_os("DBIO_HOME").filter(|h| !h.is_empty()) {
        return Ok((PathBuf::from(home), HomeSource::Given));
    }
    let from_binary = std::env::current_exe()
        .ok()
        .and_then(|exe| workspace_above(&exe));
    if let Some(root) = from_binary {
        return Ok((root.join("target").join("dbio"), HomeSource::Binary));
    }
    let from_cwd = std::env::current_dir()
        .ok()
        .and_then(|dir| workspace_above(&dir));
    if let Some(root) = from_cwd {
        return Ok((root.join("target").join("dbio"), HomeSource::CurrentDir));
    }
    Err("no managed server home: this binary is not inside a dbio workspace, nor is the current directory; give one with --home DIR or DBIO_HOME (or set DATABASE_URL)".into())
}

/// The nearest directory at or above `path` that is a dbio workspace: a
/// `Cargo.toml` and `crates/dbio/` beside it.
pub fn workspace_above(path: &Path) -> Option<PathBuf> {
    path.ancestors()
        .find(|dir| dir.join("Cargo.toml").is_file() && dir.join("crates/dbio").is_dir())
        .map(Path::to_path_buf)
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
        match crate::files::read(&Self::path(home)) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub fn read_password(home: &Path) -> std::io::Result<String> {
        Ok(crate::files::read_to_string(&Self::password_path(home))?
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

/// The URL of the managed server at `home` (password included: hand it
/// only to drivers): the one way every client finds it.
pub fn url(home: &Path) -> Result<crate::DbUrl, crate::Error> {
    use crate::Error;
    let missing = || {
        Error::Config(format!(
            "no DATABASE_URL given and no managed server at {}: run `cargo run -p dbio -- up` \
             (or set DATABASE_URL to your server, mysql://USER@HOST:PORT/employees with USER:PASSWORD for a password)",
            home.display()
        ))
    };
    let state = ServerState::read(home)
        .map_err(|e| {
            Error::Config(format!(
                "cannot read {}: {e}",
                ServerState::path(home).display()
            ))
        })?
        .ok_or_else(missing)?;
    let url = state.url(home).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => missing(),
        _ => Error::Config(format!(
            "cannot read the managed server's password {}: {e} (it belongs to the user who ran `dbio up`: run as that user, or set DATABASE_URL)",
            ServerState::password_path(home).display()
        )),
    })?;
    crate::DbUrl::parse(&url)
}

/// The managed server at `home` and its read replicas (`dbio up
/// --replicas N`: homes `replicas/1`, `replicas/2`, ... under it, each
/// with its own port and password), in that order: every server a run
/// spreads its queries over when no DATABASE_URL is given.
pub fn urls(home: &Path) -> Result<Vec<crate::DbUrl>, crate::Error> {
    let mut urls = vec![url(home)?];
    for replica in replica_homes(home) {
        urls.push(url(&replica)?);
    }
    Ok(urls)
}

/// The file a replica's home gets last, once its server is bootstrapped,
/// started and following the primary: a home without it (a bootstrap that
/// a full disk or Ctrl-C cut short) is no replica, and `dbio up` removes it.
pub const REPLICA_READY: &str = "replica-ready";

/// The homes of the managed server's replicas that are ready
/// (`replicas/N` with [`REPLICA_READY`]), in order of N.
pub fn replica_homes(home: &Path) -> Vec<PathBuf> {
    numbered_replicas(home)
        .into_iter()
        .filter(|path| path.join(REPLICA_READY).is_file())
        .collect()
}

/// Every numbered home under `replicas/`, ready or not, in order of N.
pub fn numbered_replicas(home: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(home.join("replicas")) else {
        return Vec::new();
    };
    let mut numbered: Vec<(u32, PathBuf)> = entries
        .flatten()
        .filter_map(|e| Some((e.file_name().to_str()?.parse().ok()?, e.path())))
        .filter(|(n, _): &(u32, PathBuf)| *n >= 1)
        .collect();
    numbered.sort();
    numbered.into_iter().map(|(_, path)| path).collect()
}
