//! What a run makes sure of before any work, as root among other local
//! users: that no one else controls where it writes its results, that
//! `--commit` has a repository to commit to, and that no other benchmark
//! runs on the same managed server (one lock per home, held for the whole
//! run). The lock file also records the process groups the run starts,
//! so that the next run stops what a killed one (SIGKILL) left running:
//! hyperfine, and the approach it times.

use std::fs::File;
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

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

impl Drop for Guard {
    /// The run has stopped every group it started: nothing to record.
    fn drop(&mut self) {
        clear_groups();
    }
}

/// Checks and creates the results directory (`--out`, or `results/` beside
/// the scripts), checks that `--commit` has a git repository there, and
/// takes the managed home's benchmark lock, stopping what a killed run
/// left running there; sweeps the private directories that a killed run
/// left ([`crate::private`]): all before `dbio up`.
pub fn prepare(config: &Config, root: &Path) -> Result<Guard> {
    crate::private::sweep();
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
    let refuse = refusal(
        "the results directory",
        given,
        "give --out a directory that only you can change, such as results/ in the checkout or a directory of yours",
    );
    let out = trust::canonical(given).map_err(&refuse)?;
    trust::create_dir_all(&out, 0o755).map_err(refuse)?;
    Ok(out)
}

/// The error for a directory [`model::trust`] does not trust: what it is
/// for, where, why, and what to do instead.
fn refusal<'a>(
    what: &'a str,
    given: &'a Path,
    instead: &'a str,
) -> impl Fn(Untrusted) -> Error + 'a {
    move |e| match e {
        Untrusted::Refused(why) => Error::Failed(format!(
            "refusing {what} {}: {why}; {instead}",
            given.display()
        )),
        Untrusted::Io { path, source } => {
            Error::io(format!("cannot inspect {}", path.display()))(source)
        }
    }
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
    let refuse = refusal(
        "the home",
        home,
        "use a home that only you can change (see docs/security.md: a safe home)",
    );
    let home = trust::canonical(home).map_err(&refuse)?;
    trust::create_dir_all(&home, 0o755).map_err(refuse)?;
    let path = home.join(LOCK);
    match trust::try_lock(&path).map_err(Error::io(format!("cannot lock {}", path.display())))? {
        Ok(held) => {
            stop_orphans(held.file());
            *lock(&RECORD) = held
                .file()
                .try_clone()
                .map_err(Error::io(format!("cannot use {}", path.display())))
                .map(Some)?;
            Ok(held)
        }
        Err(holder) => Err(Error::Failed(format!(
            "another benchmark ({holder}) is running on the managed server in {}; wait for it to finish, or give this one another DBIO_HOME",
            home.display()
        ))),
    }
}

/// The lock file of the run's home, where [`record_group`] writes.
static RECORD: Mutex<Option<File>> = Mutex::new(None);

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Records a process group the run started (its leader's pid and start
/// time, so that a pid used again by another process is never taken for
/// it). Nothing is recorded for a run on the user's own server (no home).
pub fn record_group(pid: u32) {
    let Some(start) = start_time(pid) else {
        return;
    };
    if let Some(file) = lock(&RECORD).as_mut() {
        let _ = writeln!(file, "{pid} {start}");
    }
}

/// Forgets the groups recorded: the run stopped them all.
pub fn clear_groups() {
    if let Some(file) = lock(&RECORD).as_mut() {
        let _ = file.set_len(0);
        let _ = file.rewind();
    }
}

/// How long a left-over group may take to exit after SIGTERM (its approach
/// cancels its queries first) before SIGKILL.
const ORPHAN_GRACE: Duration = Duration::from_secs(5);

/// Stops the process groups a killed run recorded in `file` and that still
/// run (the same leader, by its start time), then empties the record.
fn stop_orphans(file: &File) {
    use rustix::process::{Pid, Signal, kill_process_group};
    let mut text = String::new();
    let mut reader = file;
    let _ = reader.rewind();
    let _ = reader.read_to_string(&mut text);
    for line in text.lines() {
        let mut words = line.split_whitespace();
        let (Some(Ok(pid)), Some(start)) = (words.next().map(str::parse::<u32>), words.next())
        else {
            continue;
        };
        if start_time(pid).as_deref() != Some(start) {
            continue;
        }
        let Some(group) = i32::try_from(pid).ok().and_then(Pid::from_raw) else {
            continue;
        };
        crate::say(&format!(
            "== stopping what a killed benchmark left running: {}",
            trust::describe(pid)
        ));
        let _ = kill_process_group(group, Signal::TERM);
        let until = Instant::now() + ORPHAN_GRACE;
        while start_time(pid).as_deref() == Some(start) && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = kill_process_group(group, Signal::KILL);
    }
    let _ = file.set_len(0);
}

/// Process `pid`'s start time (clock ticks since boot, `/proc/PID/stat`'s
/// 22nd field), which tells it from a later process given the same pid.
/// `None` for a process that is gone or a zombie (it runs nothing more).
fn start_time(pid: u32) -> Option<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = stat.rsplit_once(')')?.1;
    // Fields after the name start with the state (field 3).
    let mut fields = rest.split_whitespace();
    if fields.next() == Some("Z") {
        return None;
    }
    fields.nth(18).map(str::to_owned)
}
