//! Server CPU per run, from the readings that hyperfine's `--prepare` and
//! `--conclude` append (`dbio server cpu --record FILE --label L`): a line
//! labelled `before` opens a run, the next line labelled with a command
//! name closes it, and the difference is that run's server CPU.
//!
//! A reading may name the servers it summed (`LABEL<TAB>SECONDS<TAB>
//! primary=PID replica-1=PID`). A run whose closing reading names other
//! servers than its opening one lost a server (a replica killed mid-run:
//! the approach moved its queries): the difference would count a server
//! that died (negative, or partial), so that command's server CPU is left
//! out altogether, and the loss is reported ([`Lost`]).

use std::collections::BTreeMap;
use std::path::Path;

use crate::{ReportError, Result, read};

/// A server that was gone at the end of a run it was there for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lost {
    /// The command whose run it was.
    pub command: String,
    /// Which run of that command (1-based, warm-up runs counted).
    pub run: usize,
    /// The servers of the opening reading missing from the closing one
    /// (`replica-1=4242`).
    pub servers: Vec<String>,
}

/// What a readings file holds.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Readings {
    /// Server CPU seconds of every run, by command name (warm-up runs
    /// included: they do the same work); none for a command that lost a
    /// server in one of its runs.
    pub cpu: BTreeMap<String, Vec<f64>>,
    /// Every run that lost a server, in order.
    pub lost: Vec<Lost>,
}

/// Server CPU seconds of every run, by command name ([`Readings::cpu`]).
pub fn per_command(path: &Path) -> Result<BTreeMap<String, Vec<f64>>> {
    readings(path).map(|r| r.cpu)
}

/// Everything a readings file says.
pub fn readings(path: &Path) -> Result<Readings> {
    parse(&read(path)?).map_err(|message| ReportError::Parse {
        path: path.to_owned(),
        message,
    })
}

pub fn parse(text: &str) -> std::result::Result<Readings, String> {
    let mut out = Readings::default();
    let mut open: Option<(f64, Option<&str>)> = None;
    for (n, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let mut fields = line.split('\t');
        let (Some(label), Some(seconds)) = (fields.next(), fields.next()) else {
            return Err(format!("line {}: expected LABEL<TAB>SECONDS", n + 1));
        };
        let servers = fields.next().map(str::trim);
        let seconds: f64 = seconds
            .trim()
            .parse()
            .map_err(|_| format!("line {}: `{seconds}` is not a number", n + 1))?;
        if label == "before" {
            open = Some((seconds, servers));
        } else if let Some((start, opened_with)) = open.take() {
            let runs = out.cpu.entry(label.to_owned()).or_default();
            runs.push(seconds - start);
            if let (Some(before), Some(after)) = (opened_with, servers)
                && before != after
            {
                let now: Vec<&str> = after.split_whitespace().collect();
                out.lost.push(Lost {
                    command: label.to_owned(),
                    run: runs.len(),
                    servers: before
                        .split_whitespace()
                        .filter(|s| !now.contains(s))
                        .map(str::to_owned)
                        .collect(),
                });
            }
        }
    }
    for lost in &out.lost {
        out.cpu.remove(&lost.command);
    }
    Ok(out)
}

/// The Markdown paragraph that says which servers were lost, when, and
/// what it changes; empty when none was.
pub fn lost_section(lost: &[Lost]) -> String {
    if lost.is_empty() {
        return String::new();
    }
    let mut out = String::from(
        "\n**A server was lost during the run** (marked † above): the approach moved its queries to the servers left, so these runs measured fewer servers, and the server CPU of the approaches marked is not shown (it would count a server that died).\n\n",
    );
    for l in lost {
        out.push_str(&format!(
            "- {} gone by the end of run {} of {} (warm-up runs counted)\n",
            l.servers.join(", "),
            l.run,
            l.command
        ));
    }
    out
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
        let got = parse(text).expect("parse").cpu;
        assert_eq!(got["a"], vec![2.5, 2.0]);
        // A closing reading with no opening one is ignored.
        assert_eq!(got["b"], vec![1.0]);
        assert!(parse("before 1").is_err());
    }

    /// D4 of the third hostile pass: a replica killed mid-run made the
    /// difference negative (its CPU left the sum) and nothing said so.
    #[test]
    fn a_run_that_lost_a_server_is_named_and_its_cpu_left_out() {
        let both = "primary=10 replica-1=11";
        let text = format!(
            "before\t10.0\t{both}\na\t12.0\t{both}\n\
             before\t12.0\t{both}\na\t11.9\tprimary=10\n\
             before\t11.9\tprimary=10\nb\t12.9\tprimary=10\n"
        );
        let got = parse(&text).expect("parse");
        assert_eq!(
            got.lost,
            vec![Lost {
                command: "a".into(),
                run: 2,
                servers: vec!["replica-1=11".into()],
            }]
        );
        assert!(!got.cpu.contains_key("a"), "no CPU over a server that died");
        assert_eq!(got.cpu["b"], vec![1.0]);
        assert!(got.cpu.values().flatten().all(|s| *s >= 0.0));
        let section = lost_section(&got.lost);
        assert!(
            section.contains("replica-1=11 gone by the end of run 2 of a"),
            "{section}"
        );
        assert!(lost_section(&[]).is_empty());
    }
}
