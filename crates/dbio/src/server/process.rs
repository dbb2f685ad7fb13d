//! Which process is a home's server, read from `/proc`, and ending it.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::POLL;

pub(super) fn signal(pid: u32, sig: libc::c_int) {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return;
    };
    // SAFETY: kill has no memory-safety preconditions.
    #[allow(unsafe_code)]
    unsafe {
        libc::kill(pid, sig);
    }
}

/// How a home's server is recognised among the machine's processes: by
/// the config file on its command line, or by its working directory, which
/// MariaDB and MySQL set to their data directory. The second holds whatever
/// path the server was started through (a symlink, `h/../h1`, an older
/// dbio's form): the kernel reports the directory's canonical path.
#[derive(Debug, Clone)]
pub(super) struct Identity {
    pub(super) cnf: PathBuf,
    pub(super) data: PathBuf,
}

/// What the process `pid` is to the server of an [`Identity`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum PidState {
    /// Our server, running.
    Ours,
    /// A server process on its way out: its memory (and so its command line)
    /// is gone, but its files and ports may still be open.
    Exiting,
    /// Gone, a zombie whose threads have all exited, or another program.
    Other,
}

pub(super) fn inspect(pid: u32, id: &Identity) -> PidState {
    let proc = PathBuf::from(format!("/proc/{pid}"));
    let Ok(stat) = fs::read_to_string(proc.join("stat")) else {
        return PidState::Other;
    };
    // "pid (comm) state ...": the state follows the parenthesised name.
    let Some((head, rest)) = stat.rsplit_once(')') else {
        return PidState::Other;
    };
    let comm = head.split_once('(').map_or("", |(_, c)| c);
    let is_server = matches!(comm, "mariadbd" | "mysqld");
    if dead(rest) {
        // A dead main thread: the other threads may still be closing the
        // process's files, which are released only when the last one exits.
        return if is_server && live_threads(&proc) {
            PidState::Exiting
        } else {
            PidState::Other
        };
    }
    let Ok(cmdline) = fs::read(proc.join("cmdline")) else {
        return PidState::Other;
    };
    let wanted = format!("--defaults-file={}", id.cnf.display());
    if cmdline
        .split(|&b| b == 0)
        .any(|arg| arg == wanted.as_bytes())
    {
        return PidState::Ours;
    }
    // An empty command line is a process whose memory is gone: on its way
    // out, though its working directory may still show for a moment.
    if is_server
        && !cmdline.is_empty()
        && fs::read_link(proc.join("cwd")).is_ok_and(|cwd| cwd == id.data)
    {
        return PidState::Ours;
    }
    if cmdline.is_empty() && is_server {
        PidState::Exiting
    } else {
        PidState::Other
    }
}

/// The running server of `id`, found among every process of the machine
/// (when its pid file is gone or names another process).
pub(super) fn find_server(id: &Identity) -> Option<u32> {
    fs::read_dir("/proc")
        .ok()?
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .find(|&pid| {
            fs::read_to_string(format!("/proc/{pid}/comm"))
                .is_ok_and(|comm| matches!(comm.trim(), "mariadbd" | "mysqld"))
                && inspect(pid, id) == PidState::Ours
        })
}

/// Whether the state in a `/proc/<pid>/stat` tail (after the name) is dead.
fn dead(after_comm: &str) -> bool {
    matches!(after_comm.split_whitespace().next(), Some("Z" | "X") | None)
}

/// Whether any thread of the process in `proc` has not finished exiting.
fn live_threads(proc: &Path) -> bool {
    let Ok(tasks) = fs::read_dir(proc.join("task")) else {
        return false;
    };
    tasks.flatten().any(|task| {
        fs::read_to_string(task.path().join("stat"))
            .ok()
            .and_then(|stat| stat.rsplit_once(')').map(|(_, rest)| !dead(rest)))
            .unwrap_or(false)
    })
}

/// Waits, up to `deadline`, until `pid` is neither our server nor exiting.
pub(super) fn wait_gone(pid: u32, id: &Identity, deadline: Duration) -> bool {
    let until = Instant::now() + deadline;
    while inspect(pid, id) != PidState::Other {
        if Instant::now() > until {
            return false;
        }
        std::thread::sleep(POLL);
    }
    true
}
