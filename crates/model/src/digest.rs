//! An order-independent digest of a result set, so approaches (and drivers)
//! can be compared row for row without keeping the rows.
//!
//! Each row is hashed over the canonical text form of its values (what the
//! MySQL text protocol sends, which both drivers expose unchanged): every
//! value is length-prefixed, NULL has its own marker, so no two different rows
//! hash the same input. Row hashes are combined by wrapping addition, which
//! ignores order but, unlike XOR, does not cancel duplicate rows.

/// FNV-1a, 64 bit: stable across versions and platforms, cheap per byte.
#[derive(Debug, Clone, Copy)]
struct Fnv(u64);

impl Fnv {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(Self::PRIME);
        }
    }
}

/// Hashes one row, value by value.
#[derive(Debug, Clone, Copy)]
pub struct RowHasher(Fnv);

impl Default for RowHasher {
    fn default() -> Self {
        RowHasher(Fnv(Fnv::OFFSET))
    }
}

impl RowHasher {
    /// Adds one value: `None` is SQL NULL, `Some(text)` its text form.
    pub fn value(&mut self, value: Option<&[u8]>) {
        match value {
            None => self.0.write(&[0]),
            Some(text) => {
                self.0.write(&[1]);
                self.0.write(&(text.len() as u64).to_le_bytes());
                self.0.write(text);
            }
        }
    }

    /// The row's hash, finalised with a 64-bit mixer so that summing row
    /// hashes does not keep FNV's weak low bits.
    pub fn finish(self) -> u64 {
        let mut z = self.0.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

/// The digest of a whole result set.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Digest(u64);

impl Digest {
    pub fn add_row(&mut self, row: RowHasher) {
        self.0 = self.0.wrapping_add(row.finish());
    }

    pub fn value(self) -> u64 {
        self.0
    }

    /// Sixteen hex digits, as the report prints it.
    pub fn hex(self) -> String {
        format!("{:016x}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digest(rows: &[&[Option<&str>]]) -> Digest {
        let mut d = Digest::default();
        for row in rows {
            let mut h = RowHasher::default();
            for v in *row {
                h.value(v.map(str::as_bytes));
            }
            d.add_row(h);
        }
        d
    }

    #[test]
    fn order_does_not_matter_but_content_does() {
        let a: &[Option<&str>] = &[Some("Ann"), Some("1")];
        let b: &[Option<&str>] = &[Some("Bob"), None];
        assert_eq!(digest(&[a, b]), digest(&[b, a]));
        assert_ne!(digest(&[a, b]), digest(&[a, a]));
        assert_ne!(digest(&[a]), digest(&[a, a]), "duplicates must count");
    }

    #[test]
    fn values_are_delimited_and_null_is_not_empty() {
        assert_ne!(
            digest(&[&[Some("ab"), Some("c")]]),
            digest(&[&[Some("a"), Some("bc")]])
        );
        assert_ne!(digest(&[&[None]]), digest(&[&[Some("")]]));
    }
}
