//! The results table: each approach's time, CPU, memory and speedup, the
//! server's CPU per run and the lower bound on wall time it implies, and the
//! blog's published speedups beside ours.
//!
//! Absolute times from different machines are not comparable; ratios are.
//! The bound is `server CPU per run / min(concurrency, cores)`: the server
//! cannot finish the work faster than its CPU time spread over the
//! connections that can run at once (one for `test_single`, the budget for
//! the others), on this machine's cores.

use std::collections::BTreeMap;
use std::fmt::Write;

use serde::{Deserialize, Serialize};

use crate::BLOG_MEANS;
use crate::hyperfine::Export;
use crate::server_cpu::mean;

/// Python commands are named `py_<script>`; the blog's ThreadPool script is
/// `test_cft.py`, which our `test_threadpool` mirrors.
pub fn blog_name(command: &str) -> &str {
    match command.strip_prefix("py_").unwrap_or(command) {
        "test_cft" => "test_threadpool",
        other => other,
    }
}

/// The single-connection baseline of a command's language.
fn baseline(command: &str) -> &'static str {
    if command.starts_with("py_") {
        "py_test_single"
    } else {
        "test_single"
    }
}

fn blog_speedup(command: &str) -> Option<f64> {
    let single = BLOG_MEANS[0].1;
    BLOG_MEANS
        .iter()
        .find(|(name, _)| *name == blog_name(command))
        .map(|(_, mean)| single / mean)
}

/// What an approach reported about itself in its untimed profile run
/// (`--json`): peak memory and row counts. Long lists (point lookups) are
/// kept condensed ([`condense`]): their count and a fingerprint of every
/// query's label and row count instead of the queries.
#[derive(Debug, Clone, Deserialize)]
pub struct Profile {
    pub max_rss_kib: u64,
    /// The run's own wall time (from the first query scheduled to the last
    /// result), without process start-up.
    #[serde(default)]
    pub wall_us: Option<u64>,
    #[serde(default)]
    pub queries: Vec<ProfileQuery>,
    /// For a condensed profile: how many queries ran...
    #[serde(default)]
    pub count: Option<usize>,
    /// ...and [`Profile::fingerprint`] of their row counts...
    #[serde(default)]
    pub rows_fingerprint: Option<String>,
    /// ...and their [`Latency`], computed before the queries were dropped.
    #[serde(default)]
    pub latency: Option<Latency>,
    /// The process's CPU time during the run itself (between the wall
    /// clock's two points); absent from runs recorded before it was.
    #[serde(default)]
    pub run_cpu_user_us: Option<u64>,
    #[serde(default)]
    pub run_cpu_sys_us: Option<u64>,
}

/// One query of a profile: its row count and, where the approach recorded
/// them (every Rust binary and Python script since they share one clock),
/// its timestamps in microseconds from the run's start.
#[derive(Debug, Clone, Deserialize)]
pub struct ProfileQuery {
    pub label: String,
    pub rows: u64,
    #[serde(flatten)]
    pub at: Option<Stamps>,
    #[serde(default)]
    pub connection_id: Option<u64>,
}

/// When a query was submitted, had its connection and was sent, received
/// its first row and its last row (`common::outcome::QueryResult`).
#[derive(Debug, Clone, Copy, Deserialize)]
pub struct Stamps {
    pub submitted_us: u64,
    pub connected_us: u64,
    pub first_row_us: u64,
    pub finished_us: u64,
}

/// Per-query times of one run, in milliseconds: queue wait (submitted to
/// connected) and time to first row (connected to first row) at the
/// median, and latency (submitted to last row: what the caller of one
/// query waits, queueing included) at the median, the 95th percentile and
/// the maximum. Percentiles are nearest-rank.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Latency {
    pub queue_p50_ms: f64,
    pub first_row_p50_ms: f64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub max_ms: f64,
}

/// The nearest-rank `p`th percentile of sorted values.
fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = (p / 100.0 * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

impl Latency {
    /// `None` when there are no queries or one lacks its timestamps.
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
}

impl Profile {
    /// The process's user + sys CPU time during the run itself, where recorded.
    pub fn run_cpu_us(&self) -> Option<u64> {
        Some(self.run_cpu_user_us? + self.run_cpu_sys_us?)
    }

    /// How many queries ran.
    pub fn len(&self) -> usize {
        self.count.unwrap_or(self.queries.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The per-query times, from the queries or, condensed, as stored.
    pub fn latency(&self) -> Option<Latency> {
        self.latency.or_else(|| Latency::of(&self.queries))
    }

    /// An order-independent digest of every (label, row count): equal
    /// profiles returned the same number of rows for every query.
    pub fn fingerprint(&self) -> String {
        if let Some(f) = &self.rows_fingerprint {
            return f.clone();
        }
        let mut sum = common::digest::Digest::default();
        for q in &self.queries {
            let mut row = common::digest::RowHasher::default();
            row.value(Some(q.label.as_bytes()));
            row.value(Some(q.rows.to_string().as_bytes()));
            sum.add_row(row);
        }
        sum.hex()
    }
}

/// Queries above which a profile is stored condensed.
pub const CONDENSE_ABOVE: usize = 100;

/// The profile JSON an approach printed, with its query list replaced by
/// its count and fingerprint when it is long (10,000 point lookups would
/// otherwise commit megabytes per approach).
pub fn condense(text: &str) -> Result<Option<String>, String> {
    let mut value: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let profile: Profile = serde_json::from_value(value.clone()).map_err(|e| e.to_string())?;
    if profile.queries.len() <= CONDENSE_ABOVE {
        return Ok(None);
    }
    if let Some(object) = value.as_object_mut() {
        object.remove("queries");
        object.insert("count".into(), profile.len().into());
        object.insert("rows_fingerprint".into(), profile.fingerprint().into());
        if let Some(latency) = profile.latency() {
            let latency = serde_json::to_value(latency).map_err(|e| e.to_string())?;
            object.insert("latency".into(), latency);
        }
    }
    Ok(Some(value.to_string() + "\n"))
}

/// The names of the approaches whose row counts differ from the first one's.
pub fn disagreeing(profiles: &BTreeMap<String, Profile>, order: &[String]) -> Vec<String> {
    let mut present = order
        .iter()
        .filter_map(|n| profiles.get(n).map(|p| (n, p.fingerprint())));
    let Some((_, first)) = present.next() else {
        return vec![];
    };
    present
        .filter(|(_, c)| *c != first)
        .map(|(n, _)| n.clone())
        .collect()
}

/// What a run's bounds depend on.
#[derive(Debug, Clone)]
pub struct Setting {
    pub budget: usize,
    /// The cores the server may use (all of the machine's, or those it was
    /// pinned to).
    pub cores: usize,
    /// Every core of the machine.
    pub machine_cores: usize,
    /// The client (and the latency proxy) run on the server's machine (the
    /// managed server): their CPU competes with the server's.
    pub same_machine: bool,
    pub workload: String,
    /// Each sleep query's wait, for the sleep workload.
    pub sleep_ms: Option<u32>,
    /// One-way latency the proxy added.
    pub latency_ms: Option<u64>,
}

/// What one run cost, per run, in CPU seconds (where it was measured).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Costs {
    pub server_cpu: Option<f64>,
    /// The client process's user + sys time (hyperfine's).
    pub client_cpu: Option<f64>,
    pub proxy_cpu: Option<f64>,
}

/// The term that sets a run's lower bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Limit {
    /// The server's CPU over the cores it can use at that concurrency.
    ServerCpu,
    /// Server, client and proxy CPU over the machine's cores, when they
    /// share it.
    MachineCpu,
    /// Server-side waits over the connections.
    Waits,
    /// Network round trips over the connections.
    RoundTrips,
}

impl Limit {
    pub fn name(self) -> &'static str {
        match self {
            Limit::ServerCpu => "server CPU",
            Limit::MachineCpu => "machine CPU",
            Limit::Waits => "waits",
            Limit::RoundTrips => "round trips",
        }
    }
}

impl Setting {
    /// The lower bound on a run's wall time and the term that sets it: the
    /// most limiting of the server's CPU spread over the cores it can use,
    /// all CPU spent on the machine (server, client, proxy) over its cores
    /// when they share it, the waits spread over the connections, and the
    /// network round trips spread over the connections.
    pub fn bound(&self, concurrency: usize, queries: usize, costs: &Costs) -> Option<(f64, Limit)> {
        let lanes = concurrency.min(queries).max(1) as f64;
        let server = costs.server_cpu.map(|c| {
            (
                c / concurrency.min(self.cores).max(1) as f64,
                Limit::ServerCpu,
            )
        });
        let machine = costs.server_cpu.filter(|_| self.same_machine).map(|s| {
            let total = s + costs.client_cpu.unwrap_or(0.0) + costs.proxy_cpu.unwrap_or(0.0);
            (total / self.machine_cores.max(1) as f64, Limit::MachineCpu)
        });
        let waits = self
            .sleep_ms
            .map(|ms| (queries as f64 * ms as f64 / 1000.0 / lanes, Limit::Waits));
        let network = self.latency_ms.map(|ms| {
            (
                queries as f64 * 2.0 * ms as f64 / 1000.0 / lanes,
                Limit::RoundTrips,
            )
        });
        [server, machine, waits, network]
            .into_iter()
            .flatten()
            .reduce(|a, b| if b.0 > a.0 { b } else { a })
    }
}

/// Renders the table for one run.
pub fn render(
    export: &Export,
    server_cpu: Option<&BTreeMap<String, Vec<f64>>>,
    proxy_cpu: Option<&BTreeMap<String, Vec<f64>>>,
    profiles: &BTreeMap<String, Profile>,
    setting: &Setting,
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
        let concurrency = if blog_name(&b.command) == "test_single" {
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
        let speedup = mean_of(baseline(&b.command)).map(|base| base / b.mean);
        let _ = write!(
            out,
            "| {} | {:.3} ± {} | {:.3} … {:.3} | {} | {} | {:.3} | {:.3} | {} | {:.0} | {:.0} | {} | {} | {} |",
            b.command,
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

/// The Rust approach that mirrors a Python script, and back.
fn counterpart(command: &str) -> Option<String> {
    match command.strip_prefix("py_") {
        Some("test_cft") => Some("test_threadpool".into()),
        Some(rust) => Some(rust.to_owned()),
        None if command == "test_threadpool" => Some("py_test_cft".into()),
        None => Some(format!("py_{command}")),
    }
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

/// Which differences are real: each approach against the fastest of its
/// language and each Rust approach against its Python counterpart, as a
/// ratio of means with a 95% bootstrap interval ([`crate::stats`]); and
/// whether the blog's "asyncio was the clear winner" holds in this run.
pub fn verdicts(export: &Export) -> String {
    let by_name = |name: &str| export.results.iter().find(|b| b.command == name);
    let fastest = |python: bool| {
        export
            .results
            .iter()
            .filter(|b| b.command.starts_with("py_") == python)
            .min_by(|a, b| a.mean.total_cmp(&b.mean))
    };
    let cell = |r: Option<crate::stats::Ratio>| r.map_or("—".to_owned(), |r| r.to_string());
    let mut out = String::from(
        "\n### Verdicts\n\nRatio of mean times (above 1: slower) with its 95% bootstrap interval; \
         an interval that contains 1.0 is no measurable difference.\n\n\
         | approach | vs the fastest of its language | Rust vs Python counterpart |\n|---|---|---|\n",
    );
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
        let vs_python = if python {
            "—".to_owned()
        } else {
            counterpart(&b.command)
                .and_then(|p| by_name(&p))
                .map_or("—".to_owned(), |p| {
                    cell(crate::stats::ratio_of_means(&b.times, &p.times))
                })
        };
        let _ = writeln!(out, "| {} | {vs_best} | {vs_python} |", b.command);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hyperfine::Benchmark;

    fn bench(command: &str, mean: f64) -> Benchmark {
        Benchmark {
            command: command.into(),
            mean,
            stddev: Some(0.1),
            min: mean - 0.1,
            max: mean + 0.1,
            user: 0.01,
            system: 0.01,
            times: vec![mean],
        }
    }

    #[test]
    fn long_profiles_are_condensed_and_still_compared() {
        let queries: Vec<String> = (0..150)
            .map(|i| format!(r#"{{"label":"p{i:03}","rows":1,"digest":"x"}}"#))
            .collect();
        let full = format!(
            r#"{{"approach":"test_mt","max_rss_kib":1024,"wall_us":5,"queries":[{}]}}"#,
            queries.join(",")
        );
        let condensed = condense(&full).expect("condense").expect("long");
        assert!(condensed.len() < full.len() / 10, "{condensed}");
        let a: Profile = serde_json::from_str(&full).expect("full");
        let b: Profile = serde_json::from_str(&condensed).expect("condensed");
        assert_eq!((a.len(), b.len()), (150, 150));
        assert_eq!(a.fingerprint(), b.fingerprint());
        let mut profiles = BTreeMap::new();
        profiles.insert("test_single".to_owned(), a);
        profiles.insert("test_mt".to_owned(), b);
        let order = ["test_single".to_owned(), "test_mt".to_owned()];
        assert!(disagreeing(&profiles, &order).is_empty());
        let other = full.replace(r#""p007","rows":1"#, r#""p007","rows":2"#);
        profiles.insert(
            "test_mt".to_owned(),
            serde_json::from_str(&other).expect("other"),
        );
        assert_eq!(disagreeing(&profiles, &order), ["test_mt"]);
        // Short lists stay as they are.
        assert_eq!(
            condense(r#"{"max_rss_kib":1,"queries":[]}"#).expect("short"),
            None
        );
    }

    /// A query submitted at `s` ms, sent at `c`, first row at `f`, done at `d`.
    fn stamped(s: u64, c: u64, f: u64, d: u64) -> String {
        format!(
            r#"{{"label":"q{s}","rows":1,"submitted_us":{},"connected_us":{},"first_row_us":{},"finished_us":{},"connection_id":7}}"#,
            s * 1000,
            c * 1000,
            f * 1000,
            d * 1000
        )
    }

    #[test]
    fn latency_percentiles_are_nearest_rank_and_survive_condensing() {
        // Latencies 1..=200 ms; queue waits i ms, first rows 0 ms.
        let queries: Vec<String> = (1..=200).map(|i| stamped(0, i / 2, i / 2, i)).collect();
        let text = format!(r#"{{"max_rss_kib":1,"queries":[{}]}}"#, queries.join(","));
        let full: Profile = serde_json::from_str(&text).expect("profile");
        let latency = full.latency().expect("timestamps");
        assert_eq!(
            latency,
            Latency {
                queue_p50_ms: 50.0,
                first_row_p50_ms: 0.0,
                p50_ms: 100.0,
                p95_ms: 190.0,
                max_ms: 200.0,
            }
        );
        let condensed: Profile =
            serde_json::from_str(&condense(&text).expect("condense").expect("long"))
                .expect("condensed");
        assert!(condensed.queries.is_empty());
        assert_eq!(condensed.latency(), Some(latency));
        // One query without timestamps (an older profile): no latency.
        let partial = format!(
            r#"{{"max_rss_kib":1,"queries":[{},{{"label":"x","rows":1}}]}}"#,
            stamped(0, 1, 2, 3)
        );
        let partial: Profile = serde_json::from_str(&partial).expect("partial");
        assert_eq!(partial.latency(), None);
        assert_eq!(percentile(&[4.0], 95.0), 4.0);
    }

    #[test]
    fn the_blogs_asyncio_verdict_needs_every_difference_to_be_measurable() {
        let runs = |command: &str, times: &[f64]| Benchmark {
            times: times.to_vec(),
            ..bench(command, times.iter().sum::<f64>() / times.len() as f64)
        };
        let asyncio = runs("py_test_asyncio", &[1.0, 1.02, 0.98]);
        let mut export = Export {
            results: vec![
                runs("test_single", &[1.0, 1.0, 1.0]),
                asyncio.clone(),
                runs("py_test_mt", &[2.0, 2.02, 1.98]),
            ],
        };
        assert_eq!(asyncio_not_beaten(&export), Some(vec![]));
        assert!(verdicts(&export).contains("\"asyncio was the clear winner\" holds here"));
        export.results.push(runs("py_test_cft", &[0.99, 1.03, 1.0]));
        assert_eq!(
            asyncio_not_beaten(&export),
            Some(vec!["py_test_cft".to_owned()])
        );
        assert!(verdicts(&export).contains("does not hold here"));
        // No other Python approach: nothing to say.
        export.results = vec![asyncio];
        assert_eq!(asyncio_not_beaten(&export), None);
    }

    #[test]
    fn bounds_follow_the_workload() {
        let mut setting = Setting {
            budget: 5,
            cores: 2,
            machine_cores: 2,
            same_machine: false,
            workload: "sleep".into(),
            sleep_ms: Some(50),
            latency_ms: None,
        };
        let server = |cpu: f64| Costs {
            server_cpu: Some(cpu),
            ..Costs::default()
        };
        // 100 waits of 50 ms over 5 connections, or over 1.
        assert_eq!(
            setting.bound(5, 100, &server(0.1)),
            Some((1.0, Limit::Waits))
        );
        assert_eq!(
            setting.bound(1, 100, &Costs::default()),
            Some((5.0, Limit::Waits))
        );
        // Fewer queries than connections: each waits once.
        assert_eq!(
            setting.bound(5, 2, &Costs::default()),
            Some((0.05, Limit::Waits))
        );
        setting.sleep_ms = None;
        setting.latency_ms = Some(10);
        // 1,000 round trips of 20 ms over 5 connections, unless the server's CPU is slower.
        assert_eq!(
            setting.bound(5, 1000, &server(1.0)),
            Some((4.0, Limit::RoundTrips))
        );
        assert_eq!(
            setting.bound(5, 1000, &server(10.0)),
            Some((5.0, Limit::ServerCpu))
        );
    }

    /// The point run that showed a bound of 65% of the mean while the
    /// machine was full: server 0.49 s + client 0.23 s over 2 cores.
    #[test]
    fn a_client_on_the_servers_machine_counts_in_the_bound() {
        let mut setting = Setting {
            budget: 5,
            cores: 2,
            machine_cores: 2,
            same_machine: true,
            workload: "point".into(),
            sleep_ms: None,
            latency_ms: None,
        };
        let costs = Costs {
            server_cpu: Some(0.49),
            client_cpu: Some(0.23),
            proxy_cpu: None,
        };
        let (bound, limit) = setting.bound(5, 10_000, &costs).expect("bound");
        assert_eq!(limit, Limit::MachineCpu);
        assert!((bound - 0.36).abs() < 1e-9, "{bound}");
        // A server of its own (someone else's machine): its CPU alone.
        setting.same_machine = false;
        assert_eq!(
            setting.bound(5, 10_000, &costs),
            Some((0.245, Limit::ServerCpu))
        );
        // Pinned to one core, the server is the limit again.
        setting.same_machine = true;
        setting.cores = 1;
        assert_eq!(
            setting.bound(5, 10_000, &costs),
            Some((0.49, Limit::ServerCpu))
        );
        // And the proxy's CPU counts with the client's.
        setting.cores = 2;
        let with_proxy = Costs {
            proxy_cpu: Some(0.2),
            ..costs
        };
        let (bound, limit) = setting.bound(5, 10_000, &with_proxy).expect("bound");
        assert_eq!(limit, Limit::MachineCpu);
        assert!((bound - 0.46).abs() < 1e-9, "{bound}");
    }

    #[test]
    fn speedups_are_per_language_and_bounds_use_concurrency() {
        let export = Export {
            results: vec![
                bench("test_single", 20.0),
                bench("test_asyncio", 10.0),
                bench("py_test_single", 22.0),
                bench("py_test_cft", 11.0),
            ],
        };
        let mut cpu = BTreeMap::new();
        cpu.insert("test_single".to_owned(), vec![19.0, 19.0]);
        cpu.insert("test_asyncio".to_owned(), vec![19.0]);
        let mut profiles = BTreeMap::new();
        let profile = |rows: u64| Profile {
            max_rss_kib: 8 * 1024,
            wall_us: Some(1_500_000),
            count: None,
            rows_fingerprint: None,
            latency: None,
            run_cpu_user_us: Some(2_000),
            run_cpu_sys_us: Some(600),
            queries: vec![ProfileQuery {
                label: "A".into(),
                rows,
                at: None,
                connection_id: None,
            }],
        };
        profiles.insert("test_single".to_owned(), profile(10));
        profiles.insert("test_asyncio".to_owned(), profile(10));
        profiles.insert("py_test_cft".to_owned(), profile(11));
        let order: Vec<String> = ["test_single", "test_asyncio", "py_test_cft"]
            .map(String::from)
            .to_vec();
        assert_eq!(disagreeing(&profiles, &order), ["py_test_cft"]);
        let setting = Setting {
            budget: 5,
            cores: 2,
            machine_cores: 2,
            same_machine: false,
            workload: "report".into(),
            sleep_ms: None,
            latency_ms: None,
        };
        let table = render(&export, Some(&cpu), None, &profiles, &setting);
        let row = |name: &str| {
            table
                .lines()
                .find(|l| l.starts_with(&format!("| {name} |")))
                .expect("row")
                .to_owned()
        };
        assert!(row("test_single").contains("| 1.00× |"));
        assert!(
            row("test_single").contains("| 19.00 | 19.00 | 95% | server CPU |"),
            "{}",
            row("test_single")
        );
        // budget 5 on 2 cores: the bound is 19 / 2.
        assert!(
            row("test_asyncio").contains("| 2.00× | 19.00 | 9.50 | 95% | server CPU | 2.32× |"),
            "{}",
            row("test_asyncio")
        );
        assert!(
            row("py_test_cft").contains("| 2.00× | — | — | — | — | 2.27× |"),
            "{}",
            row("py_test_cft")
        );
        assert!(row("test_single").contains("| 8.0 |"));
        // In run: (2000 + 600) µs of CPU for its one query.
        assert!(
            row("test_single").contains("| 2600 |"),
            "{}",
            row("test_single")
        );
    }
}
