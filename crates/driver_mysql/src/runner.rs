//! The pools of a thread-based approach, one per server, on either blocking
//! [`Client`], and the harness's [`Router`] choosing the server of each
//! query: what runs one query.

use std::time::Duration;

use common::ConnConfig;
use common::error::{DbError, Error};
use common::interrupt;
use common::outcome::{Execution, Finished, RowSink, begin_query, end_query};
use common::pool::{CONNECTION_INFO, Lease, Pool, Pooled};
use common::queries::Query;
use common::route::{Router, Settled, Ticket};
use common::settings::READ_ONLY_SESSION;
use limits::deadline::{Diagnosis, bounded};

use crate::client::Client;

/// What the schedules and the approach need of a runner, whichever client
/// it holds.
pub trait Run: Sync + std::fmt::Debug {
    /// The blocking driver's name.
    fn driver(&self) -> &'static str;

    /// How many servers the run reads from.
    fn servers(&self) -> usize;

    /// The first row of `sql` on server `server`, each value with its
    /// column name, on a connection of its own.
    fn probe_named(&self, server: usize, sql: &str)
    -> Result<Vec<(String, Option<String>)>, Error>;

    /// Takes a connection from the pool (waiting while the budget is in
    /// use), runs `query` submitted at `submitted_us`, returns the
    /// connection; in a run on several servers, once more on another when
    /// its server was lost ([`Router::settle`]).
    fn run_submitted_at(
        &self,
        query: &Query,
        exec: &Execution,
        submitted_us: u64,
    ) -> Result<Finished, Error>;

    /// Opens every connection of every server's pool and leaves them idle,
    /// before an open loop's clock starts: a service's pool is warm, and
    /// the ideal queue the latencies are held against has no set-up.
    fn warm(&self) -> Result<(), Error>;
}

/// One server of a run: its pool and how to connect to it.
type Upstream<C> = common::upstream::Upstream<C, <C as Client>::Opts>;

/// The pools of one run on client `C`, and the router between them.
#[derive(Debug)]
pub struct BlockingRunner<C: Client> {
    servers: Vec<Upstream<C>>,
    router: Router,
    connect_timeout: Duration,
    /// What a new connection of the pools sends after [`CONNECTION_INFO`]
    /// ([`common::settings::READ_ONLY_SESSION`] for a read-only run).
    init: Option<&'static str>,
    diagnosis: Diagnosis,
}

impl<C: Client + std::fmt::Debug> BlockingRunner<C> {
    /// Creates a pool of `budget` per server (no connection is opened
    /// yet) and registers them for cancellation on Ctrl-C.
    pub fn new(conn: &ConnConfig, budget: usize) -> Result<BlockingRunner<C>, Error> {
        let (servers, router) = common::upstream::every(
            &conn.servers,
            budget,
            |url| C::opts(url, conn.connect_timeout, conn.max_packet),
            killer::<C>,
        )?;
        Ok(BlockingRunner {
            router,
            servers,
            connect_timeout: conn.connect_timeout,
            init: conn.read_only.then_some(READ_ONLY_SESSION),
            diagnosis: Diagnosis::default(),
        })
    }

    fn connection(&self, server: usize) -> Result<Lease<'_, C>, Error> {
        let upstream = &self.servers[server];
        upstream.pool.get(|| {
            let opened = connect::<C>(
                &upstream.opts,
                self.connect_timeout,
                self.init,
                &self.diagnosis,
            );
            opened.map_err(|source| Error::Connect {
                url: upstream.url.clone(),
                source,
            })
        })
    }

    /// Runs `query` on the server of `ticket`.
    fn run_on(
        &self,
        ticket: Ticket<'_>,
        query: &Query,
        exec: &Execution,
        submitted_us: u64,
    ) -> Result<Finished, Error> {
        let mut lease = self.connection(ticket.server)?;
        let (held, sent) = begin_query(&lease, query, submitted_us, exec)?;
        let mut sink = RowSink::new(exec);
        let outcome = lease
            .conn()
            .rows(&query.sql, &mut |values| sink.row(values))
            .map(|()| sink)
            .map_err(|e| Error::query(&query.label, e));
        let server = (self.servers.len() > 1).then_some(ticket.server);
        end_query(lease, held, outcome, query, sent, server, exec)
    }
}

impl<C: Client + std::fmt::Debug> Run for BlockingRunner<C>
where
    C::Opts: Sync,
{
    fn warm(&self) -> Result<(), Error> {
        for (server, upstream) in self.servers.iter().enumerate() {
            // Held together, so that each one asked for is a new one.
            let opened = (0..upstream.pool.budget())
                .map(|_| self.connection(server))
                .collect::<Result<Vec<_>, _>>()?;
            drop(opened);
        }
        Ok(())
    }

    fn driver(&self) -> &'static str {
        C::NAME
    }

    fn servers(&self) -> usize {
        self.servers.len()
    }

    fn probe_named(
        &self,
        server: usize,
        sql: &str,
    ) -> Result<Vec<(String, Option<String>)>, Error> {
        let upstream = &self.servers[server];
        let mut opened = connect::<C>(&upstream.opts, self.connect_timeout, None, &self.diagnosis)
            .map_err(|source| Error::Connect {
                url: upstream.url.clone(),
                source,
            })?;
        opened
            .conn
            .first_row_named(sql)
            .map_err(|e| Error::query("(probe)", e))
    }

    fn run_submitted_at(
        &self,
        query: &Query,
        exec: &Execution,
        submitted_us: u64,
    ) -> Result<Finished, Error> {
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
}

/// Opens one connection (TCP, handshake, login, [`CONNECTION_INFO`] and
/// `init`) in at most `timeout`.
fn connect<C: Client>(
    opts: &C::Opts,
    timeout: Duration,
    init: Option<&'static str>,
    diagnosis: &Diagnosis,
) -> Result<Pooled<C>, DbError> {
    let owned = opts.clone();
    let opened = bounded(timeout, move || -> Result<_, DbError> {
        let mut conn = C::open(owned)?;
        let info = conn.first_row_named(CONNECTION_INFO)?;
        if let Some(sql) = init {
            conn.execute(sql)?;
        }
        let number = |i: usize| -> u64 {
            info.get(i)
                .and_then(|(_, v)| v.as_deref())
                .and_then(|v| v.parse().ok())
                .unwrap_or_default()
        };
        let (id, max_packet) = (number(0), number(1));
        Ok(Pooled {
            conn,
            id,
            max_packet,
        })
    })
    .map_err(|e| DbError::setup(e.to_string()))?;
    match opened {
        Some(outcome) => outcome,
        None => {
            let (host, port) = C::host(opts);
            Err(DbError::setup(diagnosis.of_timeout(&host, port, timeout)))
        }
    }
}

/// `KILL QUERY` for each id [`interrupt::Pace`] gives, over an idle
/// connection of the run's pool if there is one, else over a connection of
/// its own, every step of it bounded by `within`.
fn killer<C: Client>(opts: C::Opts, pool: std::sync::Weak<Pool<C>>) -> interrupt::Killer {
    interrupt::killer(move |within, pace| {
        let idle = pool.upgrade().and_then(|pool| pool.take_idle());
        let mut conn = match idle {
            Some(conn) => conn,
            None => connect::<C>(
                &C::with_io_timeout(&opts, within),
                within,
                None,
                &Diagnosis::default(),
            )
            .map_err(|e| e.to_string())?,
        };
        while let Some(id) = pace.next() {
            match conn.conn.execute(&format!("KILL QUERY {id}")) {
                Ok(()) => {}
                // Unknown thread: its connection has closed meanwhile.
                Err(e) if e.code == Some(1094) => {}
                Err(e) => return Err(e.to_string()),
            }
            pace.killed(id);
        }
        Ok(())
    })
}
