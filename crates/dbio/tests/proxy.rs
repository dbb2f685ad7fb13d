//! The latency proxy under abuse: out of file descriptors it logs and goes
//! on serving; a client that never reads does not grow it (back-pressure);
//! it refuses to expose the server to the network unless asked; its port
//! file is never written through a symlink.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use testkit::hostile::{Playground, as_nobody_ok};

/// A proxy started as `dbio proxy` (with `prefix`, e.g. a lower
/// `ulimit -n`), and the port it listens on.
struct Running {
    child: Child,
    port: u16,
    log: std::sync::mpsc::Receiver<String>,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(ulimit: Option<u32>, upstream: u16, extra: &[&str]) -> Running {
    let dbio = env!("CARGO_BIN_EXE_dbio");
    let mut args = vec![
        "proxy".to_owned(),
        "--latency-ms=1".to_owned(),
        format!("--upstream=127.0.0.1:{upstream}"),
    ];
    args.extend(extra.iter().map(|s| (*s).to_owned()));
    let mut cmd = match ulimit {
        Some(n) => {
            let mut c = Command::new("sh");
            c.arg("-c")
                .arg(format!("ulimit -n {n} && exec \"$0\" \"$@\""))
                .arg(dbio)
                .args(&args);
            c
        }
        None => {
            let mut c = Command::new(dbio);
            c.args(&args);
            c
        }
    };
    testkit::scrub(&mut cmd);
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("dbio proxy");
    let stderr = BufReader::new(child.stderr.take().expect("stderr"));
    let (tx, log) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in stderr.lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let until = Instant::now() + Duration::from_secs(10);
    let port = loop {
        let line = log
            .recv_timeout(until.saturating_duration_since(Instant::now()))
            .expect("the proxy says where it listens");
        let port = line
            .split("relaying ")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|addr| addr.rsplit(':').next()?.parse().ok());
        if let Some(port) = port {
            break port;
        }
    };
    Running { child, port, log }
}

/// An upstream that greets every connection with `greeting` and then
/// echoes.
fn echo_upstream(greeting: &'static [u8]) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("listen");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for conn in listener.incoming().map_while(Result::ok) {
            std::thread::spawn(move || {
                let mut conn = conn;
                if conn.write_all(greeting).is_err() {
                    return;
                }
                let mut buf = [0u8; 4096];
                while let Ok(n) = conn.read(&mut buf) {
                    if n == 0 || conn.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
            });
        }
    });
    port
}

/// One round trip through the proxy works.
fn works(port: u16) -> bool {
    let Ok(mut conn) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = conn.set_read_timeout(Some(Duration::from_secs(5)));
    let mut hello = [0u8; 5];
    conn.read_exact(&mut hello).is_ok()
        && &hello == b"hello"
        && conn.write_all(b"ping").is_ok()
        && {
            let mut back = [0u8; 4];
            conn.read_exact(&mut back).is_ok() && &back == b"ping"
        }
}

fn alive(proxy: &mut Running) -> bool {
    proxy.child.try_wait().expect("wait").is_none()
}

#[test]
fn out_of_file_descriptors_the_proxy_logs_and_keeps_serving() {
    let upstream = echo_upstream(b"hello");
    let mut proxy = start(Some(64), upstream, &[]);
    assert!(works(proxy.port));
    // Far more connections than 64 descriptors hold (each takes six).
    let mut clients = Vec::new();
    for _ in 0..100 {
        if let Ok(c) = TcpStream::connect(("127.0.0.1", proxy.port)) {
            clients.push(c);
        }
    }
    let said = testkit::poll("the proxy to run out", Duration::from_secs(10), || {
        proxy
            .log
            .try_iter()
            .find(|l| l.contains("cannot") && l.contains("retrying"))
    });
    assert!(said.contains("Too many open files"), "{said}");
    assert!(alive(&mut proxy), "the proxy exited: {said}");
    drop(clients);
    testkit::poll("the proxy to serve again", Duration::from_secs(20), || {
        works(proxy.port).then_some(())
    });
    assert!(alive(&mut proxy));
}

#[test]
fn a_client_that_never_reads_does_not_grow_the_proxy() {
    // An upstream that streams as fast as it can.
    let listener = TcpListener::bind("127.0.0.1:0").expect("listen");
    let upstream = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        if let Ok((mut conn, _)) = listener.accept() {
            let chunk = vec![7u8; 1 << 20];
            while conn.write_all(&chunk).is_ok() {}
        }
    });
    let mut proxy = start(None, upstream, &[]);
    let _never_reads = TcpStream::connect(("127.0.0.1", proxy.port)).expect("connect");
    let pid = proxy.child.id();
    let rss_mib = || -> u64 {
        std::fs::read_to_string(format!("/proc/{pid}/status"))
            .expect("status")
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
            .expect("VmRSS")
            >> 10
    };
    let until = Instant::now() + Duration::from_secs(3);
    let mut most = 0;
    while Instant::now() < until {
        most = most.max(rss_mib());
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(alive(&mut proxy));
    // Unbounded, it grew by hundreds of MiB a second.
    assert!(most < 64, "the proxy grew to {most} MiB");
}

#[test]
fn listening_beyond_loopback_needs_allow_remote() {
    let upstream = echo_upstream(b"hello");
    let out = Command::new(env!("CARGO_BIN_EXE_dbio"))
        .args([
            "proxy",
            "--latency-ms=1",
            &format!("--upstream=127.0.0.1:{upstream}"),
            "--listen=0.0.0.0:0",
        ])
        .stdin(Stdio::null())
        .output()
        .expect("dbio proxy");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("--allow-remote"), "{err}");
    let mut proxy = start(None, upstream, &["--listen=0.0.0.0:0", "--allow-remote"]);
    let said = proxy.log.try_iter().collect::<Vec<_>>().join("\n");
    assert!(alive(&mut proxy), "{said}");
    assert!(works(proxy.port));
}

/// Item 7: another user plants the port file as a symlink to a file of
/// root's in a sticky directory; the proxy replaces the link, and the
/// file stays as it was.
#[test]
fn the_port_file_is_never_written_through_a_symlink() {
    let tmp = Playground::new("portfile", 0o1777);
    let precious = tmp.path("precious");
    std::fs::write(&precious, b"root's").expect("precious");
    let port_file = tmp.path("x.port");
    if testkit::hostile::can_attack("the port file's link planted by nobody") {
        as_nobody_ok(&format!(
            "ln -s {} {}",
            precious.display(),
            port_file.display()
        ));
    } else {
        std::os::unix::fs::symlink(&precious, &port_file).expect("symlink");
    }
    let upstream = echo_upstream(b"hello");
    let arg = format!("--port-file={}", port_file.display());
    let proxy = start(None, upstream, &[&arg]);
    let meta = std::fs::symlink_metadata(&port_file).expect("port file");
    assert!(meta.is_file(), "still a symlink");
    assert_eq!(
        std::fs::read_to_string(&port_file).expect("port"),
        proxy.port.to_string()
    );
    assert_eq!(std::fs::read(&precious).expect("precious"), b"root's");
}
