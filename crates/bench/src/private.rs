//! Private directories for what must not sit in a results folder while a
//! run writes it: the C client's option file (it holds the password) and
//! hyperfine's exports (hyperfine follows a symlink where it writes; what
//! it wrote is then copied into the run folder by
//! [`model::files::write_replace`], which follows none).
//!
//! Each is `$TMPDIR/dbio-bench-PID-N`, mode 0700, made anew (never one
//! that exists: someone else's in a shared `/tmp`), removed when dropped.
//! Those that a killed bench left are swept at the next start: directories
//! of this user's whose process is gone.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The name every [`Private`] directory starts with.
const PREFIX: &str = "dbio-bench-";

#[derive(Debug)]
pub struct Private(PathBuf);

impl Private {
    pub fn new() -> Result<Private> {
        use std::os::unix::fs::DirBuilderExt;
        let tmp = std::env::temp_dir();
        let me = std::process::id();
        for n in 0..100u32 {
            let dir = tmp.join(format!("{PREFIX}{me}-{n}"));
            match std::fs::DirBuilder::new().mode(0o700).create(&dir) {
                Ok(()) => return Ok(Private(dir)),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(Error::io(format!("cannot create {}", dir.display()))(e)),
            }
        }
        Err(Error::Failed(format!(
            "no free name for a private directory under {}",
            tmp.display()
        )))
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Private {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Removes the [`Private`] directories under the temporary directory that
/// are this user's and whose bench is gone (killed before it could remove
/// its own); at the start of every run.
pub fn sweep() {
    use std::os::unix::fs::MetadataExt;
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    let me = model::files::effective_uid();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix(PREFIX))
            .and_then(|rest| rest.split('-').next())
            .and_then(|pid| pid.parse::<u32>().ok())
        else {
            continue;
        };
        let path = entry.path();
        let ours = std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_dir() && m.uid() == me);
        if ours && !Path::new(&format!("/proc/{pid}")).exists() {
            let _ = std::fs::remove_dir_all(&path);
        }
    }
}
