//! `bench-report`: renders a results folder again from the files the
//! `bench` driver recorded there (after a change to the renderer, or to a
//! run's index). It reads files only and connects to nothing.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use bench_report::{compare, index, run_dir};

#[derive(Debug, Parser)]
#[command(
    version,
    about = "Renders table.md, the pictures and the results index of a bench run again, and compares two runs"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Write table.md, the pictures and README.md of a run directory.
    Table {
        #[arg(long, value_name = "DIR")]
        dir: PathBuf,
    },
    /// Summarise a sweep (its budget-N/, replicas-N/ or rate-R/ cells) as
    /// table.md, README.md and host.json at the top of the run.
    Sweep {
        #[arg(long, value_name = "DIR")]
        dir: PathBuf,
    },
    /// Rewrite the index (README.md) of a results directory.
    Index {
        #[arg(long, value_name = "DIR")]
        results: PathBuf,
    },
    /// Compare two runs: each approach's mean time, B over A, with its 95%
    /// bootstrap interval and a verdict, and a warning for every way the
    /// runs differ (machine, server, settings, dataset, workload).
    Compare {
        #[arg(value_name = "RUN_A")]
        a: PathBuf,
        #[arg(value_name = "RUN_B")]
        b: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli: Cli = match model::cli::parse() {
        Ok(cli) => cli,
        Err(code) => return code,
    };
    let done = match cli.command {
        Command::Table { dir } => run_dir::write_table(&dir),
        Command::Sweep { dir } => run_dir::write_sweep(&dir),
        Command::Index { results } => index::update(&results),
        Command::Compare { a, b } => compare::run(&a, &b, &mut std::io::stdout().lock()),
    };
    match done {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", model::redact(&model::error::chain(&e)));
            ExitCode::FAILURE
        }
    }
}
