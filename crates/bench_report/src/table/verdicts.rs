//! Which differences between approaches are real: ratios of means with
//! bootstrap intervals, per run and per unit of server work, and the
//! blog's asyncio verdict tested.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::hyperfine::Export;

/// The approach of the same scheduling in the other language.
fn counterpart(command: &str) -> Option<&'static str> {
    model::registry::find(command)?
        .counterpart()
        .map(|a| a.name)
}

/// The blog's "asyncio was the clear winner", tested: the other Python
/// approaches that `py_test_asyncio` is not measurably faster than (the
/// upper end of the ratio's interval not below 1.0); empty when it beats
/// them all. `None` without `py_test_asyncio` or another Python approach.
pub fn asyncio_not_beaten(export: &Export) -> Option<Vec<String>> {
    let asyncio = export
        .results
        .iter()
        .find(|b| b.command == "py_test_asyncio")?;
    let others: Vec<_> = export
        .results
        .iter()
        .filter(|b| b.command.starts_with("py_") && b.command != asyncio.command)
        .collect();
    if others.is_empty() {
        return None;
    }
    Some(
        others
            .iter()
            .filter(|o| {
                !crate::stats::ratio_of_means(&asyncio.times, &o.times)
                    .is_some_and(|r| r.high < 1.0)
            })
            .map(|o| o.command.clone())
            .collect(),
    )
}

/// Each timed run's wall time per second of the server's CPU in that run:
/// what is left of a difference between approaches when the machine's speed
/// drifts between runs (a slow spell stretches both the same way). `None`
/// without a server CPU reading for every timed run.
pub fn per_server_second(
    b: &crate::hyperfine::Benchmark,
    cpu: Option<&BTreeMap<String, Vec<f64>>>,
) -> Option<Vec<f64>> {
    let cpu = crate::server_cpu::timed(b, cpu)?;
    cpu.iter()
        .zip(&b.times)
        .map(|(&c, &t)| (c > 0.0).then(|| t / c))
        .collect()
}

/// Which differences are real: each approach against the fastest of its
/// language and each Rust approach against its Python counterpart, as a
/// ratio of means with a 95% bootstrap interval ([`crate::stats`]); with
/// the server's CPU per run, the first comparison again per unit of server
/// work ([`per_server_second`]); and whether the blog's "asyncio was the
/// clear winner" holds in this run.
pub fn verdicts(export: &Export, cpu: Option<&BTreeMap<String, Vec<f64>>>) -> String {
    let by_name = |name: &str| export.results.iter().find(|b| b.command == name);
    let fastest = |python: bool| {
        export
            .results
            .iter()
            .filter(|b| b.command.starts_with("py_") == python)
            .min_by(|a, b| a.mean.total_cmp(&b.mean))
    };
    let cell = |r: Option<crate::stats::Ratio>| r.map_or("—".to_owned(), |r| r.to_string());
    let per_work = cpu.is_some();
    let mut out = String::from(
        "\n### Verdicts\n\nRatio of mean times (above 1: slower) with its 95% bootstrap interval; \
         an interval that contains 1.0 is no measurable difference.",
    );
    if per_work {
        out.push_str(
            " *Per unit of server work* compares each run's wall time divided by the server's \
             CPU seconds in that run: the machine's speed drifts between runs, and a slow spell \
             stretches both.",
        );
    }
    out.push_str("\n\n| approach | vs the fastest of its language |");
    if per_work {
        out.push_str(" the same, per unit of server work |");
    }
    out.push_str(" Rust vs Python counterpart |\n|---|---|");
    out.push_str(if per_work { "---|---|\n" } else { "---|\n" });
    for b in &export.results {
        let python = b.command.starts_with("py_");
        let best = fastest(python).filter(|f| f.command != b.command);
        let vs_best = match best {
            Some(f) => format!(
                "{} vs {}",
                cell(crate::stats::ratio_of_means(&b.times, &f.times)),
                f.command
            ),
            None => "fastest".to_owned(),
        };
        let vs_best_per_work = match best {
            Some(f) => cell(
                per_server_second(b, cpu)
                    .zip(per_server_second(f, cpu))
                    .and_then(|(a, f)| crate::stats::ratio_of_means(&a, &f)),
            ),
            None => "fastest".to_owned(),
        };
        let vs_python = if python {
            "—".to_owned()
        } else {
            counterpart(&b.command)
                .and_then(by_name)
                .map_or("—".to_owned(), |p| {
                    cell(crate::stats::ratio_of_means(&b.times, &p.times))
                })
        };
        if per_work {
            let _ = writeln!(
                out,
                "| {} | {vs_best} | {vs_best_per_work} | {vs_python} |",
                b.command
            );
        } else {
            let _ = writeln!(out, "| {} | {vs_best} | {vs_python} |", b.command);
        }
    }
    if let Some(not_beaten) = asyncio_not_beaten(export) {
        let verdict = if not_beaten.is_empty() {
            "holds here: py_test_asyncio is measurably faster than every other Python approach"
                .to_owned()
        } else {
            format!(
                "does not hold here: py_test_asyncio is not measurably faster than {}",
                not_beaten.join(", ")
            )
        };
        let _ = writeln!(
            out,
            "\nThe blog's \"asyncio was the clear winner\" {verdict}."
        );
    }
    out
}
