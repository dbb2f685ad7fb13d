//! Per-query queue wait, time to first row and latency, from a profile's
//! timestamps.

pub use model::report::Latency;

use super::query::{ProfileQuery, Stamps};

/// The nearest-rank `p`th percentile of sorted values.
pub(super) fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = (p / 100.0 * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// The latency percentiles of `queries`; `None` when there are none or
/// one lacks its timestamps.
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
