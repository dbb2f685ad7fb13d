//! A managed server's home: which directories may be one, how it is
//! created, and its lock.
//!
//! dbio runs as root, so a home that another local user controls would
//! hand them root's files and the database: a planted `password` symlink
//! gets the password written into their file, a planted `files` symlink
//! gets another directory chmodded and made `secure_file_priv`. A home is
//! accepted only when
//! - its path can be written into `my.cnf` and handed to the initialiser
//!   (no whitespace, quotes, backslashes, `#`, `;` or control characters);
//! - it is named by its canonical path (symlinks and `..` resolved), so
//!   that one server is never reached as two homes;
//! - every directory above it is owned by root or by this user and
//!   writable by no one else (group `root` aside), except sticky ones such
//!   as `/tmp`, whose entries only their owner can rename or remove;
//! - the home itself is a directory of this user, writable by no one else.
//!
//! Inside it dbio creates files under private names and renames them into
//! place ([`model::files`]) and follows no symlink.

use std::fs::File;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::Progress;
use crate::error::{DbioError, IoContext, Result};

/// How long a dbio command waits for another one working on the same home.
const LOCK_WAIT: Duration = Duration::from_secs(300);

/// The canonical form of `path` for a home: absolute, with symlinks and
/// `..` resolved as far as the path exists. Refuses characters the server's
/// tools cannot carry.
pub fn canonical(path: &Path) -> Result<PathBuf> {
    check_characters(path)?;
    let canonical = model::trust::canonical(path).map_err(|e| untrusted(path, e))?;
    check_characters(&canonical)?;
    Ok(canonical)
}

/// [`model::trust`]'s refusal, as the home's.
fn untrusted(home: &Path, e: model::trust::Untrusted) -> DbioError {
    match e {
        model::trust::Untrusted::Refused(why) => DbioError::Refused(format!(
            "refusing the home {}: {why}; use a home that only you can change, such as target/dbio in the checkout or a directory of yours (see docs/security.md: a safe home)",
            home.display()
        )),
        model::trust::Untrusted::Io { path, source } => DbioError::Io {
            what: "cannot inspect".into(),
            path,
            source,
        },
    }
}

/// Refuses a path that `my.cnf` or `mariadb-install-db` cannot carry:
/// the initialiser splits its arguments at spaces, and a newline would
/// start a new line of `my.cnf`.
pub fn check_characters(path: &Path) -> Result<()> {
    let Some(text) = path.to_str() else {
        return Err(DbioError::Refused(format!(
            "the home {} is not valid UTF-8; choose another path",
            path.display()
        )));
    };
    let bad = text
        .chars()
        .find(|c| c.is_whitespace() || c.is_control() || "'\"\\#;`".contains(*c));
    match bad {
        None => Ok(()),
        Some(c) => Err(DbioError::Refused(format!(
            "the home {text:?} contains {c:?}, which my.cnf and mariadb-install-db cannot carry; choose a path without whitespace, quotes, backslashes, `#`, `;` or control characters"
        ))),
    }
}

/// Checks that no other user controls `home` or a directory above it (see
/// the module docs and [`model::trust`]). `home` is canonical; it need not
/// exist yet.
pub fn check_owners(home: &Path) -> Result<()> {
    model::trust::check_owners(home).map_err(|e| untrusted(home, e))
}

/// Creates `home` and any missing directory above it (mode 0755: the
/// server's OS user must enter it), then checks who controls it.
pub fn create(home: &Path) -> Result<()> {
    model::trust::create_dir_all(home, 0o755).map_err(|e| untrusted(home, e))
}

/// Creates (or checks) the directory `name` of `home`, mode 0700: a real
/// directory, never a symlink.
pub fn private_dir(dir: &Path) -> Result<()> {
    match std::fs::DirBuilder::new().mode(0o700).create(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(e).ctx("cannot create", dir),
    }
    // Opened without following a symlink, and chmodded through that handle.
    let handle = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_DIRECTORY | libc::O_CLOEXEC)
        .open(dir)
        .map_err(|e| refuse_link(e, dir))?;
    handle
        .set_permissions(std::fs::Permissions::from_mode(0o700))
        .ctx("cannot chmod", dir)
}

/// Opens a log of the home (`error.log`, `install.log`) to append to, or
/// anew: never through a symlink, and only a regular file. The server's
/// OS user may own it.
pub fn open_log(path: &Path, anew: bool) -> Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options
        .create(true)
        .mode(0o640)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC);
    if anew {
        options.write(true).truncate(true);
    } else {
        options.append(true);
    }
    let file = options.open(path).map_err(|e| refuse_link(e, path))?;
    if !file.metadata().ctx("cannot inspect", path)?.is_file() {
        return Err(DbioError::Refused(format!(
            "{} is not a regular file; remove it",
            path.display()
        )));
    }
    Ok(file)
}

fn refuse_link(e: std::io::Error, path: &Path) -> DbioError {
    if matches!(e.raw_os_error(), Some(libc::ELOOP | libc::ENOTDIR)) {
        DbioError::Refused(format!(
            "{} is not a directory (a symlink?); dbio never follows a symlink in its home: remove it",
            path.display()
        ))
    } else {
        DbioError::Io {
            what: "cannot open".into(),
            path: path.to_owned(),
            source: e,
        }
    }
}

/// Takes the home's lock (`lock`, mode 0600, so that no other user can
/// hold it), waiting up to 5 min (`DBIO_LOCK_WAIT` seconds) while another dbio command works
/// here, and saying which process holds it.
pub fn lock(home: &Path, progress: &Progress) -> Result<File> {
    lock_within(home, lock_wait(), progress)
}

/// `DBIO_LOCK_WAIT` (seconds), else [`LOCK_WAIT`].
fn lock_wait() -> Duration {
    std::env::var("DBIO_LOCK_WAIT")
        .ok()
        .and_then(|s| s.parse().ok())
        .map_or(LOCK_WAIT, |s: u64| Duration::from_secs(s.min(86_400)))
}

fn lock_within(home: &Path, wait: Duration, progress: &Progress) -> Result<File> {
    create(home)?;
    let path = home.join("lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(&path)
        .ctx("cannot open the lock file", &path)?;
    // A lock file made by an older dbio was 0644: anyone could hold it.
    file.set_permissions(std::fs::Permissions::from_mode(0o600))
        .ctx("cannot chmod", &path)?;
    let started = Instant::now();
    let mut said = false;
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(file),
            Err(std::fs::TryLockError::Error(e)) => return Err(e).ctx("cannot lock", &path),
            Err(std::fs::TryLockError::WouldBlock) => {}
        }
        let holder = file.metadata().map_or_else(
            |_| "another process".to_owned(),
            |m| model::trust::holder(&m),
        );
        if started.elapsed() >= wait {
            return Err(DbioError::Timeout(format!(
                "the home {} is still locked by {holder} after {} s; another dbio command is working there (or something else holds {})",
                home.display(),
                wait.as_secs(),
                path.display()
            )));
        }
        if !said && started.elapsed() >= Duration::from_millis(500) {
            progress(&format!(
                "waiting for the lock of {}, held by {holder} (up to {} s)",
                home.display(),
                wait.as_secs()
            ));
            said = true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_the_server_tools_cannot_carry_are_refused() {
        for bad in [
            "/var/tmp/dbio home",
            "/var/tmp/dbio\nskip-grant-tables",
            "/var/tmp/it's",
            "/var/tmp/a#b",
            "/var/tmp/a;b",
            "/var/tmp/a\\b",
            "/var/tmp/tab\there",
        ] {
            let err = check_characters(Path::new(bad)).expect_err(bad);
            assert!(err.to_string().contains("cannot carry"), "{err}");
        }
        check_characters(Path::new("/var/tmp/dbio-1.x_y+z@w")).expect("plain path");
    }

    #[test]
    fn a_home_is_named_by_its_canonical_path() {
        let base = std::env::temp_dir().join(format!("dbio-canon-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        std::fs::create_dir_all(base.join("h1")).expect("dirs");
        std::fs::create_dir_all(base.join("h")).expect("dirs");
        std::os::unix::fs::symlink(base.join("h1"), base.join("link")).expect("link");
        let real = base.canonicalize().expect("base").join("h1");
        assert_eq!(canonical(&base.join("link")).expect("link"), real);
        assert_eq!(canonical(&base.join("h/../h1")).expect("dotdot"), real);
        assert_eq!(
            canonical(&base.join("link/new")).expect("missing tail"),
            real.join("new")
        );
        assert!(canonical(&base.join("missing/../h1")).is_err());
        std::fs::remove_dir_all(&base).expect("cleanup");
    }
}
