//! The files of one run directory, from what the driver recorded there:
//! the merged hyperfine export, `table.md` with its verdicts, the
//! pictures and the run's `README.md`; for a budget sweep, the summary of
//! its cells. Reads the recorded files and never rewrites them.

use std::path::Path;

use crate::host::Host;
use crate::{ReportError, Result, hyperfine, plot, read_json, server_cpu, table, write};

pub fn to_json(value: &impl serde::Serialize) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default() + "\n"
}

/// Writes `table.md`, the pictures and `README.md` of a run directory
/// (`bench-report table`): merges the rounds, checks that every approach
/// returned the same rows, and renders the table and the run's README.
pub fn write_table(dir: &Path) -> Result<()> {
    let host: Host = read_json(&dir.join("host.json"))?;
    if host.bench.open_loop.is_some() {
        return crate::open_loop::write_cell(dir);
    }
    let export = merge_rounds(dir, &host.bench.approaches)?;
    write(&dir.join("hyperfine.json"), &to_json(&export))?;
    let readings = |file: &str| -> Result<Option<_>> {
        let path = dir.join(file);
        path.is_file()
            .then(|| server_cpu::per_command(&path))
            .transpose()
    };
    let path = dir.join("server-cpu.tsv");
    let server_readings = path
        .is_file()
        .then(|| server_cpu::readings(&path))
        .transpose()?;
    let lost = server_readings
        .as_ref()
        .map(|r| r.lost.clone())
        .unwrap_or_default();
    let cpu = server_readings.map(|r| r.cpu);
    let proxy_cpu = readings("proxy-cpu.tsv")?;
    let profiles = read_profiles(dir, &host.bench.approaches)?;
    let differ = table::disagreeing(&profiles, &host.bench.approaches);
    if !differ.is_empty() {
        return Err(ReportError::RowsDiffer {
            baseline: host.bench.approaches.first().cloned().unwrap_or_default(),
            differ,
            dir: dir.join("profiles"),
        });
    }
    let setting = table::Setting::of(&host, host.bench.budget);
    let table = table::render(
        &export,
        cpu.as_ref(),
        proxy_cpu.as_ref(),
        &profiles,
        &setting,
        &lost,
    ) + &server_cpu::lost_section(&lost)
        + &table::verdicts(
            &export,
            setting.server_bound().then_some(cpu.as_ref()).flatten(),
        )
        + &not_run(&host)
        + &crate::c_client::section(dir)?;
    write(&dir.join("table.md"), &table)?;
    let mut pictures = vec![("walltimes.svg", "wall time of every run")];
    plot::wall_times(&export, cpu.as_ref(), &dir.join(pictures[0].0))?;
    if plot::timelines(
        &profiles,
        &host.bench.approaches,
        &dir.join("timelines.svg"),
    )? {
        pictures.push(("timelines.svg", "timeline of each approach's profile run"));
    }
    write(
        &dir.join("README.md"),
        &run_readme(dir, &host, &table, &pictures),
    )
}

/// Writes a budget sweep's summary at the top of its run directory
/// (`bench-report sweep`).
pub fn write_sweep(dir: &Path) -> Result<()> {
    if !crate::list_named(dir, "rate-", "")?.is_empty() {
        return crate::open_loop::write_sweep(dir);
    }
    let cells = crate::sweep::cells(dir)?;
    if cells[0].replicas.is_some() {
        return write_replica_sweep(dir, &cells);
    }
    let mut host = cells[0].host.clone();
    host.bench.budgets = cells.iter().map(|c| c.budget).collect();
    write(&dir.join("host.json"), &to_json(&host))?;
    let mut table = crate::sweep::render(&cells);
    table.push_str("\nCells: ");
    let links: Vec<String> = cells
        .iter()
        .map(|c| format!("[budget {0}](budget-{0}/README.md)", c.budget))
        .collect();
    table.push_str(&links.join(", "));
    table.push('\n');
    write(&dir.join("table.md"), &table)?;
    let (series, bound) = crate::sweep::curves(&cells);
    let picture = ("speedup.svg", "speedup against budget");
    plot::speedup(&series, &bound, &dir.join(picture.0))?;
    write(
        &dir.join("README.md"),
        &run_readme(dir, &host, &table, &[picture]),
    )
}

/// A replica sweep's summary: the counts side by side ([`crate::servers`]).
fn write_replica_sweep(dir: &Path, cells: &[crate::sweep::Cell]) -> Result<()> {
    let mut host = cells[0].host.clone();
    host.bench.replica_sweep = cells.iter().filter_map(|c| c.replicas).collect();
    write(&dir.join("host.json"), &to_json(&host))?;
    let mut table = crate::servers::render(cells);
    table.push_str("\nCells: ");
    let links: Vec<String> = cells
        .iter()
        .map(|c| {
            let n = c.replicas.unwrap_or(0);
            format!(
                "[{n} replica{}](replicas-{n}/README.md)",
                if n == 1 { "" } else { "s" }
            )
        })
        .collect();
    table.push_str(&links.join(", "));
    table.push('\n');
    write(&dir.join("table.md"), &table)?;
    write(&dir.join("README.md"), &run_readme(dir, &host, &table, &[]))
}

/// The run's hyperfine exports (one per round) as one.
pub(crate) fn merge_rounds(dir: &Path, order: &[String]) -> Result<hyperfine::Export> {
    let rounds = crate::list_named(dir, "hyperfine-round-", ".json")?;
    if rounds.is_empty() {
        return Err(ReportError::NoRounds(dir.to_owned()));
    }
    let rounds = rounds
        .iter()
        .map(|p| hyperfine::load(p))
        .collect::<Result<Vec<_>>>()?;
    Ok(hyperfine::merge(&rounds, order))
}

/// What each approach reported about itself in its untimed profile run,
/// as the driver stored it (condensed when long: [`table::condense`]).
fn read_profiles(
    dir: &Path,
    approaches: &[String],
) -> Result<std::collections::BTreeMap<String, table::Profile>> {
    let mut profiles = std::collections::BTreeMap::new();
    for name in approaches {
        let path = dir.join("profiles").join(format!("{name}.json"));
        if path.is_file() {
            profiles.insert(name.clone(), table::read_profile(&path)?);
        }
    }
    Ok(profiles)
}

/// A run's README: the command, what it ran on, the pictures, the table.
pub(crate) fn run_readme(
    dir: &Path,
    host: &Host,
    table: &str,
    pictures: &[(&str, &str)],
) -> String {
    use std::fmt::Write;
    // Named by the directory itself: `bench` reaches it through its
    // descriptor (`/proc/PID/fd/N`), which resolves to where it is.
    let name = dir
        .canonicalize()
        .unwrap_or_else(|_| dir.to_owned())
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let mut out = format!("# {name}\n\n```\n{}\n```\n\n", host.bench.command);
    let meta = |k: &str| host.dataset.meta.get(k).map_or("—", String::as_str);
    let _ = writeln!(
        out,
        "- machine: {} ({} logical CPUs), {:.1} GiB, {}, kernel {}",
        host.cpu_model,
        host.cores,
        host.memory_bytes as f64 / f64::from(1 << 30),
        host.os,
        host.kernel
    );
    let _ = writeln!(
        out,
        "- toolchain: {}; {}{}",
        host.rustc,
        host.hyperfine.as_deref().unwrap_or("hyperfine ?"),
        host.python
            .as_deref()
            .map(|p| format!("; {p}"))
            .unwrap_or_default()
    );
    let _ = writeln!(
        out,
        "- server: {} ({}), buffer pool {} MiB, max_connections {}",
        host.server.version,
        if host.server.managed {
            "managed by dbio"
        } else {
            "user's own"
        },
        host.server.innodb_buffer_pool_size >> 20,
        host.server.max_connections
    );
    if let Some(n) = host.bench.server_cpus {
        let _ = writeln!(
            out,
            "- server pinned to {n} of the machine's {} CPUs",
            host.cores
        );
    }
    let _ = writeln!(
        out,
        "- optimizer_switch: `{}`",
        host.server.optimizer_switch
    );
    let _ = writeln!(
        out,
        "- dataset: {} scale {} seed {} (generator {}), verified: {}",
        meta("source"),
        meta("scale"),
        meta("seed"),
        meta("generator"),
        host.dataset.verified
    );
    let _ = writeln!(
        out,
        "- workload: {}{}{}{}",
        host.bench.workload,
        host.bench
            .count
            .map(|n| format!(", {n} queries"))
            .unwrap_or_default(),
        host.bench
            .sleep_ms
            .map(|ms| format!(", {ms} ms each"))
            .unwrap_or_default(),
        host.bench
            .latency_ms
            .map(|ms| format!("; network latency {ms} ms each way (dbio proxy)"))
            .unwrap_or_default()
    );
    let _ = writeln!(
        out,
        "- drivers: thread-based Rust approaches on {}, async ones on sqlx",
        match host.bench.blocking_driver.as_deref() {
            None | Some("mysql") => "the mysql crate",
            Some("wire") => "dbio's wire client",
            Some(other) => other,
        }
    );
    let _ = writeln!(
        out,
        "- {}; {} runs after {} warm-up runs; git `{}`{}",
        if host.bench.budgets.is_empty() {
            format!("budget {} connections", host.bench.budget)
        } else {
            let budgets: Vec<String> = host.bench.budgets.iter().map(ToString::to_string).collect();
            format!("budgets {} connections, one cell each", budgets.join(", "))
        } + &if host.bench.replica_sweep.is_empty() {
            String::new()
        } else {
            let counts: Vec<String> = host
                .bench
                .replica_sweep
                .iter()
                .map(ToString::to_string)
                .collect();
            format!("; read replicas {}, one cell each", counts.join(", "))
        },
        host.bench.runs,
        host.bench.warmup,
        host.git.revision,
        if host.git.dirty {
            " (uncommitted changes)"
        } else {
            ""
        }
    );
    if let Some(c) = &host.bench.calibration {
        let runs: Vec<String> = c.server_cpu_s.iter().map(|s| format!("{s:.2}")).collect();
        let _ = writeln!(
            out,
            "- calibration: {} untimed runs of {} before the rounds, server CPU per run {} s ({})",
            runs.len(),
            c.approach,
            runs.join(", "),
            if c.settled {
                "settled"
            } else {
                "did not settle: the machine's speed drifted"
            }
        );
    }
    let _ = writeln!(out, "- date: {}\n", host.date);
    for (file, what) in pictures {
        let _ = writeln!(out, "![{what}]({file})\n");
    }
    out.push_str(table);
    out
}

/// The approaches this machine could not run at this size, with their own
/// reasons.
fn not_run(host: &Host) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    if !host.bench.not_run.is_empty() {
        out.push_str("\n### Not run here\n\n");
        for n in &host.bench.not_run {
            let _ = writeln!(out, "- {}: {}", n.approach, n.reason);
        }
    }
    out
}
