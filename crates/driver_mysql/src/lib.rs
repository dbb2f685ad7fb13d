//! The blocking driver (`mysql` crate) used by the four thread-based
//! approaches: one [`Pool`] per server, each capped at the budget, built
//! the same way for all, and the harness's [`Router`] choosing the server
//! of each query.
//!
//! Settings chosen so both drivers do the same work per query: TCP as given
//! in the URL (the crate would otherwise switch to the unix socket), no TLS,
//! no health-check ping or `COM_RESET_CONNECTION` when a connection is
//! reused, no eager connections: every connection is opened on first use,
//! followed by one `SELECT CONNECTION_ID(), @@max_allowed_packet` (the same
//! query the sqlx driver sends; it replaces the crate's own
//! `max_allowed_packet` query).

use std::time::Duration;

use mysql::prelude::Queryable;

use common::error::{DbError, Error};
use common::interrupt;
use std::marker::PhantomData;

use common::outcome::{Execution, QueryResult, RowSink, begin_query, end_query};
use common::pool::{CONNECTION_INFO, Diagnosis, Lease, Pool, Pooled, bounded};
use common::queries::Query;
use common::route::{Router, Settled, Ticket};
use common::workload::Work;
use common::{Approach, ConnConfig, Report};

/// The protocol's largest packet: the client never refuses to send a query;
/// the server's own limit is checked before sending instead (in both drivers).
const CLIENT_MAX_PACKET: usize = 1 << 30;

/// A `mysql` error in the terms both drivers share, worded like sqlx's
/// (`1049 (42000): Unknown database 'x'`) rather than with its Debug-style
/// wrapping.
pub fn db_error(e: mysql::Error) -> DbError {
    let io = match &e {
        mysql::Error::IoError(io) => Some(io.kind()),
        // The packet codec's only source is the I/O error it wraps.
        mysql::Error::CodecError(codec) => std::error::Error::source(codec)
            .and_then(|s| s.downcast_ref::<std::io::Error>())
            .map(std::io::Error::kind),
        _ => None,
    };
    let (message, code) = match &e {
        mysql::Error::MySqlError(m) => (
            format!("{} ({}): {}", m.code, m.state, m.message),
            Some(m.code),
        ),
        mysql::Error::DriverError(d) => (d.to_string(), None),
        mysql::Error::IoError(io) => (io.to_string(), None),
        mysql::Error::CodecError(codec) => (
            std::error::Error::source(codec).map_or_else(|| codec.to_string(), ToString::to_string),
            None,
        ),
        other => (other.to_string(), None),
    };
    DbError {
        message,
        code,
        lost: io.is_some_and(DbError::is_lost),
    }
}

/// Connection options for `url`; `connect_timeout` bounds the TCP connect.
pub fn opts(url: &common::DbUrl, connect_timeout: Duration) -> Result<mysql::Opts, Error> {
    let base = mysql::Opts::from_url(&url.expose())
        .map_err(|e| Error::Config(format!("DATABASE_URL {url} is not usable: {e}")))?;
    Ok(mysql::OptsBuilder::from_opts(base)
        .prefer_socket(false)
        .tcp_connect_timeout(Some(connect_timeout))
        .max_allowed_packet(Some(CLIENT_MAX_PACKET))
        .into())
}

/// Opens one connection (TCP, handshake, login and [`CONNECTION_INFO`]) in
/// at most `timeout`.
fn connect(
    opts: &mysql::Opts,
    timeout: Duration,
    diagnosis: &Diagnosis,
) -> Result<Pooled<mysql::Conn>, DbError> {
    let owned = opts.clone();
    let opened = bounded(timeout, move || -> Result<_, mysql::Error> {
        let mut conn = mysql::Conn::new(owned)?;
        let info: Option<(u64, u64)> = conn.query_first(CONNECTION_INFO)?;
        Ok((conn, info.unwrap_or_default()))
    })
    .map_err(|e| DbError::setup(e.to_string()))?;
    match opened {
        Some(Ok((conn, (id, max_packet)))) => Ok(Pooled {
            conn,
            id,
            max_packet,
        }),
        Some(Err(e)) => Err(db_error(e)),
        None => {
            let host = opts_host(opts);
            Err(DbError::setup(
                diagnosis.of_timeout(&host.0, host.1, timeout),
            ))
        }
    }
}

fn opts_host(opts: &mysql::Opts) -> (String, u16) {
    (opts.get_ip_or_hostname().to_string(), opts.get_tcp_port())
}

/// One server of a run: its pool and how to connect to it.
type Upstream = common::upstream::Upstream<mysql::Conn, mysql::Opts>;

/// The pools of a thread-based approach, one per server, and the router
/// between them: what it needs to run one query.
#[derive(Debug)]
pub struct BlockingRunner {
    servers: Vec<Upstream>,
    router: Router,
    connect_timeout: Duration,
    diagnosis: Diagnosis,
}

impl BlockingRunner {
    /// Creates a pool of `budget` per server (no connection is opened
    /// yet) and registers them for cancellation on Ctrl-C.
    pub fn new(conn: &ConnConfig, budget: usize) -> Result<BlockingRunner, Error> {
        let (servers, router) = common::upstream::every(
            &conn.servers,
            budget,
            |url| opts(url, conn.connect_timeout),
            killer,
        )?;
        Ok(BlockingRunner {
            router,
            servers,
            connect_timeout: conn.connect_timeout,
            diagnosis: Diagnosis::default(),
        })
    }

    fn connection(&self, server: usize) -> Result<Lease<'_, mysql::Conn>, Error> {
        let upstream = &self.servers[server];
        upstream.pool.get(|| {
            connect(&upstream.opts, self.connect_timeout, &self.diagnosis).map_err(|source| {
                Error::Connect {
                    url: upstream.url.clone(),
                    source,
                }
            })
        })
    }

    /// How many servers the run reads from.
    pub fn servers(&self) -> usize {
        self.servers.len()
    }

    /// The first row of `sql` on the first server, on a connection of its own.
    pub fn probe(&self, sql: &str) -> Result<Vec<Option<String>>, Error> {
        self.probe_on(0, sql)
    }

    /// The first row of `sql` on server `server`, on a connection of its own.
    pub fn probe_on(&self, server: usize, sql: &str) -> Result<Vec<Option<String>>, Error> {
        Ok(self
            .probe_named(server, sql)?
            .into_iter()
            .map(|(_, v)| v)
            .collect())
    }

    /// [`BlockingRunner::probe_on`] with each value's column name.
    pub fn probe_named(
        &self,
        server: usize,
        sql: &str,
    ) -> Result<Vec<(String, Option<String>)>, Error> {
        let upstream = &self.servers[server];
        let connect_error = |source| Error::Connect {
            url: upstream.url.clone(),
            source,
        };
        let mut opened = connect(&upstream.opts, self.connect_timeout, &self.diagnosis)
            .map_err(connect_error)?;
        let row: Option<mysql::Row> = opened
            .conn
            .query_first(sql)
            .map_err(|e| Error::query("(probe)", db_error(e)))?;
        Ok(row.map_or_else(Vec::new, |row| {
            (0..row.len())
                .map(|i| {
                    let name = row.columns_ref()[i].name_str().into_owned();
                    let value =
                        text(row.as_ref(i)).map(|v| String::from_utf8_lossy(v).into_owned());
                    (name, value)
                })
                .collect()
        }))
    }

    /// Takes a connection from the pool (waiting while the budget is in use),
    /// runs `query` on it and returns the connection; submitted now.
    pub fn run(&self, query: &Query, exec: &Execution) -> Result<QueryResult, Error> {
        self.run_submitted_at(query, exec, exec.clock.offset_us())
    }

    /// [`BlockingRunner::run`] for a query submitted at `submitted_us`; in
    /// a run on several servers, once more on another when its server was
    /// lost ([`Router::settle`]).
    pub fn run_submitted_at(
        &self,
        query: &Query,
        exec: &Execution,
        submitted_us: u64,
    ) -> Result<QueryResult, Error> {
        let ticket = self.router.ticket()?;
        let first = ticket.server;
        match self
            .router
            .settle(first, self.run_on(ticket, query, exec, submitted_us))
        {
            Settled::Done(outcome) => outcome,
            Settled::Retry => {
                let ticket = self.router.ticket()?;
                let second = ticket.server;
                let outcome = self.run_on(ticket, query, exec, submitted_us);
                self.router.retried(first, second, outcome)
            }
        }
    }

    /// Runs `query` on the server of `ticket`.
    fn run_on(
        &self,
        ticket: Ticket<'_>,
        query: &Query,
        exec: &Execution,
        submitted_us: u64,
    ) -> Result<QueryResult, Error> {
        let mut lease = self.connection(ticket.server)?;
        let (held, sent) = begin_query(&lease, query, submitted_us, exec)?;
        let fail = |e| Error::query(&query.label, db_error(e));
        let outcome = (|| {
            let mut result = lease.conn().query_iter(query.sql.as_str()).map_err(fail)?;
            let mut sink = RowSink::new(exec);
            // The first result set is the query's (templates hold one statement).
            if let Some(set) = result.iter() {
                for row in set {
                    let row = row.map_err(fail)?;
                    let values: Vec<_> = (0..row.len()).map(|i| text(row.as_ref(i))).collect();
                    sink.row(&values);
                }
            }
            Ok(sink)
        })();
        let server = (self.servers.len() > 1).then_some(ticket.server);
        end_query(lease, held, outcome, query, sent, server, exec)
    }
}

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
    fn schedule(batch: &Batch<'_>) -> Result<Vec<QueryResult>, Error>;
}

/// One execution's queries and what runs them: what a schedule works with.
#[derive(Debug)]
pub struct Batch<'a> {
    runner: &'a BlockingRunner,
    exec: &'a Execution,
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
    pub fn query(&self, query: &Query) -> Result<QueryResult, Error> {
        self.runner.run(query, self.exec)
    }

    /// Runs one query that was submitted at `submitted_us` (before waiting
    /// for a permit or a worker).
    pub fn query_submitted_at(
        &self,
        query: &Query,
        submitted_us: u64,
    ) -> Result<QueryResult, Error> {
        self.runner.run_submitted_at(query, self.exec, submitted_us)
    }
}

/// A thread-based approach: its pool and settings, prepared once, and its
/// schedule.
pub struct Threads<S> {
    runner: BlockingRunner,
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
        let runner = BlockingRunner::new(conn, S::connections(conn.budget))?;
        Ok(Threads {
            runner,
            conn: conn.clone(),
            schedule: PhantomData,
        })
    }

    fn probe(&self, sql: &str) -> Result<Vec<Option<String>>, Error> {
        self.runner.probe(sql)
    }

    fn servers(&self) -> usize {
        self.runner.servers()
    }

    fn probe_on(&self, server: usize, sql: &str) -> Result<Vec<Option<String>>, Error> {
        self.runner.probe_on(server, sql)
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
        let exec = Execution::start();
        let batch = Batch {
            runner: &self.runner,
            exec: &exec,
            queries: work.queries(),
            // The budget is per server: a bounded schedule may keep every
            // server's connections busy.
            budget: self.conn.budget * self.runner.servers(),
        };
        let results = S::schedule(&batch)?;
        exec.finish(S::NAME, &self.conn, work, results)
    }
}

/// `KILL QUERY` for each id [`interrupt::Pace`] gives, over an idle
/// connection of the run's pool if there is one, else over a connection of
/// its own, every step of it bounded by `within`.
fn killer(opts: mysql::Opts, pool: std::sync::Weak<Pool<mysql::Conn>>) -> interrupt::Killer {
    interrupt::killer(move |within, pace| {
        let idle = pool.upgrade().and_then(|pool| pool.take_idle());
        let mut conn = match idle {
            Some(conn) => conn,
            None => {
                let opts: mysql::Opts = mysql::OptsBuilder::from_opts(opts.clone())
                    .read_timeout(Some(within))
                    .write_timeout(Some(within))
                    .into();
                connect(&opts, within, &Diagnosis::default()).map_err(|e| e.to_string())?
            }
        };
        while let Some(id) = pace.next() {
            // Error 1094 (unknown thread): its connection has closed meanwhile.
            match conn.conn.query_drop(format!("KILL QUERY {id}")) {
                Ok(()) => {}
                Err(mysql::Error::MySqlError(e)) if e.code == 1094 => {}
                Err(e) => return Err(db_error(e).to_string()),
            }
            pace.killed(id);
        }
        Ok(())
    })
}

/// The text-protocol value as the server sent it.
fn text(value: Option<&mysql::Value>) -> Option<&[u8]> {
    match value {
        Some(mysql::Value::Bytes(bytes)) => Some(bytes),
        // The text protocol sends every non-NULL value as bytes.
        _ => None,
    }
}
