//! hyperfine's `--export-json` format (the fields this project reads).

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::Result;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Export {
    pub results: Vec<Benchmark>,
}

/// One command's timings, in seconds.
///
/// hyperfine also exports `memory_usage_byte`, but reads it from
/// `getrusage(RUSAGE_CHILDREN)`, whose `ru_maxrss` is the largest of every
/// child so far: after the first large command every later one shows at
/// least as much. Peak memory comes from the processes' own reports instead.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Benchmark {
    pub command: String,
    pub mean: f64,
    pub stddev: Option<f64>,
    pub min: f64,
    pub max: f64,
    /// Mean user and system CPU time of the command.
    pub user: f64,
    pub system: f64,
    pub times: Vec<f64>,
}

pub fn load(path: &Path) -> Result<Export> {
    crate::read_json(path)
}

/// Merges the exports of several rounds (each approach once per round, in a
/// rotating order, so that slow periods of the machine spread over all
/// approaches) into one result per command, in `order`.
pub fn merge(rounds: &[Export], order: &[String]) -> Export {
    let mut results = Vec::new();
    for name in order {
        let runs: Vec<&Benchmark> = rounds
            .iter()
            .flat_map(|r| r.results.iter())
            .filter(|b| &b.command == name)
            .collect();
        if runs.is_empty() {
            continue;
        }
        let times: Vec<f64> = runs.iter().flat_map(|b| b.times.iter().copied()).collect();
        let n = times.len() as f64;
        let mean = times.iter().sum::<f64>() / n;
        let stddev = (times.len() > 1)
            .then(|| (times.iter().map(|t| (t - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt());
        // hyperfine's user/system are means over that round's runs.
        let weighted = |f: fn(&Benchmark) -> f64| {
            runs.iter()
                .map(|b| f(b) * b.times.len() as f64)
                .sum::<f64>()
                / n
        };
        results.push(Benchmark {
            command: name.clone(),
            mean,
            stddev,
            min: times.iter().copied().fold(f64::INFINITY, f64::min),
            max: times.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            user: weighted(|b| b.user),
            system: weighted(|b| b.system),
            times,
        });
    }
    Export { results }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(command: &str, times: &[f64], user: f64) -> Benchmark {
        Benchmark {
            command: command.into(),
            mean: times.iter().sum::<f64>() / times.len() as f64,
            stddev: None,
            min: 0.0,
            max: 0.0,
            user,
            system: 0.0,
            times: times.to_vec(),
        }
    }

    #[test]
    fn rounds_merge_into_one_result_per_command_in_order() {
        let rounds = [
            Export {
                results: vec![run("b", &[4.0], 0.2), run("a", &[1.0], 0.1)],
            },
            Export {
                results: vec![run("a", &[3.0], 0.3), run("b", &[6.0], 0.4)],
            },
        ];
        let merged = merge(&rounds, &["a".into(), "b".into(), "missing".into()]);
        let names: Vec<&str> = merged.results.iter().map(|b| b.command.as_str()).collect();
        assert_eq!(names, ["a", "b"]);
        let a = &merged.results[0];
        assert_eq!((a.mean, a.min, a.max), (2.0, 1.0, 3.0));
        assert!((a.stddev.unwrap_or(0.0) - 2f64.sqrt()).abs() < 1e-9);
        assert!((a.user - 0.2).abs() < 1e-9);
        assert_eq!(a.times, [1.0, 3.0]);
    }
}
