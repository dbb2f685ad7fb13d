//! Ctrl-C, `kill` and a closed terminal: an interrupted run cancels the
//! queries it has running on the server, then exits with 128 + the signal
//! (130 for SIGINT, 143 for SIGTERM, 129 for SIGHUP) within [`GRACE`].
//!
//! Without this, the server goes on computing the queries of a client that
//! has gone (it notices only when it writes the result), and that CPU lands
//! in the next benchmark run. Each driver registers its run's pool and a
//! killer, which sends `KILL QUERY <id>` over a connection of its own for
//! every connection in use. The pool lends nothing more once cancelled;
//! what ends the wait is every connection coming back to the pool (its
//! query failed as killed), not the killer's replies.
//!
//! - this module: the signals, the exit they take and its one line;
//! - [`registry`]: the run to cancel, its pools and their killers;
//! - [`killers`]: how one pool's running queries are killed, one by one.
//!
//! SIGKILL cannot be handled: `scripts/bench.sh` checks before each timed
//! run that no query is left running (`dbio server settle`).

mod killers;
mod registry;

use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

pub use killers::{Killer, PACE, Pace, RESEND, STUCK, killer};
pub(crate) use registry::cancel_in_flight;
pub use registry::register_all;

use crate::error::Error;

/// How long an interrupted run may spend cancelling before it exits.
pub const GRACE: Duration = Duration::from_millis(1500);

static SIGNALLED: AtomicI32 = AtomicI32::new(0);

/// What [`SIGNALLED`] holds once a panic or a fatal error
/// ([`crate::fatal`]) has started the exit.
pub(crate) const PANICKED: i32 = -1;

/// Whether a signal or a panic has started the exit: the run's own error
/// (its queries were killed, a worker died) is then not the one to print.
pub fn signalled() -> bool {
    SIGNALLED.load(Ordering::SeqCst) != 0
}

/// Blocks the calling thread until the signal handler ends the process.
pub fn wait_for_exit() -> ! {
    loop {
        std::thread::park();
    }
}

/// Handles SIGINT, SIGTERM and SIGHUP (a closed terminal) on a thread of
/// their own for the rest of the process's life; the first one decides the
/// exit, later ones change nothing. Called once by each binary's `main`.
pub fn install() -> Result<(), Error> {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let mut signals =
        signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP]).map_err(|source| {
            Error::Io {
                what: "cannot handle SIGINT, SIGTERM and SIGHUP".into(),
                source,
            }
        })?;
    std::thread::Builder::new()
        .name("dbio-signals".into())
        .spawn(move || {
            if let Some(signal) = signals.forever().next() {
                exit_on(signal);
            }
        })
        .map_err(|source| Error::Io {
            what: "cannot start the signal thread".into(),
            source,
        })?;
    Ok(())
}

/// Takes the exit for `cause` (a signal's number, or [`PANICKED`] for a
/// fatal error): whether it was first. The first decides the exit.
pub(crate) fn claim(cause: i32) -> bool {
    SIGNALLED
        .compare_exchange(0, cause, Ordering::SeqCst, Ordering::SeqCst)
        .is_ok()
}

fn exit_on(signal: i32) -> ! {
    if !claim(signal) {
        // A panic is already ending the run.
        wait_for_exit();
    }
    let name = match signal {
        signal_hook::consts::SIGINT => "SIGINT",
        signal_hook::consts::SIGHUP => "SIGHUP",
        _ => "SIGTERM",
    };
    let outcome = cancel_in_flight(Instant::now() + GRACE);
    let line = match outcome {
        Ok(0) => format!("error: interrupted by {name}; no query was running"),
        Ok(1) => format!("error: interrupted by {name}; cancelled the running query on the server"),
        Ok(n) => {
            format!("error: interrupted by {name}; cancelled {n} running queries on the server")
        }
        Err(e) => format!("error: interrupted by {name}; {e}"),
    };
    say_and_exit(line, 128 + signal)
}

/// Prints `line` to stderr and exits with `code`, waiting at most
/// [`SAY_WAIT`] for the line: a full or stopped pipe (the main thread may
/// be blocked writing the report to it too) must not keep the process
/// from exiting.
pub(crate) fn say_and_exit(line: String, code: i32) -> ! {
    let (done, said) = mpsc::channel();
    let writer = std::thread::Builder::new()
        .name("dbio-exit-line".into())
        .spawn(move || {
            use std::io::Write;
            let _ = writeln!(std::io::stderr(), "{line}");
            let _ = done.send(());
        });
    if writer.is_ok() {
        let _ = said.recv_timeout(SAY_WAIT);
    }
    // `_exit`, not `process::exit`: the latter flushes stdout's buffer,
    // which blocks on a full pipe.
    // SAFETY: `_exit` ends the process at once; it has no preconditions.
    #[allow(unsafe_code)]
    unsafe {
        libc::_exit(code)
    }
}

/// How long the exit waits for its line to be written.
const SAY_WAIT: Duration = Duration::from_millis(200);
