//! A malicious MySQL server: a TCP listener on the loopback that speaks
//! just enough of the protocol for a client to log in (any user, any
//! password), answers statements that set something with OK and other
//! queries with one row, and meets the queries that contain its trigger
//! with an [`Attack`]. Every connection has a thread, which stops when the
//! client goes away or after [`LIFETIME`]; the listener stops when dropped.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// How long a connection's thread serves at most.
pub const LIFETIME: Duration = Duration::from_secs(120);

/// What the server does to a query that contains the trigger (or, for
/// [`Attack::EndlessAtLogin`], to every login).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attack {
    /// 16 MiB continuation packets, one after another, forever.
    EndlessPacket,
    /// The same in place of the greeting.
    EndlessAtLogin,
    /// One column, and a row whose value announces 2^62 bytes.
    HugeValue,
    /// A column count of 2^24, then column definitions forever.
    ManyColumns,
    /// A column count of 2^64 - 1.
    OverflowingCount,
}

impl Attack {
    pub const ALL: [Attack; 5] = [
        Attack::EndlessPacket,
        Attack::EndlessAtLogin,
        Attack::HugeValue,
        Attack::ManyColumns,
        Attack::OverflowingCount,
    ];
}

/// The listener; stops accepting when dropped.
#[derive(Debug)]
pub struct EvilServer {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
}

impl EvilServer {
    /// Listens on a free loopback port; queries containing `trigger` meet
    /// `attack`.
    pub fn start(attack: Attack, trigger: &str) -> EvilServer {
        EvilServer::start_on("127.0.0.1:0", attack, trigger)
    }

    /// [`EvilServer::start`] on another address (`[::1]:0`).
    pub fn start_on(addr: &str, attack: Attack, trigger: &str) -> EvilServer {
        let listener = TcpListener::bind(addr).expect("bind the evil server");
        let addr = listener.local_addr().expect("its address");
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = Arc::clone(&stop);
        let trigger = trigger.to_owned();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stopped.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let trigger = trigger.clone();
                let stopped = Arc::clone(&stopped);
                std::thread::spawn(move || {
                    let _ = serve(stream, attack, &trigger, &stopped);
                });
            }
        });
        EvilServer { addr, stop }
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// A URL for it (the password is never checked).
    pub fn url(&self) -> String {
        let host = match self.addr {
            SocketAddr::V4(a) => a.ip().to_string(),
            SocketAddr::V6(a) => format!("[{}]", a.ip()),
        };
        format!("mysql://evil:secret@{host}:{}/employees", self.port())
    }
}

impl Drop for EvilServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accept loop.
        let _ = TcpStream::connect(self.addr);
    }
}

/// One connection: greeting, login, then commands until the client quits.
fn serve(
    mut stream: TcpStream,
    attack: Attack,
    trigger: &str,
    stop: &AtomicBool,
) -> std::io::Result<()> {
    let until = Instant::now() + LIFETIME;
    stream.set_read_timeout(Some(LIFETIME))?;
    stream.set_write_timeout(Some(Duration::from_secs(10)))?;
    if attack == Attack::EndlessAtLogin {
        return endless(&mut stream, 0, until, stop);
    }
    write_packet(&mut stream, 0, &greeting())?;
    let _login = read_packet(&mut stream)?;
    write_packet(&mut stream, 2, &ok())?;
    loop {
        let command = read_packet(&mut stream)?;
        match command.first() {
            Some(0x01) | None => return Ok(()),
            Some(0x03) => {
                let sql = String::from_utf8_lossy(&command[1..]).into_owned();
                if sql.contains(trigger) {
                    return attack_query(&mut stream, attack, until, stop);
                }
                answer(&mut stream, &sql)?;
            }
            _ => write_packet(&mut stream, 1, &ok())?,
        }
    }
}

/// A statement that is not a query gets OK; a query, one row of as many
/// columns as its select list has commas plus one, each `67108864` (what a
/// driver asks for at connect time is a size or a timeout).
fn answer(stream: &mut TcpStream, sql: &str) -> std::io::Result<()> {
    let trimmed = sql.trim_start();
    if !trimmed
        .get(..6)
        .is_some_and(|s| s.eq_ignore_ascii_case("select"))
    {
        return write_packet(stream, 1, &ok());
    }
    let list = trimmed
        .to_ascii_lowercase()
        .split(" from ")
        .next()
        .unwrap_or_default()
        .to_owned();
    let mut depth = 0i32;
    let mut columns = 1;
    for c in list.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => columns += 1,
            _ => {}
        }
    }
    let mut seq = 1;
    let mut out = Vec::new();
    frame(&mut out, &mut seq, &lenenc(columns));
    for _ in 0..columns {
        frame(&mut out, &mut seq, &column_definition());
    }
    frame(&mut out, &mut seq, &eof());
    let mut row = Vec::new();
    for _ in 0..columns {
        row.extend_from_slice(&lenenc_str(b"67108864"));
    }
    frame(&mut out, &mut seq, &row);
    frame(&mut out, &mut seq, &eof());
    stream.write_all(&out)
}

fn attack_query(
    stream: &mut TcpStream,
    attack: Attack,
    until: Instant,
    stop: &AtomicBool,
) -> std::io::Result<()> {
    let mut seq = 1u8;
    let mut out = Vec::new();
    match attack {
        Attack::EndlessPacket | Attack::EndlessAtLogin => {
            return endless(stream, 1, until, stop);
        }
        Attack::HugeValue => {
            frame(&mut out, &mut seq, &lenenc(1));
            frame(&mut out, &mut seq, &column_definition());
            frame(&mut out, &mut seq, &eof());
            let mut row = vec![0xfe];
            row.extend_from_slice(&(1u64 << 62).to_le_bytes());
            row.extend_from_slice(b"abc");
            frame(&mut out, &mut seq, &row);
            stream.write_all(&out)?;
        }
        Attack::ManyColumns => {
            let mut count = vec![0xfe];
            count.extend_from_slice(&(1u64 << 24).to_le_bytes());
            frame(&mut out, &mut seq, &count);
            stream.write_all(&out)?;
            let definition = column_definition();
            while Instant::now() < until && !stop.load(Ordering::SeqCst) {
                out.clear();
                for _ in 0..4096 {
                    frame(&mut out, &mut seq, &definition);
                }
                stream.write_all(&out)?;
            }
            return Ok(());
        }
        Attack::OverflowingCount => {
            let mut count = vec![0xfe];
            count.extend_from_slice(&u64::MAX.to_le_bytes());
            frame(&mut out, &mut seq, &count);
            stream.write_all(&out)?;
        }
    }
    // Then the connection is closed: a server that falls silent instead is
    // another fault, which a query has no deadline for (its duration is
    // the measurement).
    let _ = stream.shutdown(Shutdown::Both);
    Ok(())
}

/// Full 16 MiB packets with consecutive sequence numbers, until the client
/// goes away.
fn endless(
    stream: &mut TcpStream,
    mut seq: u8,
    until: Instant,
    stop: &AtomicBool,
) -> std::io::Result<()> {
    let mut packet = vec![0u8; 4 + 0xff_ffff];
    packet[..3].copy_from_slice(&[0xff, 0xff, 0xff]);
    while Instant::now() < until && !stop.load(Ordering::SeqCst) {
        packet[3] = seq;
        seq = seq.wrapping_add(1);
        stream.write_all(&packet)?;
    }
    Ok(())
}

fn greeting() -> Vec<u8> {
    let caps: u32 = 1 | 1 << 2 | 1 << 3 | 1 << 9 | 1 << 13 | 1 << 15 | 1 << 17 | 1 << 19 | 1 << 21;
    let mut g = vec![10];
    g.extend_from_slice(b"5.5.5-10.11.0-MariaDB-evil\0");
    g.extend_from_slice(&7u32.to_le_bytes());
    g.extend_from_slice(b"abcdefgh");
    g.push(0);
    g.extend_from_slice(&(caps as u16).to_le_bytes());
    g.push(45);
    g.extend_from_slice(&2u16.to_le_bytes());
    g.extend_from_slice(&((caps >> 16) as u16).to_le_bytes());
    g.push(21);
    g.extend_from_slice(&[0; 10]);
    g.extend_from_slice(b"ijklmnopqrst\0");
    g.extend_from_slice(b"mysql_native_password\0");
    g
}

fn ok() -> Vec<u8> {
    vec![0, 0, 0, 2, 0, 0, 0]
}

fn eof() -> Vec<u8> {
    vec![0xfe, 0, 0, 2, 0]
}

fn column_definition() -> Vec<u8> {
    let mut c = Vec::new();
    for part in [&b"def"[..], b"", b"", b"", b"c", b""] {
        c.extend_from_slice(&lenenc_str(part));
    }
    c.push(0x0c);
    c.extend_from_slice(&45u16.to_le_bytes());
    c.extend_from_slice(&255u32.to_le_bytes());
    c.push(0xfd);
    c.extend_from_slice(&0u16.to_le_bytes());
    c.push(0);
    c.extend_from_slice(&0u16.to_le_bytes());
    c
}

fn lenenc(n: u64) -> Vec<u8> {
    match n {
        0..=250 => vec![n as u8],
        251..=0xffff => [&[0xfc][..], &(n as u16).to_le_bytes()].concat(),
        0x1_0000..=0xff_ffff => [&[0xfd][..], &(n as u32).to_le_bytes()[..3]].concat(),
        _ => [&[0xfe][..], &n.to_le_bytes()].concat(),
    }
}

fn lenenc_str(s: &[u8]) -> Vec<u8> {
    [lenenc(s.len() as u64), s.to_vec()].concat()
}

fn frame(out: &mut Vec<u8>, seq: &mut u8, payload: &[u8]) {
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes()[..3]);
    out.push(*seq);
    *seq = seq.wrapping_add(1);
    out.extend_from_slice(payload);
}

fn write_packet(stream: &mut TcpStream, mut seq: u8, payload: &[u8]) -> std::io::Result<()> {
    let mut out = Vec::with_capacity(payload.len() + 4);
    frame(&mut out, &mut seq, payload);
    stream.write_all(&out)
}

/// One packet's payload (small: logins and commands).
fn read_packet(stream: &mut TcpStream) -> std::io::Result<Vec<u8>> {
    let mut header = [0u8; 4];
    stream.read_exact(&mut header)?;
    let len = u32::from_le_bytes([header[0], header[1], header[2], 0]) as usize;
    if len > 1 << 20 {
        return Err(std::io::Error::other("a client packet over 1 MiB"));
    }
    let mut payload = vec![0; len];
    stream.read_exact(&mut payload)?;
    Ok(payload)
}
