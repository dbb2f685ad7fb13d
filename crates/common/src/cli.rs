//! The command line every approach binary shares, and the `main` they all
//! call: parse, validate, run, print; on failure one `error: ...` line and a
//! non-zero exit.

use std::io::Write;
use std::process::ExitCode;

use clap::{CommandFactory, Parser};

use crate::ConnConfig;
use crate::error::{Error, chain};
use crate::settings::{ConnectionArgs, redact};
use crate::workload::{KEY_RANGE, Plan, Workload, WorkloadArgs, check_dataset};

/// Runs a query list (the blog's 26 report queries by default) against
/// MySQL/MariaDB with one scheduling approach, and prints each query's first
/// row, row count and digest.
#[derive(Debug, Parser)]
#[command(version)]
pub struct RunArgs {
    #[command(flatten)]
    pub conn: ConnectionArgs,

    #[command(flatten)]
    pub workload: WorkloadArgs,

    /// Print the machine-readable report (JSON) instead of text.
    #[arg(long)]
    pub json: bool,
}

impl RunArgs {
    /// Checks every setting: after this, nothing about the input can fail.
    pub fn validate(&self) -> Result<(ConnConfig, Plan), Error> {
        Ok((self.conn.validate()?, self.workload.validate()?))
    }
}

/// Exit code for a failed run (clap uses 2 for bad arguments).
pub const FAILED: u8 = 1;

/// Parses the command line; on `--help`/`--version` prints and returns
/// success, on bad arguments prints clap's one-line error (its usage tips
/// are noise here) and returns exit code 2.
pub fn parse<T: Parser>() -> Result<T, ExitCode> {
    parse_as(T::command())
}

/// [`parse`] with the command renamed (for `--help` and `--version`).
fn parse_as<T: Parser>(command: clap::Command) -> Result<T, ExitCode> {
    let parsed = command
        .try_get_matches()
        .and_then(|m| T::from_arg_matches(&m));
    match parsed {
        Ok(args) => Ok(args),
        Err(e) if !e.use_stderr() => {
            let _ = e.print();
            Err(ExitCode::SUCCESS)
        }
        Err(e) => {
            // The first line, and clap's list of the values it accepts
            // when it gives one: its usage tips are noise here.
            let text = redact(&e.to_string());
            let mut lines = text.lines();
            let first = lines.next().unwrap_or("error: invalid arguments");
            match lines.next().map(str::trim) {
                Some(values) if values.starts_with("[possible values") => {
                    eprintln!("{first} {values}");
                }
                _ => eprintln!("{first}"),
            }
            Err(ExitCode::from(2))
        }
    }
}

/// The whole `main` of an approach binary.
pub fn main<A: crate::Approach>() -> ExitCode {
    let name = A::NAME;
    let args: RunArgs = match parse_as(RunArgs::command().name(name).bin_name(name)) {
        Ok(args) => args,
        Err(code) => return code,
    };
    let (conn, plan) = match args.validate() {
        Ok(checked) => checked,
        Err(e) => return fail(&e, ""),
    };
    let managed = conn.managed;
    if let Err(e) = crate::interrupt::install() {
        return fail(&e, "");
    }
    let workload = args.workload.workload;
    let outcome = A::prepare(&conn).and_then(|prepared| {
        // Anything the run needs from the server is asked before the clock:
        // that the dataset is whole (sleeps read no table), the key range.
        if workload != Workload::Sleep {
            check_dataset(|sql| prepared.probe(sql))?;
        }
        let work = plan.queries(|| prepared.probe(KEY_RANGE))?;
        prepared.execute(&work)
    });
    if crate::interrupt::signalled() {
        // The queries failed because the signal killed them: the signal
        // thread prints the one line and exits.
        crate::interrupt::wait_for_exit();
    }
    match outcome {
        Ok(report) => {
            // One buffer, flushed once: a write per line (stdout's line
            // buffering) would be a system call per query.
            let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
            let written = if args.json {
                report.write_json(&mut out)
            } else {
                report.write_text(&mut out)
            };
            match written.and_then(|()| out.flush()) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("error: cannot write the report: {e}");
                    ExitCode::from(FAILED)
                }
            }
        }
        Err(e) if managed && e.unreachable() => fail(
            &e,
            " (is the managed server running? start it with `cargo run -p dbio -- up`)",
        ),
        Err(e) => fail(&e, ""),
    }
}

/// Writes `text` to stdout. A reader that went away (`dbio server status |
/// head -1`) ends the process quietly with success, as for any filter;
/// another write error ends it with one `error:` line. For the tools'
/// output, never called while queries run.
pub fn emit(text: &str) {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(0),
        Err(e) => {
            eprintln!("error: cannot write to stdout: {e}");
            std::process::exit(i32::from(FAILED));
        }
    }
}

/// [`emit`] with a newline.
pub fn emit_line(text: impl std::fmt::Display) {
    emit(&format!("{text}\n"));
}

fn fail(e: &Error, hint: &str) -> ExitCode {
    eprintln!("error: {}{hint}", redact(&chain(e)));
    ExitCode::from(FAILED)
}
