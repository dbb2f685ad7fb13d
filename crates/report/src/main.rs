//! `bench-report`: the steps of `scripts/bench.sh` that turn measurements
//! into results files.

use std::fmt::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use common::settings::ConnectionArgs;
use report::host::{self, Bench, Host};
use report::{hyperfine, index, server_cpu, table};

#[derive(Debug, Parser)]
#[command(
    version,
    about = "Writes host.json, table.md and the results index for a bench.sh run"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Record the machine, server, dataset and benchmark parameters as JSON.
    Host {
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// The exact command line of the run (recorded redacted).
        #[arg(long = "bench-command")]
        bench_command: String,
        #[arg(long)]
        runs: u32,
        #[arg(long)]
        warmup: u32,
        /// Comma-separated names of the benchmarked commands.
        #[arg(long)]
        approaches: String,
        #[arg(long, value_name = "PATH")]
        hyperfine: Option<PathBuf>,
        #[arg(long, value_name = "PATH")]
        python: Option<PathBuf>,
        /// The server is dbio's managed one (its CPU time is measured).
        #[arg(long)]
        managed: bool,
        #[command(flatten)]
        conn: ConnectionArgs,
    },
    /// Write table.md and README.md of a run directory.
    Table {
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
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", common::redact(&e));
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<(), String> {
    let chain = |e: &dyn std::error::Error| common::error::chain(e);
    match cli.command {
        Command::Host {
            out,
            bench_command,
            runs,
            warmup,
            approaches,
            hyperfine,
            python,
            managed,
            conn,
        } => {
            let cfg = conn.validate().map_err(|e| chain(&e))?;
            let bench = Bench {
                command: common::redact(&bench_command),
                budget: cfg.budget,
                runs,
                warmup,
                approaches: approaches.split(',').map(str::to_owned).collect(),
            };
            let host = host::collect(
                &cfg.url,
                managed,
                bench,
                hyperfine.as_deref(),
                python.as_deref(),
            )?;
            let json = serde_json::to_string_pretty(&host).map_err(|e| e.to_string())?;
            std::fs::write(&out, json + "\n")
                .map_err(|e| format!("cannot write {}: {e}", out.display()))
        }
        Command::Table { dir } => {
            let host: Host = serde_json::from_str(
                &std::fs::read_to_string(dir.join("host.json"))
                    .map_err(|e| format!("{}: {e}", dir.join("host.json").display()))?,
            )
            .map_err(|e| format!("host.json: {e}"))?;
            // One hyperfine export per round; merged into hyperfine.json.
            let mut round_files: Vec<PathBuf> = std::fs::read_dir(&dir)
                .map_err(|e| format!("{}: {e}", dir.display()))?
                .flatten()
                .map(|e| e.path())
                .filter(|p| {
                    p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.starts_with("hyperfine-round-") && n.ends_with(".json"))
                })
                .collect();
            round_files.sort();
            if round_files.is_empty() {
                return Err(format!("no hyperfine-round-*.json in {}", dir.display()));
            }
            let rounds = round_files
                .iter()
                .map(|p| hyperfine::load(p))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| chain(&e))?;
            let export = hyperfine::merge(&rounds, &host.bench.approaches);
            let merged = serde_json::to_string_pretty(&export).map_err(|e| e.to_string())?;
            write_file(&dir.join("hyperfine.json"), &(merged + "\n"))?;
            let cpu_path = dir.join("server-cpu.tsv");
            let cpu = if cpu_path.is_file() {
                Some(server_cpu::per_command(&cpu_path).map_err(|e| chain(&e))?)
            } else {
                None
            };
            let mut profiles = std::collections::BTreeMap::new();
            for name in &host.bench.approaches {
                let path = dir.join("profiles").join(format!("{name}.json"));
                if let Ok(text) = std::fs::read_to_string(&path) {
                    let profile: table::Profile = serde_json::from_str(&text)
                        .map_err(|e| format!("{}: {e}", path.display()))?;
                    profiles.insert(name.clone(), profile);
                }
            }
            let differ = table::disagreeing(&profiles, &host.bench.approaches);
            if !differ.is_empty() {
                return Err(format!(
                    "row counts differ from {}'s in: {} (see {}/profiles)",
                    host.bench.approaches.first().map_or("", String::as_str),
                    differ.join(", "),
                    dir.display()
                ));
            }
            let table = table::render(
                &export,
                cpu.as_ref(),
                &profiles,
                host.bench.budget,
                host.cores,
            );
            write_file(&dir.join("table.md"), &table)?;
            write_file(&dir.join("README.md"), &run_readme(&dir, &host, &table))
        }
        Command::Index { results } => index::update(&results).map_err(|e| chain(&e)),
    }
}

fn write_file(path: &std::path::Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

fn run_readme(dir: &std::path::Path, host: &Host, table: &str) -> String {
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
        "- budget {} connections; {} runs after {} warm-up runs; git `{}`{}",
        host.bench.budget,
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
    out.push_str(table);
    out
}
