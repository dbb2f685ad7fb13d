//! The processes a run starts. Each runs in a process group of its own, so
//! that stopping it reaches everything under it (hyperfine and the
//! approach it times, which cancels its queries on the signal), and is
//! waited for by polling, so that a signal to `bench` is handled at once.
//!
//! A terminal's Ctrl-C reaches `bench` alone (its children are in other
//! groups); `bench` then stops every group it started, removes the
//! unfinished results folder and exits 128 + the signal.

use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use rustix::process::{Pid, Signal, kill_process_group};

use crate::error::{Error, Result};

static SIGNAL: std::sync::OnceLock<Arc<AtomicUsize>> = std::sync::OnceLock::new();

/// How long a stopped group may take to exit after SIGTERM before SIGKILL
/// (an approach cancels its queries on the server first: 2 s at most).
const STOP_GRACE: Duration = Duration::from_secs(5);
const POLL: Duration = Duration::from_millis(20);
/// How long the last of a finished command's stderr may take to arrive.
const RELAY_GRACE: Duration = Duration::from_secs(2);

/// Turns SIGINT, SIGTERM and SIGHUP into a flag the waits below check.
pub fn install() -> Result<()> {
    let flag = SIGNAL.get_or_init(|| Arc::new(AtomicUsize::new(0)));
    for signal in [
        signal_hook::consts::SIGINT,
        signal_hook::consts::SIGTERM,
        signal_hook::consts::SIGHUP,
    ] {
        // Each signal stores itself; the run stops at the next check.
        signal_hook::flag::register_usize(signal, Arc::clone(flag), signal as usize)
            .map_err(Error::io("cannot install the signal handlers"))?;
    }
    Ok(())
}

/// The signal that asked the run to stop, if one did.
pub fn signalled() -> Option<i32> {
    let n = SIGNAL.get()?.load(Ordering::SeqCst);
    (n != 0).then_some(n as i32)
}

/// Fails with [`Error::Interrupted`] once a signal arrived.
pub fn check() -> Result<()> {
    signalled().map_or(Ok(()), |s| Err(Error::Interrupted(s)))
}

/// A started process and its process group, stopped when dropped.
#[derive(Debug)]
pub struct Group {
    child: Option<Child>,
    pub program: PathBuf,
}

impl Group {
    pub fn spawn(mut command: Command) -> Result<Group> {
        use std::os::unix::process::CommandExt;
        check()?;
        let program = PathBuf::from(command.get_program());
        command.process_group(0);
        let child = command.spawn().map_err(|source| Error::Spawn {
            program: program.clone(),
            source,
        })?;
        crate::guard::record_group(child.id());
        Ok(Group {
            child: Some(child),
            program,
        })
    }

    pub fn id(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Whether it has exited (reaping it if so).
    pub fn exited(&mut self) -> bool {
        match self.child.as_mut().map(Child::try_wait) {
            Some(Ok(None)) => false,
            Some(_) | None => true,
        }
    }

    /// Waits for it to exit; a signal to `bench` meanwhile stops the
    /// group and fails with [`Error::Interrupted`].
    pub fn wait(mut self) -> Result<ExitStatus> {
        let Some(child) = self.child.as_mut() else {
            return Err(Error::Failed("waited twice".into()));
        };
        loop {
            if let Some(status) = child.try_wait().map_err(Error::io(format!(
                "cannot wait for {}",
                self.program.display()
            )))? {
                self.child = None;
                return Ok(status);
            }
            if let Some(signal) = signalled() {
                self.stop();
                return Err(Error::Interrupted(signal));
            }
            std::thread::sleep(POLL);
        }
    }

    /// SIGTERM to the group, then SIGKILL after [`STOP_GRACE`]; reaps it.
    /// Waits for the whole group, not only its leader: the approach under
    /// hyperfine cancels its queries after hyperfine has gone, and the
    /// proxy it sends its `KILL QUERY`s through must outlive it (the proxy
    /// is stopped after the run's groups).
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let leader = child.id();
        let group = Pid::from_child(&child);
        let _ = kill_process_group(group, Signal::TERM);
        let deadline = Instant::now() + STOP_GRACE;
        let mut leader_gone = false;
        while Instant::now() < deadline {
            if !leader_gone && !matches!(child.try_wait(), Ok(None)) {
                leader_gone = true;
                // The rest of its group follows the same signal.
                let _ = kill_process_group(group, Signal::TERM);
            }
            if leader_gone && !group_runs(leader) {
                return;
            }
            std::thread::sleep(POLL);
        }
        let _ = kill_process_group(group, Signal::KILL);
        let _ = child.wait();
    }
}

/// Whether a process of group `group` still runs (a zombie runs nothing:
/// the process that reaps it may be slow to).
fn group_runs(group: u32) -> bool {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return false;
    };
    let group = group.to_string();
    dir.flatten().any(|entry| {
        let is_pid = entry
            .file_name()
            .to_str()
            .is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit()));
        is_pid
            && std::fs::read_to_string(entry.path().join("stat"))
                .ok()
                .is_some_and(|stat| {
                    // After the name: state, parent, group.
                    let mut fields = stat
                        .rsplit_once(')')
                        .map_or("", |(_, rest)| rest)
                        .split_whitespace();
                    let state = fields.next();
                    state != Some("Z") && fields.nth(1) == Some(group.as_str())
                })
    })
}

impl Drop for Group {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Runs `command` to its end in a group of its own; fails unless it exits
/// 0. Its stderr passes through as it comes (progress), except its own
/// `error:` line, which becomes this failure's message: one line in all.
pub fn run(mut command: Command, what: &str) -> Result<()> {
    use std::io::{BufRead, BufReader};
    command.stderr(std::process::Stdio::piped());
    let mut group = Group::spawn(command)?;
    let stderr = group.child.as_mut().and_then(|c| c.stderr.take());
    let (sender, relayed) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut error = None;
        if let Some(stderr) = stderr {
            for line in BufReader::new(stderr)
                .lines()
                .map_while(std::io::Result::ok)
            {
                match line.strip_prefix("error: ") {
                    Some(message) => error = Some(message.to_owned()),
                    None => eprintln!("{line}"),
                }
            }
        }
        let _ = sender.send(error);
    });
    let status = group.wait()?;
    // A process it left running could hold the pipe open: the message is
    // waited for briefly, never for that process.
    let error = relayed.recv_timeout(RELAY_GRACE).ok().flatten();
    if status.success() {
        Ok(())
    } else {
        Err(Error::Failed(match error {
            Some(message) => format!("{what}: {message}"),
            None => format!("{what} failed ({status})"),
        }))
    }
}
