//! The command line, parsed (clap) into [`Args`], then checked into a
//! [`Config`] before any work: after [`Args::check`], nothing about the
//! input can fail.

use std::path::PathBuf;

use clap::Parser;

use model::registry::{self, Language};
use model::settings::{BlockingDriver, MAX_BUDGET};
use model::workload::{Workload, WorkloadArgs};

use crate::error::Error;

/// Times each approach with hyperfine against the employees dataset on a
/// private MariaDB server (or DATABASE_URL), writes results/<date>-<host>/
/// and updates results/README.md.
#[derive(Debug, Parser)]
#[command(name = "bench", version, after_help = AFTER_HELP)]
pub struct Args {
    /// Timed runs per approach, in N rounds of rotating order.
    #[arg(long, default_value_t = 3, value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub runs: u32,

    /// Most untimed runs of the first approach before the rounds, until the
    /// server's CPU per run settles (two runs within 5%); 0: none. Managed
    /// server only [default: 5].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(0..=100))]
    pub calibration_runs: Option<u32>,

    /// Warm-up runs per approach (before the first round).
    #[arg(long, default_value_t = 1, value_name = "N",
          value_parser = clap::value_parser!(u32).range(0..=100))]
    pub warmup: u32,

    /// Dataset scale, 1.0 = test_db's size [default: 1.0; 0.01 with --quick].
    #[arg(long, value_name = "S", value_parser = parse_scale)]
    pub scale: Option<String>,

    /// Dataset seed.
    #[arg(long, default_value_t = 42, value_name = "N")]
    pub seed: u64,

    /// Connection budget of every approach; a list sweeps: every approach at
    /// every budget, one folder per budget, and a speedup-against-budget table.
    #[arg(long = "connections", value_name = "N[,N...]", value_delimiter = ',', default_value = "5",
          value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_BUDGET)))]
    pub budgets: Vec<u32>,

    /// Comma-separated subset of the approaches (default: every Rust one,
    /// and with --python every Python one).
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub approaches: Vec<String>,

    /// Also run the blog's five Python approaches.
    #[arg(long)]
    pub python: bool,

    #[command(flatten)]
    pub workload: WorkloadArgs,

    /// Pin the managed server to N CPUs (a small server's regime on a big
    /// machine; default: all).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub server_cpus: Option<u32>,

    /// Also run N read replicas of the managed server (MariaDB's GTID
    /// replication, each with --server-cpus CPUs of its own where the
    /// machine has them); every approach spreads its queries over all the
    /// servers. 0 (the default) removes replicas an earlier run made. A
    /// list sweeps: every approach with every count, one folder per count,
    /// and a table of the counts side by side.
    #[arg(long, value_name = "N[,N...]", value_delimiter = ',',
          value_parser = model::cli::replica_count)]
    pub replicas: Vec<u32>,

    /// Put dbio's latency proxy between every approach and the managed
    /// server: MS more each way (a round trip gains 2 x MS).
    #[arg(long, value_name = "MS", value_parser = clap::value_parser!(u64).range(0..=60_000))]
    pub latency_ms: Option<u64>,

    /// The managed server's optimizer_switch, e.g. split_materialized=off
    /// (default: the server's own).
    #[arg(long, value_name = "FLAGS")]
    pub optimizer_switch: Option<String>,

    /// The driver of the thread-based Rust approaches: the mysql crate, or
    /// dbio's own minimal client (`wire`), which shows what the crate
    /// costs per query. The async approaches run on sqlx, Python on its own.
    #[arg(long, value_enum, default_value_t = BlockingDriver::Mysql, value_name = "DRIVER")]
    pub blocking_driver: BlockingDriver,

    /// Also run a C client, mariadb-slap, on the same point lookups at the
    /// same concurrency, in rounds alternating with every Rust approach,
    /// and compare CPU per query (with --workload point).
    #[arg(long)]
    pub c_client: bool,

    /// With --arrivals: the latency objective, in ms, whose first breach
    /// by an approach's request p99 is its capacity [default: twice the
    /// unloaded latency, a lone request's time in the ideal queue, the same
    /// for every approach].
    #[arg(long, value_name = "MS", value_parser = parse_slo)]
    pub slo: Option<f64>,

    /// A first look (under a minute once built): --scale 0.01.
    #[arg(long)]
    pub quick: bool,

    /// Results directory [default: results/ beside the scripts].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,

    /// git-commit the run's files and the index.
    #[arg(long)]
    pub commit: bool,

    /// Your own server instead of the managed one (the dataset is loaded
    /// there if missing).
    #[arg(long, env = "DATABASE_URL", hide_env_values = true, value_name = "URL")]
    pub database_url: Option<String>,

    /// Home of the managed server.
    #[arg(long, env = "DBIO_HOME", value_name = "DIR")]
    pub dbio_home: Option<PathBuf>,

    /// The hyperfine to time with (found beside this binary, in
    /// target/tools/bin or on PATH otherwise).
    #[arg(long, env = "DBIO_HYPERFINE", value_name = "PATH")]
    pub hyperfine: Option<PathBuf>,

    /// The Python interpreter with the drivers installed, for --python.
    #[arg(long, env = "DBIO_PYTHON", value_name = "PATH")]
    pub python_interpreter: Option<PathBuf>,

    /// Check the arguments, print what the run needs (`need: server`,
    /// `need: python`, `build: PACKAGE`), one per line, and exit: for
    /// scripts/bench.sh, which installs and builds that.
    #[arg(long, hide = true)]
    pub needs: bool,
}

const AFTER_HELP: &str = "\
Environment: DATABASE_URL to use your own server instead of the managed one;
DBIO_HOME for the managed server's home. scripts/bench.sh installs what is
missing (MariaDB, hyperfine, the Python drivers), builds, and runs this.";

/// `--scale`: a plain decimal (`1.0`, `0.01`), passed to `dbio` as written.
fn parse_scale(text: &str) -> Result<String, String> {
    let digits = text.replace('.', "");
    let well_formed = text.matches('.').count() <= 1
        && !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !text.ends_with('.');
    match text.parse::<f64>() {
        Ok(s) if well_formed && s > 0.0 => Ok(text.to_owned()),
        _ => Err("must be a number above 0 such as 1.0 or 0.01".into()),
    }
}

/// `--slo`: milliseconds above 0.
fn parse_slo(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(ms) if ms.is_finite() && ms > 0.0 && ms <= 86_400_000.0 => Ok(ms),
        _ => Err("must be milliseconds above 0 (at most a day), such as 250 or 2.5".into()),
    }
}

/// An open-loop run's settings (`--arrivals` and its companions): the
/// rates it sweeps, and what every approach reads from its environment.
#[derive(Debug, Clone, PartialEq)]
pub struct Open {
    pub rates: Vec<f64>,
    /// `DBIO_REQUESTS` and the rest as given (the approaches apply their
    /// defaults to the others).
    pub env: Vec<(&'static str, String)>,
    pub slo_ms: Option<f64>,
}

/// Where the run's server is.
#[derive(Debug, Clone)]
pub enum Target {
    /// dbio's managed server in this home.
    Managed {
        home: PathBuf,
        optimizer_switch: Option<String>,
        server_cpus: Option<u32>,
        latency_ms: Option<u64>,
        /// Read replicas beside the server (0: none).
        replicas: u32,
    },
    /// The user's own server.
    Own(model::DbUrl),
}

/// What a run with more than one cell sweeps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sweep {
    /// One cell.
    None,
    /// A cell per budget (`--connections 1,2,4`).
    Budgets,
    /// A cell per read-replica count (`--replicas 0,1,2`), the managed
    /// server set up again for each.
    Replicas(Vec<u32>),
    /// A cell per offered rate (`--arrivals 1,2,4`): an open loop.
    Rates,
}

/// A checked run.
#[derive(Debug, Clone)]
pub struct Config {
    pub runs: u32,
    pub warmup: u32,
    pub calibration_runs: u32,
    pub scale: String,
    pub seed: u64,
    pub budgets: Vec<u32>,
    pub approaches: Vec<&'static registry::Approach>,
    pub workload: Workload,
    pub count: Option<u32>,
    pub sleep_ms: u32,
    pub target: Target,
    pub out: Option<PathBuf>,
    pub commit: bool,
    pub hyperfine: Option<PathBuf>,
    pub python: Option<Option<PathBuf>>,
    /// Compare CPU per query with mariadb-slap's after each cell's rounds.
    pub c_client: bool,
    pub blocking_driver: BlockingDriver,
    pub sweep: Sweep,
    /// With `--arrivals`: an open loop at each rate.
    pub open: Option<Open>,
    /// The command line as given, for `host.json` (redacted there).
    pub command_line: String,
}

impl Config {
    pub fn managed(&self) -> bool {
        matches!(self.target, Target::Managed { .. })
    }

    pub fn latency_ms(&self) -> Option<u64> {
        match self.target {
            Target::Managed { latency_ms, .. } => latency_ms,
            Target::Own(_) => None,
        }
    }

    /// How many read replicas the managed server runs with.
    pub fn replicas(&self) -> u32 {
        match self.target {
            Target::Managed { replicas, .. } => replicas,
            Target::Own(_) => 0,
        }
    }

    /// How many cells the run has (one per value of the swept list).
    pub fn cells(&self) -> usize {
        match &self.sweep {
            Sweep::None => 1,
            Sweep::Budgets => self.budgets.len(),
            Sweep::Replicas(counts) => counts.len(),
            Sweep::Rates => self.open.as_ref().map_or(1, |o| o.rates.len()),
        }
    }

    /// This run with `replicas` read replicas (a cell of a replica sweep).
    pub fn with_replicas(&self, replicas: u32) -> Config {
        let mut config = self.clone();
        if let Target::Managed { replicas: n, .. } = &mut config.target {
            *n = replicas;
        }
        config
    }

    pub fn server_cpus(&self) -> Option<u32> {
        match self.target {
            Target::Managed { server_cpus, .. } => server_cpus,
            Target::Own(_) => None,
        }
    }
}

/// `--calibration-runs`' default.
const DEFAULT_CALIBRATION_RUNS: u32 = 5;

impl Args {
    /// Checks every setting against the others and the registry.
    pub fn check(self, command_line: String) -> Result<Config, Error> {
        // Checked as an approach checks them, each rate on its own (a list
        // of rates is bench's sweep): `open` below checks every rate.
        WorkloadArgs {
            arrivals: self.workload.arrivals.iter().take(1).copied().collect(),
            ..self.workload.clone()
        }
        .validate()
        .map_err(|e| Error::Usage(e.to_string()))?;
        if self.workload.queries.is_some() {
            return Err(Error::Usage(
                "--queries is not for bench yet: its tables compare the blog's report; run your own queries with one approach (`cargo run --release -p test_asyncio -- --queries FILE`)"
                    .into(),
            ));
        }
        let open = self.open()?;
        let approaches = self.selected()?;
        let sweep = self.sweep()?;
        if self.replicas.iter().any(|&n| n > 0) {
            if self.latency_ms.is_some() {
                return Err(Error::Usage(
                    "--latency-ms relays to one server: not with --replicas".into(),
                ));
            }
            if self.c_client {
                return Err(Error::Usage(
                    "--c-client runs on one server: not with --replicas".into(),
                ));
            }
        }
        if self.c_client {
            if open.is_some() {
                return Err(Error::Usage(
                    "--c-client compares one batch of lookups: not with --arrivals".into(),
                ));
            }
            if self.workload.workload != Workload::Point {
                return Err(Error::Usage(
                    "--c-client compares point lookups: add --workload point (mariadb-slap starts every client at the top of the list, which only equal lookups make the same work)".into(),
                ));
            }
            if !approaches.iter().any(|a| a.language == Language::Rust) {
                return Err(Error::Usage(
                    "--c-client compares the Rust approaches with a C client: select at least one"
                        .into(),
                ));
            }
        }
        let target = match &self.database_url {
            Some(url) => {
                for (given, flag) in [
                    (
                        self.optimizer_switch.is_some(),
                        "--optimizer-switch applies to the managed server; set it on your own server instead",
                    ),
                    (
                        self.server_cpus.is_some(),
                        "--server-cpus applies to the managed server",
                    ),
                    (
                        self.latency_ms.is_some(),
                        "--latency-ms needs the managed server (unset DATABASE_URL)",
                    ),
                    (
                        !self.replicas.is_empty(),
                        "--replicas applies to the managed server",
                    ),
                    (
                        self.calibration_runs.is_some(),
                        "--calibration-runs applies to the managed server, whose CPU per run it watches",
                    ),
                ] {
                    if given {
                        return Err(Error::Usage(flag.into()));
                    }
                }
                Target::Own(model::DbUrl::parse(url).map_err(|e| Error::Usage(e.to_string()))?)
            }
            None => Target::Managed {
                home: match self.dbio_home {
                    Some(home) if !home.as_os_str().is_empty() => home,
                    _ => model::managed::default_home().map_err(Error::Usage)?.0,
                },
                optimizer_switch: self.optimizer_switch,
                server_cpus: self.server_cpus,
                latency_ms: self.latency_ms,
                replicas: self.replicas.first().copied().unwrap_or(0),
            },
        };
        if !self.python && self.python_interpreter.is_some() {
            return Err(Error::Usage(
                "--python-interpreter (env DBIO_PYTHON) is for --python: add --python, or leave it out"
                    .into(),
            ));
        }
        let python = self.python.then_some(self.python_interpreter);
        Ok(Config {
            runs: self.runs,
            warmup: self.warmup,
            calibration_runs: self.calibration_runs.unwrap_or(DEFAULT_CALIBRATION_RUNS),
            scale: self
                .scale
                .unwrap_or_else(|| if self.quick { "0.01" } else { "1.0" }.into()),
            seed: self.seed,
            budgets: self.budgets,
            approaches,
            workload: self.workload.workload,
            count: self.workload.count,
            sleep_ms: self.workload.sleep_ms(),
            target,
            out: self.out,
            commit: self.commit,
            hyperfine: self.hyperfine,
            python,
            c_client: self.c_client,
            blocking_driver: self.blocking_driver,
            sweep,
            open,
            command_line,
        })
    }

    /// The open loop's settings, each rate checked with the rest as one
    /// approach would check them; `None` without `--arrivals`.
    fn open(&self) -> Result<Option<Open>, Error> {
        let w = &self.workload;
        if w.arrivals.is_empty() {
            if self.slo.is_some() {
                return Err(Error::Usage(
                    "--slo applies to an open-loop run, with --arrivals (it would be ignored)"
                        .into(),
                ));
            }
            return Ok(None);
        }
        for (i, rate) in w.arrivals.iter().enumerate() {
            if w.arrivals[..i].contains(rate) {
                return Err(Error::Usage(format!("{rate} is given twice in --arrivals")));
            }
            let one = WorkloadArgs {
                arrivals: vec![*rate],
                ..w.clone()
            };
            one.validate().map_err(|e| Error::Usage(e.to_string()))?;
        }
        let mut rates = w.arrivals.clone();
        rates.sort_by(f64::total_cmp);
        let mut env = Vec::new();
        if let Some(n) = w.requests {
            env.push(("DBIO_REQUESTS", n.to_string()));
        }
        if let Some(p) = w.arrival_process {
            env.push(("DBIO_ARRIVAL_PROCESS", p.name().to_owned()));
        }
        if let Some(seed) = w.arrival_seed {
            env.push(("DBIO_ARRIVAL_SEED", seed.to_string()));
        }
        if let Some(k) = w.fanout {
            env.push(("DBIO_FANOUT", k.to_string()));
        }
        if let Some(s) = w.drain_timeout {
            env.push(("DBIO_DRAIN_TIMEOUT", s.to_string()));
        }
        Ok(Some(Open {
            rates,
            env,
            slo_ms: self.slo,
        }))
    }

    /// The sweep the lists ask for: one axis at a time, each value once.
    fn sweep(&self) -> Result<Sweep, Error> {
        let twice = |list: &[u32], flag: &str| -> Result<(), Error> {
            match list
                .iter()
                .enumerate()
                .find(|(i, n)| list[..*i].contains(n))
            {
                Some((_, n)) => Err(Error::Usage(format!("{n} is given twice in {flag}"))),
                None => Ok(()),
            }
        };
        twice(&self.budgets, "--connections")?;
        twice(&self.replicas, "--replicas")?;
        let open = !self.workload.arrivals.is_empty();
        match (self.budgets.len() > 1, self.replicas.len() > 1, open) {
            (true, true, _) => Err(Error::Usage(
                "--connections and --replicas lists sweep one axis at a time: give one of them a single value".into(),
            )),
            (true, false, true) | (false, true, true) => Err(Error::Usage(
                "--arrivals sweeps the offered rate, one axis at a time: give --connections and --replicas a single value".into(),
            )),
            (true, false, false) => Ok(Sweep::Budgets),
            (false, true, false) => Ok(Sweep::Replicas(self.replicas.clone())),
            (false, false, true) => Ok(Sweep::Rates),
            (false, false, false) => Ok(Sweep::None),
        }
    }

    /// The approaches to run, checked against the registry.
    fn selected(&self) -> Result<Vec<&'static registry::Approach>, Error> {
        let languages: &[Language] = if self.python {
            &[Language::Rust, Language::Python]
        } else {
            &[Language::Rust]
        };
        if self.approaches.is_empty() {
            return Ok(languages.iter().flat_map(|l| registry::of(*l)).collect());
        }
        let known: Vec<&str> = languages
            .iter()
            .flat_map(|l| registry::of(*l))
            .map(|a| a.name)
            .collect();
        let mut chosen: Vec<&'static registry::Approach> = Vec::new();
        for name in &self.approaches {
            match registry::find(name) {
                Some(a) if a.language == Language::Python && !self.python => {
                    return Err(Error::Usage(format!(
                        "{name} is a Python approach: add --python"
                    )));
                }
                Some(a) if chosen.contains(&a) => {
                    return Err(Error::Usage(format!(
                        "{name} is listed twice in --approaches"
                    )));
                }
                Some(a) => chosen.push(a),
                None => {
                    return Err(Error::Usage(format!(
                        "unknown approach '{name}'; known: {}",
                        known.join(",")
                    )));
                }
            }
        }
        Ok(chosen)
    }
}
