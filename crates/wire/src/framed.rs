//! Packets over one TCP stream: a 3-byte length and a sequence number
//! before each payload. Reads go into one buffer that grows to the largest
//! packet seen and is reused, so a packet is handed out in place; a reply
//! that arrives in one segment costs one `recv`. Writes are assembled in
//! one buffer and sent with one `send`.

use std::io::{self, Read, Write};
use std::net::TcpStream;

use crate::error::{Error, Result};

/// The largest payload of one packet; a longer one continues in the next.
pub const MAX_PAYLOAD: usize = 0xff_ffff;

/// How much the read buffer holds at first (a point lookup's whole reply
/// is well under it).
const INITIAL_CAPACITY: usize = 16 * 1024;

#[derive(Debug)]
pub struct Framed {
    stream: TcpStream,
    /// Received bytes; `start..end` not yet handed out.
    buf: Vec<u8>,
    start: usize,
    end: usize,
    /// A payload split over several packets, joined.
    joined: Vec<u8>,
    out: Vec<u8>,
    /// The sequence number of the next packet either way.
    seq: u8,
    /// The largest payload accepted (several packets joined), and sent.
    max_packet: usize,
}

impl Framed {
    /// Framing over `stream` that refuses a payload over `max_packet`
    /// bytes either way, before reading (or allocating) more of it.
    pub fn new(stream: TcpStream, max_packet: usize) -> Framed {
        Framed {
            stream,
            buf: vec![0; INITIAL_CAPACITY],
            start: 0,
            end: 0,
            joined: Vec::new(),
            out: Vec::with_capacity(256),
            seq: 0,
            max_packet,
        }
    }

    pub fn stream(&self) -> &TcpStream {
        &self.stream
    }

    /// A new command starts a new sequence.
    pub fn reset_seq(&mut self) {
        self.seq = 0;
    }

    /// Sends one payload (split into packets where it is longer than one
    /// may be) with one write.
    pub fn send(&mut self, parts: &[&[u8]]) -> Result<()> {
        let total: usize = parts.iter().map(|p| p.len()).sum();
        if total > self.max_packet {
            return Err(Error::TooLarge(format!(
                "a statement of {total} bytes is over the client's limit of {} bytes (--max-packet)",
                self.max_packet
            )));
        }
        self.out.clear();
        self.out.reserve(total + 4 * (total / MAX_PAYLOAD + 1));
        let mut chunk_left = 0;
        let mut sent = 0;
        // Every packet but the last is full; a payload of an exact multiple
        // of the maximum ends with an empty packet.
        for part in parts {
            let mut part = *part;
            while !part.is_empty() {
                if chunk_left == 0 {
                    chunk_left = header_for(&mut self.out, &mut self.seq, total - sent);
                }
                let n = chunk_left.min(part.len());
                self.out.extend_from_slice(&part[..n]);
                part = &part[n..];
                chunk_left -= n;
                sent += n;
            }
        }
        if total == 0 || total.is_multiple_of(MAX_PAYLOAD) {
            header_for(&mut self.out, &mut self.seq, 0);
        }
        self.stream.write_all(&self.out)?;
        Ok(())
    }

    /// The next packet's payload, in place in the read buffer (or in the
    /// join buffer for a payload of several packets).
    pub fn next(&mut self) -> Result<&[u8]> {
        let (start, len) = self.next_frame()?;
        if len < MAX_PAYLOAD {
            return Ok(&self.buf[start..start + len]);
        }
        self.joined.clear();
        self.joined.extend_from_slice(&self.buf[start..start + len]);
        loop {
            let (start, len) = self.next_frame()?;
            if self.joined.len() + len > self.max_packet {
                self.joined = Vec::new();
                return Err(Error::TooLarge(format!(
                    "the server sent a packet of more than {} bytes, the client's limit (--max-packet)",
                    self.max_packet
                )));
            }
            self.joined.extend_from_slice(&self.buf[start..start + len]);
            if len < MAX_PAYLOAD {
                return Ok(&self.joined);
            }
        }
    }

    /// Reads one frame; returns where its payload lies in `buf`.
    fn next_frame(&mut self) -> Result<(usize, usize)> {
        self.fill(4)?;
        let h = &self.buf[self.start..self.start + 4];
        let len = u32::from_le_bytes([h[0], h[1], h[2], 0]) as usize;
        let seq = h[3];
        if seq != self.seq {
            return Err(Error::malformed(&format!(
                "packet {seq} where {} was due",
                self.seq
            )));
        }
        self.seq = self.seq.wrapping_add(1);
        if len > self.max_packet {
            return Err(Error::TooLarge(format!(
                "the server sent a packet of {len} bytes, over the client's limit of {} bytes (--max-packet)",
                self.max_packet
            )));
        }
        self.fill(4 + len)?;
        let payload = self.start + 4;
        self.start = payload + len;
        Ok((payload, len))
    }

    /// Makes at least `n` unread bytes available, reading as much as the
    /// socket has in each call.
    fn fill(&mut self, n: usize) -> Result<()> {
        if self.end - self.start >= n {
            return Ok(());
        }
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        } else if self.buf.len() - self.start < n {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.buf.len() < n {
            self.buf.resize(n.next_power_of_two(), 0);
        }
        while self.end - self.start < n {
            match self.stream.read(&mut self.buf[self.end..]) {
                Ok(0) => {
                    return Err(Error::Io(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "the server closed the connection",
                    )));
                }
                Ok(read) => self.end += read,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(Error::Io(e)),
            }
        }
        Ok(())
    }
}

/// Appends the header of the next packet, which carries `remaining` bytes
/// or the most one packet may; returns its payload's length.
fn header_for(out: &mut Vec<u8>, seq: &mut u8, remaining: usize) -> usize {
    let len = remaining.min(MAX_PAYLOAD);
    out.extend_from_slice(&(len as u32).to_le_bytes()[..3]);
    out.push(*seq);
    *seq = seq.wrapping_add(1);
    len
}

#[cfg(test)]
mod tests {
    use std::net::TcpListener;

    use super::*;

    /// Both ends of a loopback connection: the framing under test and the raw peer.
    fn pair() -> (Framed, TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let client = TcpStream::connect(listener.local_addr().expect("addr")).expect("connect");
        let (peer, _) = listener.accept().expect("accept");
        (Framed::new(client, 64 << 20), peer)
    }

    fn frame(seq: u8, payload: &[u8]) -> Vec<u8> {
        let mut out = (payload.len() as u32).to_le_bytes()[..3].to_vec();
        out.push(seq);
        out.extend_from_slice(payload);
        out
    }

    #[test]
    fn a_payload_of_several_packets_is_joined_and_small_ones_follow_in_place() {
        let (mut framed, mut peer) = pair();
        let big = vec![7u8; MAX_PAYLOAD + 10];
        let writer = std::thread::spawn(move || {
            peer.write_all(&frame(0, &big[..MAX_PAYLOAD]))
                .expect("write");
            peer.write_all(&frame(1, &big[MAX_PAYLOAD..]))
                .expect("write");
            peer.write_all(&frame(2, b"ok")).expect("write");
            peer
        });
        let joined = framed.next().expect("joined").to_vec();
        assert_eq!(joined.len(), MAX_PAYLOAD + 10);
        assert!(joined.iter().all(|&b| b == 7));
        assert_eq!(framed.next().expect("small"), b"ok");
        drop(writer.join().expect("writer"));
        assert!(framed.next().expect_err("closed").breaks_connection());
    }

    #[test]
    fn a_payload_of_exactly_one_full_packet_is_followed_by_an_empty_one() {
        let (mut framed, mut peer) = pair();
        let reader = std::thread::spawn(move || {
            let mut all = Vec::new();
            peer.read_to_end(&mut all).expect("read");
            all
        });
        framed
            .send(&[&[3], &vec![b'x'; MAX_PAYLOAD - 1]])
            .expect("send");
        drop(framed);
        let sent = reader.join().expect("reader");
        assert_eq!(sent.len(), 4 + MAX_PAYLOAD + 4);
        assert_eq!(&sent[..5], &[0xff, 0xff, 0xff, 0, 3]);
        assert_eq!(&sent[4 + MAX_PAYLOAD..], &[0, 0, 0, 1]);
    }

    /// D1 of the third hostile pass: continuation packets without end are
    /// refused once the joined payload would pass the limit, before it is
    /// read: the buffers stay at a packet's size.
    #[test]
    fn a_payload_over_the_limit_is_refused_before_it_is_read() {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let client = TcpStream::connect(listener.local_addr().expect("addr")).expect("connect");
        let (mut peer, _) = listener.accept().expect("accept");
        let limit = 2 * MAX_PAYLOAD + 100;
        let mut framed = Framed::new(client, limit);
        let writer = std::thread::spawn(move || {
            let full = vec![0u8; MAX_PAYLOAD];
            // Stops when the client goes away; far more than the limit.
            for seq in 0..64u8 {
                if peer.write_all(&frame(seq, &full)).is_err() {
                    break;
                }
            }
        });
        let err = framed.next().expect_err("too large");
        assert!(
            err.to_string().contains("more than") && err.to_string().contains("--max-packet"),
            "{err}"
        );
        assert!(err.breaks_connection());
        assert!(
            framed.joined.capacity() == 0,
            "the joined payload is let go"
        );
        assert!(
            framed.buf.len() <= 2 * (MAX_PAYLOAD + 4),
            "{}",
            framed.buf.len()
        );
        drop(framed);
        writer.join().expect("writer");
        // One packet announcing more than the limit: refused on its header.
        let (client, mut peer) = {
            let client = TcpStream::connect(listener.local_addr().expect("addr")).expect("connect");
            let (peer, _) = listener.accept().expect("accept");
            (client, peer)
        };
        let mut framed = Framed::new(client, 1024);
        peer.write_all(&[0x00, 0x10, 0x00, 0])
            .expect("header of 4 KiB");
        let err = framed.next().expect_err("too large");
        assert!(
            err.to_string()
                .contains("4096 bytes, over the client's limit of 1024"),
            "{err}"
        );
        // And a statement over it is not sent.
        let err = framed.send(&[&[3], &[b'x'; 2000]]).expect_err("too large");
        assert!(err.to_string().contains("statement of 2001 bytes"), "{err}");
    }

    #[test]
    fn a_packet_out_of_sequence_is_refused() {
        let (mut framed, mut peer) = pair();
        peer.write_all(&frame(5, b"late")).expect("write");
        let err = framed.next().expect_err("out of sequence");
        assert!(
            err.to_string().contains("packet 5 where 0 was due"),
            "{err}"
        );
    }
}
