//! The results of every worker of a run, or the one error that explains
//! its failure.

use std::io;

use crate::error::Error;
use crate::outcome::Finished;
use crate::queries::Query;

/// Every query's result, or the one error that explains the failure.
///
/// One cause often fails several queries: a killed session or a stopped
/// server also fails the queries that later take a connection it broke, and
/// those, listed first, would hide it. So the earliest query failure wins;
/// errors not tied to a moment come after, in the order given, and echoes
/// ([`Error::is_echo`]: stopped because of another failure) last.
pub fn collect_results(
    outcomes: impl IntoIterator<Item = Result<Finished, Error>>,
) -> Result<Vec<Finished>, Error> {
    let mut results = Vec::new();
    let mut errors = Vec::new();
    for outcome in outcomes {
        match outcome {
            Ok(r) => results.push(r),
            Err(e) => errors.push(e),
        }
    }
    if let Some(drained) = super::drained() {
        // An open loop past its drain deadline: what failed from then on
        // was cancelled by it, and is reported as unfinished instead.
        errors.retain(|e| !e.is_echo() && e.at().is_none_or(|at| at < drained));
    }
    let cause = (0..errors.len()).min_by_key(|&i| {
        let e = &errors[i];
        (e.is_echo(), e.at().is_none(), e.at(), i)
    });
    match cause {
        Some(i) => Err(errors.swap_remove(i)),
        None => Ok(results),
    }
}

/// A query's thread, or why the OS would not start it.
pub type Started<'scope> =
    io::Result<std::thread::ScopedJoinHandle<'scope, Result<Finished, Error>>>;

/// Joins every thread of a thread-per-query approach (all of them, even
/// after a failure, so none outlives the run) and returns the results, or
/// the error [`collect_results`] picks. A thread the OS refused to start
/// (`Builder::spawn_scoped`'s error: thousands of queries) fails its query
/// with one clear error instead of a panic.
pub fn join_workers(handles: Vec<(&Query, Started<'_>)>) -> Result<Vec<Finished>, Error> {
    let outcomes: Vec<_> = handles
        .into_iter()
        .map(|(q, h)| match h {
            Ok(h) => h.join().unwrap_or_else(|p| Err(panicked(&q.label, p))),
            Err(source) => Err(Error::Io {
                what: format!("cannot start a thread for query {}", q.label),
                source,
            }),
        })
        .collect();
    collect_results(outcomes)
}

/// The error for a worker (thread or task) that panicked while running `label`.
pub fn panicked(label: &str, payload: Box<dyn std::any::Any + Send>) -> Error {
    let reason = limits::panic_text(&*payload);
    Error::Worker {
        label: label.to_owned(),
        reason,
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;
    use crate::error::DbError;

    fn lost(label: &str, at: Instant) -> Result<Finished, Error> {
        Err(Error::Query {
            label: label.into(),
            at,
            source: DbError {
                message: "broken pipe".into(),
                code: None,
                lost: true,
            },
        })
    }

    fn label(e: Error) -> String {
        match e {
            Error::Query { label, .. } | Error::Worker { label, .. } => label,
            other => panic!("unexpected {other}"),
        }
    }

    #[test]
    fn the_earliest_failure_is_reported_whatever_the_order() {
        let t0 = Instant::now();
        let later = t0 + Duration::from_millis(5);
        let outcomes = vec![lost("F", later), lost("K", t0), lost("M", later)];
        let err = collect_results(outcomes).expect_err("failed");
        assert_eq!(label(err), "K");
        assert!(
            collect_results(vec![lost("K", t0)])
                .expect_err("failed")
                .to_string()
                .contains("query K failed")
        );
    }

    #[test]
    fn failures_not_tied_to_a_moment_come_after_query_failures() {
        let worker = Err(Error::Worker {
            label: "A".into(),
            reason: "panic".into(),
        });
        let err = collect_results(vec![worker, lost("B", Instant::now())]).expect_err("failed");
        assert_eq!(label(err), "B");
        let worker = Err(Error::Worker {
            label: "A".into(),
            reason: "panic".into(),
        });
        assert_eq!(
            label(collect_results(vec![worker]).expect_err("failed")),
            "A"
        );
        assert!(collect_results(Vec::new()).expect("no failure").is_empty());
    }
}
