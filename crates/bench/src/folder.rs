//! The run's results folder: made anew under the checked results directory,
//! then reached only through a descriptor of it, and removed unless the
//! run finished.
//!
//! Every later access names it as `/proc/<pid>/fd/<fd>` ([`Folder::via`]),
//! which the kernel resolves through the open descriptor: whatever is
//! renamed or exchanged at its path meanwhile (`renameat2(RENAME_EXCHANGE)`
//! with a directory of symlinks), the run writes into the directory it
//! made. Children (hyperfine's `--prepare` probe, the approaches' output
//! files) run as the same user and resolve the same name. The path it was
//! made at is for messages, the index and `git`.

use std::fs::File;
use std::os::fd::AsRawFd;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

#[derive(Debug)]
pub struct Folder {
    handle: File,
    /// Where it was made.
    pub path: PathBuf,
    /// Removed when dropped unless [`Folder::finish`] was called (an error,
    /// Ctrl-C, SIGTERM or a closed terminal leaves no partial folder).
    finished: bool,
}

impl Folder {
    /// `<out>/<date>-<host>`, or `-2`, `-3`... when taken; created here, so
    /// that two runs never share one, and opened at once without following
    /// a symlink.
    pub fn new(out: &Path) -> Result<Folder> {
        let date = &bench_report::host::utc_now()[..10];
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|h| h.trim().to_owned())
            .unwrap_or_else(|_| "host".into());
        let base = out.join(format!("{date}-{host}"));
        for n in 1..10_000 {
            let path = if n == 1 {
                base.clone()
            } else {
                PathBuf::from(format!("{}-{n}", base.display()))
            };
            match std::fs::create_dir(&path) {
                Ok(()) => return Folder::open(path),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(Error::io(format!("cannot create {}", path.display()))(e)),
            }
        }
        Err(Error::Failed(format!(
            "no free run folder name under {}",
            out.display()
        )))
    }

    /// Opens the directory just made at `path`: a directory of this user's,
    /// never through a symlink.
    fn open(path: PathBuf) -> Result<Folder> {
        let handle = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(&path)
            .map_err(Error::io(format!("cannot open {}", path.display())))?;
        let meta = handle
            .metadata()
            .map_err(Error::io(format!("cannot inspect {}", path.display())))?;
        if meta.uid() != model::files::effective_uid() {
            return Err(Error::Failed(format!(
                "{} is not this user's directory; someone else made it",
                path.display()
            )));
        }
        Ok(Folder {
            handle,
            path,
            finished: false,
        })
    }

    /// The folder as every access after its creation names it: through its
    /// descriptor (see the module docs).
    pub fn via(&self) -> PathBuf {
        PathBuf::from(format!(
            "/proc/{}/fd/{}",
            std::process::id(),
            self.handle.as_raw_fd()
        ))
    }

    /// The run finished: the folder stays.
    pub fn finish(&mut self) {
        self.finished = true;
    }
}

impl Drop for Folder {
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        crate::say(&format!(
            "== removing the unfinished {}",
            self.path.display()
        ));
        // What is in it, through the descriptor; then the directory itself,
        // only if its path still names it.
        for entry in std::fs::read_dir(self.via())
            .into_iter()
            .flatten()
            .flatten()
        {
            let path = entry.path();
            let _ = if entry.file_type().is_ok_and(|t| t.is_dir()) {
                std::fs::remove_dir_all(&path)
            } else {
                std::fs::remove_file(&path)
            };
        }
        let same = match (
            std::fs::symlink_metadata(&self.path),
            self.handle.metadata(),
        ) {
            (Ok(at_path), Ok(ours)) => at_path.dev() == ours.dev() && at_path.ino() == ours.ino(),
            _ => false,
        };
        if same {
            let _ = std::fs::remove_dir(&self.path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// C2 of the third hostile pass: the run folder exchanged for a
    /// directory holding a symlink where the run writes next. Through the
    /// descriptor, the write lands in the folder the run made, and the
    /// symlink's target is untouched.
    #[test]
    fn writes_reach_the_folder_made_whatever_its_path_names_later() {
        let out = std::env::temp_dir().join(format!("dbio-folder-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&out);
        std::fs::create_dir_all(&out).expect("out");
        let folder = Folder::new(&out).expect("folder");
        let made = folder.path.clone();
        // The swap: the folder moved away, a planted one in its place.
        let moved = out.join("moved");
        std::fs::rename(&made, &moved).expect("move");
        std::fs::create_dir(&made).expect("planted");
        let secret = out.join("secret");
        std::fs::write(&secret, b"keep").expect("secret");
        std::os::unix::fs::symlink(&secret, made.join("table.md")).expect("link");
        bench_report::write(&folder.via().join("table.md"), "| a |\n").expect("write");
        assert_eq!(std::fs::read(&secret).expect("secret"), b"keep");
        assert_eq!(
            std::fs::read_to_string(moved.join("table.md")).expect("in the folder made"),
            "| a |\n"
        );
        assert!(
            std::fs::symlink_metadata(made.join("table.md"))
                .expect("planted link")
                .file_type()
                .is_symlink()
        );
        // Unfinished: what it holds is removed through the descriptor, the
        // planted directory at its path is left alone.
        drop(folder);
        assert!(!moved.join("table.md").exists());
        assert!(
            made.join("table.md").exists(),
            "the planted one is not ours"
        );
        std::fs::remove_dir_all(&out).expect("cleanup");
    }
}
