//! Deadlines for what has none of its own: a blocking driver call run on a
//! thread of its own ([`bounded`]), a timer future for any async runtime
//! ([`deadline`]), and why a connect did not finish in time
//! ([`Diagnosis`]), found once per run.

use std::time::{Duration, Instant};

use futures::channel::oneshot;
use model::Error;

/// Runs `f` on a thread of its own and waits at most `timeout` for it: the
/// only way to bound a blocking driver call that has no deadline of its own
/// (the `mysql` crate's handshake read). `None` on timeout; the thread is
/// left to finish (or to end with the process). A panic in `f` (a driver's
/// bug, or a feature it was built without) is an error that says so, at
/// once, not a timeout.
pub fn bounded<T: Send + 'static>(
    timeout: Duration,
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<Option<T>, Error> {
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    std::thread::Builder::new()
        .name("dbio-connect".into())
        .spawn(move || {
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
            let _ = tx.send(outcome.map_err(|panic| crate::panic_text(&*panic)));
        })
        .map_err(|source| Error::Io {
            what: "cannot start a thread".into(),
            source,
        })?;
    match rx.recv_timeout(timeout) {
        Ok(Ok(done)) => Ok(Some(done)),
        Ok(Err(panic)) => Err(Error::Internal(format!("the driver panicked: {panic}"))),
        Err(_) => Ok(None),
    }
}

/// A future that completes after `timeout`, on any runtime (one thread that
/// ends as soon as the future is dropped). For bounding async connects.
pub fn deadline(timeout: Duration) -> impl Future<Output = ()> + Send {
    let (fire, fired) = oneshot::channel::<()>();
    let (keep, dropped) = std::sync::mpsc::channel::<()>();
    let started = std::thread::Builder::new()
        .name("dbio-deadline".into())
        .spawn(move || {
            if let Err(std::sync::mpsc::RecvTimeoutError::Timeout) = dropped.recv_timeout(timeout) {
                let _ = fire.send(());
            }
        })
        .is_ok();
    async move {
        let _keep = keep;
        if started {
            let _ = fired.await;
        } else {
            // No thread, no timer: never fire rather than fire at once.
            std::future::pending::<()>().await;
        }
    }
}

/// Why connects to a server did not finish in time, found once per run:
/// the connects that time out together share one diagnosis.
#[derive(Debug, Default)]
pub struct Diagnosis(std::sync::OnceLock<String>);

impl Diagnosis {
    pub fn of_timeout(&self, host: &str, port: u16, timeout: Duration) -> String {
        self.0
            .get_or_init(|| diagnose_timeout(host, port, timeout))
            .clone()
    }
}

/// Why a connect to `host:port` did not finish within `timeout`, found with
/// one plain TCP connection: nothing answers at all, or something accepts
/// TCP but does not speak (or finish) the MySQL handshake.
fn diagnose_timeout(host: &str, port: u16, timeout: Duration) -> String {
    use std::io::Read;
    use std::net::ToSocketAddrs;
    let secs = timeout.as_secs_f64();
    let Some(addr) = (host, port)
        .to_socket_addrs()
        .ok()
        .and_then(|mut a| a.next())
    else {
        return format!("no answer from {host}:{port} within {secs} s");
    };
    let probe = Duration::from_millis(500);
    match std::net::TcpStream::connect_timeout(&addr, probe) {
        Err(_) => format!("no TCP connection to {host}:{port} within {secs} s"),
        Ok(mut stream) => {
            let _ = stream.set_read_timeout(Some(Duration::from_millis(300)));
            let mut byte = [0u8; 1];
            match stream.read(&mut byte) {
                Ok(1) => format!(
                    "connected to {host}:{port}, but the server did not complete the login within {secs} s"
                ),
                _ => format!(
                    "connected to {host}:{port}, but the server did not answer the MySQL handshake within {secs} s"
                ),
            }
        }
    }
}

/// How long a step may take, given when the whole thing must be done.
pub fn remaining(until: Instant) -> Duration {
    until.saturating_duration_since(Instant::now())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_tells_done_late_and_panicked_apart() {
        let second = Duration::from_secs(1);
        assert_eq!(bounded(second, || 7).expect("thread"), Some(7));
        let late = bounded(Duration::from_millis(20), move || {
            std::thread::sleep(second);
        });
        assert!(matches!(late, Ok(None)), "{late:?}");
        let started = Instant::now();
        let panicked = bounded(Duration::from_secs(30), || -> u8 {
            panic!("client_ed25519 feature is disabled")
        });
        match panicked {
            Err(Error::Internal(text)) => {
                assert!(
                    text.contains("panicked") && text.contains("client_ed25519"),
                    "{text}"
                );
            }
            other => panic!("a panic must be an error, not a timeout: {other:?}"),
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "waited for the deadline"
        );
    }
}
