//! Finding the server binary, its flavour and its initialiser.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::Flavor;
use crate::error::{DbioError, IoContext, Result};

/// `$DBIO_MYSQLD`, else `mariadbd` or `mysqld` on PATH or the usual places.
pub fn find_server_binary() -> Result<PathBuf> {
    if let Some(path) = std::env::var_os("DBIO_MYSQLD") {
        return Ok(PathBuf::from(path));
    }
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    dirs.extend(["/usr/sbin", "/usr/local/sbin", "/usr/local/mysql/bin"].map(PathBuf::from));
    for name in ["mariadbd", "mysqld"] {
        if let Some(found) = dirs.iter().map(|d| d.join(name)).find(|p| p.is_file()) {
            return Ok(found);
        }
    }
    Err(DbioError::NoServerBinary)
}

pub(super) fn flavor_of(binary: &Path) -> Result<Flavor> {
    let out = Command::new(binary)
        .arg("--version")
        .output()
        .ctx("cannot run the server binary", binary)?;
    let text = String::from_utf8_lossy(&out.stdout).to_lowercase();
    Ok(if text.contains("mariadb") {
        Flavor::MariaDb
    } else {
        Flavor::MySql
    })
}

pub(super) fn find_install_db(binary: &Path) -> Result<PathBuf> {
    let mut dirs = vec![];
    if let Some(dir) = binary.parent() {
        dirs.push(dir.to_path_buf());
        if let Some(up) = dir.parent() {
            dirs.push(up.join("bin"));
            dirs.push(up.join("scripts"));
        }
    }
    dirs.extend(["/usr/bin", "/usr/local/bin"].map(PathBuf::from));
    ["mariadb-install-db", "mysql_install_db"]
        .iter()
        .flat_map(|name| dirs.iter().map(move |d| d.join(name)))
        .find(|p| p.is_file())
        .ok_or_else(|| {
            DbioError::Refused(format!(
                "found {} but not mariadb-install-db next to it; install the full server package: `sudo apt-get install -y mariadb-server`",
                binary.display()
            ))
        })
}
