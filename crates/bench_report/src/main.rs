//! `bench-report`: the steps of `scripts/bench.sh` that turn measurements
//! into results files. It reads files only: what the server and dataset
//! were comes from `dbio facts`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use bench_report::host::{self, Bench, Host};
use bench_report::{
    ReportError, Result, hyperfine, index, list_dir, plot, read_json, server_cpu, table, write,
};

#[derive(Debug, Parser)]
#[command(
    version,
    about = "Writes host.json, table.md and the results index for a bench.sh run"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

// Parsed once per process: the size of the largest variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
enum Command {
    /// Record the machine, server, dataset and benchmark parameters as JSON.
    Host {
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// What `dbio facts` printed for the benchmarked server.
        #[arg(long, value_name = "FILE")]
        facts: PathBuf,
        /// The exact command line of the run (recorded redacted).
        #[arg(long = "bench-command")]
        bench_command: String,
        /// The connection budget of the run.
        #[arg(long)]
        budget: usize,
        #[arg(long)]
        runs: u32,
        #[arg(long)]
        warmup: u32,
        /// Comma-separated names of the benchmarked commands.
        #[arg(long)]
        approaches: String,
        #[arg(long, default_value = "report")]
        workload: String,
        #[arg(long)]
        count: Option<u32>,
        #[arg(long)]
        sleep_ms: Option<u32>,
        /// Latency the proxy added to each direction, in milliseconds.
        #[arg(long)]
        latency_ms: Option<u64>,
        /// CPUs the managed server was pinned to.
        #[arg(long)]
        server_cpus: Option<u32>,
        #[arg(long, value_name = "PATH")]
        hyperfine: Option<PathBuf>,
        #[arg(long, value_name = "PATH")]
        python: Option<PathBuf>,
        /// The server is dbio's managed one (its CPU time is measured).
        #[arg(long)]
        managed: bool,
    },
    /// Write table.md and README.md of a run directory.
    Table {
        #[arg(long, value_name = "DIR")]
        dir: PathBuf,
    },
    /// Summarise a budget sweep (its budget-N/ cells) as table.md, README.md
    /// and host.json at the top of the run.
    Sweep {
        #[arg(long, value_name = "DIR")]
        dir: PathBuf,
    },
    /// Rewrite the index (README.md) of a results directory.
    Index {
        #[arg(long, value_name = "DIR")]
        results: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli: Cli = match common::cli::parse() {
        Ok(cli) => cli,
        Err(code) => return code,
    };
    let done = match cli.command {
        Command::Host {
            out,
            facts,
            bench_command,
            budget,
            runs,
            warmup,
            approaches,
            workload,
            count,
            sleep_ms,
            latency_ms,
            server_cpus,
            hyperfine,
            python,
            managed,
        } => {
            let bench = Bench {
                command: common::redact(&bench_command),
                budget,
                runs,
                warmup,
                approaches: approaches.split(',').map(str::to_owned).collect(),
                sleep_ms: (workload == "sleep").then_some(sleep_ms).flatten(),
                workload,
                count,
                latency_ms,
                server_cpus,
                budgets: Vec::new(),
            };
            write_host(&out, &facts, managed, bench, hyperfine, python)
        }
        Command::Table { dir } => write_table(&dir),
        Command::Sweep { dir } => write_sweep(&dir),
        Command::Index { results } => index::update(&results),
    };
    match done {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", common::redact(&common::error::chain(&e)));
            ExitCode::FAILURE
        }
    }
}

fn to_json(value: &impl serde::Serialize) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default() + "\n"
}

/// `bench-report host`.
fn write_host(
    out: &Path,
    facts: &Path,
    managed: bool,
    bench: Bench,
    hyperfine: Option<PathBuf>,
    python: Option<PathBuf>,
) -> Result<()> {
    let host = host::collect(
        read_json(facts)?,
        managed,
        bench,
        hyperfine.as_deref(),
        python.as_deref(),
    );
    write(out, &to_json(&host))
}

/// `bench-report table`: merges the rounds, checks that every approach
/// returned the same rows, and renders the table and the run's README.
fn write_table(dir: &Path) -> Result<()> {
    let host: Host = read_json(&dir.join("host.json"))?;
    let export = merge_rounds(dir, &host.bench.approaches)?;
    write(&dir.join("hyperfine.json"), &to_json(&export))?;
    let readings = |file: &str| -> Result<Option<_>> {
        let path = dir.join(file);
        path.is_file()
            .then(|| server_cpu::per_command(&path))
            .transpose()
    };
    let cpu = readings("server-cpu.tsv")?;
    let proxy_cpu = readings("proxy-cpu.tsv")?;
    let profiles = read_profiles(dir, &host.bench.approaches)?;
    let differ = table::disagreeing(&profiles, &host.bench.approaches);
    if !differ.is_empty() {
        return Err(ReportError::RowsDiffer {
            baseline: host.bench.approaches.first().cloned().unwrap_or_default(),
            differ,
            dir: dir.join("profiles"),
        });
    }
    let setting = table::Setting::of(&host, host.bench.budget);
    let table = table::render(
        &export,
        cpu.as_ref(),
        proxy_cpu.as_ref(),
        &profiles,
        &setting,
    ) + &table::verdicts(&export);
    write(&dir.join("table.md"), &table)?;
    let mut pictures = vec![("walltimes.svg", "wall time of every run")];
    plot::wall_times(&export, &dir.join(pictures[0].0))?;
    if plot::timelines(
        &profiles,
        &host.bench.approaches,
        &dir.join("timelines.svg"),
    )? {
        pictures.push(("timelines.svg", "timeline of each approach's profile run"));
    }
    write(
        &dir.join("README.md"),
        &run_readme(dir, &host, &table, &pictures),
    )
}

/// `bench-report sweep`.
fn write_sweep(dir: &Path) -> Result<()> {
    let cells = bench_report::sweep::cells(dir)?;
    let mut host = cells[0].host.clone();
    host.bench.budgets = cells.iter().map(|c| c.budget).collect();
    write(&dir.join("host.json"), &to_json(&host))?;
    let mut table = bench_report::sweep::render(&cells);
    table.push_str("\nCells: ");
    let links: Vec<String> = cells
        .iter()
        .map(|c| format!("[budget {0}](budget-{0}/README.md)", c.budget))
        .collect();
    table.push_str(&links.join(", "));
    table.push('\n');
    write(&dir.join("table.md"), &table)?;
    let (series, bound) = bench_report::sweep::curves(&cells);
    let picture = ("speedup.svg", "speedup against budget");
    plot::speedup(&series, &bound, &dir.join(picture.0))?;
    write(
        &dir.join("README.md"),
        &run_readme(dir, &host, &table, &[picture]),
    )
}

/// The run's hyperfine exports (one per round) as one.
fn merge_rounds(dir: &Path, order: &[String]) -> Result<hyperfine::Export> {
    let mut rounds: Vec<PathBuf> = list_dir(dir)?
        .into_iter()
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("hyperfine-round-") && n.ends_with(".json"))
        })
        .collect();
    rounds.sort();
    if rounds.is_empty() {
        return Err(ReportError::NoRounds(dir.to_owned()));
    }
    let rounds = rounds
        .iter()
        .map(|p| hyperfine::load(p))
        .collect::<Result<Vec<_>>>()?;
    Ok(hyperfine::merge(&rounds, order))
}

/// What each approach reported about itself in its untimed profile run.
fn read_profiles(
    dir: &Path,
    approaches: &[String],
) -> Result<std::collections::BTreeMap<String, table::Profile>> {
    let mut profiles = std::collections::BTreeMap::new();
    for name in approaches {
        let path = dir.join("profiles").join(format!("{name}.json"));
        if path.is_file() {
            // Stored condensed when long; the fingerprint keeps the check.
            let condensed = table::condense(&bench_report::read(&path)?).map_err(|message| {
                ReportError::Parse {
                    path: path.clone(),
                    message,
                }
            })?;
            if let Some(text) = condensed {
                write(&path, &text)?;
            }
            profiles.insert(name.clone(), read_json(&path)?);
        }
    }
    Ok(profiles)
}

/// A run's README: the command, what it ran on, the pictures, the table.
fn run_readme(dir: &Path, host: &Host, table: &str, pictures: &[(&str, &str)]) -> String {
    use std::fmt::Write;
    let name = dir
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let mut out = format!("# {name}\n\n```\n{}\n```\n\n", host.bench.command);
    let meta = |k: &str| host.dataset.meta.get(k).map_or("—", String::as_str);
    let _ = writeln!(
        out,
        "- machine: {} ({} logical CPUs), {:.1} GiB, {}, kernel {}",
        host.cpu_model,
        host.cores,
        host.memory_bytes as f64 / f64::from(1 << 30),
        host.os,
        host.kernel
    );
    let _ = writeln!(
        out,
        "- toolchain: {}; {}{}",
        host.rustc,
        host.hyperfine.as_deref().unwrap_or("hyperfine ?"),
        host.python
            .as_deref()
            .map(|p| format!("; {p}"))
            .unwrap_or_default()
    );
    let _ = writeln!(
        out,
        "- server: {} ({}), buffer pool {} MiB, max_connections {}",
        host.server.version,
        if host.server.managed {
            "managed by dbio"
        } else {
            "user's own"
        },
        host.server.innodb_buffer_pool_size >> 20,
        host.server.max_connections
    );
    if let Some(n) = host.bench.server_cpus {
        let _ = writeln!(
            out,
            "- server pinned to {n} of the machine's {} CPUs",
            host.cores
        );
    }
    let _ = writeln!(
        out,
        "- optimizer_switch: `{}`",
        host.server.optimizer_switch
    );
    let _ = writeln!(
        out,
        "- dataset: {} scale {} seed {} (generator {}), verified: {}",
        meta("source"),
        meta("scale"),
        meta("seed"),
        meta("generator"),
        host.dataset.verified
    );
    let _ = writeln!(
        out,
        "- workload: {}{}{}{}",
        host.bench.workload,
        host.bench
            .count
            .map(|n| format!(", {n} queries"))
            .unwrap_or_default(),
        host.bench
            .sleep_ms
            .map(|ms| format!(", {ms} ms each"))
            .unwrap_or_default(),
        host.bench
            .latency_ms
            .map(|ms| format!("; network latency {ms} ms each way (dbio proxy)"))
            .unwrap_or_default()
    );
    let _ = writeln!(
        out,
        "- {}; {} runs after {} warm-up runs; git `{}`{}",
        if host.bench.budgets.is_empty() {
            format!("budget {} connections", host.bench.budget)
        } else {
            let budgets: Vec<String> = host.bench.budgets.iter().map(ToString::to_string).collect();
            format!("budgets {} connections, one cell each", budgets.join(", "))
        },
        host.bench.runs,
        host.bench.warmup,
        host.git.revision,
        if host.git.dirty {
            " (uncommitted changes)"
        } else {
            ""
        }
    );
    let _ = writeln!(out, "- date: {}\n", host.date);
    for (file, what) in pictures {
        let _ = writeln!(out, "![{what}]({file})\n");
    }
    out.push_str(table);
    out
}
