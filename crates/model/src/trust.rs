//! Directories that no other local user controls, and locks that say who
//! holds them.
//!
//! dbio runs as root and writes into directories it is given (a server's
//! home, a results folder). If another user could rename or replace an
//! entry on the way there, root would write where that user chooses. A
//! directory is trusted ([`check_owners`]) when
//! - every directory above it is owned by root or by this user and
//!   writable by no one else (group `root` aside), except sticky ones such
//!   as `/tmp`, whose entries only their owner can rename or remove;
//! - an entry of a sticky directory is this user's;
//! - the directory itself is this user's, writable by no one else.
//!
//! The same rule is checked in shell by the bundle's `bench.sh` before it
//! runs anything of the bundle.

use std::fs::File;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Component, Path, PathBuf};

use crate::files::effective_uid;

/// Why a directory is not trusted, or could not be checked.
#[derive(Debug, thiserror::Error)]
pub enum Untrusted {
    #[error("{0}")]
    Refused(String),
    #[error("cannot inspect {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// The canonical form of `path`: absolute, with symlinks and `..` resolved
/// as far as the path exists; the rest is appended as it is and may not
/// climb.
pub fn canonical(path: &Path) -> Result<PathBuf, Untrusted> {
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| Untrusted::Io { path, source }
    };
    let absolute = std::path::absolute(path).map_err(io(path))?;
    let mut existing = absolute.as_path();
    let mut rest = Vec::new();
    while std::fs::symlink_metadata(existing).is_err() {
        let (Some(parent), Some(name)) = (existing.parent(), existing.file_name()) else {
            break;
        };
        rest.push(name.to_owned());
        existing = parent;
    }
    if absolute
        .strip_prefix(existing)
        .is_ok_and(|r| r.components().any(|c| c == Component::ParentDir))
    {
        return Err(Untrusted::Refused(format!(
            "{} climbs (`..`) out of a directory that does not exist",
            path.display()
        )));
    }
    // A dangling symlink exists as a link but cannot be resolved: refused
    // here rather than created through.
    let mut canonical = existing.canonicalize().map_err(|e| {
        if std::fs::symlink_metadata(existing).is_ok_and(|m| m.file_type().is_symlink()) {
            Untrusted::Refused(format!(
                "{} is a symlink to nothing; remove it",
                existing.display()
            ))
        } else {
            io(existing)(e)
        }
    })?;
    canonical.extend(rest.iter().rev());
    Ok(canonical)
}

/// Checks that no other user controls `dir` or a directory above it (see
/// the module docs). `dir` is canonical; it need not exist yet. The error
/// names the directory at fault and why, not what `dir` is for.
pub fn check_owners(dir: &Path) -> Result<(), Untrusted> {
    let me = effective_uid();
    let mut above_sticky = false;
    for here in dir.ancestors().collect::<Vec<_>>().into_iter().rev() {
        let meta = match std::fs::symlink_metadata(here) {
            Ok(meta) => meta,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => break,
            Err(source) => {
                return Err(Untrusted::Io {
                    path: here.to_owned(),
                    source,
                });
            }
        };
        let is_it = here == dir;
        let owner_ok = if is_it || above_sticky {
            // In a sticky directory only our own entries are ours to trust.
            meta.uid() == me
        } else {
            meta.uid() == 0 || meta.uid() == me
        };
        if !meta.is_dir() {
            return Err(Untrusted::Refused(format!(
                "{} is not a directory",
                here.display()
            )));
        }
        if !owner_ok {
            return Err(Untrusted::Refused(format!(
                "{} belongs to another user (uid {})",
                here.display(),
                meta.uid()
            )));
        }
        // Group `root` writing is root writing (a umask of 002 makes such
        // directories); any other group is other users.
        let others_write =
            meta.mode() & 0o002 != 0 || (meta.mode() & 0o020 != 0 && meta.gid() != 0);
        let sticky = meta.mode() & 0o1000 != 0;
        if others_write && (is_it || !sticky) {
            return Err(Untrusted::Refused(format!(
                "other users can write to {} (mode {:o})",
                here.display(),
                meta.mode() & 0o7777
            )));
        }
        above_sticky = others_write && sticky;
    }
    Ok(())
}

/// Creates `dir` and any missing directory above it with `mode`, checking
/// who controls them before and after (something made meanwhile by
/// someone else is then refused).
pub fn create_dir_all(dir: &Path, mode: u32) -> Result<(), Untrusted> {
    use std::os::unix::fs::DirBuilderExt;
    check_owners(dir)?;
    let mut missing: Vec<&Path> = dir
        .ancestors()
        .take_while(|d| std::fs::symlink_metadata(d).is_err())
        .collect();
    missing.reverse();
    for here in missing {
        match std::fs::DirBuilder::new().mode(mode).create(here) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(source) => {
                return Err(Untrusted::Io {
                    path: here.to_owned(),
                    source,
                });
            }
        }
    }
    check_owners(dir)
}

/// An exclusive `flock` on `path` (created mode 0600, never through a
/// symlink), taken at once or refused with the holder's pid.
#[derive(Debug)]
pub struct Held(File);

impl Held {
    /// The lock file, open to read and write: what the holder records
    /// there is for the next holder.
    pub fn file(&self) -> &File {
        &self.0
    }
}

/// Takes the lock file `path` without waiting: `Ok(Err(holder))` when
/// another process holds it (`pid N (name)`, or "another process").
pub fn try_lock(path: &Path) -> std::io::Result<Result<Held, String>> {
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() || meta.uid() != effective_uid() || meta.nlink() > 1 {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!(
                "{} is not a regular file of this user; remove it",
                path.display()
            ),
        ));
    }
    file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    match file.try_lock() {
        Ok(()) => Ok(Ok(Held(file))),
        Err(std::fs::TryLockError::Error(e)) => Err(e),
        Err(std::fs::TryLockError::WouldBlock) => Ok(Err(holder(&meta))),
    }
}

/// Who holds a lock on the file of `meta`, as `pid N (name)`.
pub fn holder(meta: &std::fs::Metadata) -> String {
    lock_holder(meta.ino()).map_or_else(|| "another process".to_owned(), describe)
}

/// The pid that holds a `flock` on the file with inode `ino`, from
/// `/proc/locks` (`1: FLOCK ADVISORY WRITE <pid> <maj>:<min>:<ino> 0 EOF`).
pub fn lock_holder(ino: u64) -> Option<u32> {
    let locks = std::fs::read_to_string("/proc/locks").ok()?;
    locks.lines().find_map(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        // A waiter's line (`1: -> FLOCK ...`) names a waiter, not the holder.
        if fields.get(1) == Some(&"->") {
            return None;
        }
        let (pid, id) = (fields.get(4)?, fields.get(5)?);
        let inode: u64 = id.rsplit(':').next()?.parse().ok()?;
        (inode == ino).then(|| pid.parse().ok()).flatten()
    })
}

/// `pid N (name)`.
pub fn describe(pid: u32) -> String {
    match std::fs::read_to_string(format!("/proc/{pid}/comm")) {
        Ok(comm) => format!("pid {pid} ({})", comm.trim()),
        Err(_) => format!("pid {pid}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("dbio-trust-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir(&dir).expect("scratch dir");
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        dir.canonicalize().expect("canonical")
    }

    #[test]
    fn a_directory_others_can_write_is_refused_and_sticky_parents_are_not() {
        let dir = scratch("modes");
        check_owners(&dir.join("new/deeper")).expect("missing below ours");
        let open = dir.join("open");
        std::fs::create_dir(&open).expect("open");
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).expect("chmod");
        let err = check_owners(&open).expect_err("world-writable");
        assert!(err.to_string().contains("other users can write"), "{err}");
        assert!(check_owners(&open.join("inside")).is_err(), "below it too");
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o1777)).expect("chmod");
        let ours = open.join("ours");
        std::fs::create_dir(&ours).expect("ours");
        std::fs::set_permissions(&ours, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        check_owners(&ours).expect("ours in a sticky directory");
        let err = check_owners(&open).expect_err("the sticky directory itself");
        assert!(err.to_string().contains("other users can write"), "{err}");
        std::fs::remove_dir_all(&dir).expect("cleanup");
    }

    #[test]
    fn files_and_dangling_links_are_refused() {
        let dir = scratch("links");
        let file = dir.join("file");
        std::fs::write(&file, b"x").expect("file");
        let err = check_owners(&file).expect_err("a file");
        assert!(err.to_string().contains("not a directory"), "{err}");
        let dangling = dir.join("dangling");
        std::os::unix::fs::symlink(dir.join("nowhere"), &dangling).expect("link");
        let err = canonical(&dangling).expect_err("dangling link");
        assert!(err.to_string().contains("symlink to nothing"), "{err}");
        let err = canonical(&dangling.join("below")).expect_err("below a dangling link");
        assert!(err.to_string().contains("symlink to nothing"), "{err}");
        std::fs::remove_dir_all(&dir).expect("cleanup");
    }

    #[test]
    fn a_held_lock_names_its_holder() {
        let dir = scratch("lock");
        let path = dir.join("lock");
        let held = try_lock(&path).expect("open").expect("free");
        let ino = std::fs::metadata(&path).expect("meta").ino();
        assert_eq!(lock_holder(ino), Some(std::process::id()));
        // A second open file description is refused while the first holds it.
        let refused = try_lock(&path).expect("open").expect_err("held");
        assert!(
            refused.starts_with(&format!("pid {}", std::process::id())),
            "{refused}"
        );
        drop(held);
        assert!(try_lock(&path).expect("open").is_ok(), "free again");
        std::fs::remove_dir_all(&dir).expect("cleanup");
    }
}
