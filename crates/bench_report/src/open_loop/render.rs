//! The open-loop tables, in Markdown: a cell's (one rate: every approach's
//! request latency beside the bound, and what it cost), and a sweep's
//! (p50 and p99 by rate, and the capacity at the SLO).

use std::fmt::Write;

use model::latency::Percentiles;

use super::{Cell, Slo, at_rates, capacity};
use crate::server_cpu::mean;

fn ms(us: u64) -> String {
    let ms = us as f64 / 1e3;
    if ms >= 100.0 {
        format!("{ms:.0}")
    } else {
        format!("{ms:.1}")
    }
}

/// `rate` as a header: digits as given, per second.
fn rate(r: f64) -> String {
    format!("{r}/s")
}

/// The setting in one line: what a request is, how many, how they came.
fn setting(cell: &Cell) -> String {
    let b = &cell.host.bench;
    let Some(open) = &b.open_loop else {
        return String::new();
    };
    format!(
        "{} requests of {} {} quer{} each, {} arrivals (seed {:#x}), budget {}, {} timed round{}",
        open.requests,
        open.per_request,
        b.workload,
        if open.per_request == 1 { "y" } else { "ies" },
        open.process.name(),
        open.seed,
        b.budget,
        b.runs,
        if b.runs == 1 { "" } else { "s" },
    )
}

/// One rate's table: request latency (pooled over the rounds) beside the
/// ideal queue's, and what each approach did and cost.
pub fn cell(cell: &Cell) -> String {
    let mut out = format!(
        "Offered {}: {}. Latency counts from each request's due time to its last row (ms).\n\n",
        rate(cell.rate),
        setting(cell)
    );
    out.push_str("| approach | p50 | p90 | p99 | p99.9 | max | query p99 | dispatch lag p99 | achieved | unfinished | peak connections | peak threads | peak RSS MiB | server CPU s/run |\n");
    out.push_str("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n");
    for (name, records) in &cell.records {
        let p = Cell::pooled(records, 0..records.len());
        let worst = |f: fn(&super::Record) -> u64| records.iter().map(f).max().unwrap_or(0);
        let achieved = mean(&records.iter().map(|r| r.achieved_rate).collect::<Vec<_>>());
        let unfinished: usize = records.iter().map(|r| r.unfinished).sum();
        let peak = records.iter().filter_map(|r| r.peak_connections).max();
        let threads = records.iter().filter_map(|r| r.peak_threads).max();
        let cpu = cell.server_cpu.get(name).and_then(|v| mean(v));
        let _ = writeln!(
            out,
            "| {name} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {:.0} | {} |",
            ms(p.p50_us),
            ms(p.p90_us),
            ms(p.p99_us),
            ms(p.p999_us),
            ms(p.max_us),
            ms(worst(|r| r.query_p99_us)),
            ms(worst(|r| r.dispatch_lag_p99_us)),
            achieved.map_or("—".into(), |a| format!("{a:.2}/s")),
            unfinished,
            peak.map_or("—".into(), |n| n.to_string()),
            threads.map_or("—".into(), |n| n.to_string()),
            records.iter().map(|r| r.max_rss_kib).max().unwrap_or(0) as f64 / 1024.0,
            cpu.map_or("—".into(), |c| format!("{c:.2}")),
        );
    }
    if let (Some(bound), Some(service)) = (&cell.bound, &cell.service) {
        let p = Percentiles::of(bound.iter().copied());
        let _ = writeln!(
            out,
            "| **bound** (ideal queue) | {} | {} | {} | {} | {} | | | | | {} | | | |",
            ms(p.p50_us),
            ms(p.p90_us),
            ms(p.p99_us),
            ms(p.p999_us),
            ms(p.max_us),
            service.connections
        );
        let _ = writeln!(
            out,
            "\nThe bound is the same arrivals through an ideal queue: {}. No client beats it on this schedule by more than the service times' own spread.",
            service.model
        );
    }
    out.push_str(
        "\nPercentiles pool every round's requests; query p99, dispatch lag p99 and the peaks are each round's worst (threads sampled: ten times a second in Rust, at each result in Python); unfinished requests were cancelled at the drain timeout and are left out of the percentiles.\n",
    );
    out
}

/// The sweep's table: p50 and p99 by rate, with the bound, then each
/// approach's capacity at the SLO.
pub fn sweep(cells: &[Cell], slo: Option<&Slo>) -> String {
    let mut out = format!(
        "Request latency (ms) from the due time, p50 / p99, by offered rate: {}.\n\n",
        setting(&cells[0])
    );
    let names: Vec<String> = cells[0].records.iter().map(|(n, _)| n.clone()).collect();
    out.push_str("| approach |");
    for c in cells {
        let _ = write!(out, " {} |", rate(c.rate));
    }
    out.push_str(" p99 first exceeds the SLO at |\n|---|");
    for _ in cells {
        out.push_str("--:|");
    }
    out.push_str("---|\n");
    for name in &names {
        let per_rate = at_rates(cells, name);
        let _ = write!(out, "| {name} |");
        for c in cells {
            match per_rate.iter().find(|(r, _)| *r == c.rate) {
                Some((_, records)) => {
                    let p = Cell::pooled(records, 0..records.len());
                    let cut: usize = records.iter().map(|r| r.unfinished).sum();
                    let _ = write!(
                        out,
                        " {} / {}{} |",
                        ms(p.p50_us),
                        ms(p.p99_us),
                        if cut > 0 {
                            format!(" ({cut} unfinished)")
                        } else {
                            String::new()
                        }
                    );
                }
                None => out.push_str(" — |"),
            }
        }
        let capacity = slo.and_then(|slo| capacity(&per_rate, slo.us));
        let _ = writeln!(
            out,
            " {} |",
            capacity.map_or("—".into(), |c| capacity_text(&c, cells))
        );
    }
    out.push_str("| **bound** (ideal queue) |");
    for c in cells {
        match &c.bound {
            Some(b) => {
                let p = Percentiles::of(b.iter().copied());
                let _ = write!(out, " {} / {} |", ms(p.p50_us), ms(p.p99_us));
            }
            None => out.push_str(" — |"),
        }
    }
    out.push_str(" |\n");
    if let Some(slo) = slo {
        let _ = writeln!(
            out,
            "\nCapacity at the SLO: the lowest offered rate at which the approach's request p99 exceeds the SLO of {} ms ({}), or a request went unfinished, with its 95% bootstrap interval over the rounds (\"> R\": none of the rates swept).",
            ms(slo.us),
            slo.source
        );
    }
    if let Some(service) = cells.iter().find_map(|c| c.service.as_ref()) {
        let _ = writeln!(out, "\nThe bound: {}.", service.model);
    }
    out.push_str("\nCells: ");
    let links: Vec<String> = cells
        .iter()
        .map(|c| {
            let name = super::cell_name(c.rate);
            format!("[{}]({name}/README.md)", rate(c.rate))
        })
        .collect();
    out.push_str(&links.join(", "));
    out.push('\n');
    out
}

fn capacity_text(c: &super::Capacity, cells: &[Cell]) -> String {
    let top = cells.last().map_or(0.0, |c| c.rate);
    let at = |r: Option<f64>| r.map_or(format!("> {}", rate(top)), rate);
    if c.interval.0 == c.exceeded_at && c.interval.1 == c.exceeded_at {
        return format!("{} (every resample)", at(c.exceeded_at));
    }
    format!(
        "{} [{}, {}]",
        at(c.exceeded_at),
        at(c.interval.0),
        at(c.interval.1)
    )
}
