//! A fatal error ends the run as a signal does ([`crate::interrupt`]): the
//! running queries are cancelled on the server and the process exits 1
//! with one line, `error: CAUSE`. Its causes: a panic in any thread (a
//! driver's, on a reply it cannot handle: `the driver panicked: ...`) and
//! the memory watchdog ([`crate::memory`]). Nothing waits for the failing
//! thread's callers, which may never notice (a runtime that swallows a
//! task's panic, workers waiting for a result that will not come); Rust's
//! own panic message is not printed.

use std::sync::{Mutex, mpsc};
use std::time::{Duration, Instant};

use crate::error::Error;
use crate::interrupt::{GRACE, PANICKED, cancel_in_flight, claim, say_and_exit};

/// Starts the thread that ends the run, and the panic hook that hands it
/// a panic; installed by the binaries' `main` ([`crate::cli::main`]) after
/// [`crate::interrupt::install`].
pub(crate) fn install() -> Result<(), Error> {
    let (fatal, heard) = mpsc::channel::<(String, Duration)>();
    std::thread::Builder::new()
        .name("dbio-fatal-exit".into())
        .spawn(move || {
            if let Ok((cause, grace)) = heard.recv() {
                let line = match cancel_in_flight(Instant::now() + grace) {
                    Ok(0) => format!("error: {cause}"),
                    Ok(1) => format!("error: {cause}; cancelled the running query on the server"),
                    Ok(n) => format!("error: {cause}; cancelled {n} running queries on the server"),
                    Err(e) => format!("error: {cause}; {e}"),
                };
                say_and_exit(line, 1);
            }
        })
        .map_err(|source| Error::Io {
            what: "cannot start the panic thread".into(),
            source,
        })?;
    *lock() = Some(fatal);
    std::panic::set_hook(Box::new(|info| {
        let message = limits::panic_text(info.payload());
        fail(&format!("the driver panicked: {message}"), GRACE);
    }));
    Ok(())
}

/// Where [`fail`] hands its cause to the thread that ends the run.
static FATAL: Mutex<Option<mpsc::Sender<(String, Duration)>>> = Mutex::new(None);

fn lock() -> std::sync::MutexGuard<'static, Option<mpsc::Sender<(String, Duration)>>> {
    FATAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Ends the run from any thread: the running queries are cancelled on the
/// server, for at most `grace`, and the process exits 1 with `error:
/// CAUSE`. The first cause (or signal) decides; the caller returns at
/// once. Before [`install`], it prints and exits directly.
pub fn fail(cause: &str, grace: Duration) {
    if !claim(PANICKED) {
        return;
    }
    let cause = crate::redact(cause).replace('\n', " ");
    let sent = lock()
        .as_ref()
        .is_some_and(|fatal| fatal.send((cause.clone(), grace)).is_ok());
    if !sent {
        say_and_exit(format!("error: {cause}"), 1);
    }
}
