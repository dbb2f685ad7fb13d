//! A fixed pool of `budget` worker threads fed through a crossbeam channel,
//! results collected as they complete (the blog's `ThreadPoolExecutor` with
//! `as_completed`). At most `budget` queries are ever in flight, so workers
//! never wait on the connection pool.

use crossbeam::channel;

use common::mysql_driver::Runner;
use common::report::collect_results;
use common::{Error, Query, Report, RunConfig};

pub const APPROACH: &str = "test_threadpool";

pub fn run(cfg: &RunConfig) -> Result<Report, Error> {
    let runner = Runner::new(&cfg.conn, cfg.conn.budget)?;
    let workers = cfg.conn.budget.min(cfg.queries.len()).max(1);
    let (jobs_tx, jobs_rx) = channel::unbounded::<&Query>();
    let (done_tx, done_rx) = channel::unbounded();
    for q in &cfg.queries {
        // The receiver lives until the scope below ends: cannot fail.
        let _ = jobs_tx.send(q);
    }
    drop(jobs_tx);
    let outcomes = std::thread::scope(|s| {
        let workers: Vec<_> = (0..workers)
            .map(|_| {
                let (jobs, done, runner) = (jobs_rx.clone(), done_tx.clone(), &runner);
                s.spawn(move || {
                    for q in jobs {
                        let _ = done.send(runner.run(q));
                    }
                })
            })
            .collect();
        drop(done_tx);
        // As completed: the channel closes when every worker has finished.
        let outcomes: Vec<_> = done_rx.iter().collect();
        let died = workers.into_iter().filter_map(|w| w.join().err()).count();
        (outcomes, died)
    });
    let (outcomes, died) = outcomes;
    if died > 0 {
        return Err(Error::Worker {
            label: "(pool)".into(),
            reason: format!("{died} worker thread(s) panicked"),
        });
    }
    let results = collect_results(outcomes)?;
    Report::assemble(APPROACH, cfg, results, runner.clock, &runner.gauge)
}
