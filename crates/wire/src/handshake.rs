//! Logging in: the server's greeting (protocol 10), the client's answer
//! with a `mysql_native_password` scramble, an auth switch to the same
//! plugin with a fresh nonce, then `OK` or `ERR`.

use sha1::{Digest, Sha1};

use crate::bytes::{Reader, put_lenenc};
use crate::error::{Error, Result};
use crate::framed::Framed;
use crate::packet::{caps, server_error};

/// The only auth plugin this client speaks.
const NATIVE: &[u8] = b"mysql_native_password";

/// `utf8mb4_general_ci`: results come back in UTF-8, as the other drivers ask.
const UTF8MB4: u8 = 45;

/// What the login settled.
#[derive(Debug, Clone, Copy)]
pub struct Session {
    /// The capabilities both sides have.
    pub caps: u32,
    /// The server's id of this connection.
    pub connection_id: u32,
}

/// Who logs in, to which database.
#[derive(Debug, Clone, Copy)]
pub struct Login<'a> {
    pub user: &'a str,
    pub password: &'a [u8],
    pub database: Option<&'a str>,
    /// The largest packet the client accepts.
    pub max_packet: usize,
}

/// Reads the greeting and logs in.
pub fn login(framed: &mut Framed, login: &Login<'_>) -> Result<Session> {
    let greeting = Greeting::parse(framed.next()?)?;
    let wanted = caps::LONG_PASSWORD
        | caps::LONG_FLAG
        | caps::PROTOCOL_41
        | caps::TRANSACTIONS
        | caps::SECURE_CONNECTION
        | caps::MULTI_RESULTS
        | caps::PLUGIN_AUTH
        | caps::PLUGIN_AUTH_LENENC_DATA
        | caps::DEPRECATE_EOF
        | if login.database.is_some() {
            caps::CONNECT_WITH_DB
        } else {
            0
        };
    let required = caps::PROTOCOL_41 | caps::SECURE_CONNECTION | caps::PLUGIN_AUTH;
    if greeting.caps & required != required {
        return Err(Error::Unsupported(
            "the server predates the 4.1 protocol with auth plugins".into(),
        ));
    }
    let caps = wanted & greeting.caps;
    let scramble = native_scramble(&greeting.nonce, login.password);
    let mut answer = Vec::with_capacity(128);
    answer.extend_from_slice(&caps.to_le_bytes());
    answer.extend_from_slice(
        &u32::try_from(login.max_packet)
            .unwrap_or(u32::MAX)
            .to_le_bytes(),
    );
    answer.push(UTF8MB4);
    answer.extend_from_slice(&[0; 23]);
    answer.extend_from_slice(login.user.as_bytes());
    answer.push(0);
    put_lenenc(&mut answer, scramble.len() as u64);
    answer.extend_from_slice(&scramble);
    if let Some(db) = login.database {
        answer.extend_from_slice(db.as_bytes());
        answer.push(0);
    }
    answer.extend_from_slice(NATIVE);
    answer.push(0);
    framed.send(&[&answer])?;
    let mut switched = false;
    loop {
        let reply = framed.next()?;
        match reply.first() {
            Some(0x00) => break,
            Some(0xff) => return Err(server_error(reply)),
            // An auth switch: the same plugin with a new nonce, once.
            Some(0xfe) if !switched => {
                let mut r = Reader::new(&reply[1..]);
                let plugin = r.nul_terminated()?;
                if plugin != NATIVE {
                    return Err(unsupported_plugin(plugin));
                }
                let nonce = r.rest();
                let nonce = nonce.strip_suffix(&[0]).unwrap_or(nonce);
                let scramble = native_scramble(nonce, login.password);
                framed.send(&[&scramble])?;
                switched = true;
            }
            _ => {
                return Err(Error::Unsupported(
                    "the server asked for an authentication exchange other than mysql_native_password"
                        .into(),
                ));
            }
        }
    }
    Ok(Session {
        caps,
        connection_id: greeting.connection_id,
    })
}

fn unsupported_plugin(plugin: &[u8]) -> Error {
    Error::Unsupported(format!(
        "the server asks for the auth plugin {}; this client speaks mysql_native_password only",
        String::from_utf8_lossy(plugin)
    ))
}

/// The server's first packet.
#[derive(Debug)]
struct Greeting {
    connection_id: u32,
    caps: u32,
    nonce: Vec<u8>,
}

impl Greeting {
    fn parse(packet: &[u8]) -> Result<Greeting> {
        if packet.first() == Some(&0xff) {
            return Err(server_error(packet));
        }
        let mut r = Reader::new(packet);
        let version = r.u8()?;
        if version != 10 {
            return Err(Error::Unsupported(format!(
                "protocol version {version} (this client speaks 10)"
            )));
        }
        r.nul_terminated()?; // server version
        let connection_id = r.u32()?;
        let mut nonce = r.take(8)?.to_vec();
        r.u8()?; // filler
        let low = u32::from(r.u16()?);
        r.u8()?; // character set
        r.u16()?; // status
        let high = u32::from(r.u16()?);
        let caps = low | high << 16;
        let data_len = usize::from(r.u8()?);
        r.take(10)?; // reserved (MariaDB: its extended capabilities)
        if caps & caps::SECURE_CONNECTION != 0 {
            let more = data_len.saturating_sub(8).max(13);
            let part = r.take(more)?;
            nonce.extend_from_slice(part.strip_suffix(&[0]).unwrap_or(part));
        }
        // The plugin the server names last is not read: the answer names
        // mysql_native_password, and a server that wants another for this
        // user switches (and the switch fails with its name).
        Ok(Greeting {
            connection_id,
            caps,
            nonce,
        })
    }
}

/// `SHA1(password) XOR SHA1(nonce + SHA1(SHA1(password)))`; empty for an
/// empty password.
pub fn native_scramble(nonce: &[u8], password: &[u8]) -> Vec<u8> {
    if password.is_empty() {
        return Vec::new();
    }
    let stage1 = Sha1::digest(password);
    let stage2 = Sha1::digest(stage1);
    let mut h = Sha1::new();
    h.update(nonce);
    h.update(stage2);
    let mask = h.finalize();
    stage1.iter().zip(mask.iter()).map(|(a, b)| a ^ b).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scramble_is_the_servers_check_inverted() {
        // The server stores SHA1(SHA1(password)) and checks
        // SHA1(reply XOR SHA1(nonce + stored)) == stored.
        let nonce = b"abcdefghij0123456789";
        let reply = native_scramble(nonce, b"secret");
        let stored = Sha1::digest(Sha1::digest(b"secret"));
        let mut h = Sha1::new();
        h.update(nonce);
        h.update(stored);
        let mask = h.finalize();
        let stage1: Vec<u8> = reply.iter().zip(mask.iter()).map(|(a, b)| a ^ b).collect();
        assert_eq!(Sha1::digest(&stage1), stored);
        assert!(native_scramble(nonce, b"").is_empty());
    }
}
