//! What a result depends on, recorded next to it as `host.json`: the
//! machine, the toolchain, the server and its settings, the dataset's
//! identity and checksums, the benchmark's parameters and the git revision.

use std::path::Path;
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use model::facts::{DatasetFacts, Facts, ServerFacts};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Host {
    /// UTC, ISO 8601.
    pub date: String,
    pub hostname: String,
    pub cpu_model: String,
    /// Logical CPUs.
    pub cores: usize,
    pub memory_bytes: u64,
    pub os: String,
    pub kernel: String,
    pub rustc: String,
    pub hyperfine: Option<String>,
    pub python: Option<String>,
    pub server: Server,
    pub dataset: DatasetFacts,
    pub bench: Bench,
    pub git: Git,
}

/// The server as `dbio facts` saw it, and whether it is dbio's own.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Server {
    /// Whether it is dbio's managed server (then its CPU time is measured).
    pub managed: bool,
    #[serde(flatten)]
    pub facts: ServerFacts,
}

impl std::ops::Deref for Server {
    type Target = ServerFacts;
    fn deref(&self) -> &ServerFacts {
        &self.facts
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Bench {
    pub command: String,
    pub budget: usize,
    pub runs: u32,
    pub warmup: u32,
    pub approaches: Vec<String>,
    /// `report`, `point` or `sleep` (runs before workloads existed: report).
    #[serde(default = "report")]
    pub workload: String,
    /// The query count, for point and sleep.
    #[serde(default)]
    pub count: Option<u32>,
    /// How long each sleep query waits on the server.
    #[serde(default)]
    pub sleep_ms: Option<u32>,
    /// Latency the proxy added to each direction between client and server.
    #[serde(default)]
    pub latency_ms: Option<u64>,
    /// The driver of the thread-based Rust approaches (`--blocking-driver`;
    /// runs before it existed: the mysql crate).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blocking_driver: Option<String>,
    /// CPUs the managed server was pinned to (`None`: all of the machine's).
    #[serde(default)]
    pub server_cpus: Option<u32>,
    /// Read replicas the managed server ran with (`--replicas`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replicas: Option<u32>,
    /// Every managed server of a run with replicas: the primary first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub servers: Vec<ServerRecord>,
    /// A sweep's budgets (its cells are `budget-N/`); empty for one budget.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub budgets: Vec<usize>,
    /// A replica sweep's counts (its cells are `replicas-N/`); empty
    /// otherwise.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub replica_sweep: Vec<u32>,
    /// Approaches asked for that this machine cannot run at this size (a
    /// thread limit), left out of the run, with their own reason.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_run: Vec<NotRun>,
    /// The untimed runs before the rounds, until the server's CPU per run
    /// settled (the VM under the server drifts between speeds for minutes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calibration: Option<Calibration>,
    /// An open-loop cell's arrivals (`--arrivals`): its rate and schedule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open_loop: Option<model::report::OpenLoop>,
    /// A rate sweep's rates (its cells are `rate-R/`); empty otherwise.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rates: Vec<f64>,
    /// The latency objective of an open-loop run (`--slo`), in ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slo_ms: Option<f64>,
}

/// One managed server of a run with replicas, as `dbio server status`
/// said it when the run started.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ServerRecord {
    /// `primary`, or `replica N`.
    pub role: String,
    pub version: Option<String>,
    /// The CPUs it may run on (`0-1`, `1`).
    pub cpus: Option<String>,
    /// The primary's logged position, or the replica's applied position.
    pub gtid_position: Option<String>,
}

/// The server's CPU per run of the calibration runs, and whether the last
/// two agreed within [`Calibration::TOLERANCE`].
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Calibration {
    pub approach: String,
    pub server_cpu_s: Vec<f64>,
    pub settled: bool,
}

impl Calibration {
    /// Two runs agree when they differ by at most this share...
    pub const TOLERANCE: f64 = 0.05;
    /// ...or by at most this many seconds (two of the kernel's 10 ms CPU
    /// ticks: a short run's CPU is not measured finer).
    pub const RESOLUTION_S: f64 = 0.02;

    /// Whether the last two runs agree.
    pub fn agree(a: f64, b: f64) -> bool {
        (a - b).abs() <= Self::RESOLUTION_S.max(Self::TOLERANCE * a.max(b))
    }
}

/// An approach left out of a run, and why (its own one-line refusal).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct NotRun {
    pub approach: String,
    pub reason: String,
}

fn report() -> String {
    "report".into()
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Git {
    pub revision: String,
    /// Uncommitted changes to tracked files when the run started.
    pub dirty: bool,
}

/// What ran the benchmark: the compiler that built the binaries (recorded
/// when they were built: a bundle runs without a toolchain), and the
/// timer and Python interpreter as found at run time.
#[derive(Debug, Clone, Default)]
pub struct Toolchain<'a> {
    pub rustc: &'a str,
    pub hyperfine: Option<&'a Path>,
    pub python: Option<&'a Path>,
}

/// The facts of this machine, with those of the server and dataset that
/// `dbio facts` recorded (this crate connects to nothing).
pub fn collect(facts: Facts, managed: bool, bench: Bench, tools: &Toolchain<'_>, git: Git) -> Host {
    Host {
        date: utc_now(),
        hostname: first_line(&read_or("/proc/sys/kernel/hostname", "unknown")),
        cpu_model: cpu_model(),
        cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
        memory_bytes: mem_total(),
        os: os_name(),
        kernel: first_line(&read_or("/proc/sys/kernel/osrelease", "unknown")),
        rustc: tools.rustc.to_owned(),
        hyperfine: tools
            .hyperfine
            .and_then(|h| command_line(&h.display().to_string(), &["--version"])),
        python: tools
            .python
            .and_then(|p| command_line(&p.display().to_string(), &["--version"])),
        server: Server {
            managed,
            facts: facts.server,
        },
        dataset: facts.dataset,
        bench,
        git,
    }
}

impl Git {
    /// The checkout `dir` is in, from git; `None` outside a checkout or
    /// without git (a bundle records its revision when packed).
    pub fn of(dir: &Path) -> Option<Git> {
        let dir = dir.display().to_string();
        let revision = command_line("git", &["-C", &dir, "rev-parse", "HEAD"])?;
        let dirty = command_line(
            "git",
            &["-C", &dir, "status", "--porcelain", "--untracked-files=no"],
        )
        .is_some_and(|s| !s.is_empty());
        Some(Git { revision, dirty })
    }
}

fn read_or(path: &str, default: &str) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|_| default.to_owned())
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or("").trim().to_owned()
}

fn command_line(program: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(program).args(args).output().ok()?;
    out.status.success().then(|| {
        let text = String::from_utf8_lossy(&out.stdout);
        let text = if text.trim().is_empty() {
            String::from_utf8_lossy(&out.stderr).into_owned()
        } else {
            text.into_owned()
        };
        first_line(&text)
    })
}

fn cpu_model() -> String {
    read_or("/proc/cpuinfo", "")
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name")
                .and_then(|r| r.split_once(':'))
                .map(|(_, v)| v.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".into())
}

fn mem_total() -> u64 {
    read_or("/proc/meminfo", "")
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
        .map_or(0, |kib| kib * 1024)
}

fn os_name() -> String {
    read_or("/etc/os-release", "")
        .lines()
        .find_map(|l| l.strip_prefix("PRETTY_NAME="))
        .map(|v| v.trim_matches('"').to_owned())
        .unwrap_or_else(|| "unknown".into())
}

/// The current time in UTC, `YYYY-MM-DDTHH:MM:SSZ`.
pub fn utc_now() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (y, m, d) = model::calendar::civil_from_days((secs / 86_400) as i32);
    let rem = secs % 86_400;
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}
