//! What a run makes sure of before any work, as root among other local
//! users: that no one else controls where it writes its results, that
//! `--commit` has a repository to commit to, and that no other benchmark
//! runs on the same managed server (one lock per home, held for the whole
//! run).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use model::trust::{self, Untrusted};

use crate::args::{Config, Target};
use crate::error::{Error, Result};

/// The name of the lock file in a home, beside dbio's own `lock` (which
/// each dbio command takes for a moment; this one spans a whole run).
const LOCK: &str = "bench.lock";

/// What [`prepare`] secured: the results directory, created and checked,
/// and the home's lock while the run holds it.
#[derive(Debug)]
pub struct Guard {
    /// The results directory, canonical, trusted.
    pub out: PathBuf,
    _lock: Option<trust::Held>,
}

/// Checks and creates the results directory (`--out`, or `results/` beside
/// the scripts), checks that `--commit` has a git repository there, and
/// takes the managed home's benchmark lock: all before `dbio up`.
pub fn prepare(config: &Config, root: &Path) -> Result<Guard> {
    let given = config.out.clone().unwrap_or_else(|| root.join("results"));
    let out = results_dir(&given)?;
    if config.commit {
        check_repository(&out)?;
    }
    let lock = match &config.target {
        Target::Managed { home, .. } => Some(lock_home(home)?),
        Target::Own(_) => None,
    };
    Ok(Guard { out, _lock: lock })
}

/// The results directory, canonical, created if missing, and refused when
/// another user could rename what the run writes there (the same rule as a
/// home's: see [`model::trust`]), or when a file or a symlink to nothing
/// stands there.
fn results_dir(given: &Path) -> Result<PathBuf> {
    let refuse = |e: Untrusted| match e {
        Untrusted::Refused(why) => Error::Failed(format!(
            "refusing the results directory {}: {why}; give --out a directory that only you can change, such as results/ in the checkout or a directory of yours",
            given.display()
        )),
        Untrusted::Io { path, source } => {
            Error::io(format!("cannot inspect {}", path.display()))(source)
        }
    };
    let out = trust::canonical(given).map_err(refuse)?;
    trust::create_dir_all(&out, 0o755).map_err(refuse)?;
    Ok(out)
}

/// `--commit` needs the results directory inside a git work tree.
fn check_repository(out: &Path) -> Result<()> {
    let inside = Command::new("git")
        .arg("-C")
        .arg(out)
        .args(["rev-parse", "--is-inside-work-tree"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .output()
        .map_err(Error::io("cannot run git (for --commit)"))?;
    if inside.status.success() && inside.stdout.starts_with(b"true") {
        Ok(())
    } else {
        Err(Error::Failed(format!(
            "--commit: {} is not inside a git repository; leave out --commit or give --out a directory of one",
            out.display()
        )))
    }
}

/// Takes `HOME/bench.lock`, or refuses at once naming the run that holds
/// it: two benchmarks on one server would time each other (and one's
/// settle would cancel the other's queries). The home is created if
/// missing, under the rule of a home; dbio checks the rest.
fn lock_home(home: &Path) -> Result<trust::Held> {
    let refuse = |e: Untrusted| match e {
        Untrusted::Refused(why) => Error::Failed(format!(
            "refusing the home {}: {why}; use a home that only you can change (see README: a safe home)",
            home.display()
        )),
        Untrusted::Io { path, source } => {
            Error::io(format!("cannot inspect {}", path.display()))(source)
        }
    };
    let home = trust::canonical(home).map_err(refuse)?;
    trust::create_dir_all(&home, 0o755).map_err(refuse)?;
    let path = home.join(LOCK);
    match trust::try_lock(&path).map_err(Error::io(format!("cannot lock {}", path.display())))? {
        Ok(held) => Ok(held),
        Err(holder) => Err(Error::Failed(format!(
            "another benchmark ({holder}) is running on the managed server in {}; wait for it to finish, or give this one another DBIO_HOME",
            home.display()
        ))),
    }
}
