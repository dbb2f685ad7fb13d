//! Server CPU per run, from the readings that hyperfine's `--prepare` and
//! `--conclude` append (`dbio server cpu --record FILE --label L`): a line
//! labelled `before` opens a run, the next line labelled with a command
//! name closes it, and the difference is that run's server CPU.

use std::collections::BTreeMap;
use std::path::Path;

use crate::{ReportError, Result, read};

/// Server CPU seconds of every run, by command name (warm-up runs included:
/// they do the same work).
pub fn per_command(path: &Path) -> Result<BTreeMap<String, Vec<f64>>> {
    parse(&read(path)?).map_err(|message| ReportError::Parse {
        path: path.to_owned(),
        message,
    })
}

pub fn parse(text: &str) -> std::result::Result<BTreeMap<String, Vec<f64>>, String> {
    let mut out: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    let mut open: Option<f64> = None;
    for (n, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let (label, seconds) = line
            .split_once('\t')
            .ok_or_else(|| format!("line {}: expected LABEL<TAB>SECONDS", n + 1))?;
        let seconds: f64 = seconds
            .trim()
            .parse()
            .map_err(|_| format!("line {}: `{seconds}` is not a number", n + 1))?;
        if label == "before" {
            open = Some(seconds);
        } else if let Some(start) = open.take() {
            out.entry(label.to_owned())
                .or_default()
                .push(seconds - start);
        }
    }
    Ok(out)
}

/// The server CPU of each timed run of `b`, in the order of its times: the
/// last of the readings (warm-up runs come first), when there are enough.
pub fn timed(
    b: &crate::hyperfine::Benchmark,
    cpu: Option<&BTreeMap<String, Vec<f64>>>,
) -> Option<Vec<f64>> {
    let all = cpu?.get(&b.command)?;
    let timed = all.get(all.len().checked_sub(b.times.len())?..)?;
    Some(timed.to_vec())
}

/// The mean of `values`.
pub fn mean(values: &[f64]) -> Option<f64> {
    (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_each_run_with_the_reading_before_it() {
        let text = "before\t10.0\na\t12.5\nbefore\t12.5\na\t14.5\nb\t99\nbefore\t20\nb\t21\n";
        let got = parse(text).expect("parse");
        assert_eq!(got["a"], vec![2.5, 2.0]);
        // A closing reading with no opening one is ignored.
        assert_eq!(got["b"], vec![1.0]);
        assert!(parse("before 1").is_err());
    }
}
