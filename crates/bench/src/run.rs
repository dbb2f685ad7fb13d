//! A whole run: the server, the results folder, one cell per budget, the
//! sweep's summary, the index, the commit.

use std::path::Path;
use std::process::Command;

use bench_report::host::Git;

use crate::args::{Config, Sweep};
use crate::error::{Error, Result};
use crate::folder::Folder;
use crate::progress::Progress;
use crate::server::{Proxy, Server};
use crate::session::Session;
use crate::tools::Tools;

pub fn run(config: &Config, tools: &Tools) -> Result<()> {
    // Before `dbio up`: where the results go, and the home's lock, held
    // until the run ends.
    let guard = crate::guard::prepare(config, &tools.root)?;
    let out = guard.out.clone();
    let mut server = Server::prepare(config, tools)?;
    let mut folder = Folder::new(&out)?;
    // Every access from here on goes through the folder's descriptor.
    let dir = folder.via();
    let proxy = match config.latency_ms() {
        Some(ms) => Some(server.behind_proxy(tools, ms, &dir)?),
        None => None,
    };
    // A bundle's own record first: unpacked inside some other checkout,
    // git would name that one.
    let git = packed_revision(&tools.root)
        .or_else(|| Git::of(&tools.root))
        .unwrap_or(Git {
            revision: "unknown".into(),
            dirty: false,
        });
    // The C client's rounds, one per timed round, count in the pace too.
    let phases = if config.c_client { 2 } else { 1 };
    let mut progress = Progress::new(config.runs * config.cells() as u32 * phases);
    match &config.sweep {
        Sweep::None => {
            cell_session(config, tools, &server, proxy.as_ref(), &git).cell(
                &dir,
                config.budgets[0],
                "",
                &mut progress,
            )?;
        }
        Sweep::Rates => {
            let rates = config
                .open
                .as_ref()
                .map(|o| o.rates.clone())
                .unwrap_or_default();
            for (k, rate) in rates.iter().enumerate() {
                let label = format!("{rate} requests/s ({} of {}), ", k + 1, rates.len());
                let mut session = cell_session(config, tools, &server, proxy.as_ref(), &git);
                session.rate = Some(*rate);
                session.cell(
                    &dir.join(bench_report::open_loop::cell_name(*rate)),
                    config.budgets[0],
                    &label,
                    &mut progress,
                )?;
            }
            bench_report::run_dir::write_sweep(&dir)?;
        }
        Sweep::Budgets => {
            let budgets = &config.budgets;
            for (k, budget) in budgets.iter().enumerate() {
                let label = format!("budget {budget} ({} of {}), ", k + 1, budgets.len());
                cell_session(config, tools, &server, proxy.as_ref(), &git).cell(
                    &dir.join(format!("budget-{budget}")),
                    *budget,
                    &label,
                    &mut progress,
                )?;
            }
            bench_report::run_dir::write_sweep(&dir)?;
        }
        Sweep::Replicas(counts) => {
            for (k, &n) in counts.iter().enumerate() {
                // The managed server set up again with this many replicas
                // (the first count's is already).
                let cell_config = config.with_replicas(n);
                if k > 0 {
                    server = Server::prepare(&cell_config, tools)?;
                }
                let label = format!(
                    "{n} replica{} ({} of {}), ",
                    if n == 1 { "" } else { "s" },
                    k + 1,
                    counts.len()
                );
                cell_session(&cell_config, tools, &server, None, &git).cell(
                    &dir.join(format!("replicas-{n}")),
                    config.budgets[0],
                    &label,
                    &mut progress,
                )?;
            }
            bench_report::run_dir::write_sweep(&dir)?;
        }
    }
    drop(proxy);
    crate::child::check()?;
    folder.finish();
    crate::say(&format!("== writing {}", folder.path.display()));
    bench_report::index::update(&out)?;
    model::cli::emit(&bench_report::read(&dir.join("table.md"))?);
    if config.commit {
        commit(config, &folder.path, &out)?;
    }
    crate::say(&format!("results: {}", folder.path.display()));
    let mut pictures: Vec<String> = bench_report::list_dir(&dir)?
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "svg"))
        .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .collect();
    pictures.sort();
    if !pictures.is_empty() {
        crate::say(&format!(
            "pictures (SVG, shown in its README.md): {}",
            pictures.join(" ")
        ));
    }
    if config.managed() {
        // A home given by DBIO_HOME (bench.sh's own under /var/lib, when
        // the server's user cannot enter the checkout) must be named again.
        let stop = match &server.home {
            Some(home) => format!("dbio --home {} server stop", home.display()),
            None => "dbio server stop".to_owned(),
        };
        crate::say(&format!(
            "the managed server keeps running for the next run; stop it with: {stop}"
        ));
    }
    drop(server);
    drop(guard);
    Ok(())
}

/// One cell's session: the config and server of that cell.
fn cell_session<'a>(
    config: &'a Config,
    tools: &'a Tools,
    server: &'a Server,
    proxy: Option<&'a Proxy>,
    git: &Git,
) -> Session<'a> {
    Session {
        config,
        tools,
        server,
        proxy,
        git: git.clone(),
        rate: None,
    }
}

/// A bundle's revision, recorded by `scripts/pack.sh` in `REVISION`.
fn packed_revision(root: &Path) -> Option<Git> {
    let text = std::fs::read_to_string(root.join("REVISION")).ok()?;
    let mut words = text.split_whitespace();
    Some(Git {
        revision: words.next()?.to_owned(),
        dirty: words.next() == Some("dirty"),
    })
}

/// Commits the run's folder and the index, in the repository that holds
/// the results directory.
fn commit(config: &Config, dir: &Path, out: &Path) -> Result<()> {
    let index = out.join("README.md");
    let git = |args: &[&std::ffi::OsStr]| -> Result<()> {
        let status = Command::new("git")
            .arg("-C")
            .arg(out)
            .args(args)
            .status()
            .map_err(Error::io("cannot run git"))?;
        if status.success() {
            Ok(())
        } else {
            Err(Error::Failed(format!(
                "git {} failed",
                args[0].to_string_lossy()
            )))
        }
    };
    let budgets: Vec<String> = config.budgets.iter().map(ToString::to_string).collect();
    let replicas = match &config.sweep {
        Sweep::Replicas(counts) => {
            let counts: Vec<String> = counts.iter().map(ToString::to_string).collect();
            format!(", replicas {}", counts.join(","))
        }
        _ if config.replicas() > 0 => format!(", replicas {}", config.replicas()),
        _ => String::new(),
    };
    let replicas = match &config.open {
        Some(open) => {
            let rates: Vec<String> = open.rates.iter().map(ToString::to_string).collect();
            format!("{replicas}, open loop at {}/s", rates.join(","))
        }
        None => replicas,
    };
    // The approaches that ran (one this machine cannot run at this size is
    // left out of the cell, recorded in its host.json).
    let ran = bench_report::read_json::<bench_report::host::Host>(&dir.join("host.json"))
        .map_or(config.approaches.len(), |h| h.bench.approaches.len());
    let approaches = if ran == config.approaches.len() {
        format!("{ran} approaches")
    } else {
        format!("{ran} of {} approaches", config.approaches.len())
    };
    let message = format!(
        "results: {}: {}{}{}{replicas}, scale {}, budget {}, {approaches}",
        dir.file_name().unwrap_or_default().to_string_lossy(),
        config.workload.name(),
        config.count.map(|n| format!(" {n}")).unwrap_or_default(),
        config
            .latency_ms()
            .map(|ms| format!(", {ms} ms latency"))
            .unwrap_or_default(),
        config.scale,
        budgets.join(","),
    );
    git(&[
        "add".as_ref(),
        "--".as_ref(),
        dir.as_os_str(),
        index.as_os_str(),
    ])?;
    git(&[
        "commit".as_ref(),
        "-q".as_ref(),
        "-m".as_ref(),
        message.as_ref(),
        "--".as_ref(),
        dir.as_os_str(),
        index.as_os_str(),
    ])?;
    crate::say(&format!(
        "== committed {}",
        dir.file_name().unwrap_or_default().to_string_lossy()
    ));
    Ok(())
}
