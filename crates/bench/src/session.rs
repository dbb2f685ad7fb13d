//! What every cell of a run shares, and how an approach is started in
//! it: its command and the environment every approach, Rust and Python,
//! reads its settings from.

use std::path::PathBuf;
use std::process::Command;

use bench_report::host::Git;
use model::registry::Approach;

use crate::args::Config;
use crate::error::Result;
use crate::server::{Proxy, Server};
use crate::tools::Tools;

/// The open loop's settings: set for a cell with a rate, removed
/// otherwise (an inherited one would turn a batch into an open loop).
const OPEN_LOOP_ENV: [&str; 6] = [
    "DBIO_ARRIVALS",
    "DBIO_REQUESTS",
    "DBIO_ARRIVAL_PROCESS",
    "DBIO_ARRIVAL_SEED",
    "DBIO_FANOUT",
    "DBIO_DRAIN_TIMEOUT",
];

/// What every cell of a run shares.
#[derive(Debug)]
pub struct Session<'a> {
    pub config: &'a Config,
    pub tools: &'a Tools,
    pub server: &'a Server,
    pub proxy: Option<&'a Proxy>,
    pub git: Git,
    /// The cell's offered rate, in an open-loop run.
    pub rate: Option<f64>,
}

impl Session<'_> {
    /// The environment every approach reads its settings from (the Python
    /// scripts too): the same workload and budget for all.
    pub fn settings(&self, command: &mut Command, budget: u32) {
        let c = self.config;
        command
            .env("DBIO_WORKLOAD", c.workload.name())
            .env("DBIO_CONNECTIONS", budget.to_string())
            .env("DBIO_BLOCKING_DRIVER", c.blocking_driver.name());
        // Only where it applies: the approaches refuse it elsewhere.
        if c.workload == model::workload::Workload::Sleep {
            command.env("DBIO_SLEEP_MS", c.sleep_ms.to_string());
        }
        // Several servers (replicas): all of them, in one variable.
        if self.server.urls.len() > 1 {
            let urls: Vec<String> = self.server.urls.iter().map(model::DbUrl::expose).collect();
            command
                .env("DATABASE_URLS", urls.join(","))
                .env_remove("DATABASE_URL");
        } else {
            command
                .env("DATABASE_URL", self.server.url.expose())
                .env_remove("DATABASE_URLS");
        }
        match c.count {
            Some(n) => command.env("DBIO_COUNT", n.to_string()),
            None => command.env_remove("DBIO_COUNT"),
        };
        if let Some(home) = &self.server.home {
            command.env("DBIO_HOME", home);
        }
        for name in OPEN_LOOP_ENV {
            command.env_remove(name);
        }
        if let (Some(rate), Some(open)) = (self.rate, &c.open) {
            command.env("DBIO_ARRIVALS", rate.to_string());
            for (name, value) in &open.env {
                command.env(name, value);
            }
        }
    }

    /// This session without its rate: one batch (the ideal queue's serial
    /// run).
    pub fn closed(&self) -> Session<'_> {
        Session {
            git: self.git.clone(),
            rate: None,
            ..*self
        }
    }

    /// The command that runs `approach` at `budget`, with its settings in its
    /// environment; and its words, for hyperfine.
    pub fn command(&self, approach: &Approach, budget: u32) -> Result<(Vec<PathBuf>, Command)> {
        let words = self.tools.command_of(approach)?;
        let mut command = Command::new(&words[0]);
        command.args(&words[1..]);
        self.settings(&mut command, budget);
        Ok((words, command))
    }
}
