//! What the login and the commands share: the capability flags both sides
//! announce, and the `ERR` packet either can meet.

use crate::bytes::Reader;
use crate::error::Error;

/// Capability flags (the protocol's `CLIENT_*`).
pub mod caps {
    pub const LONG_PASSWORD: u32 = 1;
    pub const LONG_FLAG: u32 = 1 << 2;
    pub const CONNECT_WITH_DB: u32 = 1 << 3;
    pub const PROTOCOL_41: u32 = 1 << 9;
    pub const TRANSACTIONS: u32 = 1 << 13;
    pub const SECURE_CONNECTION: u32 = 1 << 15;
    pub const MULTI_RESULTS: u32 = 1 << 17;
    pub const PLUGIN_AUTH: u32 = 1 << 19;
    pub const PLUGIN_AUTH_LENENC_DATA: u32 = 1 << 21;
    pub const DEPRECATE_EOF: u32 = 1 << 24;
}

/// The server's error packet as an [`Error`].
pub fn server_error(packet: &[u8]) -> Error {
    let mut r = Reader::new(packet.get(1..).unwrap_or_default());
    let Ok(code) = r.u16() else {
        return Error::malformed("a short error packet");
    };
    let mut state = "HY000".to_owned();
    let mut rest = r.rest();
    if rest.first() == Some(&b'#') && rest.len() >= 6 {
        state = String::from_utf8_lossy(&rest[1..6]).into_owned();
        rest = &rest[6..];
    }
    Error::Server {
        code,
        state,
        message: String::from_utf8_lossy(rest).into_owned(),
    }
}
