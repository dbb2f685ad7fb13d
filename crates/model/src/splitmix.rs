//! SplitMix64: a tiny generator whose sequence is fixed forever (unlike a
//! crate's default RNG), so that generated data, point keys and bootstrap
//! intervals stay the same from build to build. The dataset generator, the
//! point workload (mirrored in `scripts/python/dbio/splitmix.py`) and the
//! verdicts' bootstrap each draw from their own seed.

/// The generator's state.
#[derive(Debug, Clone)]
pub struct SplitMix64(pub u64);

impl SplitMix64 {
    /// The next value of the sequence.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_sequence_is_the_published_one() {
        // SplitMix64 seeded with 0: the reference implementation's first outputs.
        let mut rng = super::SplitMix64(0);
        assert_eq!(rng.next_u64(), 0xe220_a839_7b1d_cdaf);
        assert_eq!(rng.next_u64(), 0x6e78_9e6a_a1b9_65f4);
    }
}
