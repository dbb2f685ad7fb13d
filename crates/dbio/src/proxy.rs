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
//! direction), for the few connections a benchmark budget allows.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// A listening proxy.
#[derive(Debug)]
pub struct Proxy {
    listener: TcpListener,
    upstream: SocketAddr,
    latency: Duration,
}

impl Proxy {
    /// Listens on `listen` (port 0: any free port) for connections to relay
    /// to `upstream`.
    pub fn bind(
        listen: SocketAddr,
        upstream: SocketAddr,
        latency: Duration,
    ) -> std::io::Result<Proxy> {
        Ok(Proxy {
            listener: TcpListener::bind(listen)?,
            upstream,
            latency,
        })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Relays connections until the process ends.
    pub fn serve(self) -> std::io::Result<()> {
        for client in self.listener.incoming() {
            let client = client?;
            let (upstream, latency) = (self.upstream, self.latency);
            std::thread::Builder::new()
                .name("dbio-proxy".into())
                .spawn(move || relay(client, upstream, latency))?;
        }
        Ok(())
    }
}

/// One client connection: dial the server after a round trip, then pump
/// both ways until either side closes.
fn relay(client: TcpStream, upstream: SocketAddr, latency: Duration) {
    std::thread::sleep(latency * 2);
    let Ok(server) = TcpStream::connect(upstream) else {
        let _ = client.shutdown(Shutdown::Both);
        return;
    };
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let pumps = [
        (client.try_clone(), server.try_clone()),
        (server.try_clone(), client.try_clone()),
    ];
    for (from, to) in pumps {
        if let (Ok(from), Ok(to)) = (from, to) {
            pump(from, to, latency);
        }
    }
}

/// Copies `from` to `to`, each chunk `latency` after it was read: a reader
/// thread stamps chunks, a writer thread holds each until its time.
fn pump(mut from: TcpStream, mut to: TcpStream, latency: Duration) {
    let (tx, rx) = mpsc::channel::<(Instant, Vec<u8>)>();
    let _ = std::thread::Builder::new()
        .name("dbio-proxy-read".into())
        .spawn(move || {
            let mut buf = vec![0u8; 64 << 10];
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
    let _ = std::thread::Builder::new()
        .name("dbio-proxy-write".into())
        .spawn(move || {
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
        });
}
