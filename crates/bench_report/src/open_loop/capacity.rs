//! Capacity at the SLO: the lowest offered rate at which an approach's
//! request p99 exceeds the SLO (or a request went unfinished), with a
//! bootstrap interval over its rounds. The SLO is `--slo MS`, or twice
//! the unloaded latency: a lone request's time in the ideal queue, from
//! the serial run ([`super::Service::unloaded_us`]), the same for every
//! approach.

use super::{Cell, Record};
use crate::stats::SplitMix;

/// Resamples of the rounds behind the interval.
const RESAMPLES: usize = 2_000;

/// One approach's capacity at the SLO.
#[derive(Debug, Clone, PartialEq)]
pub struct Capacity {
    pub slo_us: u64,
    /// The first rate whose p99 exceeds the SLO; `None`: none swept did.
    pub exceeded_at: Option<f64>,
    /// The interval (2.5%, 97.5%) of that rate over resampled rounds
    /// (`None` in it: beyond the rates swept).
    pub interval: (Option<f64>, Option<f64>),
}

/// `approach`'s records at each rate of `cells` (sorted by rate).
pub fn at_rates<'a>(cells: &'a [Cell], approach: &str) -> Vec<(f64, &'a [Record])> {
    cells
        .iter()
        .filter_map(|c| {
            let (_, records) = c.records.iter().find(|(name, _)| name == approach)?;
            Some((c.rate, records.as_slice()))
        })
        .collect()
}

/// The capacity of an approach with `per_rate` records ([`at_rates`]) at
/// the SLO `slo_us`; `None` when it has none.
pub fn capacity(per_rate: &[(f64, &[Record])], slo_us: u64) -> Option<Capacity> {
    per_rate.first()?;
    let first_exceeding = |pick: &mut dyn FnMut(&[Record]) -> Vec<usize>| {
        per_rate.iter().find_map(|(rate, records)| {
            let rounds = pick(records);
            let unfinished = rounds
                .iter()
                .any(|&i| records.get(i).is_some_and(|r| r.unfinished > 0));
            (unfinished || Cell::pooled(records, rounds).p99_us > slo_us).then_some(*rate)
        })
    };
    let exceeded_at = first_exceeding(&mut |records| (0..records.len()).collect());
    let mut rng = SplitMix(model::splitmix::SplitMix64(0xCA9A_C17E));
    let mut draws: Vec<Option<f64>> = (0..RESAMPLES)
        .map(|_| {
            first_exceeding(&mut |records| {
                (0..records.len())
                    .map(|_| rng.below(records.len()))
                    .collect()
            })
        })
        .collect();
    // `None` (beyond the sweep) sorts last.
    draws.sort_by(|a, b| match (a, b) {
        (Some(x), Some(y)) => x.total_cmp(y),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => std::cmp::Ordering::Equal,
    });
    let at = |q: f64| draws[((RESAMPLES - 1) as f64 * q).round() as usize];
    Some(Capacity {
        slo_us,
        exceeded_at,
        interval: (at(0.025), at(0.975)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::open_loop::Record;

    fn record(round: u32, latencies: &[u64], unfinished: usize) -> Record {
        Record {
            approach: "a".into(),
            round,
            request_latency_us: latencies.to_vec(),
            unfinished,
            query_p99_us: 0,
            dispatch_lag_p99_us: 0,
            achieved_rate: 0.0,
            peak_connections: None,
            peak_threads: None,
            max_rss_kib: 0,
        }
    }

    #[test]
    fn capacity_is_the_first_rate_past_twice_the_unloaded_latency() {
        let cells = [
            (
                1.0,
                vec![record(1, &[10; 100], 0), record(2, &[10; 100], 0)],
            ),
            (
                2.0,
                vec![record(1, &[15; 100], 0), record(2, &[18; 100], 0)],
            ),
            // One round past the SLO (20), the other not: the pooled p99
            // is past, and the interval holds both outcomes.
            (
                4.0,
                vec![record(1, &[19; 100], 0), record(2, &[50; 100], 0)],
            ),
            (
                8.0,
                vec![record(1, &[90; 100], 0), record(2, &[95; 100], 0)],
            ),
        ];
        let cells: Vec<(f64, &[Record])> = cells.iter().map(|(r, v)| (*r, v.as_slice())).collect();
        let c = capacity(&cells, 20).expect("capacity");
        assert_eq!(c.slo_us, 20);
        assert_eq!(c.exceeded_at, Some(4.0));
        assert_eq!(c.interval, (Some(4.0), Some(8.0)));
        // An SLO above everything: never exceeded.
        let c = capacity(&cells, 1000).expect("capacity");
        assert_eq!((c.exceeded_at, c.interval), (None, (None, None)));
    }

    #[test]
    fn an_unfinished_request_exceeds_any_slo() {
        let (one, two) = ([record(1, &[10; 10], 0)], [record(1, &[10; 9], 1)]);
        let cells: Vec<(f64, &[Record])> = vec![(1.0, &one), (2.0, &two)];
        let c = capacity(&cells, 1_000_000).expect("capacity");
        assert_eq!(c.exceeded_at, Some(2.0));
        assert!(capacity(&[], 20).is_none());
    }
}
