//! The async driver (sqlx) used by the tokio and async-std approaches: one
//! [`Pool`] per server capped at the budget (the same pool as the blocking
//! driver's) and the harness's [`Router`] between them, the same for both
//! runtimes.
//!
//! Queries go through `raw_sql`, i.e. the text protocol (`COM_QUERY`), as in
//! the `mysql` driver and the blog's Python drivers. The session `SET` that
//! sqlx sends after connecting by default is turned off, so a connection
//! costs the same handshake in both drivers. TLS is off in both.

use std::str::FromStr;
use std::time::Duration;

use std::sync::Arc;

use futures::TryStreamExt;
use futures::future::{BoxFuture, Either, select};
use sqlx::mysql::{MySqlConnectOptions, MySqlConnection, MySqlRow, MySqlSslMode};
use sqlx::{AssertSqlSafe, Connection, Row};

use common::error::{DbError, Error};
use common::interrupt;
use common::outcome::{Execution, Finished, RowSink, begin_query, end_query};
use common::pool::{CONNECTION_INFO, Lease, Pool, Pooled};
use common::queries::Query;
use common::route::{Router, Settled, Ticket};
use common::settings::{ConnConfig, READ_ONLY_SESSION};
use limits::deadline::{Diagnosis, deadline};

/// The driver's name in reports.
pub const NAME: &str = "sqlx";

/// An sqlx error in the terms every driver shares.
pub fn db_error(e: sqlx::Error) -> DbError {
    let code = match &e {
        sqlx::Error::Database(db) => db
            .try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>()
            .map(|e| e.number()),
        _ => None,
    };
    let lost = matches!(&e, sqlx::Error::Io(io) if DbError::is_lost(io.kind()));
    DbError {
        message: e.to_string(),
        code,
        lost,
    }
}

/// Connect options from the URL, with sqlx's extra session setup turned off.
pub fn connect_options(url: &common::DbUrl) -> Result<MySqlConnectOptions, Error> {
    let opts = MySqlConnectOptions::from_str(&url.expose()).map_err(|e| {
        Error::Config(format!(
            "DATABASE_URL {url} is not usable: {}",
            common::redact(&e.to_string())
        ))
    })?;
    // An IPv6 literal comes bracketed, as URLs write it; sqlx would look
    // the brackets up as a host name.
    let host = url.host();
    let opts = match host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        Some(literal) => opts.host(literal),
        None => opts,
    };
    Ok(opts
        .ssl_mode(MySqlSslMode::Disabled)
        .pipes_as_concat(false)
        .no_engine_substitution(false)
        .timezone(None)
        .set_names(false))
}

/// Runs a future to completion on the approach's kind of runtime, from a
/// thread outside it (the signal thread): a new current-thread runtime for
/// tokio, `task::block_on` for async-std. sqlx needs the runtime it was
/// built for.
pub type BlockOn =
    Arc<dyn Fn(BoxFuture<'static, Result<(), String>>) -> Result<(), String> + Send + Sync>;

/// Opens one connection (TCP, handshake, login, [`CONNECTION_INFO`] and
/// `init`) in at most `timeout`. A refusal fails at once.
async fn connect(
    opts: &MySqlConnectOptions,
    timeout: Duration,
    init: Option<&'static str>,
    diagnosis: &Diagnosis,
) -> Result<Pooled<MySqlConnection>, DbError> {
    let open = async {
        let mut conn = MySqlConnection::connect_with(opts).await?;
        let row = sqlx::raw_sql(CONNECTION_INFO).fetch_one(&mut conn).await?;
        if let Some(sql) = init {
            sqlx::raw_sql(AssertSqlSafe(sql)).execute(&mut conn).await?;
        }
        let number = |i: usize| -> Result<u64, sqlx::Error> {
            let value = text(&row, i)?.unwrap_or_default();
            std::str::from_utf8(value)
                .ok()
                .and_then(|v| v.parse().ok())
                .ok_or_else(|| sqlx::Error::Protocol(format!("{CONNECTION_INFO}: not a number")))
        };
        let (id, max_packet) = (number(0)?, number(1)?);
        Ok::<_, sqlx::Error>(Pooled {
            conn,
            id,
            max_packet,
        })
    };
    match select(Box::pin(open), Box::pin(deadline(timeout))).await {
        Either::Left((opened, _)) => opened.map_err(db_error),
        Either::Right(_) => Err(DbError::setup(diagnosis.of_timeout(
            opts.get_host(),
            opts.get_port(),
            timeout,
        ))),
    }
}

/// One server of a run: its pool and how to connect to it.
type Upstream = common::upstream::Upstream<MySqlConnection, MySqlConnectOptions>;

/// The pools of an async approach, one per server, and the router between
/// them: what a task needs to run one query.
#[derive(Debug)]
pub struct AsyncRunner {
    servers: Vec<Upstream>,
    router: Router,
    connect_timeout: Duration,
    /// What a new connection of the pools sends after [`CONNECTION_INFO`]
    /// ([`READ_ONLY_SESSION`] for a read-only run).
    init: Option<&'static str>,
    diagnosis: Diagnosis,
}

impl AsyncRunner {
    /// Creates a pool per server (no connection is opened yet) and
    /// registers them for cancellation on Ctrl-C (the killers run through
    /// `block_on`).
    pub fn new(conn: &ConnConfig, block_on: BlockOn) -> Result<AsyncRunner, Error> {
        let (servers, router) =
            common::upstream::every(&conn.servers, conn.budget, connect_options, |opts, pool| {
                killer(opts, pool, Arc::clone(&block_on))
            })?;
        Ok(AsyncRunner {
            router,
            servers,
            connect_timeout: conn.connect_timeout,
            init: conn.read_only.then_some(READ_ONLY_SESSION),
            diagnosis: Diagnosis::default(),
        })
    }

    /// How many servers the run reads from.
    pub fn servers(&self) -> usize {
        self.servers.len()
    }

    /// The first row of `sql` as text on server `server`, on a connection
    /// of its own.
    pub async fn probe(&self, server: usize, sql: &str) -> Result<Vec<Option<String>>, Error> {
        Ok(self
            .probe_named(server, sql)
            .await?
            .into_iter()
            .map(|(_, v)| v)
            .collect())
    }

    /// [`AsyncRunner::probe`] with each value's column name.
    pub async fn probe_named(
        &self,
        server: usize,
        sql: &str,
    ) -> Result<Vec<(String, Option<String>)>, Error> {
        let upstream = &self.servers[server];
        let mut opened = connect(&upstream.opts, self.connect_timeout, None, &self.diagnosis)
            .await
            .map_err(|source| Error::Connect {
                url: upstream.url.clone(),
                source,
            })?;
        let fail = |e| Error::query("(probe)", db_error(e));
        let row = sqlx::raw_sql(AssertSqlSafe(sql.to_owned()))
            .fetch_optional(&mut opened.conn)
            .await
            .map_err(fail)?;
        let Some(row) = row else {
            return Ok(Vec::new());
        };
        (0..row.len())
            .map(|i| {
                let value = text(&row, i).map_err(fail)?;
                let name = sqlx::Column::name(&row.columns()[i]).to_owned();
                Ok((name, value.map(|v| String::from_utf8_lossy(v).into_owned())))
            })
            .collect()
    }

    /// Takes a connection from the pool, runs `query` on it and returns it;
    /// the query was submitted at `submitted_us` (when its task was spawned).
    /// In a run on several servers, once more on another when its server
    /// was lost ([`Router::settle`]).
    pub async fn run(
        &self,
        query: &Query,
        exec: &Execution,
        submitted_us: u64,
    ) -> Result<Finished, Error> {
        let ticket = self.router.ticket()?;
        let first = ticket.server;
        let outcome = self.run_on(ticket, query, exec, submitted_us).await;
        match self.router.settle(first, outcome) {
            Settled::Done(outcome) => outcome,
            Settled::Retry => {
                let ticket = self.router.ticket()?;
                let second = ticket.server;
                let outcome = self.run_on(ticket, query, exec, submitted_us).await;
                self.router.retried(first, second, outcome)
            }
        }
    }

    /// A connection of server `server`'s pool, opened when a slot is free.
    async fn connection(&self, server: usize) -> Result<Lease<'_, MySqlConnection>, Error> {
        let upstream = &self.servers[server];
        upstream
            .pool
            .get_async(|| async {
                connect(
                    &upstream.opts,
                    self.connect_timeout,
                    self.init,
                    &self.diagnosis,
                )
                .await
                .map_err(|source| Error::Connect {
                    url: upstream.url.clone(),
                    source,
                })
            })
            .await
    }

    /// Opens every connection of every server's pool and leaves them idle,
    /// before an open loop's clock starts: a service's pool is warm, and
    /// the ideal queue the latencies are held against has no set-up.
    pub async fn warm(&self) -> Result<(), Error> {
        for (server, upstream) in self.servers.iter().enumerate() {
            // Held together, so that each one asked for is a new one.
            let mut opened = Vec::with_capacity(upstream.pool.budget());
            for _ in 0..upstream.pool.budget() {
                opened.push(self.connection(server).await?);
            }
        }
        Ok(())
    }

    /// Runs `query` on the server of `ticket`.
    async fn run_on(
        &self,
        ticket: Ticket<'_>,
        query: &Query,
        exec: &Execution,
        submitted_us: u64,
    ) -> Result<Finished, Error> {
        let mut lease = self.connection(ticket.server).await?;
        let (held, sent) = begin_query(&lease, query, submitted_us, exec)?;
        let fail = |e| Error::query(&query.label, db_error(e));
        let outcome = async {
            let mut rows = sqlx::raw_sql(AssertSqlSafe(query.sql.clone())).fetch(lease.conn());
            let mut sink = RowSink::new(exec);
            while let Some(row) = rows.try_next().await.map_err(fail)? {
                let values = (0..row.len())
                    .map(|i| text(&row, i))
                    .collect::<Result<Vec<_>, _>>();
                sink.row(&values.map_err(fail)?);
            }
            Ok(sink)
        }
        .await;
        let server = (self.servers.len() > 1).then_some(ticket.server);
        end_query(lease, held, outcome, query, sent, server, exec)
    }
}

/// `KILL QUERY` for each id [`interrupt::Pace`] gives, over an idle
/// connection of the run's pool if there is one, else over a connection of
/// its own, on the approach's runtime. Only the connect is bounded by
/// `within`: nobody waits for a killer that the server is slow to answer.
fn killer(
    opts: MySqlConnectOptions,
    pool: std::sync::Weak<Pool<MySqlConnection>>,
    block_on: BlockOn,
) -> interrupt::Killer {
    interrupt::killer(move |within, pace| {
        let (opts, pace) = (opts.clone(), pace.clone());
        let idle = pool.upgrade().and_then(|pool| pool.take_idle());
        let kill = async move {
            let mut conn = match idle {
                Some(conn) => conn,
                None => connect(&opts, within, None, &Diagnosis::default())
                    .await
                    .map_err(|e| e.to_string())?,
            };
            while let Some(id) = pace.next() {
                let killed = sqlx::raw_sql(AssertSqlSafe(format!("KILL QUERY {id}")))
                    .execute(&mut conn.conn)
                    .await;
                if let Err(e) = killed.map_err(db_error) {
                    // Unknown thread: its connection has closed meanwhile.
                    if e.server_code() != Some(1094) {
                        return Err(e.to_string());
                    }
                }
                pace.killed(id);
            }
            Ok(())
        };
        block_on(Box::pin(kill))
    })
}

/// The text-protocol value as the server sent it; unchecked, because the
/// text form of any column type is what the digest is defined over.
fn text(row: &MySqlRow, i: usize) -> Result<Option<&[u8]>, sqlx::Error> {
    row.try_get_unchecked::<Option<&[u8]>, _>(i)
}
