//! Files that dbio writes and reads, often as root, in directories it does
//! not always control (`/tmp`, a results folder): never through a symlink.
//!
//! - [`write_replace`] writes a new file under a private temporary name in
//!   the same directory (`O_CREAT | O_EXCL | O_NOFOLLOW`), then renames it
//!   over the target: a symlink planted at the target is replaced, never
//!   followed, and a reader sees the old file or the new one, never half.
//! - [`open_append`] opens a log or record file to append to, refusing a
//!   symlink, a FIFO, a file of another user and a hard link.
//! - [`read`] reads a file that must not be a symlink.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Flags that keep an open from following a final symlink or blocking on a
/// FIFO that another user planted.
const SAFE_FLAGS: i32 = libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC;

/// Writes `bytes` to `path` with permissions `mode`: into a new file of a
/// private name beside it, then renamed over `path`.
pub fn write_replace(path: &Path, bytes: &[u8], mode: u32) -> io::Result<()> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "not a file name"))?;
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut temp_name = std::ffi::OsString::from(".");
    temp_name.push(name);
    temp_name.push(format!(
        ".{}-{}.tmp",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let temp: PathBuf = dir.join(temp_name);
    let written = (|| {
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .custom_flags(SAFE_FLAGS)
            .open(&temp)?;
        // The umask may have taken bits away; the mode is what was asked.
        file.set_permissions(std::os::unix::fs::PermissionsExt::from_mode(mode))?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&temp, path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    written
}

/// Creates `path` to write to, with `mode`; fails if anything, a symlink
/// included, is already there (`O_EXCL`).
pub fn create_new(path: &Path, mode: u32) -> io::Result<File> {
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .custom_flags(SAFE_FLAGS)
        .open(path)
}

/// Opens `path` to append to (created with `mode` if missing). Refuses
/// anything but a regular file of this process's user with one link: a
/// symlink, a FIFO, another user's file or a hard link to one.
pub fn open_append(path: &Path, mode: u32) -> io::Result<File> {
    let file = OpenOptions::new()
        .append(true)
        .create(true)
        .mode(mode)
        .custom_flags(SAFE_FLAGS)
        .open(path)
        .map_err(|e| explain_symlink(e, path))?;
    check_own_regular(&file)?;
    Ok(file)
}

/// Reads `path`, which must not be a symlink.
pub fn read(path: &Path) -> io::Result<Vec<u8>> {
    let mut file = OpenOptions::new()
        .read(true)
        .custom_flags(SAFE_FLAGS)
        .open(path)
        .map_err(|e| explain_symlink(e, path))?;
    if !file.metadata()?.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not a regular file",
        ));
    }
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// [`read`] as text.
pub fn read_to_string(path: &Path) -> io::Result<String> {
    String::from_utf8(read(path)?).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

/// `ELOOP` from `O_NOFOLLOW` means the path is a symlink: say so.
fn explain_symlink(e: io::Error, path: &Path) -> io::Error {
    if e.raw_os_error() == Some(libc::ELOOP) {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "{} is a symlink, which dbio never follows; remove it",
                path.display()
            ),
        )
    } else {
        e
    }
}

fn check_own_regular(file: &File) -> io::Result<()> {
    let meta = file.metadata()?;
    let refuse = |why: &str| Err(io::Error::new(io::ErrorKind::InvalidInput, why.to_owned()));
    if !meta.is_file() {
        return refuse("not a regular file");
    }
    if meta.uid() != effective_uid() {
        return refuse("the file belongs to another user");
    }
    if meta.nlink() > 1 {
        return refuse("the file has other hard links");
    }
    Ok(())
}

/// This process's effective user id.
pub fn effective_uid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    #[allow(unsafe_code)]
    unsafe {
        libc::geteuid()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("dbio-files-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir(&dir).expect("scratch dir");
        dir
    }

    #[test]
    fn a_planted_symlink_is_replaced_not_followed() {
        let dir = scratch("replace");
        let target = dir.join("target");
        std::fs::write(&target, b"keep").expect("target");
        let link = dir.join("port");
        std::os::unix::fs::symlink(&target, &link).expect("symlink");
        write_replace(&link, b"1234", 0o600).expect("write");
        assert_eq!(std::fs::read(&target).expect("target"), b"keep");
        let meta = std::fs::symlink_metadata(&link).expect("port");
        assert!(meta.is_file(), "the link was replaced by a file");
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        assert_eq!(std::fs::read(&link).expect("port"), b"1234");
        let left: Vec<_> = std::fs::read_dir(&dir).expect("dir").collect();
        assert_eq!(left.len(), 2, "no temporary file is left");
        std::fs::remove_dir_all(&dir).expect("cleanup");
    }

    #[test]
    fn appends_and_reads_refuse_symlinks_and_fifos() {
        let dir = scratch("append");
        let target = dir.join("target");
        std::fs::write(&target, b"keep").expect("target");
        let link = dir.join("record");
        std::os::unix::fs::symlink(&target, &link).expect("symlink");
        let err = open_append(&link, 0o644).expect_err("symlink refused");
        assert!(err.to_string().contains("symlink"), "{err}");
        assert!(read(&link).is_err());
        let fifo = dir.join("fifo");
        let status = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .expect("mkfifo");
        assert!(status.success());
        // Neither blocks: a FIFO without a reader fails at once.
        assert!(open_append(&fifo, 0o644).is_err());
        assert!(read(&fifo).is_err());
        let hard = dir.join("hard");
        std::fs::hard_link(&target, &hard).expect("hard link");
        assert!(open_append(&hard, 0o644).is_err());
        let plain = dir.join("plain");
        writeln!(open_append(&plain, 0o644).expect("new"), "a").expect("write");
        writeln!(open_append(&plain, 0o644).expect("again"), "b").expect("write");
        assert_eq!(read_to_string(&plain).expect("read"), "a\nb\n");
        std::fs::remove_dir_all(&dir).expect("cleanup");
    }
}
