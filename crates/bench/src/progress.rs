//! Progress on stderr, one line per cell and round, between hyperfine's own
//! outputs: the time so far and what remains at the pace of the rounds so
//! far (the first includes the warm-up runs; the profile runs before it do
//! not count in the pace).

use std::time::Instant;

#[derive(Debug)]
pub struct Progress {
    started: Instant,
    /// When the rounds done so far spent their time: from each round's
    /// start to its end.
    in_rounds: std::time::Duration,
    round_started: Option<Instant>,
    total_rounds: u32,
    done_rounds: u32,
}

impl Progress {
    pub fn new(total_rounds: u32) -> Progress {
        Progress {
            started: Instant::now(),
            in_rounds: std::time::Duration::ZERO,
            round_started: None,
            total_rounds,
            done_rounds: 0,
        }
    }

    /// `[12s, about 30s to go]`, for the line before the next round, which
    /// starts now.
    pub fn stamp(&mut self) -> String {
        let elapsed = self.started.elapsed().as_secs();
        self.round_started = Some(Instant::now());
        match remaining(
            self.in_rounds.as_secs(),
            self.done_rounds,
            self.total_rounds,
        ) {
            Some(left) => format!("[{elapsed}s, about {left}s to go]"),
            None => format!("[{elapsed}s]"),
        }
    }

    pub fn round_done(&mut self) {
        if let Some(started) = self.round_started.take() {
            self.in_rounds += started.elapsed();
        }
        self.done_rounds += 1;
    }
}

/// Seconds left at the pace of the rounds done (`in_rounds` seconds for
/// `done` rounds); `None` before the first round ends.
fn remaining(in_rounds: u64, done: u32, total: u32) -> Option<u64> {
    (done > 0).then(|| in_rounds * u64::from(total.saturating_sub(done)) / u64::from(done))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_estimate_follows_the_pace() {
        assert_eq!(super::remaining(10, 0, 4), None);
        assert_eq!(super::remaining(10, 1, 4), Some(30));
        assert_eq!(super::remaining(40, 4, 4), Some(0));
    }
}
