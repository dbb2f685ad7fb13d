//! The OS account a server started by root runs as, and handing it files.

use std::fs;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Command;

use crate::error::{DbioError, IoContext, Result};

/// The OS account a server started by root runs as.
#[derive(Debug, Clone)]
pub(super) struct ServerUser {
    pub(super) name: String,
    pub(super) uid: u32,
    pub(super) gid: u32,
}

impl ServerUser {
    /// `None` when this process is not root: the server then runs as the
    /// user who started it. As root: `$DBIO_SERVER_USER`, else `mysql`
    /// (the server package's account), else `nobody`.
    pub(super) fn for_this_process() -> Result<Option<ServerUser>> {
        if !is_root() {
            return Ok(None);
        }
        let passwd = fs::read_to_string("/etc/passwd").ctx("cannot read", "/etc/passwd")?;
        let find = |name: &str| {
            passwd.lines().find_map(|line| {
                let f: Vec<&str> = line.split(':').collect();
                match f.as_slice() {
                    [n, _, uid, gid, ..] if *n == name => Some(ServerUser {
                        name: name.to_owned(),
                        uid: uid.parse().ok()?,
                        gid: gid.parse().ok()?,
                    }),
                    _ => None,
                }
            })
        };
        let user = match std::env::var("DBIO_SERVER_USER") {
            Ok(name) => find(&name).ok_or_else(|| {
                DbioError::Usage(format!(
                    "DBIO_SERVER_USER={name} is not an account of this machine (/etc/passwd)"
                ))
            })?,
            Err(_) => find("mysql").or_else(|| find("nobody")).ok_or_else(|| {
                DbioError::Usage(
                    "dbio never runs the server as root, and this machine has neither a `mysql` nor a `nobody` account: create one (`useradd --system mysql`) or name one in DBIO_SERVER_USER".into(),
                )
            })?,
        };
        if user.uid == 0 {
            return Err(DbioError::Usage(format!(
                "the server would run as {} (uid 0): dbio never runs it as root; name another account in DBIO_SERVER_USER",
                user.name
            )));
        }
        Ok(Some(user))
    }

    /// Fails with what to do when this user cannot enter `home` (a home
    /// under a private directory such as /root).
    pub(super) fn check_can_reach(&self, home: &Path) -> Result<()> {
        let reachable = Command::new("test")
            .arg("-x")
            .arg(home)
            .uid(self.uid)
            .gid(self.gid)
            .status()
            .is_ok_and(|s| s.success());
        if reachable {
            return Ok(());
        }
        Err(DbioError::Usage(format!(
            "the server runs as the OS user {} (never as root), who cannot enter {}: let others enter its parent directories (`chmod o+x` on each) or use a home outside them (--home or DBIO_HOME, e.g. /var/tmp/dbio)",
            self.name,
            home.display()
        )))
    }

    /// Gives `path` and everything under it to this user (no-op if missing).
    pub(super) fn chown_tree(&self, path: &Path) -> Result<()> {
        let Ok(meta) = fs::symlink_metadata(path) else {
            return Ok(());
        };
        std::os::unix::fs::lchown(path, Some(self.uid), Some(self.gid))
            .ctx("cannot hand over to the server's user", path)?;
        if meta.is_dir() {
            for entry in fs::read_dir(path).ctx("cannot read", path)? {
                let entry = entry.ctx("cannot read", path)?;
                self.chown_tree(&entry.path())?;
            }
        }
        Ok(())
    }
}

pub(super) fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    #[allow(unsafe_code)]
    unsafe {
        libc::geteuid() == 0
    }
}
