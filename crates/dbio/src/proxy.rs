//! A TCP proxy that delays everything it relays by a fixed one-way latency,
//! in both directions: a network between client and server (1 ms in a data
//! centre, 10-50 ms across regions) on one machine, where the kernel's
//! netem qdisc is not available.
//!
//! Why our own: no toxiproxy-compatible server is packaged on the
//! registries this project can use (crates.io has only `noxious`, the core
//! library of the Rust port, not its server), and the one toxic needed here
//! fits in a page. Every chunk read on one side is written to the other
//! side `latency` after it was read, in order; a new connection waits one
//! round trip (2 × latency) before the server is dialled, as a TCP
//! handshake across that network would.
//!
//! Threads, not async: four per connection (a reader and a writer per
//! direction), for the few connections a benchmark budget allows. What it
//! holds is bounded: at most `max_connections` are relayed at once (more
//! wait in the kernel's accept queue), and each direction buffers at most
//! [`CHUNKS`] reads of [`CHUNK`] bytes, so a reader that stops reading
//! stops the other side (back-pressure) instead of growing the proxy. A
//! failed accept (out of file descriptors) is logged and retried; the proxy
//! ends only when it is killed.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Condvar, Mutex, mpsc};
use std::time::{Duration, Instant};

/// Connections relayed at once unless `--max-connections` says otherwise.
pub const DEFAULT_MAX_CONNECTIONS: u32 = 256;
/// The largest read relayed in one piece.
pub const CHUNK: usize = 64 << 10;
/// Reads a direction holds before it stops reading its source.
pub const CHUNKS: usize = 16;

/// A listening proxy.
#[derive(Debug)]
pub struct Proxy {
    listener: TcpListener,
    upstream: SocketAddr,
    latency: Duration,
    max_connections: usize,
}

/// The connections being relayed, and a wake-up when one ends.
#[derive(Debug, Default)]
struct Active {
    count: Mutex<usize>,
    ended: Condvar,
}

/// Held by every thread of one relayed connection; the last one to end
/// frees its place.
#[derive(Debug)]
struct Slot(Arc<Active>);

impl Drop for Slot {
    fn drop(&mut self) {
        let mut count = self.0.count.lock().unwrap_or_else(|p| p.into_inner());
        *count -= 1;
        self.0.ended.notify_all();
    }
}

impl Proxy {
    /// Listens on `listen` (port 0: any free port) for connections to relay
    /// to `upstream`, at most `max_connections` at once.
    pub fn bind(
        listen: SocketAddr,
        upstream: SocketAddr,
        latency: Duration,
        max_connections: usize,
    ) -> std::io::Result<Proxy> {
        Ok(Proxy {
            listener: TcpListener::bind(listen)?,
            upstream,
            latency,
            max_connections: max_connections.max(1),
        })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Relays connections until the process ends; says through `log` what
    /// goes wrong (an accept or a connection that failed), at most once a
    /// second for the same trouble.
    pub fn serve(self, log: impl Fn(&str)) {
        let active = Arc::new(Active::default());
        let mut last_said: Option<(String, Instant)> = None;
        let mut say = |line: String| {
            let repeat = last_said
                .as_ref()
                .is_some_and(|(l, at)| *l == line && at.elapsed() < Duration::from_secs(1));
            if !repeat {
                log(&line);
                last_said = Some((line, Instant::now()));
            }
        };
        loop {
            let slot = self.take_slot(&active);
            let client = match self.listener.accept() {
                Ok((client, _)) => client,
                Err(e) => {
                    drop(slot);
                    let open = *active.count.lock().unwrap_or_else(|p| p.into_inner());
                    say(format!(
                        "cannot accept a connection ({e}) with {open} open; retrying"
                    ));
                    if e.raw_os_error().is_some_and(out_of_resources) {
                        // Nothing frees a descriptor but a connection ending.
                        std::thread::sleep(Duration::from_millis(50));
                    }
                    continue;
                }
            };
            if let Err(e) = relay(client, self.upstream, self.latency, slot) {
                say(format!("cannot relay a connection: {e}"));
            }
        }
    }

    /// Waits until fewer than `max_connections` are relayed, and counts one more.
    fn take_slot(&self, active: &Arc<Active>) -> Slot {
        let mut count = active.count.lock().unwrap_or_else(|p| p.into_inner());
        while *count >= self.max_connections {
            count = active.ended.wait(count).unwrap_or_else(|p| p.into_inner());
        }
        *count += 1;
        Slot(Arc::clone(active))
    }
}

/// `EMFILE`, `ENFILE`, `ENOBUFS`, `ENOMEM`: the process or the machine is
/// out of something that only an ending connection gives back.
fn out_of_resources(errno: i32) -> bool {
    matches!(
        errno,
        libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM
    )
}

/// One client connection: dial the server after a round trip, then pump
/// both ways until either side closes. Every thread holds `slot`.
fn relay(
    client: TcpStream,
    upstream: SocketAddr,
    latency: Duration,
    slot: Slot,
) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("dbio-proxy".into())
        .spawn(move || {
            std::thread::sleep(latency * 2);
            let Ok(server) = TcpStream::connect(upstream) else {
                let _ = client.shutdown(Shutdown::Both);
                return;
            };
            let _ = client.set_nodelay(true);
            let _ = server.set_nodelay(true);
            let slot = Arc::new(slot);
            let pumps = [
                (client.try_clone(), server.try_clone()),
                (server.try_clone(), client.try_clone()),
            ];
            for (from, to) in pumps {
                match (from, to) {
                    (Ok(from), Ok(to)) => pump(from, to, latency, &slot),
                    _ => {
                        let _ = client.shutdown(Shutdown::Both);
                        let _ = server.shutdown(Shutdown::Both);
                    }
                }
            }
        })?;
    Ok(())
}

/// Copies `from` to `to`, each chunk `latency` after it was read: a reader
/// thread stamps chunks, a writer thread holds each until its time. The
/// channel between them holds [`CHUNKS`]: when the writer cannot write (its
/// reader does not read), the reader stops reading.
fn pump(mut from: TcpStream, mut to: TcpStream, latency: Duration, slot: &Arc<Slot>) {
    let (tx, rx) = mpsc::sync_channel::<(Instant, Vec<u8>)>(CHUNKS);
    let reader_slot = Arc::clone(slot);
    let closer = from.try_clone();
    let read = std::thread::Builder::new()
        .name("dbio-proxy-read".into())
        .spawn(move || {
            let _slot = reader_slot;
            let mut buf = vec![0u8; CHUNK];
            loop {
                match from.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        if tx
                            .send((Instant::now() + latency, buf[..n].to_vec()))
                            .is_err()
                        {
                            break;
                        }
                    }
                }
            }
            // Dropping `tx` tells the writer the stream ended.
        });
    if read.is_err() {
        if let Ok(from) = closer {
            let _ = from.shutdown(Shutdown::Both);
        }
        return;
    }
    let writer_slot = Arc::clone(slot);
    let _ = std::thread::Builder::new()
        .name("dbio-proxy-write".into())
        .spawn(move || {
            let _slot = writer_slot;
            for (due, chunk) in rx {
                let wait = due.saturating_duration_since(Instant::now());
                if !wait.is_zero() {
                    std::thread::sleep(wait);
                }
                if to.write_all(&chunk).is_err() {
                    break;
                }
            }
            let _ = to.shutdown(Shutdown::Write);
            // The reader may be blocked on a source nobody will read from
            // again: end it too.
            if let Ok(from) = closer {
                let _ = from.shutdown(Shutdown::Read);
            }
        });
}
