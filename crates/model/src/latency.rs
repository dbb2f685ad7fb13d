//! An open-loop run's numbers, from its report alone: each request's and
//! each query's latency from the due time to the last row, how late the
//! approach released its queries (the dispatch lag), and the rate it
//! achieved. Percentiles come from an HdrHistogram (3 significant digits):
//! nearest rank, reported as the highest value equivalent to it at that
//! resolution, which the Python side reproduces from its list of samples.

use hdrhistogram::Histogram;

use crate::report::Report;

/// p50, p90, p99, p99.9 and the maximum, in microseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Percentiles {
    pub p50_us: u64,
    pub p90_us: u64,
    pub p99_us: u64,
    pub p999_us: u64,
    pub max_us: u64,
}

impl Percentiles {
    /// Of `samples` (all zero for none).
    pub fn of(samples: impl IntoIterator<Item = u64>) -> Percentiles {
        let Ok(mut hist) = Histogram::<u64>::new(3) else {
            return Percentiles::default();
        };
        for v in samples {
            // Auto-resizing: recording cannot fail for a u64.
            let _ = hist.record(v);
        }
        if hist.is_empty() {
            return Percentiles::default();
        }
        Percentiles {
            p50_us: hist.value_at_quantile(0.5),
            p90_us: hist.value_at_quantile(0.9),
            p99_us: hist.value_at_quantile(0.99),
            p999_us: hist.value_at_quantile(0.999),
            max_us: hist.max(),
        }
    }

    /// `p50 / p90 / p99 / p99.9 / max ms`.
    pub fn in_ms(&self) -> String {
        let ms = |us: u64| us as f64 / 1e3;
        format!(
            "{:.1} / {:.1} / {:.1} / {:.1} / {:.1} ms",
            ms(self.p50_us),
            ms(self.p90_us),
            ms(self.p99_us),
            ms(self.p999_us),
            ms(self.max_us)
        )
    }
}

/// What an open-loop run measured.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenLoopSummary {
    /// Requests per second, offered and achieved (requests over the time
    /// from the run's start to the last request's end).
    pub offered_rate: f64,
    pub achieved_rate: f64,
    pub requests: usize,
    /// From each request's due time to its last query's last row.
    pub request_latency: Percentiles,
    /// From each query's due time to its last row.
    pub query_latency: Percentiles,
    /// How late each query was released (`submitted - due`).
    pub dispatch_lag: Percentiles,
    /// Requests with a query unfinished at the drain deadline: cancelled,
    /// and left out of the latencies.
    pub unfinished: usize,
}

/// Each request of an open-loop report, in request order: its due time,
/// and when its last query's last row came (`None` for a request with a
/// query unfinished at the drain deadline, or none reported). Empty for
/// one batch.
pub fn requests(report: &Report) -> Vec<(u64, Option<u64>)> {
    let Some(open) = report.open_loop.as_ref() else {
        return Vec::new();
    };
    let mut requests = vec![(0u64, None::<u64>, false); open.requests];
    for q in &report.queries {
        let (Some(r), Some(due)) = (q.request, q.due_us) else {
            continue;
        };
        if let Some((at, end, cut)) = requests.get_mut(r) {
            *end = Some(end.map_or(q.finished_us, |e| e.max(q.finished_us)));
            *at = due;
            *cut |= q.unfinished;
        }
    }
    requests
        .into_iter()
        .map(|(due, end, cut)| (due, end.filter(|_| !cut)))
        .collect()
}

/// The latency of each finished request, from its due time to its last
/// row, in request order.
pub fn request_latencies(report: &Report) -> Vec<u64> {
    requests(report)
        .into_iter()
        .filter_map(|(due, end)| end.map(|e| e.saturating_sub(due)))
        .collect()
}

/// The summary of an open-loop report; `None` for one batch.
pub fn summarize(report: &Report) -> Option<OpenLoopSummary> {
    let open = report.open_loop.as_ref()?;
    let requests = requests(report);
    let finished = || report.queries.iter().filter(|q| !q.unfinished);
    let latency = |q: &crate::report::QueryResult| q.finished_us.saturating_sub(q.due_us?).into();
    let last_end = requests.iter().filter_map(|r| r.1).max().unwrap_or(0);
    let done = requests.iter().filter(|r| r.1.is_some()).count();
    Some(OpenLoopSummary {
        offered_rate: open.rate,
        achieved_rate: if last_end == 0 {
            0.0
        } else {
            done as f64 / (last_end as f64 / 1e6)
        },
        requests: open.requests,
        request_latency: Percentiles::of(request_latencies(report)),
        query_latency: Percentiles::of(finished().filter_map(latency)),
        dispatch_lag: Percentiles::of(
            finished().filter_map(|q| Some(q.submitted_us.saturating_sub(q.due_us?))),
        ),
        unfinished: open.requests - done,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank_at_three_significant_digits() {
        let p = Percentiles::of(1..=1000);
        assert_eq!(
            (p.p50_us, p.p90_us, p.p99_us, p.p999_us, p.max_us),
            (500, 900, 990, 999, 1000)
        );
        // Past 2048 a value stands for its bucket: its highest equivalent.
        let p = Percentiles::of([10_000, 20_000, 1_000_000]);
        assert_eq!(p.p50_us, 20_015);
        assert_eq!(p.max_us, 1_000_447);
        assert_eq!(Percentiles::of([]), Percentiles::default());
    }
}
