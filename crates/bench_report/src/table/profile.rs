//! What each approach reported about itself in its untimed profile run, and
//! the check that every approach returned the same rows.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::latency::Latency;

/// What an approach reported about itself in its untimed profile run
/// (`--json`): peak memory and row counts. Long lists (point lookups) are
/// kept condensed ([`condense`]): their count and a fingerprint of every
/// query's label and row count instead of the queries.
#[derive(Debug, Clone, Deserialize)]
pub struct Profile {
    pub max_rss_kib: u64,
    /// The run's own wall time (from the first query scheduled to the last
    /// result), without process start-up.
    #[serde(default)]
    pub wall_us: Option<u64>,
    #[serde(default)]
    pub queries: Vec<ProfileQuery>,
    /// For a condensed profile: how many queries ran...
    #[serde(default)]
    pub count: Option<usize>,
    /// ...and [`Profile::fingerprint`] of their row counts...
    #[serde(default)]
    pub rows_fingerprint: Option<String>,
    /// ...and their [`Latency`], computed before the queries were dropped.
    #[serde(default)]
    pub latency: Option<Latency>,
    /// The process's CPU time during the run itself (between the wall
    /// clock's two points); absent from runs recorded before it was.
    #[serde(default)]
    pub run_cpu_user_us: Option<u64>,
    #[serde(default)]
    pub run_cpu_sys_us: Option<u64>,
}

/// One query of a profile: its row count and, where the approach recorded
/// them (every Rust binary and Python script since they share one clock),
/// its timestamps in microseconds from the run's start.
#[derive(Debug, Clone, Deserialize)]
pub struct ProfileQuery {
    pub label: String,
    pub rows: u64,
    #[serde(flatten)]
    pub at: Option<Stamps>,
    #[serde(default)]
    pub connection_id: Option<u64>,
}

/// When a query was submitted, had its connection and was sent, received
/// its first row and its last row (`common::outcome::QueryResult`).
#[derive(Debug, Clone, Copy, Deserialize)]
pub struct Stamps {
    pub submitted_us: u64,
    pub connected_us: u64,
    pub first_row_us: u64,
    pub finished_us: u64,
}

impl Profile {
    /// The process's user + sys CPU time during the run itself, where recorded.
    pub fn run_cpu_us(&self) -> Option<u64> {
        Some(self.run_cpu_user_us? + self.run_cpu_sys_us?)
    }

    /// How many queries ran.
    pub fn len(&self) -> usize {
        self.count.unwrap_or(self.queries.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The per-query times, from the queries or, condensed, as stored.
    pub fn latency(&self) -> Option<Latency> {
        self.latency.or_else(|| Latency::of(&self.queries))
    }

    /// An order-independent digest of every (label, row count): equal
    /// profiles returned the same number of rows for every query.
    pub fn fingerprint(&self) -> String {
        if let Some(f) = &self.rows_fingerprint {
            return f.clone();
        }
        let mut sum = common::digest::Digest::default();
        for q in &self.queries {
            let mut row = common::digest::RowHasher::default();
            row.value(Some(q.label.as_bytes()));
            row.value(Some(q.rows.to_string().as_bytes()));
            sum.add_row(row);
        }
        sum.hex()
    }
}

/// Queries above which a profile is stored condensed.
pub const CONDENSE_ABOVE: usize = 100;

/// The profile JSON an approach printed, with its query list replaced by
/// its count and fingerprint when it is long (10,000 point lookups would
/// otherwise commit megabytes per approach).
pub fn condense(text: &str) -> Result<Option<String>, String> {
    let mut value: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let profile: Profile = serde_json::from_value(value.clone()).map_err(|e| e.to_string())?;
    if profile.queries.len() <= CONDENSE_ABOVE {
        return Ok(None);
    }
    if let Some(object) = value.as_object_mut() {
        object.remove("queries");
        object.insert("count".into(), profile.len().into());
        object.insert("rows_fingerprint".into(), profile.fingerprint().into());
        if let Some(latency) = profile.latency() {
            let latency = serde_json::to_value(latency).map_err(|e| e.to_string())?;
            object.insert("latency".into(), latency);
        }
    }
    Ok(Some(value.to_string() + "\n"))
}

/// The names of the approaches whose row counts differ from the first one's.
pub fn disagreeing(profiles: &BTreeMap<String, Profile>, order: &[String]) -> Vec<String> {
    let mut present = order
        .iter()
        .filter_map(|n| profiles.get(n).map(|p| (n, p.fingerprint())));
    let Some((_, first)) = present.next() else {
        return vec![];
    };
    present
        .filter(|(_, c)| *c != first)
        .map(|(n, _)| n.clone())
        .collect()
}
