//! The blocking drivers of the four thread-based approaches and what they
//! share: one pool per server, each capped at the budget, built the same
//! way for all, the harness's router choosing the server of each query,
//! and the [`Schedule`] that is the one thing an approach crate decides.
//!
//! Two clients do the same work per query (every connection is opened on
//! first use, followed by one `SELECT CONNECTION_ID(),
//! @@max_allowed_packet`, the query the sqlx driver sends; then text
//! queries, their rows read as text): the `mysql` crate (default), and
//! dbio's own `wire` client (`--blocking-driver wire`), which reads rows in
//! place and shows what the crate itself costs per query.

mod client;
mod mysql_crate;
mod runner;
mod wire_client;

use std::marker::PhantomData;

use common::error::Error;
use common::outcome::{Execution, Finished};
use common::queries::Query;
use common::settings::BlockingDriver;
use common::workload::Work;
use common::{Approach, ConnConfig, Report};

pub use client::Client;
pub use mysql_crate::db_error;
pub use runner::{BlockingRunner, Run};

/// How a thread-based approach schedules the queries: the one thing its
/// crate decides. [`Threads`] makes it an [`Approach`].
pub trait Schedule {
    /// The package and binary name.
    const NAME: &'static str;

    /// The connections the approach may hold: the budget, or 1 for the
    /// serial baseline.
    fn connections(budget: usize) -> usize {
        budget
    }

    /// The threads the schedule starts at once for `queries` queries
    /// (checked against the machine's limits before the clock starts).
    fn threads(queries: usize) -> usize {
        let _ = queries;
        0
    }

    /// Runs every query once ([`Batch::query`]); results in any order.
    fn schedule(batch: &Batch<'_>) -> Result<Vec<Finished>, Error>;
}

/// One execution's queries and what runs them: what a schedule works with.
#[derive(Debug)]
pub struct Batch<'a> {
    runner: &'a dyn Run,
    exec: &'a Execution,
    work: &'a Work,
    pub queries: &'a [Query],
    /// The connections the run may hold at once: the budget times the
    /// servers (each server's pool enforces its budget in any case).
    pub budget: usize,
}

impl Batch<'_> {
    /// Now, on the execution's clock: when a query is submitted.
    pub fn now_us(&self) -> u64 {
        self.exec.clock.offset_us()
    }

    /// Runs one query on a connection from the pool, submitted now.
    pub fn query(&self, query: &Query) -> Result<Finished, Error> {
        self.runner
            .run_submitted_at(query, self.exec, self.exec.clock.offset_us())
    }

    /// When `query` is due on the run's clock: 0 in one batch.
    pub fn due_us(&self, query: &Query) -> u64 {
        self.work.due_us(query.index)
    }

    /// Waits until `query` is due (an open loop's arrival; at once in one
    /// batch) and returns when it was released, on the run's clock: its
    /// `submitted_us`.
    pub fn release(&self, query: &Query) -> u64 {
        self.exec.clock.wait_until(self.due_us(query))
    }

    /// Runs one query that was submitted at `submitted_us` (before waiting
    /// for a permit or a worker).
    pub fn query_submitted_at(&self, query: &Query, submitted_us: u64) -> Result<Finished, Error> {
        self.runner.run_submitted_at(query, self.exec, submitted_us)
    }
}

/// A thread-based approach: its pool and settings, prepared once, and its
/// schedule.
pub struct Threads<S> {
    runner: Box<dyn Run>,
    conn: ConnConfig,
    schedule: PhantomData<S>,
}

impl<S: Schedule> std::fmt::Debug for Threads<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple(S::NAME).field(&self.runner).finish()
    }
}

impl<S: Schedule> Approach for Threads<S> {
    const NAME: &'static str = S::NAME;

    fn prepare(conn: &ConnConfig) -> Result<Self, Error> {
        let budget = S::connections(conn.budget);
        let runner: Box<dyn Run> = match conn.blocking_driver {
            BlockingDriver::Mysql => Box::new(BlockingRunner::<mysql::Conn>::new(conn, budget)?),
            BlockingDriver::Wire => Box::new(BlockingRunner::<wire::Conn>::new(conn, budget)?),
        };
        Ok(Threads {
            runner,
            conn: conn.clone(),
            schedule: PhantomData,
        })
    }

    fn probe(&self, sql: &str) -> Result<Vec<Option<String>>, Error> {
        self.probe_on(0, sql)
    }

    fn servers(&self) -> usize {
        self.runner.servers()
    }

    fn probe_on(&self, server: usize, sql: &str) -> Result<Vec<Option<String>>, Error> {
        Ok(self
            .runner
            .probe_named(server, sql)?
            .into_iter()
            .map(|(_, v)| v)
            .collect())
    }

    fn probe_named(
        &self,
        server: usize,
        sql: &str,
    ) -> Result<Vec<(String, Option<String>)>, Error> {
        self.runner.probe_named(server, sql)
    }

    fn execute(&self, work: &Work) -> Result<Report, Error> {
        let threads = S::threads(work.len());
        if threads > 0 {
            common::threads::Limits::read().check(threads)?;
        }
        if work.schedule().is_some() {
            self.runner.warm()?;
        }
        let exec = Execution::start_for(work);
        let batch = Batch {
            runner: &*self.runner,
            exec: &exec,
            work,
            queries: work.queries(),
            // The budget is per server: a bounded schedule may keep every
            // server's connections busy.
            budget: self.conn.budget * self.runner.servers(),
        };
        let results = S::schedule(&batch)?;
        exec.finish(S::NAME, self.runner.driver(), &self.conn, work, results)
    }
}
