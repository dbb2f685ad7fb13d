//! A sweep of read replicas (`bench.sh --replicas 0,1,2`), side by side:
//! each approach's time with every count of servers, and its speedup over
//! its own time with the first count (a ratio of means with its 95%
//! bootstrap interval), beside the ideal (the ratio of the servers), the
//! servers' CPU per run (whether the work itself changed) and each cell's
//! bound (its most limiting term).

use std::fmt::Write;

use crate::server_cpu::mean;
use crate::stats::ratio_of_means;
use crate::sweep::{Cell, bound_seconds, head, names};

/// How many servers a cell ran on.
fn servers(c: &Cell) -> usize {
    1 + c.replicas.unwrap_or(0) as usize
}

fn times<'a>(c: &'a Cell, name: &str) -> Option<&'a [f64]> {
    c.export
        .results
        .iter()
        .find(|b| b.command == name)
        .map(|b| b.times.as_slice())
}

/// The table of a replica sweep (`cells` from [`crate::sweep::cells`]).
pub fn render(cells: &[Cell]) -> String {
    let first = &cells[0];
    let mut out = head(cells, |c| {
        let n = servers(c);
        format!("{n} server{}", if n == 1 { "" } else { "s" })
    });
    for name in &names(cells) {
        let _ = write!(out, "| {name} |");
        let base = times(first, name);
        for c in cells {
            let here = times(c, name);
            let mean_s = here.and_then(mean);
            let cell = match (
                mean_s,
                base.zip(here).and_then(|(a, b)| ratio_of_means(a, b)),
            ) {
                (Some(m), Some(r)) if !std::ptr::eq(c, first) => format!(
                    " {m:.2} s, {:.2}× [{:.2}, {:.2}]{} |",
                    r.ratio,
                    r.low,
                    r.high,
                    if r.inconclusive() {
                        " no measurable difference"
                    } else {
                        ""
                    }
                ),
                (Some(m), _) => format!(" {m:.2} s |"),
                (None, _) => " — |".to_owned(),
            };
            out.push_str(&cell);
        }
        out.push('\n');
    }
    out.push_str("| ideal (the servers) |");
    for c in cells {
        let _ = write!(out, " {:.2}× |", servers(c) as f64 / servers(first) as f64);
    }
    out.push_str("\n| servers' CPU per run (all approaches) |");
    for c in cells {
        let runs: Vec<f64> = c.server_cpu.values().flatten().copied().collect();
        let _ = write!(
            out,
            " {} |",
            mean(&runs).map_or("—".to_owned(), |s| format!("{s:.2} s"))
        );
    }
    out.push_str("\n| bound (its limit) |");
    let first_bound = bound_seconds(first).map(|b| b.0);
    for c in cells {
        let cell = match (bound_seconds(c), first_bound) {
            (Some((b, limit)), Some(f)) => {
                format!(" {b:.2} s, {:.2}× ({}) |", f / b, limit.name())
            }
            _ => " — |".to_owned(),
        };
        out.push_str(&cell);
    }
    out.push_str(
        "\n\nEach cell: the approach's mean time with that many servers and, after the first \
         column, its speedup over its own time with the first column's servers: the ratio of \
         means with its 95% bootstrap interval (\"no measurable difference\" where it contains \
         1). ideal: the ratio of the servers. The servers' CPU per run is summed over every \
         server, averaged over every run of every approach: where it grows with the servers, \
         the same queries cost more work there. bound: the mean of the concurrent runs' \
         bounds in that cell's table, and what the first column's bound over it allows. Each \
         count's folder has its full table and verdicts.\n",
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hyperfine::{Benchmark, Export};

    fn cell(replicas: u32, times: &[f64]) -> Cell {
        let host: crate::host::Host = serde_json::from_str(
            &std::fs::read_to_string(
                // A recorded run's host, as the renderer reads it.
                std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("../../results/2026-12-01-vm/host.json"),
            )
            .expect("a committed run's host.json"),
        )
        .expect("host");
        Cell {
            budget: 5,
            replicas: Some(replicas),
            dir: std::path::PathBuf::new(),
            host,
            export: Export {
                results: vec![Benchmark {
                    command: "test_asyncio".into(),
                    mean: mean(times).expect("times"),
                    stddev: None,
                    min: 0.0,
                    max: 0.0,
                    user: 0.1,
                    system: 0.1,
                    times: times.to_vec(),
                }],
            },
            server_cpu: Default::default(),
            proxy_cpu: Default::default(),
            queries: None,
        }
    }

    #[test]
    fn each_count_is_compared_with_the_first() {
        let table = render(&[cell(0, &[10.0, 10.2, 9.8]), cell(1, &[5.0, 5.1, 4.9])]);
        assert!(table.contains("| 1 server | 2 servers |"), "{table}");
        // The first column has no ratio; the second halves the time.
        let row = table
            .lines()
            .find(|l| l.starts_with("| test_asyncio |"))
            .expect("row");
        assert!(row.contains("| 10.00 s |"), "{row}");
        assert!(row.contains("5.00 s, 2.00× ["), "{row}");
        assert!(
            table.contains("| ideal (the servers) | 1.00× | 2.00× |"),
            "{table}"
        );
    }
}
