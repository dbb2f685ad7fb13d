//! A C client beside the Rust approaches (`bench --c-client`, recorded as
//! `c-client.json`): `mariadb-slap` running the same lookups at the same
//! concurrency against the same server, alternated with each Rust approach
//! in the same sitting. Each run's CPU time is the kernel's account of the
//! whole process (`getrusage` of the reaped child, start-up included, for
//! every client alike); a Rust approach also reports its CPU during the
//! run itself.

use std::fmt::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};

/// The file a cell's comparison is recorded in.
pub const FILE: &str = "c-client.json";

/// The C client's name in [`ClientRun::client`] at the cell's budget.
pub const SLAP: &str = "mariadb-slap";

/// The C client's name at `concurrency` in a cell of `budget`.
pub fn slap_name(concurrency: u32, budget: u32) -> String {
    if concurrency == budget {
        SLAP.to_owned()
    } else {
        format!("{SLAP} (concurrency {concurrency})")
    }
}

/// What `bench --c-client` measured in one cell.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CClient {
    /// `mariadb-slap --version`.
    pub version: String,
    /// How it was run, password left out (it is passed in `MYSQL_PWD`).
    pub command: String,
    pub concurrency: u32,
    pub queries: u32,
    /// Every run, in the order they ran (rounds of rotating order).
    pub runs: Vec<ClientRun>,
}

/// One run of one client.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ClientRun {
    /// [`SLAP`] (or [`slap_name`]) or an approach's name.
    pub client: String,
    /// The most connections it ran at once (runs before it was recorded:
    /// the record's concurrency).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concurrency: Option<u32>,
    /// User + system CPU of the whole process.
    pub cpu_us: u64,
    /// User + system CPU during the run itself (first query scheduled to
    /// last result), as the approach reported it; none for the C client.
    pub run_cpu_us: Option<u64>,
    pub wall_us: u64,
}

/// The section of `table.md`, when the cell has a `c-client.json`.
pub fn section(dir: &Path) -> crate::Result<String> {
    let path = dir.join(FILE);
    if !path.is_file() {
        return Ok(String::new());
    }
    Ok(render(&crate::read_json(&path)?))
}

/// CPU per query of every client, and each Rust approach's whole-process
/// CPU against the C client's as a ratio of means with its 95% interval.
pub fn render(c: &CClient) -> String {
    let mut clients: Vec<&str> = Vec::new();
    for run in &c.runs {
        if !clients.contains(&run.client.as_str()) {
            clients.push(&run.client);
        }
    }
    let per_query = |us: u64| us as f64 / f64::from(c.queries.max(1));
    let of = |client: &str, f: &dyn Fn(&ClientRun) -> Option<u64>| -> Vec<f64> {
        c.runs
            .iter()
            .filter(|r| r.client == client)
            .filter_map(f)
            .map(per_query)
            .collect()
    };
    let at = |r: &ClientRun| r.concurrency.unwrap_or(c.concurrency);
    let is_slap = |client: &str| client.starts_with(SLAP);
    // The C client's whole-process CPU per query at `concurrency`.
    let slap_at = |concurrency: u32| -> Vec<f64> {
        c.runs
            .iter()
            .filter(|r| is_slap(&r.client) && at(r) == concurrency)
            .map(|r| per_query(r.cpu_us))
            .collect()
    };
    let mut out = format!(
        "\n### Client CPU against a C client\n\n\
         {} lookups at concurrency {}, each client run in turn in the same sitting ({}). \
         CPU per query: the whole process's user + system time (start-up included, for \
         every client alike) / queries, median and range of the runs; in run: the \
         approach's own account of the run itself. vs C: ratio of mean whole-process CPU \
         with its 95% bootstrap interval (below 1: less CPU than the C client); in run vs C: \
         the same for the approach's CPU in the run itself against the C client's whole \
         process (which includes the C client's start-up). Each against the C client at \
         its own concurrency (the most connections it held). A name with (wire): the \
         thread-based approach on dbio's own client instead of the mysql crate.\n\n\
         | client | concurrency | runs | CPU / query [µs] | in run [µs] | vs C | in run vs C |\n|---|---:|---:|---:|---:|---|---|\n",
        c.queries, c.concurrency, c.version
    );
    for client in clients {
        let whole = of(client, &|r| Some(r.cpu_us));
        let run = of(client, &|r| r.run_cpu_us);
        let concurrency = c
            .runs
            .iter()
            .find(|r| r.client == client)
            .map_or(c.concurrency, at);
        let slap = slap_at(concurrency);
        let versus = |of: &[f64]| {
            if is_slap(client) {
                "—".to_owned()
            } else {
                crate::stats::ratio_of_means(of, &slap).map_or("—".to_owned(), |r| r.to_string())
            }
        };
        let _ = writeln!(
            out,
            "| {client} | {concurrency} | {} | {} | {} | {} | {} |",
            whole.len(),
            spread(&whole),
            if run.is_empty() {
                "—".to_owned()
            } else {
                spread(&run)
            },
            versus(&whole),
            versus(&run),
        );
    }
    let _ = writeln!(out, "\n`{}`", c.command);
    out
}

/// `median (min … max)`, in whole microseconds.
fn spread(values: &[f64]) -> String {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    match sorted.as_slice() {
        [] => "—".to_owned(),
        [only] => format!("{only:.1}"),
        [first, .., last] => {
            let n = sorted.len();
            let median = if n % 2 == 1 {
                sorted[n / 2]
            } else {
                (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
            };
            format!("{median:.1} ({first:.1} … {last:.1})")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(client: &str, cpu_us: u64, run_cpu_us: Option<u64>) -> ClientRun {
        ClientRun {
            client: client.to_owned(),
            concurrency: None,
            cpu_us,
            run_cpu_us,
            wall_us: 3_000_000,
        }
    }

    #[test]
    fn each_client_per_query_against_the_c_client() {
        let c = CClient {
            version: "mariadb-slap from 11.8".into(),
            command: "mariadb-slap --concurrency=5".into(),
            concurrency: 5,
            queries: 1000,
            runs: vec![
                run(SLAP, 30_000, None),
                run("test_threadpool", 20_000, Some(19_000)),
                run(SLAP, 31_000, None),
                run("test_threadpool", 21_000, Some(20_000)),
                run(SLAP, 29_000, None),
                run("test_threadpool", 20_500, Some(19_500)),
            ],
        };
        let text = render(&c);
        let row = |name: &str| {
            text.lines()
                .find(|l| l.starts_with(&format!("| {name} |")))
                .unwrap_or_else(|| panic!("no {name} row in {text}"))
                .to_owned()
        };
        assert_eq!(
            row(SLAP),
            "| mariadb-slap | 5 | 3 | 30.0 (29.0 … 31.0) | — | — | — |"
        );
        let tp = row("test_threadpool");
        assert!(
            tp.starts_with(
                "| test_threadpool | 5 | 3 | 20.5 (20.0 … 21.0) | 19.5 (19.0 … 20.0) | 0.68 ["
            ),
            "{tp}"
        );
        assert!(!tp.contains("no measurable"), "{tp}");
        // In run: 19.5 against the C client's 30.0, its own column.
        let in_run = tp.rsplit('|').nth(1).expect("last column").trim();
        assert!(in_run.starts_with("0.65 ["), "{tp}");
        // Reads back what it wrote.
        let json = serde_json::to_string(&c).expect("json");
        assert_eq!(serde_json::from_str::<CClient>(&json).expect("back"), c);
    }

    #[test]
    fn each_client_is_compared_with_the_c_client_at_its_own_concurrency() {
        let at = |client: &str, concurrency: u32, cpu_us: u64| ClientRun {
            concurrency: Some(concurrency),
            ..run(client, cpu_us, Some(cpu_us))
        };
        let serial = slap_name(1, 5);
        assert_eq!(serial, "mariadb-slap (concurrency 1)");
        let c = CClient {
            version: "mariadb-slap".into(),
            command: "mariadb-slap".into(),
            concurrency: 5,
            queries: 1000,
            runs: [
                (SLAP, 5, 10_000),
                (&serial, 1, 40_000),
                ("test_single", 1, 40_000),
            ]
            .iter()
            .cycle()
            .take(9)
            .map(|&(client, n, cpu)| at(client, n, cpu))
            .map(|mut r| {
                if r.client.starts_with(SLAP) {
                    r.run_cpu_us = None;
                }
                r
            })
            .collect(),
        };
        let text = render(&c);
        let single = text
            .lines()
            .find(|l| l.starts_with("| test_single |"))
            .expect("row");
        // Against the serial C client (40 µs), not the concurrent one (10 µs).
        assert!(
            single.starts_with(
                "| test_single | 1 | 3 | 40.0 (40.0 … 40.0) | 40.0 (40.0 … 40.0) | 1.00 ["
            ),
            "{single}"
        );
        assert!(
            text.contains("| mariadb-slap (concurrency 1) | 1 | 3 |"),
            "{text}"
        );
    }

    #[test]
    fn a_cell_without_the_comparison_has_no_section() {
        // This crate's own directory has no c-client.json.
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
        assert!(!dir.join(FILE).exists());
        assert_eq!(section(dir).expect("section"), "");
    }
}
