//! `--c-client`: a C client beside the Rust approaches, in the same sitting.
//! `mariadb-slap` runs the statements an approach prints with `--print-sql`
//! at the cell's budget as its concurrency, against the same server (through
//! the proxy when there is one), in rounds of rotating order with every Rust
//! approach of the cell; each thread-based one on both blocking drivers
//! (the `mysql` crate and dbio's `wire` client). Each run's CPU time is the kernel's account of the
//! reaped process (`getrusage(RUSAGE_CHILDREN)` before and after it), for
//! every client alike; a Rust approach also reports its CPU during the run
//! itself. Written to `c-client.json`; `bench_report::c_client` renders it.
//!
//! Only point lookups: mariadb-slap starts every client at the top of the
//! statement list, so its clients run the same first keys; every lookup of
//! one row by primary key costs the same, which no other workload offers.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use bench_report::c_client::{CClient, ClientRun, FILE};
use model::registry::{Approach, Language};
use model::settings::BlockingDriver;

use crate::child;
use crate::error::{Error, Result};
use crate::progress::Progress;
use crate::session::Session;

/// The C client's program, on `PATH`.
const PROGRAM: &str = "mariadb-slap";

/// Runs the comparison of one cell into `dir/c-client.json`.
pub fn compare(
    session: &Session<'_>,
    dir: &Path,
    budget: u32,
    approaches: &[&'static Approach],
    progress: &mut Progress,
) -> Result<()> {
    let rust: Vec<&'static Approach> = approaches
        .iter()
        .copied()
        .filter(|a| a.language == Language::Rust)
        .collect();
    let Some(first) = rust.first() else {
        crate::say("== --c-client: no Rust approach ran in this cell; nothing to compare");
        for _ in 0..session.config.runs {
            progress.round_done();
        }
        return Ok(());
    };
    let scratch = Scratch::new(dir);
    let sql = scratch.path("c-client.sql");
    let (_, mut print) = session.command(first, budget)?;
    print
        .arg("--print-sql")
        .stdin(Stdio::null())
        .stdout(create(&sql, 0o600)?);
    child::run(print, &format!("{} --print-sql", first.name))?;
    let queries = bench_report::read(&sql)?
        .lines()
        .filter(|l| l.ends_with(';'))
        .count();
    let queries = u32::try_from(queries)
        .map_err(|_| Error::Failed("too many statements for mariadb-slap".into()))?;
    let url = &session.server.url;
    // Outside the results folder: a killed bench cannot leave the
    // password there (minor 2 of the third hostile pass).
    let private = crate::private::Private::new()?;
    let options = private.path().join("c-client.cnf");
    model::files::write_replace(&options, client_options(url)?.as_bytes(), 0o600)
        .map_err(Error::io(format!("cannot write {}", options.display())))?;
    let slap_args = |options: &Path, sql: &Path, concurrency: u32| -> Vec<String> {
        vec![
            // Only this file: no option file of the machine's changes the run.
            format!("--defaults-file={}", options.display()),
            "--protocol=tcp".into(),
            format!("--create-schema={}", url.database().unwrap_or("employees")),
            "--no-drop".into(),
            format!("--concurrency={concurrency}"),
            "--iterations=1".into(),
            format!("--number-of-queries={queries}"),
            format!("--query={}", sql.display()),
            "--delimiter=;".into(),
            "--silent".into(),
        ]
    };
    let version = version()?;
    let shown = slap_args(
        Path::new("OPTIONS.cnf"),
        Path::new("STATEMENTS.sql"),
        budget,
    );
    // The C client at the cell's budget, and at each other concurrency a
    // Rust approach runs at (the serial one's 1), so every approach is
    // compared at its own.
    let mut clients = vec![Client::Slap(budget)];
    for &approach in &rust {
        let profile = profile(dir, approach);
        let concurrency = profile
            .as_ref()
            .and_then(|p| p.peak_connections)
            .and_then(|n| u32::try_from(n).ok())
            .unwrap_or(budget);
        if !clients
            .iter()
            .any(|c| matches!(c, Client::Slap(n) if *n == concurrency))
        {
            clients.insert(1, Client::Slap(concurrency));
        }
        // A thread-based approach (its profile ran on a blocking driver)
        // runs on both, to show what the driver costs beside the scheduling.
        if profile.is_some_and(|p| p.driver == "mysql" || p.driver == "wire") {
            clients.push(Client::Rust(
                approach,
                Some(BlockingDriver::Mysql),
                concurrency,
            ));
            clients.push(Client::Rust(
                approach,
                Some(BlockingDriver::Wire),
                concurrency,
            ));
        } else {
            clients.push(Client::Rust(approach, None, concurrency));
        }
    }
    let rounds = session.config.runs;
    let mut runs = Vec::new();
    for round in 1..=rounds {
        crate::say(&format!(
            "== {} C client round {round} of {rounds}: {PROGRAM} and {} Rust client(s), {queries} lookups at concurrency {budget}",
            progress.stamp(),
            clients.len() - 1
        ));
        for client in crate::schedule::rotation(&clients, round) {
            let run = match client {
                Client::Slap(concurrency) => {
                    let mut command = Command::new(PROGRAM);
                    command
                        .args(slap_args(&options, &sql, concurrency))
                        .stdin(Stdio::null())
                        .stdout(Stdio::null());
                    let (cpu_us, wall_us) = measured(command, PROGRAM)?;
                    ClientRun {
                        client: bench_report::c_client::slap_name(concurrency, budget),
                        concurrency: Some(concurrency),
                        cpu_us,
                        run_cpu_us: None,
                        wall_us,
                    }
                }
                Client::Rust(approach, driver, concurrency) => {
                    let mut run = approach_run(session, approach, driver, budget, &scratch)?;
                    run.concurrency = Some(concurrency);
                    run
                }
            };
            runs.push(run);
        }
        progress.round_done();
    }
    let record = CClient {
        version,
        command: format!("{PROGRAM} {}", shown.join(" ")),
        concurrency: budget,
        queries,
        runs,
    };
    let path = dir.join(FILE);
    model::files::write_replace(
        &path,
        bench_report::run_dir::to_json(&record).as_bytes(),
        0o644,
    )
    .map_err(Error::io(format!("cannot write {}", path.display())))
}

/// One client of the comparison, with the concurrency it runs at.
#[derive(Debug, Clone, Copy)]
enum Client {
    Slap(u32),
    /// A Rust approach, on the given blocking driver (else the cell's).
    Rust(&'static Approach, Option<BlockingDriver>, u32),
}

/// An approach's profile run (its driver, the connections it held).
fn profile(dir: &Path, approach: &Approach) -> Option<model::Report> {
    let path = dir.join("profiles").join(format!("{}.json", approach.name));
    serde_json::from_str(&bench_report::read(&path).ok()?).ok()
}

/// One run of a Rust approach: the kernel's CPU account of it, and its own
/// report's CPU during the run.
fn approach_run(
    session: &Session<'_>,
    approach: &Approach,
    driver: Option<BlockingDriver>,
    budget: u32,
    scratch: &Scratch,
) -> Result<ClientRun> {
    let json = scratch.path("c-client-run.json");
    let _ = std::fs::remove_file(&json);
    let (_, mut command) = session.command(approach, budget)?;
    if let Some(driver) = driver {
        command.env("DBIO_BLOCKING_DRIVER", driver.name());
    }
    command
        .arg("--json")
        .stdin(Stdio::null())
        .stdout(create(&json, 0o600)?);
    let (cpu_us, wall_us) = measured(command, approach.name)?;
    let report: model::Report = serde_json::from_str(&bench_report::read(&json)?)
        .map_err(|e| Error::Failed(format!("{} printed no report: {e}", approach.name)))?;
    // A thread-based approach on dbio's own client is named so.
    let client = match report.driver.as_str() {
        "wire" => format!("{} (wire)", approach.name),
        _ => approach.name.to_owned(),
    };
    Ok(ClientRun {
        client,
        concurrency: None,
        cpu_us,
        run_cpu_us: Some(report.run_cpu_user_us + report.run_cpu_sys_us),
        wall_us,
    })
}

/// Runs `command` to its end; the CPU time of the process (user + system,
/// microseconds) and its wall time. Nothing else is reaped meanwhile: the
/// difference in the children's account is this process's alone.
fn measured(command: Command, what: &str) -> Result<(u64, u64)> {
    let before = children_cpu_us();
    let started = Instant::now();
    child::run(command, what)?;
    let wall_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
    Ok((children_cpu_us().saturating_sub(before), wall_us))
}

/// User + system CPU of every reaped child so far, in microseconds.
#[allow(unsafe_code)]
fn children_cpu_us() -> u64 {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage only fills the struct it is given, and a zeroed
    // rusage is a valid value of it.
    let usage = unsafe {
        libc::getrusage(libc::RUSAGE_CHILDREN, usage.as_mut_ptr());
        usage.assume_init()
    };
    let us = |t: libc::timeval| {
        u64::try_from(t.tv_sec).unwrap_or(0) * 1_000_000 + u64::try_from(t.tv_usec).unwrap_or(0)
    };
    us(usage.ru_utime) + us(usage.ru_stime)
}

/// The client's options: where the server is and who connects, in a file
/// only this user can read, so that the password is neither on the command
/// line nor in the environment.
/// An option file is read line by line, with no escape for a line break:
/// a user or password that holds one (or another control character) is
/// refused, never written (it would inject options and show part of the
/// password in the client's errors).
fn client_options(url: &model::DbUrl) -> Result<String> {
    let quoted = |v: &str| format!("\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\""));
    let user = url.user_decoded();
    let password = url.password().unwrap_or_default();
    if user.chars().chain(password.chars()).any(char::is_control) {
        return Err(Error::Failed(
            "--c-client: the account's user or password holds a line break or another control character, which mariadb-slap's option file cannot carry; run the comparison with another account".into(),
        ));
    }
    let mut text = format!(
        "[client]\nhost={}\nport={}\nuser={}\n",
        url.host(),
        url.port(),
        quoted(&user)
    );
    if url.password().is_some() {
        text.push_str(&format!("password={}\n", quoted(&password)));
    }
    Ok(text)
}

/// `mariadb-slap --version`, or a clear error when it is missing.
fn version() -> Result<String> {
    let out = Command::new(PROGRAM)
        .arg("--version")
        .stdin(Stdio::null())
        .output()
        .map_err(|_| {
            Error::Failed(format!(
                "--c-client needs {PROGRAM} (Debian: apt-get install mariadb-client)"
            ))
        })?;
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

fn create(path: &Path, mode: u32) -> Result<std::fs::File> {
    model::files::create_new(path, mode)
        .map_err(Error::io(format!("cannot create {}", path.display())))
}

/// The comparison's own files in the cell's folder, removed when it ends:
/// the statements and a report.
#[derive(Debug)]
struct Scratch {
    dir: PathBuf,
    made: std::cell::RefCell<Vec<PathBuf>>,
}

impl Scratch {
    fn new(dir: &Path) -> Scratch {
        Scratch {
            dir: dir.to_owned(),
            made: std::cell::RefCell::default(),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        let path = self.dir.join(name);
        self.made.borrow_mut().push(path.clone());
        path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        for path in self.made.borrow().iter() {
            let _ = std::fs::remove_file(path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_options_quote_what_the_url_holds() {
        let url =
            model::DbUrl::parse("mysql://dbio:p%22w%5C@127.0.0.1:3307/employees").expect("url");
        assert_eq!(
            client_options(&url).expect("options"),
            "[client]\nhost=127.0.0.1\nport=3307\nuser=\"dbio\"\npassword=\"p\\\"w\\\\\"\n"
        );
    }

    /// Minor 1 of the third hostile pass: a line break in the password
    /// would start an option line of its own.
    #[test]
    fn a_line_break_in_the_account_is_refused_not_written() {
        for url in [
            "mysql://dbio:pw%0Aplugin-dir%3D%2Ftmp@127.0.0.1:3307/employees",
            "mysql://dbio:pw%0D@127.0.0.1:3307/employees",
            "mysql://db%0Aio:pw@127.0.0.1:3307/employees",
        ] {
            let url = model::DbUrl::parse(url).expect("url");
            let err = client_options(&url).expect_err("refused").to_string();
            assert!(err.contains("line break"), "{err}");
            assert!(!err.contains("plugin-dir"), "{err}");
        }
    }
}
