//! The OS account a server started by root runs as, and handing it files.

use std::fs;
use std::os::unix::ffi::OsStrExt;
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
                DbioError::Refused(format!(
                    "DBIO_SERVER_USER={name} is not an account of this machine (/etc/passwd)"
                ))
            })?,
            Err(_) => find("mysql").or_else(|| find("nobody")).ok_or_else(|| {
                DbioError::Refused(
                    "dbio never runs the server as root, and this machine has neither a `mysql` nor a `nobody` account: create one (`useradd --system mysql`) or name one in DBIO_SERVER_USER".into(),
                )
            })?,
        };
        if user.uid == 0 {
            return Err(DbioError::Refused(format!(
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
        Err(DbioError::Refused(format!(
            "the server runs as the OS user {} (never as root), who cannot enter {}: let others enter its parent directories (`chmod o+x` on each) or use a home outside them (--home or DBIO_HOME, e.g. /var/lib/dbio)",
            self.name,
            home.display()
        )))
    }

    /// Gives `path` and everything under it to this user (no-op if missing).
    pub(super) fn chown_tree(&self, path: &Path) -> Result<()> {
        chown_tree(path, self.uid, self.gid)
    }
}

/// Gives `path` and everything under it to `uid`:`gid` (no-op if missing),
/// without ever following a symlink, also one swapped in while it walks.
///
/// The server's OS user owns what is under `data/` and can rename entries
/// there at will: a walk by path (`lstat`, `lchown`, then open the
/// directory by name) follows a directory swapped for a symlink between
/// two steps. So every step is relative to a directory already open:
/// each entry is opened with `O_PATH | O_NOFOLLOW` and changed through that
/// handle; a directory is descended through a handle opened from it. A
/// symlink is left as it is, and so is a file with other hard links (the
/// server makes none; one may point at a file outside the tree).
pub fn chown_tree(path: &Path, uid: u32, gid: u32) -> Result<()> {
    use rustix::fs::{CWD, Mode, OFlags};
    let owner = (
        Some(rustix::fs::Uid::from_raw(uid)),
        Some(rustix::fs::Gid::from_raw(gid)),
    );
    let handle = match rustix::fs::openat(
        CWD,
        path,
        OFlags::PATH | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
    ) {
        Ok(fd) => fd,
        Err(rustix::io::Errno::NOENT) => return Ok(()),
        Err(e) => return Err(std::io::Error::from(e)).ctx("cannot open", path),
    };
    hand_over(&handle, path, owner)
}

type Owner = (Option<rustix::fs::Uid>, Option<rustix::fs::Gid>);

/// Changes the owner of what `handle` (an `O_PATH` handle) names, and of
/// everything under it when it is a directory.
fn hand_over(handle: &std::os::fd::OwnedFd, path: &Path, owner: Owner) -> Result<()> {
    use rustix::fs::{AtFlags, FileType, Mode, OFlags};
    let io = |e: rustix::io::Errno| std::io::Error::from(e);
    let stat = rustix::fs::fstat(handle)
        .map_err(io)
        .ctx("cannot inspect", path)?;
    let kind = FileType::from_raw_mode(stat.st_mode);
    if kind == FileType::Symlink || (kind == FileType::RegularFile && stat.st_nlink > 1) {
        return Ok(());
    }
    rustix::fs::chownat(handle, "", owner.0, owner.1, AtFlags::EMPTY_PATH)
        .map_err(io)
        .ctx("cannot hand over to the server's user", path)?;
    if kind != FileType::Directory {
        return Ok(());
    }
    let dir = rustix::fs::openat(
        handle,
        ".",
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(io)
    .ctx("cannot open", path)?;
    let names: Vec<std::ffi::CString> = rustix::fs::Dir::read_from(&dir)
        .map_err(io)
        .ctx("cannot read", path)?
        .filter_map(|entry| {
            let name = entry.ok()?.file_name().to_owned();
            (name.as_bytes() != b"." && name.as_bytes() != b"..").then_some(name)
        })
        .collect();
    for name in names {
        let child_path = path.join(std::ffi::OsStr::from_bytes(name.as_bytes()));
        let child = match rustix::fs::openat(
            &dir,
            name.as_c_str(),
            OFlags::PATH | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::empty(),
        ) {
            Ok(fd) => fd,
            // Removed meanwhile (the server's own temporary files).
            Err(rustix::io::Errno::NOENT) => continue,
            Err(e) => return Err(io(e)).ctx("cannot open", &child_path),
        };
        hand_over(&child, &child_path, owner)?;
    }
    Ok(())
}

pub(super) fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    #[allow(unsafe_code)]
    unsafe {
        libc::geteuid() == 0
    }
}
