//! The results table: each approach's time, CPU, memory and speedup, the
//! server's CPU per run and the lower bound on wall time it implies, and the
//! blog's published speedups beside ours.
//!
//! Absolute times from different machines are not comparable; ratios are.
//! The bound is the most limiting of the work's costs over what can run at
//! once: the server's CPU over the cores it may use at that concurrency,
//! all CPU on the machine over its cores when the client shares it, the
//! waits and the round trips over the connections ([`Setting::bound`]).
//!
//! - `profile`: what each approach reported of its own untimed run, and
//!   the check that every approach returned the same rows;
//! - `query`: one query of a profile (rows, server, timestamps);
//! - `latency`: per-query percentiles from the profiles' timestamps;
//! - `bound`: the lower bound on a run's wall time and what sets it;
//! - `render`: the Markdown table;
//! - `verdicts`: which differences are real, with confidence intervals.

mod bound;
mod latency;
mod profile;
mod query;
mod render;
mod verdicts;

#[cfg(test)]
mod tests;

pub use bound::{Costs, Limit, Setting};
pub use latency::Latency;
#[cfg(test)]
use latency::percentile;
pub use profile::{CONDENSE_ABOVE, Profile, condense, disagreeing, read as read_profile};
pub use query::{ProfileQuery, Stamps};
pub use render::render;
pub use verdicts::{asyncio_not_beaten, per_server_second, verdicts};

use model::registry;

/// The blog's speedup of the scheduling a command mirrors, over its serial
/// script.
fn blog_speedup(command: &str) -> Option<f64> {
    let serial = registry::find(registry::baseline(registry::Language::Rust))?.blog_mean()?;
    Some(serial / registry::find(command)?.blog_mean()?)
}
