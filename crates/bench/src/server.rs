//! The run's server: the managed one started (`dbio up`) or the user's own
//! loaded (`dbio load`); its facts (`dbio facts`); and the latency proxy
//! (`dbio proxy`) every approach connects through when one is asked for.
//! Everything goes through the `dbio` binary beside this one: this crate
//! links no driver.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use model::DbUrl;
use model::facts::Facts;

use crate::args::{Config, Target};
use crate::child::{self, Group};
use crate::error::{Error, Result};
use crate::tools::Tools;

/// The server every approach of the run connects to.
#[derive(Debug)]
pub struct Server {
    /// What the approaches are given (through the proxy when there is one).
    pub url: DbUrl,
    /// Every server the approaches spread over: `url`, then the managed
    /// server's read replicas.
    pub urls: Vec<DbUrl>,
    /// The managed server's home, when it is dbio's own.
    pub home: Option<PathBuf>,
}

/// How long the proxy may take to listen.
const PROXY_START: Duration = Duration::from_secs(10);

impl Server {
    /// Starts (or finds) the managed server with the run's settings and the
    /// dataset loaded; or loads the dataset into the user's server.
    pub fn prepare(config: &Config, tools: &Tools) -> Result<Server> {
        match &config.target {
            Target::Managed {
                home,
                optimizer_switch,
                server_cpus,
                ..
            } => {
                crate::say(&format!(
                    "== dbio up --scale {} --seed {}",
                    config.scale, config.seed
                ));
                let mut up = dbio(tools, Some(home));
                // Always explicit: a setting of an earlier run would persist.
                up.args([
                    "up",
                    "--scale",
                    &config.scale,
                    "--seed",
                    &config.seed.to_string(),
                ])
                .args([
                    "--optimizer-switch",
                    optimizer_switch.as_deref().unwrap_or("default"),
                ])
                .args([
                    "--server-cpus",
                    &server_cpus.map_or_else(|| "all".to_owned(), |n| n.to_string()),
                ])
                .args(["--replicas", &config.replicas().to_string()])
                .stdout(Stdio::null());
                child::run(up, "dbio up")?;
                let urls = model::managed::urls(home).map_err(|e| Error::Failed(e.to_string()))?;
                Ok(Server {
                    url: urls[0].clone(),
                    urls,
                    home: Some(home.clone()),
                })
            }
            Target::Own(url) => {
                crate::say(&format!(
                    "== dbio load --scale {} --seed {} (into DATABASE_URL)",
                    config.scale, config.seed
                ));
                let mut load = dbio(tools, None);
                load.args([
                    "load",
                    "--scale",
                    &config.scale,
                    "--seed",
                    &config.seed.to_string(),
                ])
                .env("DATABASE_URL", url.expose());
                child::run(load, "dbio load")?;
                Ok(Server {
                    url: url.clone(),
                    urls: vec![url.clone()],
                    home: None,
                })
            }
        }
    }

    /// What `dbio facts` says of the server and the dataset, now.
    pub fn facts(&self, tools: &Tools) -> Result<Facts> {
        let mut facts = dbio(tools, self.home.as_deref());
        facts
            .arg("facts")
            .env("DATABASE_URL", self.upstream_url().expose())
            .stdin(Stdio::null())
            .stderr(Stdio::inherit());
        let out = facts.output().map_err(Error::io("cannot run dbio facts"))?;
        if !out.status.success() {
            return Err(Error::Failed(
                "cannot read the server's facts (dbio facts failed above)".into(),
            ));
        }
        serde_json::from_slice(&out.stdout)
            .map_err(|e| Error::Failed(format!("dbio facts printed no facts: {e}")))
    }

    /// Every managed server of a run with replicas, as `dbio server status
    /// --json` describes them now (the primary's position from its facts);
    /// none for one server.
    pub fn records(&self, tools: &Tools) -> Result<Vec<bench_report::host::ServerRecord>> {
        let Some(home) = self.home.as_deref().filter(|_| self.urls.len() > 1) else {
            return Ok(Vec::new());
        };
        let out = dbio(tools, Some(home))
            .args(["server", "status", "--json"])
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .output()
            .map_err(Error::io("cannot run dbio server status"))?;
        let status: serde_json::Value = serde_json::from_slice(&out.stdout)
            .map_err(|e| Error::Failed(format!("dbio server status printed no status: {e}")))?;
        let text = |v: &serde_json::Value| v.as_str().map(str::to_owned);
        let record = |s: &serde_json::Value, role: String, position: Option<String>| {
            bench_report::host::ServerRecord {
                role,
                version: text(&s["version"]),
                cpus: text(&s["cpus"]),
                gtid_position: position,
            }
        };
        let mut records = vec![record(&status, "primary".into(), None)];
        for replica in status["replicas"].as_array().into_iter().flatten() {
            let n = replica["role"]["replica"].as_u64().unwrap_or(0);
            records.push(record(
                replica,
                format!("replica {n}"),
                text(&replica["replication"]["gtid_position"]),
            ));
        }
        Ok(records)
    }

    /// The server's own URL (not the proxy's).
    fn upstream_url(&self) -> DbUrl {
        match &self.home {
            Some(home) => model::managed::url(home).unwrap_or_else(|_| self.url.clone()),
            None => self.url.clone(),
        }
    }

    /// Puts the latency proxy in front: from now on the approaches get its
    /// URL. Its log goes to `log`; it stops when the [`Proxy`] is dropped.
    pub fn behind_proxy(&mut self, tools: &Tools, latency_ms: u64, dir: &Path) -> Result<Proxy> {
        let port_file = dir.join("proxy.port");
        let log = model::files::open_append(&dir.join("proxy.log"), 0o644)
            .map_err(Error::io("cannot create proxy.log"))?;
        let mut proxy = dbio(tools, self.home.as_deref());
        proxy
            .args([
                "proxy",
                "--latency-ms",
                &latency_ms.to_string(),
                "--port-file",
            ])
            .arg(&port_file)
            .stdout(Stdio::null())
            .stderr(log);
        let mut group = Group::spawn(proxy)?;
        let deadline = Instant::now() + PROXY_START;
        let port = loop {
            child::check()?;
            if let Ok(text) = std::fs::read_to_string(&port_file)
                && let Ok(port) = text.trim().parse::<u16>()
            {
                break port;
            }
            if group.exited() || Instant::now() > deadline {
                let log = std::fs::read_to_string(dir.join("proxy.log")).unwrap_or_default();
                return Err(Error::Failed(format!(
                    "the latency proxy did not start within {}s: {}",
                    PROXY_START.as_secs(),
                    model::redact(log.trim())
                )));
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let _ = std::fs::remove_file(&port_file);
        self.url = self.url.with_port(port);
        self.urls = vec![self.url.clone()];
        crate::say(&format!(
            "== latency proxy on 127.0.0.1:{port}: {latency_ms} ms each way"
        ));
        Ok(Proxy { group })
    }
}

/// The running latency proxy.
#[derive(Debug)]
pub struct Proxy {
    group: Group,
}

impl Proxy {
    pub fn pid(&self) -> Option<u32> {
        self.group.id()
    }
}

/// A `dbio` command for the managed server at `home` (or none).
pub fn dbio(tools: &Tools, home: Option<&Path>) -> Command {
    let mut command = Command::new(tools.binary("dbio"));
    if let Some(home) = home {
        command.arg("--home").arg(home);
    }
    command
}
