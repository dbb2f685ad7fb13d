//! What each approach reported about itself in its untimed profile run, as
//! the renderer sees it, and the check that every approach returned the
//! same rows.
//!
//! A profile is recorded as the approach's own `model::Report` (condensed
//! when long: [`condense`]) and read back as that type. Runs recorded before
//! the report was one type (results of 2026-11-27) are read by [`legacy`].

use std::collections::BTreeMap;

use model::report::{Condensed, Report};

use super::latency::{self, Latency};
use super::query::{ProfileQuery, Stamps};

/// What the table needs of a profile run.
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    pub max_rss_kib: u64,
    /// The run's own wall time (from the first query scheduled to the last
    /// result), without process start-up; absent from the oldest runs.
    pub wall_us: Option<u64>,
    /// Empty when condensed.
    pub queries: Vec<ProfileQuery>,
    /// For a condensed profile: how many queries ran...
    pub count: Option<usize>,
    /// ...and [`Profile::fingerprint`] of their row counts...
    pub rows_fingerprint: Option<String>,
    /// ...and their [`Latency`], computed before the queries were dropped.
    pub latency: Option<Latency>,
    /// The process's CPU time during the run itself (between the wall
    /// clock's two points); absent from runs recorded before it was.
    pub run_cpu_user_us: Option<u64>,
    pub run_cpu_sys_us: Option<u64>,
}

impl From<Report> for Profile {
    fn from(report: Report) -> Profile {
        let (count, rows_fingerprint, latency) = match report.condensed {
            Some(Condensed {
                count,
                rows_fingerprint,
                latency,
            }) => (Some(count), Some(rows_fingerprint), latency),
            None => (None, None, None),
        };
        Profile {
            max_rss_kib: report.max_rss_kib,
            wall_us: Some(report.wall_us),
            queries: report
                .queries
                .into_iter()
                .map(|q| ProfileQuery {
                    at: Some(Stamps {
                        submitted_us: q.submitted_us,
                        connected_us: q.connected_us,
                        first_row_us: q.first_row_us,
                        finished_us: q.finished_us,
                    }),
                    label: q.label,
                    rows: q.rows,
                    connection_id: q.connection_id,
                    server: q.server,
                })
                .collect(),
            count,
            rows_fingerprint,
            latency,
            run_cpu_user_us: Some(report.run_cpu_user_us),
            run_cpu_sys_us: Some(report.run_cpu_sys_us),
        }
    }
}

impl Profile {
    /// A recorded profile: a [`Report`], or a run recorded before the report
    /// was one type ([`legacy`]).
    pub fn parse(text: &str) -> Result<Profile, String> {
        match serde_json::from_str::<Report>(text) {
            Ok(report) => Ok(report.into()),
            Err(e) => legacy::parse(text).ok_or_else(|| e.to_string()),
        }
    }

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
        self.latency.or_else(|| latency::of(&self.queries))
    }

    /// An order-independent digest of every (label, row count): equal
    /// profiles returned the same number of rows for every query.
    pub fn fingerprint(&self) -> String {
        if let Some(f) = &self.rows_fingerprint {
            return f.clone();
        }
        let mut sum = model::digest::Digest::default();
        for q in &self.queries {
            let mut row = model::digest::RowHasher::default();
            row.value(Some(q.label.as_bytes()));
            row.value(Some(q.rows.to_string().as_bytes()));
            sum.add_row(row);
        }
        sum.hex()
    }
}

/// Reads a recorded profile ([`Profile::parse`]).
pub fn read(path: &std::path::Path) -> crate::Result<Profile> {
    Profile::parse(&crate::read(path)?).map_err(|message| crate::ReportError::Parse {
        path: path.to_owned(),
        message,
    })
}

/// Queries above which a profile is stored condensed.
pub const CONDENSE_ABOVE: usize = 100;

/// A report as the driver stores it: a long query list replaced by its
/// count, fingerprint and latency ([`Condensed`]); short ones as they are.
pub fn condense(mut report: Report) -> Report {
    if report.queries.len() <= CONDENSE_ABOVE || report.condensed.is_some() {
        return report;
    }
    let view = Profile::from(report.clone());
    report.condensed = Some(Condensed {
        count: view.len(),
        rows_fingerprint: view.fingerprint(),
        latency: view.latency(),
    });
    report.queries.clear();
    report
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

/// Profiles as recorded before the report was one type: optional
/// timestamps and CPU figures, `started_us` in the first runs, and the
/// condensed fields at the top level.
mod legacy {
    use serde::Deserialize;

    use super::{Latency, Profile, ProfileQuery, Stamps};

    #[derive(Debug, Deserialize)]
    struct Recorded {
        max_rss_kib: u64,
        #[serde(default)]
        wall_us: Option<u64>,
        #[serde(default)]
        queries: Vec<RecordedQuery>,
        #[serde(default)]
        count: Option<usize>,
        #[serde(default)]
        rows_fingerprint: Option<String>,
        #[serde(default)]
        latency: Option<Latency>,
        #[serde(default)]
        run_cpu_user_us: Option<u64>,
        #[serde(default)]
        run_cpu_sys_us: Option<u64>,
    }

    #[derive(Debug, Deserialize)]
    struct RecordedQuery {
        label: String,
        rows: u64,
        #[serde(flatten)]
        at: Option<Stamps>,
        #[serde(default)]
        connection_id: Option<u64>,
    }

    pub(super) fn parse(text: &str) -> Option<Profile> {
        let r: Recorded = serde_json::from_str(text).ok()?;
        Some(Profile {
            max_rss_kib: r.max_rss_kib,
            wall_us: r.wall_us,
            queries: r
                .queries
                .into_iter()
                .map(|q| ProfileQuery {
                    label: q.label,
                    rows: q.rows,
                    at: q.at,
                    connection_id: q.connection_id,
                    server: None,
                })
                .collect(),
            count: r.count,
            rows_fingerprint: r.rows_fingerprint,
            latency: r.latency,
            run_cpu_user_us: r.run_cpu_user_us,
            run_cpu_sys_us: r.run_cpu_sys_us,
        })
    }
}
