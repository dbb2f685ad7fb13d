//! Reading the protocol's integers and strings from one packet, in place.

use crate::error::{Error, Result};

/// A cursor over one packet's payload.
#[derive(Debug, Clone, Copy)]
pub struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    pub fn new(payload: &'a [u8]) -> Reader<'a> {
        Reader { rest: payload }
    }

    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    pub fn rest(self) -> &'a [u8] {
        self.rest
    }

    pub fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        if self.rest.len() < n {
            return Err(Error::malformed("a field runs past the packet's end"));
        }
        let (head, rest) = self.rest.split_at(n);
        self.rest = rest;
        Ok(head)
    }

    pub fn u8(&mut self) -> Result<u8> {
        Ok(self.take(1)?[0])
    }

    pub fn u16(&mut self) -> Result<u16> {
        let b = self.take(2)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }

    pub fn u32(&mut self) -> Result<u32> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// A length-encoded integer; `0xfb` (NULL in a row) is not one.
    pub fn lenenc(&mut self) -> Result<u64> {
        match self.u8()? {
            n @ 0..=0xfa => Ok(u64::from(n)),
            0xfc => Ok(u64::from(self.u16()?)),
            0xfd => {
                let b = self.take(3)?;
                Ok(u64::from(u32::from_le_bytes([b[0], b[1], b[2], 0])))
            }
            0xfe => {
                let b = self.take(8)?;
                let mut le = [0; 8];
                le.copy_from_slice(b);
                Ok(u64::from_le_bytes(le))
            }
            _ => Err(Error::malformed("not a length-encoded integer")),
        }
    }

    /// A length-encoded string.
    pub fn lenenc_bytes(&mut self) -> Result<&'a [u8]> {
        let n = self.lenenc()?;
        let n = usize::try_from(n).map_err(|_| Error::malformed("a string longer than memory"))?;
        self.take(n)
    }

    /// One value of a text-protocol row: `None` for SQL NULL (`0xfb`).
    pub fn text_value(&mut self) -> Result<Option<&'a [u8]>> {
        if self.rest.first() == Some(&0xfb) {
            self.rest = &self.rest[1..];
            return Ok(None);
        }
        self.lenenc_bytes().map(Some)
    }

    /// A string ended by a NUL byte (the NUL is consumed, not returned).
    pub fn nul_terminated(&mut self) -> Result<&'a [u8]> {
        let end = self
            .rest
            .iter()
            .position(|&b| b == 0)
            .ok_or_else(|| Error::malformed("a string without its NUL"))?;
        let s = &self.rest[..end];
        self.rest = &self.rest[end + 1..];
        Ok(s)
    }
}

/// Appends `n` as a length-encoded integer.
pub fn put_lenenc(out: &mut Vec<u8>, n: u64) {
    match n {
        0..=0xfa => out.push(n as u8),
        0xfb..=0xffff => {
            out.push(0xfc);
            out.extend_from_slice(&(n as u16).to_le_bytes());
        }
        0x1_0000..=0xff_ffff => {
            out.push(0xfd);
            out.extend_from_slice(&(n as u32).to_le_bytes()[..3]);
        }
        _ => {
            out.push(0xfe);
            out.extend_from_slice(&n.to_le_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_encoded_integers_round_trip_at_every_width() {
        for n in [
            0,
            1,
            250,
            251,
            0xffff,
            0x1_0000,
            0xff_ffff,
            0x100_0000,
            u64::MAX,
        ] {
            let mut out = Vec::new();
            put_lenenc(&mut out, n);
            let mut r = Reader::new(&out);
            assert_eq!(r.lenenc().expect("decodes"), n, "{n}");
            assert!(r.is_empty(), "{n} left bytes");
        }
    }

    #[test]
    fn row_values_tell_null_from_empty_and_refuse_truncation() {
        let row = [0xfb, 0x00, 0x03, b'a', b'b', b'c'];
        let mut r = Reader::new(&row);
        assert_eq!(r.text_value().expect("null"), None);
        assert_eq!(r.text_value().expect("empty"), Some(&b""[..]));
        assert_eq!(r.text_value().expect("abc"), Some(&b"abc"[..]));
        assert!(r.is_empty());
        let mut short = Reader::new(&[0x05, b'a']);
        assert!(short.text_value().is_err());
        assert!(Reader::new(&[0xff]).lenenc().is_err());
        assert!(Reader::new(b"abc").nul_terminated().is_err());
    }
}
