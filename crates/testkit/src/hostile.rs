//! A second, unprivileged local user for the security tests: what another
//! account on the same machine can do to a root-run dbio. The tests run as
//! root (as CI does); `nobody` is the other account.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// `nobody`'s ids.
pub const NOBODY: u32 = 65_534;

/// Whether this process is root, which the attacks need to be shown (a
/// non-root tester cannot act as another user).
pub fn is_root() -> bool {
    common::files::effective_uid() == 0
}

/// Whether the attack can be shown here: as root, yes; otherwise the test
/// says why it shows nothing (a second account needs root) and passes.
pub fn can_attack(test: &str) -> bool {
    if !is_root() {
        skipped(&format!(
            "{test}: not root, so no second account to attack with"
        ));
    }
    is_root()
}

/// Says that part of a test was not run here, and why, where the test
/// harness shows it: written to stderr directly, which the harness does
/// not capture (it captures `eprintln!`, shown only for a failure).
pub fn skipped(what: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "skipped: {what}");
}

/// Runs `sh -c script` as `nobody` and returns what it did.
pub fn as_nobody(script: &str) -> Output {
    Command::new("sh")
        .arg("-c")
        .arg(script)
        .uid(NOBODY)
        .gid(NOBODY)
        .output()
        .expect("run a shell as nobody")
}

/// [`as_nobody`], which must succeed.
pub fn as_nobody_ok(script: &str) {
    let out = as_nobody(script);
    assert!(
        out.status.success(),
        "as nobody: {script}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A fresh directory of the test's own in the test directory, mode `mode`
/// (e.g. 0o1777 for a `/tmp` of its own), removed by [`Playground::drop`].
#[derive(Debug)]
pub struct Playground(pub PathBuf);

impl Playground {
    pub fn new(name: &str, mode: u32) -> Playground {
        use std::os::unix::fs::PermissionsExt;
        let dir = crate::test_dir()
            .join("dbio-hostile")
            .join(format!("{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("playground");
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(mode)).expect("chmod");
        // Its parents must let nobody in.
        for parent in dir.ancestors().skip(1).take(2) {
            let meta = std::fs::metadata(parent).expect("parent");
            let mode = meta.permissions().mode();
            if mode & 0o001 == 0 {
                let _ =
                    std::fs::set_permissions(parent, std::fs::Permissions::from_mode(mode | 0o011));
            }
        }
        Playground(dir)
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    pub fn dir(&self) -> &Path {
        &self.0
    }
}

impl Drop for Playground {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// The owner of `path` (not following a symlink).
pub fn owner(path: &Path) -> u32 {
    use std::os::unix::fs::MetadataExt;
    std::fs::symlink_metadata(path).expect("inspect").uid()
}
