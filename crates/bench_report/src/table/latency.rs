//! Per-query queue wait, time to first row and latency, from a profile's
//! timestamps.

use serde::{Deserialize, Serialize};

use super::profile::{ProfileQuery, Stamps};

/// Per-query times of one run, in milliseconds: queue wait (submitted to
/// connected) and time to first row (connected to first row) at the
/// median, and latency (submitted to last row: what the caller of one
/// query waits, queueing included) at the median, the 95th percentile and
/// the maximum. Percentiles are nearest-rank.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Latency {
    pub queue_p50_ms: f64,
    pub first_row_p50_ms: f64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub max_ms: f64,
}

/// The nearest-rank `p`th percentile of sorted values.
pub(super) fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = (p / 100.0 * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

impl Latency {
    /// `None` when there are no queries or one lacks its timestamps.
    pub fn of(queries: &[ProfileQuery]) -> Option<Latency> {
        let stamps: Vec<Stamps> = queries.iter().map(|q| q.at).collect::<Option<_>>()?;
        if stamps.is_empty() {
            return None;
        }
        let sorted = |f: fn(&Stamps) -> u64| {
            let mut v: Vec<f64> = stamps.iter().map(|s| f(s) as f64 / 1000.0).collect();
            v.sort_by(f64::total_cmp);
            v
        };
        let queue = sorted(|s| s.connected_us.saturating_sub(s.submitted_us));
        let first = sorted(|s| s.first_row_us.saturating_sub(s.connected_us));
        let latency = sorted(|s| s.finished_us.saturating_sub(s.submitted_us));
        Some(Latency {
            queue_p50_ms: percentile(&queue, 50.0),
            first_row_p50_ms: percentile(&first, 50.0),
            p50_ms: percentile(&latency, 50.0),
            p95_ms: percentile(&latency, 95.0),
            max_ms: percentile(&latency, 100.0),
        })
    }
}
