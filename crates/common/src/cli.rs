//! The command line every approach binary shares, and the `main` they all
//! call: parse, validate, run, print; on failure one `error: ...` line and a
//! non-zero exit. The helpers every binary uses (`parse`, `emit`) are
//! `model::cli`'s, re-exported here.

use std::io::Write;
use std::process::ExitCode;

use clap::{CommandFactory, Parser};

use crate::ConnConfig;
use crate::error::{Error, chain};
use crate::settings::{ConnectionArgs, redact};
use crate::workload::{KEY_RANGE, Plan, Workload, WorkloadArgs, check_dataset};
pub use limits::memory::DEFAULT_MAX_MEMORY;
pub use model::cli::{FAILED, REFUSED, emit, emit_line, parse, replica_count};

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

    /// Print the statements the run would execute, each ended by `;` and a
    /// newline, and exit without running them (for a reference client such
    /// as mariadb-slap; the point workload asks the server its key range).
    #[arg(long, conflicts_with = "json")]
    pub print_sql: bool,

    /// End the run with an error when the client's resident memory passes
    /// MIB (0: no bound): a broken or hostile server can make a driver
    /// allocate without end (see docs/security.md: a broken or hostile server).
    #[arg(long, env = "DBIO_MAX_MEMORY", default_value_t = DEFAULT_MAX_MEMORY, value_name = "MIB",
          value_parser = clap::value_parser!(u64).range(0..=1 << 24))]
    pub max_memory: u64,
}

impl RunArgs {
    /// Checks every setting: after this, nothing about the input can fail.
    pub fn validate(&self) -> Result<(ConnConfig, Plan), Error> {
        let mut conn = self.conn.validate()?;
        let plan = self.workload.validate()?;
        conn.read_only = self.workload.read_only(&plan);
        Ok((conn, plan))
    }
}

/// The whole `main` of an approach binary.
pub fn main<A: crate::Approach>() -> ExitCode {
    crate::heap::reserve_growth();
    let name = A::NAME;
    let args: RunArgs = match model::cli::parse_as(RunArgs::command().name(name).bin_name(name)) {
        Ok(args) => args,
        Err(code) => return code,
    };
    let (conn, plan) = match args.validate() {
        Ok(checked) => checked,
        Err(e) => return fail(&e, ""),
    };
    let (managed, read_only) = (conn.managed, conn.read_only);
    if let Err(e) = crate::interrupt::install()
        .and_then(|()| crate::fatal::install())
        .and_then(|()| crate::memory::bound(args.max_memory))
    {
        return fail(&e, "");
    }
    let workload = args.workload.workload;
    // A panic on this thread (a driver's, under block_on) unwinds to here;
    // the panic hook has already handed the exit to `fatal`.
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        A::prepare(&conn).and_then(|prepared| {
            // Anything the run needs from the server is asked before the clock:
            // that the dataset is whole (sleeps read no table), the key range.
            if prepared.servers() > 1 {
                check_distinct(&prepared, &conn)?;
            }
            if workload != Workload::Sleep {
                check_datasets(&prepared, &conn)?;
            }
            let work = plan.queries(|| prepared.probe(KEY_RANGE))?;
            if args.print_sql {
                return Ok(Output::Sql(work));
            }
            prepared.execute(&work).map(|r| Output::Report(Box::new(r)))
        })
    }));
    let Ok(outcome) = outcome else {
        crate::interrupt::wait_for_exit();
    };
    if crate::interrupt::signalled() {
        // The queries failed because the signal killed them: the signal
        // thread prints the one line and exits.
        crate::interrupt::wait_for_exit();
    }
    match outcome {
        Ok(output) => {
            // One buffer, flushed once: a write per line (stdout's line
            // buffering) would be a system call per query.
            let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
            let written = match output {
                Output::Report(report) if args.json => report.write_json(&mut out),
                Output::Report(report) => report.write_text(&mut out),
                Output::Sql(work) => work
                    .queries()
                    .iter()
                    .try_for_each(|q| writeln!(out, "{};", q.sql)),
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
        Err(e) if read_only && refused_write(&e) => fail(
            &e,
            " (a dashboard runs on read-only sessions: --allow-writes lets its statements write)",
        ),
        Err(e) => fail(&e, ""),
    }
}

/// Whether the server refused a write in a read-only transaction (1792).
fn refused_write(e: &Error) -> bool {
    matches!(e, Error::Query { source, .. } if source.server_code() == Some(1792))
}

/// Refuses one server given twice under two spellings (`127.0.0.1` and
/// `localhost`, `127.1`): URLs are compared as written when they are
/// checked, servers here by what each says it is
/// ([`crate::workload::SERVER_IDENTITY`], and MySQL's `@@server_uuid`
/// where it has one). Asked before the clock.
fn check_distinct<A: crate::Approach>(prepared: &A, conn: &ConnConfig) -> Result<(), Error> {
    use crate::workload::{SERVER_IDENTITY, SERVER_UUID};
    let mut seen: Vec<Vec<Option<String>>> = Vec::new();
    for server in 0..prepared.servers() {
        let mut identity = prepared.probe_on(server, SERVER_IDENTITY).map_err(|e| {
            Error::Config(format!(
                "server {} ({}): {}",
                server + 1,
                conn.servers[server],
                chain(&e)
            ))
        })?;
        // MariaDB has no server_uuid: its error only means there is none.
        if let Ok(uuid) = prepared.probe_on(server, SERVER_UUID) {
            identity.extend(uuid);
        }
        if let Some(same) = seen.iter().position(|s| *s == identity) {
            let text = |i: usize| identity.get(i).cloned().flatten().unwrap_or_default();
            return Err(Error::Config(format!(
                "server {} ({}) is server {} ({}) again: both say they are {}:{} with data in {}; give each server once (its budget is per server)",
                server + 1,
                conn.servers[server],
                same + 1,
                conn.servers[same],
                text(0),
                text(1),
                text(2),
            )));
        }
        seen.push(identity);
    }
    Ok(())
}

/// Every server has the dataset, complete, and with several servers the
/// same one as the first: a replica that lacks it, or another dataset,
/// is named before anything runs.
fn check_datasets<A: crate::Approach>(prepared: &A, conn: &ConnConfig) -> Result<(), Error> {
    let servers = prepared.servers();
    if servers == 1 {
        return check_dataset(|sql| prepared.probe(sql));
    }
    let named = |server: usize, e: Error| {
        Error::Config(format!(
            "server {} ({}): {}",
            server + 1,
            conn.servers[server],
            chain(&e)
        ))
    };
    let mut first = None;
    for server in 0..servers {
        check_lag(prepared, conn, server).map_err(|e| match e {
            Error::Config(_) => e,
            other => named(server, other),
        })?;
        check_dataset(|sql| prepared.probe_on(server, sql)).map_err(|e| named(server, e))?;
        let identity = prepared
            .probe_on(server, crate::workload::DATASET_IDENTITY)
            .map_err(|e| named(server, e))?
            .into_iter()
            .next()
            .flatten()
            .unwrap_or_default();
        match &first {
            None => first = Some(identity),
            Some(same) if *same == identity => {}
            Some(other) => {
                return Err(Error::Config(format!(
                    "server {} ({}) holds another dataset ({identity}) than server 1 ({other}): every server of a run must hold the same",
                    server + 1,
                    conn.servers[server]
                )));
            }
        }
    }
    Ok(())
}

/// A replica among the run's servers replicates and is at most
/// `--max-lag` behind its primary; a server that is no replica, or whose
/// status the account may not see (1227), passes.
fn check_lag<A: crate::Approach>(
    prepared: &A,
    conn: &ConnConfig,
    server: usize,
) -> Result<(), Error> {
    let status = match prepared.probe_named(server, "SHOW SLAVE STATUS") {
        Ok(status) => status,
        Err(Error::Query { source, .. }) if source.server_code() == Some(1227) => return Ok(()),
        Err(e) => return Err(e),
    };
    if status.is_empty() {
        return Ok(());
    }
    let lag = status
        .iter()
        .find(|(name, _)| name == "Seconds_Behind_Master")
        .and_then(|(_, v)| v.as_deref()?.parse::<u64>().ok());
    let which = format!("server {} ({})", server + 1, conn.servers[server]);
    match lag {
        Some(lag) if lag <= conn.max_lag.as_secs() => Ok(()),
        Some(lag) => Err(Error::Config(format!(
            "{which} is {lag} s behind its primary, more than --max-lag {} s: its reads would see other data",
            conn.max_lag.as_secs()
        ))),
        None => Err(Error::Config(format!(
            "{which} is a replica that is not replicating now (its lag is unknown): start its replication, or leave it out"
        ))),
    }
}

/// What a run prints: its report, or with `--print-sql` the statements it
/// would have run.
enum Output {
    Report(Box<crate::Report>),
    Sql(crate::workload::Work),
}

fn fail(e: &Error, hint: &str) -> ExitCode {
    eprintln!("error: {}{hint}", redact(&chain(e)));
    ExitCode::from(match e {
        Error::MachineLimit(_) => REFUSED,
        _ => FAILED,
    })
}
