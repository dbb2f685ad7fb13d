//! Verdicts with statistics: is one approach's mean time really different
//! from another's, given the spread of the runs?
//!
//! The measure is the ratio of means (`a / b`: above 1, `a` is slower) with
//! a 95% confidence interval from a percentile bootstrap: both samples are
//! resampled with replacement 10,000 times, the ratio of the resampled
//! means computed each time, and the 2.5th and 97.5th percentiles taken.
//! The resampling uses a fixed seed, so the same runs always give the same
//! interval. A bootstrap assumes nothing about the shape of the times'
//! distribution; with the few runs a benchmark affords (3 to 10) its
//! interval is, if anything, too narrow, so a difference whose interval
//! contains 1.0 is reported as "no measurable difference" and one that
//! excludes it only barely deserves more runs before it is called real.

/// A ratio of means with its 95% interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ratio {
    pub ratio: f64,
    pub low: f64,
    pub high: f64,
}

impl Ratio {
    /// Whether the interval contains 1.0: no measurable difference.
    pub fn inconclusive(&self) -> bool {
        self.low <= 1.0 && 1.0 <= self.high
    }
}

impl std::fmt::Display for Ratio {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:.2} [{:.2}, {:.2}]", self.ratio, self.low, self.high)?;
        if self.inconclusive() {
            f.write_str(" no measurable difference")?;
        }
        Ok(())
    }
}

const RESAMPLES: usize = 10_000;

/// The ratio of the mean of `a` to the mean of `b`, with its interval;
/// `None` when either has fewer than two runs or a mean of zero.
pub fn ratio_of_means(a: &[f64], b: &[f64]) -> Option<Ratio> {
    if a.len() < 2 || b.len() < 2 {
        return None;
    }
    let mean = |x: &[f64]| x.iter().sum::<f64>() / x.len() as f64;
    let (ma, mb) = (mean(a), mean(b));
    if mb <= 0.0 || ma <= 0.0 {
        return None;
    }
    let mut rng = SplitMix(model::splitmix::SplitMix64(0x5eed_b007));
    let mut resample = |x: &[f64]| {
        let n = x.len();
        (0..n).map(|_| x[rng.below(n)]).sum::<f64>() / n as f64
    };
    let mut ratios: Vec<f64> = (0..RESAMPLES)
        .map(|_| {
            let ra = resample(a);
            ra / resample(b)
        })
        .collect();
    ratios.sort_by(f64::total_cmp);
    let at = |q: f64| ratios[((RESAMPLES - 1) as f64 * q).round() as usize];
    Some(Ratio {
        ratio: ma / mb,
        low: at(0.025),
        high: at(0.975),
    })
}

/// The bootstrap's draws: a fixed sequence, so the same intervals forever.
pub(crate) struct SplitMix(pub(crate) model::splitmix::SplitMix64);

impl SplitMix {
    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.0.next_u64() % n as u64) as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_samples_show_no_difference() {
        let a = [12.1, 11.8, 12.6, 12.0];
        let r = ratio_of_means(&a, &a).expect("ratio");
        assert!((r.ratio - 1.0).abs() < 1e-12);
        assert!(r.inconclusive(), "{r}");
        assert!(r.to_string().contains("no measurable difference"));
    }

    #[test]
    fn separated_samples_do_not_contain_one() {
        let fast = [5.1, 5.0, 5.2, 4.9];
        let slow = [10.2, 9.9, 10.1, 10.0];
        let r = ratio_of_means(&slow, &fast).expect("ratio");
        assert!(!r.inconclusive(), "{r}");
        assert!(r.low > 1.8 && r.high < 2.2, "{r}");
        // Deterministic: the same runs give the same interval.
        assert_eq!(Some(r), ratio_of_means(&slow, &fast));
    }

    #[test]
    fn overlapping_noisy_samples_are_inconclusive() {
        let a = [12.0, 14.1, 10.2];
        let b = [11.5, 13.8, 10.9];
        assert!(ratio_of_means(&a, &b).expect("ratio").inconclusive());
        assert_eq!(ratio_of_means(&[1.0], &b), None);
    }
}
