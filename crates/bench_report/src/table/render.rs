//! The Markdown table of one run.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::blog_speedup;
use super::bound::{Costs, Setting};
use super::profile::Profile;
use crate::hyperfine::Export;
use crate::server_cpu::mean;

/// Renders the table for one run.
pub fn render(
    export: &Export,
    server_cpu: Option<&BTreeMap<String, Vec<f64>>>,
    proxy_cpu: Option<&BTreeMap<String, Vec<f64>>>,
    profiles: &BTreeMap<String, Profile>,
    setting: &Setting,
    lost: &[crate::server_cpu::Lost],
) -> String {
    let mean_of = |name: &str| {
        export
            .results
            .iter()
            .find(|b| b.command == name)
            .map(|b| b.mean)
    };
    let report = setting.workload == "report";
    let per_run = |m: Option<&BTreeMap<String, Vec<f64>>>, name: &str| {
        m.and_then(|m| m.get(name)).and_then(|v| mean(v))
    };
    let mut columns = vec![
        "mean ± σ [s]",
        "min … max [s]",
        "in-process [s]",
        "queue wait p50 [ms]",
        "first row p50 [ms]",
        "latency p50 / p95 / max [ms]",
        "user [s]",
        "sys [s]",
        "peak RSS [MiB]",
        "queries/s",
        "client CPU / query [µs]",
        "in run [µs]",
        "speedup vs single",
        "server CPU [s/run]",
    ];
    if proxy_cpu.is_some() {
        columns.push("proxy CPU [s/run]");
    }
    columns.extend(["bound [s]", "bound / mean", "limit"]);
    if report {
        columns.push("blog speedup");
    }
    let mut out = format!("| approach | {} |\n|---|", columns.join(" | "));
    out.push_str(&"---:|".repeat(columns.len()));
    out.push('\n');
    for b in &export.results {
        let concurrency = if model::registry::is_serial(&b.command) {
            1
        } else {
            setting.budget
        };
        let queries = profiles.get(&b.command).map_or(26, Profile::len);
        let cpu = per_run(server_cpu, &b.command);
        let costs = Costs {
            server_cpu: cpu,
            client_cpu: Some(b.user + b.system),
            proxy_cpu: per_run(proxy_cpu, &b.command),
        };
        let bound = setting.bound(concurrency, queries, &costs);
        let speedup = mean_of(model::registry::baseline_of(&b.command)).map(|base| base / b.mean);
        let _ = write!(
            out,
            "| {}{} | {:.3} ± {} | {:.3} … {:.3} | {} | {} | {:.3} | {:.3} | {} | {:.0} | {:.0} | {} | {} | {} |",
            b.command,
            if lost.iter().any(|l| l.command == b.command) {
                " †"
            } else {
                ""
            },
            b.mean,
            b.stddev.map_or("—".into(), |s| format!("{s:.3}")),
            b.min,
            b.max,
            profiles
                .get(&b.command)
                .and_then(|p| p.wall_us)
                .map_or("—".into(), |w| format!("{:.3}", w as f64 / 1e6)),
            profiles.get(&b.command).and_then(Profile::latency).map_or(
                "— | — | —".into(),
                |l| format!(
                    "{} | {} | {} / {} / {}",
                    ms(l.queue_p50_ms),
                    ms(l.first_row_p50_ms),
                    ms(l.p50_ms),
                    ms(l.p95_ms),
                    ms(l.max_ms)
                )
            ),
            b.user,
            b.system,
            profiles.get(&b.command).map_or("—".into(), |p| format!(
                "{:.1}",
                p.max_rss_kib as f64 / 1024.0
            )),
            queries as f64 / b.mean,
            (b.user + b.system) * 1e6 / queries as f64,
            profiles
                .get(&b.command)
                .and_then(Profile::run_cpu_us)
                .map_or("—".into(), |us| format!(
                    "{:.0}",
                    us as f64 / queries as f64
                )),
            speedup.map_or("—".into(), |s| format!("{s:.2}×")),
            cpu.map_or("—".into(), |c| format!("{c:.2}")),
        );
        if proxy_cpu.is_some() {
            let p = per_run(proxy_cpu, &b.command);
            let _ = write!(out, " {} |", p.map_or("—".into(), |c| format!("{c:.2}")));
        }
        let _ = write!(
            out,
            " {} | {} | {} |",
            bound.map_or("—".into(), |(c, _)| format!("{c:.2}")),
            bound.map_or("—".into(), |(c, _)| format!("{:.0}%", 100.0 * c / b.mean)),
            bound.map_or("—", |(_, limit)| limit.name()),
        );
        if report {
            let blog = blog_speedup(&b.command).map_or("—".into(), |s| format!("{s:.2}×"));
            let _ = write!(out, " {blog} |");
        }
        out.push('\n');
    }
    out.push_str(
        "\nin-process: the approach's own wall time in its untimed profile run (first query \
         scheduled to last result), without process start-up, which hyperfine's mean includes. \
         From the same run, per query: queue wait (submitted to connected and sent), first row \
         (sent to first row) and latency (submitted to last row), nearest-rank percentiles. \
         queries/s: queries per run / mean. client CPU / query: the process's user + sys time \
         per run (hyperfine, start-up included) / queries; in run: the same during the run itself \
         (first query scheduled to last result, from the profile run), without start-up and \
         output. speedup: the single-connection mean of \
         the same language (Rust `test_single`, Python `py_test_single`) divided by this mean. \
         bound: the most limiting of server CPU per run / min(connections that run at once, \
         server cores), with a client on the server's machine (server + client + proxy CPU per \
         run) / the machine's cores, for sleep queries × wait / connections, and with added \
         latency queries × round trip / connections; limit names it. bound / mean near 100% \
         means that limit sets the pace. \
         peak RSS: the process's own maximum resident memory, from one untimed run.",
    );
    if report {
        out.push_str(
            " blog speedup: the blog's published means (single 17.746 s, mt 8.054 s, mt_bounded 8.275 s, \
             ThreadPool 7.806 s, asyncio 7.642 s; 10 runs on the author's machine, Python) as ratios to its single.",
        );
    }
    out.push('\n');
    out
}

/// Milliseconds with a precision that suits their size.
fn ms(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 1.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}
