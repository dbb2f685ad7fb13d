//! One cell of a run: every selected approach at one budget, into its own
//! folder: the untimed profile runs, `host.json`, the timed rounds, with
//! `--c-client` the comparison with a C client, the table.

use std::path::Path;
use std::process::{Command, Stdio};

use bench_report::host::{self, Bench, Calibration, NotRun, Toolchain};
use model::registry::Approach;

use crate::child::{self, Group};
use crate::error::{Error, Result};
use crate::progress::Progress;
use crate::schedule::{self, CpuProbe, Timed};
use crate::server::Proxy;
use crate::session::Session;
use crate::tools::Tools;

impl Session<'_> {
    /// Runs one cell into `dir`.
    pub fn cell(
        &self,
        dir: &Path,
        budget: u32,
        label: &str,
        progress: &mut Progress,
    ) -> Result<()> {
        std::fs::create_dir_all(dir.join("profiles"))
            .map_err(Error::io(format!("cannot create {}", dir.display())))?;
        let (approaches, not_run) = self.profiles(dir, budget)?;
        // An open loop's result is the latency against the ideal queue,
        // whose service times a serial run measures; the server's CPU per
        // run is recorded, not compared.
        let calibration = match self.rate {
            Some(_) => {
                self.service(dir, budget)?;
                None
            }
            None => self.calibrate(approaches[0], budget)?,
        };
        self.host_json(dir, budget, &approaches, not_run, calibration)?;
        self.rounds(dir, budget, &approaches, label, progress)?;
        if self.config.c_client {
            crate::c_client::compare(self, dir, budget, &approaches, progress)?;
        }
        bench_report::run_dir::write_table(dir)?;
        Ok(())
    }

    /// Untimed profile runs: a failing approach stops the run here with its
    /// own one-line error; one this machine cannot run at this size (exit
    /// [`model::cli::REFUSED`]: a thread limit) is left out of the cell with
    /// its reason. Each records its peak memory, row counts and per-query
    /// timestamps (condensed when long: the fingerprint keeps the rows
    /// check). Returns the approaches that run, and those left out.
    fn profiles(&self, dir: &Path, budget: u32) -> Result<(Vec<&'static Approach>, Vec<NotRun>)> {
        crate::say(
            "== profile run of each approach (untimed: checks it works, records peak memory and row counts)",
        );
        let (mut run, mut not_run) = (Vec::new(), Vec::new());
        for approach in &self.config.approaches {
            let (_, mut command) = self.command(approach, budget)?;
            let json = dir.join("profiles").join(format!("{}.json", approach.name));
            let err = dir.join("profiles").join(format!("{}.err", approach.name));
            let create = |path: &Path| {
                model::files::open_append(path, 0o644)
                    .map_err(Error::io(format!("cannot create {}", path.display())))
            };
            command
                .arg("--json")
                .stdin(Stdio::null())
                .stdout(create(&json)?)
                .stderr(create(&err)?);
            let status = Group::spawn(command)?.wait()?;
            let stderr = std::fs::read_to_string(&err).unwrap_or_default();
            let first = stderr.lines().next().unwrap_or("no error message");
            let first = model::redact(first.strip_prefix("error: ").unwrap_or(first));
            if status.code() == Some(i32::from(model::cli::REFUSED)) {
                // This machine cannot run it at this size: left out, said why.
                crate::say(&format!("== {} is not run here: {first}", approach.name));
                let _ = std::fs::remove_file(&err);
                let _ = std::fs::remove_file(&json);
                not_run.push(NotRun {
                    approach: approach.name.to_owned(),
                    reason: first,
                });
                continue;
            }
            if !status.success() {
                return Err(Error::Failed(format!("{} failed: {first}", approach.name)));
            }
            let _ = std::fs::remove_file(&err);
            // The approach's own report, read back as the one type, and
            // stored condensed when long.
            let report = read_report(&json, approach.name)?;
            let stored = bench_report::table::condense(report);
            let text = bench_report::run_dir::to_json(&stored);
            model::files::write_replace(&json, text.as_bytes(), 0o644)
                .map_err(Error::io(format!("cannot write {}", json.display())))?;
            run.push(*approach);
        }
        if run.is_empty() {
            return Err(Error::Failed(
                "no approach can run at this size on this machine (see above)".into(),
            ));
        }
        Ok((run, not_run))
    }

    /// Untimed runs of `approach` until the server's CPU per run settles
    /// (two in a row agree: [`Calibration::agree`]), at most
    /// `--calibration-runs`: the VM under the server drifts between speeds
    /// for minutes, and a run that starts in a slow spell should not be the
    /// first one timed. Managed server only (its CPU is measured).
    fn calibrate(&self, approach: &'static Approach, budget: u32) -> Result<Option<Calibration>> {
        let most = self.config.calibration_runs;
        let Some(home) = self.server.home.as_deref() else {
            return Ok(None);
        };
        if most == 0 {
            return Ok(None);
        }
        let mut seconds: Vec<f64> = Vec::new();
        let mut settled = false;
        while seconds.len() < most as usize && !settled {
            let before = server_cpu(self.tools, home)?;
            let (_, mut command) = self.command(approach, budget)?;
            command.stdout(Stdio::null()).stdin(Stdio::null());
            child::run(command, approach.name)?;
            seconds.push(server_cpu(self.tools, home)? - before);
            settled = matches!(seconds[..], [.., a, b] if Calibration::agree(a, b));
        }
        let shown: Vec<String> = seconds.iter().map(|s| format!("{s:.2}")).collect();
        crate::say(&format!(
            "== calibration ({}): server CPU per run {} s: {}",
            approach.name,
            shown.join(", "),
            if settled {
                "settled"
            } else {
                "not settled: the machine's speed drifts; read the server CPU column"
            }
        ));
        Ok(Some(Calibration {
            approach: approach.name.to_owned(),
            server_cpu_s: seconds,
            settled,
        }))
    }

    /// The ideal queue's service times, from one serial run of
    /// `test_single` (one batch on one connection: the report's queries
    /// once, or a sample of lookups or sleeps), into `service.json`.
    fn service(&self, dir: &Path, budget: u32) -> Result<()> {
        use model::workload::Workload;
        let c = self.config;
        let serial =
            model::registry::find(model::registry::baseline(model::registry::Language::Rust))
                .ok_or_else(|| Error::Failed("the registry has no serial Rust approach".into()))?;
        crate::say(&format!(
            "== serial run of {} for the ideal queue's service times (untimed)",
            serial.name
        ));
        let closed = self.closed();
        let (_, mut command) = closed.command(serial, 1)?;
        match c.workload {
            Workload::Report => command.env_remove("DBIO_COUNT"),
            Workload::Point => command.env("DBIO_COUNT", "500"),
            Workload::Sleep => command.env("DBIO_COUNT", "20"),
        };
        let private = crate::private::Private::new()?;
        let json = private.path().join("serial.json");
        let file = model::files::open_append(&json, 0o600)
            .map_err(Error::io(format!("cannot create {}", json.display())))?;
        command.arg("--json").stdin(Stdio::null()).stdout(file);
        child::run(command, serial.name)?;
        let report = read_report(&json, serial.name)?;
        let per_request = self
            .first_open_loop(dir)?
            .map_or(1, |open| open.per_request);
        let cores = c.server_cpus().map_or_else(
            || std::thread::available_parallelism().map_or(1, usize::from),
            |n| n as usize,
        );
        let service = bench_report::open_loop::Service::of(
            &report,
            c.workload,
            per_request,
            budget as usize,
            cores,
        )
        .ok_or_else(|| Error::Failed(format!("{}'s serial run ran no query", serial.name)))?;
        let path = dir.join(bench_report::open_loop::SERVICE);
        model::files::write_replace(
            &path,
            bench_report::run_dir::to_json(&service).as_bytes(),
            0o644,
        )
        .map_err(Error::io(format!("cannot write {}", path.display())))
    }

    /// The open loop a cell ran, as its first profile reported it.
    fn first_open_loop(&self, dir: &Path) -> Result<Option<model::report::OpenLoop>> {
        if self.rate.is_none() {
            return Ok(None);
        }
        let Some(first) = self.config.approaches.iter().find(|a| {
            dir.join("profiles")
                .join(format!("{}.json", a.name))
                .is_file()
        }) else {
            return Ok(None);
        };
        let path = dir.join("profiles").join(format!("{}.json", first.name));
        let report = read_report(&path, first.name)?;
        Ok(report.open_loop)
    }

    /// The facts of the run as it starts: machine, server, dataset
    /// (verified), toolchain, git, and the run's own parameters.
    fn host_json(
        &self,
        dir: &Path,
        budget: u32,
        approaches: &[&'static Approach],
        not_run: Vec<NotRun>,
        calibration: Option<Calibration>,
    ) -> Result<()> {
        let c = self.config;
        let facts = self.server.facts(self.tools)?;
        let bench = Bench {
            command: model::redact(&c.command_line),
            budget: budget as usize,
            runs: c.runs,
            warmup: c.warmup,
            approaches: approaches.iter().map(|a| a.name.to_owned()).collect(),
            workload: c.workload.name().to_owned(),
            count: c.count,
            sleep_ms: (c.workload == model::workload::Workload::Sleep).then_some(c.sleep_ms),
            latency_ms: c.latency_ms(),
            blocking_driver: Some(c.blocking_driver.name().to_owned()),
            server_cpus: c.server_cpus(),
            replicas: (c.replicas() > 0).then_some(c.replicas()),
            servers: self.server.records(self.tools)?,
            budgets: Vec::new(),
            replica_sweep: Vec::new(),
            not_run,
            calibration,
            open_loop: self.first_open_loop(dir)?,
            rates: Vec::new(),
            slo_ms: c.open.as_ref().and_then(|o| o.slo_ms),
        };
        let tools = Toolchain {
            rustc: self.tools.rustc,
            hyperfine: Some(&self.tools.hyperfine),
            python: self.tools.python.as_deref(),
        };
        let host = host::collect(facts, c.managed(), bench, &tools, self.git.clone());
        let path = dir.join("host.json");
        model::files::write_replace(
            &path,
            bench_report::run_dir::to_json(&host).as_bytes(),
            0o644,
        )
        .map_err(Error::io(format!("cannot write {}", path.display())))
    }

    /// The timed runs, in rounds of rotating order.
    fn rounds(
        &self,
        dir: &Path,
        budget: u32,
        approaches: &[&'static Approach],
        label: &str,
        progress: &mut Progress,
    ) -> Result<()> {
        let c = self.config;
        // hyperfine follows a symlink where it writes: it exports into a
        // directory of this process's own, and the export is copied into
        // the run folder without following one. An open loop's reports
        // (its result) are written there too.
        let private = crate::private::Private::new()?;
        let timed = approaches
            .iter()
            .map(|a| {
                let mut command = self.tools.command_of(a)?;
                let output = self.rate.map(|_| {
                    // The report to a file, by a shell around the approach
                    // (hyperfine's own `--output` is truncated by the
                    // `--conclude` that reads the server's CPU).
                    let output = private.path().join(format!("{}.json", a.name));
                    let mut wrapped: Vec<std::path::PathBuf> = vec![
                        "/bin/sh".into(),
                        "-c".into(),
                        r#"out=$1; shift; exec "$@" --json >"$out""#.into(),
                        "sh".into(),
                        output.clone(),
                    ];
                    wrapped.append(&mut command);
                    command = wrapped;
                    output
                });
                Ok(Timed {
                    name: a.name,
                    command,
                    output,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let cpu = self.server.home.as_ref().map(|home| CpuProbe {
            dbio: vec![self.tools.binary("dbio"), "--home".into(), home.clone()],
            record: dir.join("server-cpu.tsv"),
            proxy: self
                .proxy
                .and_then(Proxy::pid)
                .map(|pid| (pid, dir.join("proxy-cpu.tsv"))),
        });
        for round in 1..=c.runs {
            let warmup = if round == 1 { c.warmup } else { 0 };
            let name = format!("hyperfine-round-{round:03}.json");
            let export = private.path().join(&name);
            let order = schedule::rotation(&timed, round);
            let args = schedule::round_args(&order, warmup, &export, cpu.as_ref());
            crate::say(&format!(
                "== {} {label}round {round} of {}: {} approaches{}, {}, scale {}, budget {budget}{}",
                progress.stamp(),
                c.runs,
                timed.len(),
                if warmup > 0 {
                    format!(", {warmup} warm-up run(s) each")
                } else {
                    String::new()
                },
                c.workload.name(),
                c.scale,
                c.latency_ms()
                    .map(|ms| format!(", {ms} ms latency"))
                    .unwrap_or_default()
            ));
            let mut hyperfine = Command::new(&self.tools.hyperfine);
            hyperfine.args(&args).stdin(Stdio::null());
            self.settings(&mut hyperfine, budget);
            let status = Group::spawn(hyperfine)?.wait()?;
            if !status.success() {
                child::check()?;
                return Err(Error::Failed(format!(
                    "hyperfine stopped: an approach failed (hyperfine names it above); run it alone to see its error, e.g. {}",
                    timed[0].command[0].display()
                )));
            }
            let exported = model::files::read(&export)
                .map_err(Error::io(format!("cannot read {}", export.display())))?;
            let kept = dir.join(&name);
            model::files::write_replace(&kept, &exported, 0o644)
                .map_err(Error::io(format!("cannot write {}", kept.display())))?;
            if self.rate.is_some() {
                keep_records(dir, &timed, round)?;
            }
            progress.round_done();
        }
        Ok(())
    }
}

/// The report `approach` wrote to `path` (its `--json`), read back as the
/// one type.
fn read_report(path: &Path, approach: &str) -> Result<model::Report> {
    let text =
        model::files::read(path).map_err(Error::io(format!("cannot read {}", path.display())))?;
    serde_json::from_slice(&text).map_err(|e| {
        Error::Failed(format!(
            "{approach} printed a report that does not read back: {e}"
        ))
    })
}

/// An open-loop round's result: each approach's report, read back and
/// kept as its [`Record`](bench_report::open_loop::Record) (each request's
/// latency) in `open-loop-round-NNN.json`.
fn keep_records(dir: &Path, timed: &[Timed], round: u32) -> Result<()> {
    let mut records = Vec::new();
    for t in timed {
        let Some(path) = &t.output else { continue };
        let report = read_report(path, t.name)?;
        let record = bench_report::open_loop::Record::of(&report, round)
            .ok_or_else(|| Error::Failed(format!("{} ran one batch, not the open loop", t.name)))?;
        records.push(record);
    }
    let path = dir.join(bench_report::open_loop::round_file(round));
    model::files::write_replace(
        &path,
        bench_report::run_dir::to_json(&records).as_bytes(),
        0o644,
    )
    .map_err(Error::io(format!("cannot write {}", path.display())))
}

/// The managed server's CPU seconds so far (`dbio server cpu`).
fn server_cpu(tools: &Tools, home: &Path) -> Result<f64> {
    let out = crate::server::dbio(tools, Some(home))
        .args(["server", "cpu"])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .map_err(Error::io("cannot run dbio server cpu"))?;
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .ok()
        .filter(|_| out.status.success())
        .ok_or_else(|| Error::Failed("dbio server cpu printed no CPU seconds".into()))
}
