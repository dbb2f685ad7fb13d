//! `bench`: the benchmark driver. Checks its arguments into a
//! [`args::Config`], finds its tools, then runs: the server, an untimed
//! profile run of each approach, timed rounds of hyperfine in rotating
//! order with the server's CPU read around each run, one cell per budget,
//! and the results folder. `scripts/bench.sh` installs what is missing,
//! builds, and runs this.

mod args;
mod c_client;
mod cell;
mod child;
mod error;
mod folder;
mod guard;
mod private;
mod progress;
mod run;
mod schedule;
mod server;
mod session;
mod tools;

use std::process::ExitCode;

use args::Args;
use error::Error;

/// A line on stderr (progress and notes; results go to stdout).
pub(crate) fn say(line: &str) {
    eprintln!("{line}");
}

fn main() -> ExitCode {
    let command_line = std::env::args_os()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ");
    let args: Args = match model::cli::parse() {
        Ok(args) => args,
        Err(code) => return code,
    };
    let needs = args.needs;
    let result = args
        .check(
            format!("scripts/bench.sh {command_line}")
                .trim_end()
                .to_owned(),
        )
        .and_then(|config| {
            if needs {
                print_needs(&config);
                return Ok(());
            }
            child::install()?;
            let tools = tools::Tools::find(config.hyperfine.clone(), config.python.clone())?;
            run::run(&config, &tools)
        });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e @ Error::Interrupted(_)) => ExitCode::from(e.exit_code()),
        Err(e) => {
            eprintln!("error: {}", model::redact(&model::error::chain(&e)));
            ExitCode::from(e.exit_code())
        }
    }
}

/// `--needs`: what scripts/bench.sh must install and build for this run.
fn print_needs(config: &args::Config) {
    use model::registry::Language;
    let mut lines = Vec::new();
    if config.managed() {
        lines.push("need: server".to_owned());
    }
    if config.python.is_some() {
        lines.push("need: python".to_owned());
    }
    if config.c_client {
        lines.push("need: c-client".to_owned());
    }
    lines.push("build: dbio".to_owned());
    for approach in &config.approaches {
        if approach.language == Language::Rust {
            lines.push(format!("build: {}", approach.name));
        }
    }
    model::cli::emit(&(lines.join("\n") + "\n"));
}
