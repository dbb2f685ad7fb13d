//! Open loop: when each request of a run is due. Requests arrive at a set
//! rate whether or not the earlier ones have finished, as a dashboard's
//! users load its page; a query's latency counts from its request's due
//! time, not from when a busy client got round to sending it (coordinated
//! omission).
//!
//! The schedule is a pure function of the rate, the count, the process and
//! the seed, mirrored byte for byte by `scripts/python/dbio/arrivals.py`:
//! every approach in both languages gets the same due times. The first
//! request is due at 0; a constant process spaces the rest `1/rate` apart,
//! a Poisson process draws each gap from the exponential distribution with
//! the project's SplitMix64 ([`crate::splitmix`]). Times are whole
//! microseconds, truncated, on the run's clock.

use crate::error::Error;
use crate::splitmix::SplitMix64;

/// The default seed of the Poisson gaps (`--arrival-seed`).
pub const DEFAULT_SEED: u64 = 0xA771_7A15;

/// The most requests a run may be asked for: every due time is computed
/// before the clock starts, and each query of every request is kept.
pub const MAX_REQUESTS: u32 = 1_000_000;

/// The highest rate, in requests per second: one a microsecond, the clock's
/// resolution.
pub const MAX_RATE: f64 = 1e6;

/// How the gaps between requests are drawn.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Process {
    /// Evenly spaced, `1/rate` apart.
    Constant,
    /// Independent arrivals: exponential gaps of mean `1/rate`.
    Poisson,
}

impl Process {
    pub fn name(self) -> &'static str {
        match self {
            Process::Constant => "constant",
            Process::Poisson => "poisson",
        }
    }
}

/// A checked open-loop schedule's settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Arrivals {
    /// Requests per second.
    pub rate: f64,
    pub requests: u32,
    pub process: Process,
    pub seed: u64,
}

impl Arrivals {
    /// Checks the settings, in the words of the flags.
    pub fn new(rate: f64, requests: u32, process: Process, seed: u64) -> Result<Arrivals, Error> {
        if !(rate > 0.0 && rate <= MAX_RATE) {
            return Err(Error::Config(format!(
                "--arrivals must be more than 0 and at most {MAX_RATE:.0} requests per second"
            )));
        }
        if requests == 0 {
            return Err(Error::Config("--requests must be at least 1".into()));
        }
        if requests > MAX_REQUESTS {
            return Err(Error::Config(format!(
                "--requests must be at most {MAX_REQUESTS} (every request is built before the run)"
            )));
        }
        Ok(Arrivals {
            rate,
            requests,
            process,
            seed,
        })
    }

    /// Each request's due time, in microseconds from the run's start.
    pub fn due_us(&self) -> Vec<u64> {
        let n = self.requests as usize;
        match self.process {
            Process::Constant => (0..n)
                .map(|i| (i as f64 / self.rate * 1e6) as u64)
                .collect(),
            Process::Poisson => {
                let mut rng = SplitMix64(self.seed);
                let mut t = 0.0_f64;
                let mut due = Vec::with_capacity(n);
                for i in 0..n {
                    if i > 0 {
                        // u in (0, 1], exactly representable: -ln(u) >= 0.
                        let u = ((rng.next_u64() >> 11) + 1) as f64 / (1u64 << 53) as f64;
                        t += -u.ln() / self.rate;
                    }
                    due.push((t * 1e6) as u64);
                }
                due
            }
        }
    }
}

/// An open-loop run's requests: which queries make each one (a request's
/// queries are consecutive in the work's list) and when each is due.
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    pub arrivals: Arrivals,
    /// Queries per request: the dashboard's, or `--fanout`.
    pub per_request: usize,
    /// How long after the last request is due the run may go on: then
    /// what still runs is cancelled and counted as unfinished.
    pub drain_timeout: std::time::Duration,
    due_us: Vec<u64>,
}

impl Schedule {
    pub fn new(arrivals: Arrivals, per_request: usize, drain_timeout_s: u32) -> Schedule {
        Schedule {
            due_us: arrivals.due_us(),
            arrivals,
            per_request: per_request.max(1),
            drain_timeout: std::time::Duration::from_secs(drain_timeout_s.into()),
        }
    }

    /// When the run stops waiting, on its clock: the last request's due
    /// time and the drain timeout.
    pub fn drain_deadline_us(&self) -> u64 {
        let last = self.due_us.last().copied().unwrap_or(0);
        last.saturating_add(u64::try_from(self.drain_timeout.as_micros()).unwrap_or(u64::MAX))
    }

    /// The request of the work's query `index`, from 0.
    pub fn request_of(&self, index: usize) -> usize {
        index / self.per_request
    }

    /// When the work's query `index` is due: its request's due time.
    pub fn due_us(&self, index: usize) -> u64 {
        self.due_us
            .get(self.request_of(index))
            .copied()
            .unwrap_or_default()
    }

    pub fn requests(&self) -> usize {
        self.due_us.len()
    }
}

/// `--arrivals`' value: a rate written as digits with an optional
/// fraction (`20`, `2.5`), the same syntax the Python scripts take.
pub fn parse_rate(text: &str) -> Result<f64, String> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, "0"));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || !digits(fraction) {
        return Err(format!(
            "{text:?} is not a rate: requests per second, as digits with an optional fraction (20, 2.5)"
        ));
    }
    text.parse::<f64>().map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arrivals(rate: f64, requests: u32, process: Process) -> Arrivals {
        Arrivals::new(rate, requests, process, DEFAULT_SEED).expect("valid")
    }

    #[test]
    fn a_constant_process_spaces_requests_evenly_from_zero() {
        assert_eq!(
            arrivals(4.0, 5, Process::Constant).due_us(),
            [0, 250_000, 500_000, 750_000, 1_000_000]
        );
        // 1/3 s apart: truncated to the microsecond, never rounded up.
        assert_eq!(
            arrivals(3.0, 4, Process::Constant).due_us(),
            [0, 333_333, 666_666, 1_000_000]
        );
    }

    #[test]
    fn poisson_gaps_are_fixed_by_the_seed_and_average_one_over_the_rate() {
        let a = arrivals(100.0, 20_000, Process::Poisson);
        let due = a.due_us();
        assert_eq!(due, a.due_us(), "the same schedule every time");
        assert_eq!(due[0], 0);
        assert!(due.windows(2).all(|w| w[0] <= w[1]), "in order");
        // 19,999 gaps of mean 10 ms: their mean within 3% (the standard
        // error is 0.7%).
        let mean = due[due.len() - 1] as f64 / (due.len() - 1) as f64;
        assert!((mean - 10_000.0).abs() < 300.0, "mean gap {mean} µs");
        // Exponential: about 1 - 1/e of the gaps are shorter than the mean.
        let short = due.windows(2).filter(|w| w[1] - w[0] < 10_000).count() as f64;
        let share = short / (due.len() - 1) as f64;
        assert!((share - 0.632).abs() < 0.02, "{share}");
        let other = Arrivals::new(100.0, 20, Process::Poisson, 7).expect("valid");
        assert_ne!(other.due_us(), due[..20], "another seed, another schedule");
    }

    #[test]
    fn the_python_scripts_compute_the_same_due_times() {
        // Pinned in scripts/python/tests/arrivals_test.py too.
        assert_eq!(
            arrivals(100.0, 6, Process::Poisson).due_us(),
            [0, 13_717, 20_205, 27_186, 32_254, 42_829]
        );
        assert_eq!(
            arrivals(7.0, 4, Process::Constant).due_us(),
            [0, 142_857, 285_714, 428_571]
        );
    }

    #[test]
    fn bad_settings_are_refused_in_the_flags_words() {
        for rate in [0.0, -1.0, f64::NAN, f64::INFINITY, 2e6] {
            let e = Arrivals::new(rate, 1, Process::Poisson, 0).expect_err("refused");
            assert!(e.to_string().contains("--arrivals"), "{e}");
        }
        for requests in [0, MAX_REQUESTS + 1] {
            let e = Arrivals::new(1.0, requests, Process::Poisson, 0).expect_err("refused");
            assert!(e.to_string().contains("--requests"), "{e}");
        }
    }

    #[test]
    fn a_rate_is_digits_with_an_optional_fraction() {
        assert_eq!(parse_rate("20"), Ok(20.0));
        assert_eq!(parse_rate("2.5"), Ok(2.5));
        for bad in ["", "-1", "+2", "1e3", "2.", ".5", "inf", "NaN", " 3", "１"] {
            assert!(parse_rate(bad).is_err(), "{bad:?}");
        }
    }
}
