//! The connection pool both drivers use: at most `budget` connections, each
//! opened on first need (all of them before an open loop's clock starts)
//! and kept for reuse, handed to waiters first come,
//! first served. One pool for both drivers, so that the approaches differ in
//! scheduling only, not in pool policy.
//!
//! Written here rather than taken from the drivers because a benchmark
//! needs three things their pools hide:
//! - **connection set-up under one deadline**: opening a connection (TCP,
//!   handshake, login, the one query that asks for the connection's id) is
//!   bounded by `--connect-timeout` in both drivers; a refusal fails at once
//!   (sqlx's pool retries a refused connect until its timeout);
//! - **the server's id of every connection in use**, so that an interrupted
//!   run can `KILL QUERY` what it left running ([`crate::interrupt`]);
//! - **fail fast**: once a connection cannot be opened, every query still
//!   waiting for one stops instead of trying again in turn.
//!
//! Waiting is by hand-off: a released connection (or the right to open a
//! new one) goes straight to the longest waiter through a oneshot channel,
//! which a thread blocks on and a task awaits.

use std::collections::{BTreeSet, VecDeque};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::Duration;

use futures::channel::oneshot;

use crate::error::Error;

/// What each driver asks the server once, right after opening a
/// connection: the id for `KILL QUERY`, the largest query it accepts.
pub const CONNECTION_INFO: &str = "SELECT CONNECTION_ID(), @@max_allowed_packet";

/// A connection with what the pool knows about it.
#[derive(Debug)]
pub struct Pooled<C> {
    pub conn: C,
    /// The server's id for this connection (`CONNECTION_ID()`).
    pub id: u64,
    /// The server's `max_allowed_packet`: the largest query it accepts.
    pub max_packet: u64,
}

/// What a waiter is given.
#[derive(Debug)]
enum Grant<C> {
    Idle(Pooled<C>),
    /// A free slot: open a new connection in it.
    Open,
}

#[derive(Debug)]
struct State<C> {
    idle: Vec<Pooled<C>>,
    /// Connections open or being opened.
    open: usize,
    waiters: VecDeque<oneshot::Sender<Grant<C>>>,
    /// Server ids of the connections lent out now.
    in_use: BTreeSet<u64>,
    /// Set by [`Pool::cancel`]: nothing more is lent.
    cancelled: bool,
    /// Set when a connection could not be opened (the waiters stop):
    /// `Some(whether its server was lost)`.
    failed: Option<bool>,
    /// Threads waiting on [`Pool::returned`] (only a cancellation does):
    /// a connection that comes back wakes them only when there are some,
    /// so that no query pays a wake-up call that nobody hears.
    watching: usize,
}

/// See the module docs.
#[derive(Debug)]
pub struct Pool<C> {
    budget: usize,
    state: Mutex<State<C>>,
    /// Signalled whenever a connection comes back (for [`Pool::wait_returned`]).
    returned: Condvar,
}

/// A connection lent by the pool; it goes back when dropped, or is closed
/// if [`Lease::discard`] was called (a broken connection).
#[derive(Debug)]
pub struct Lease<'a, C> {
    pool: &'a Pool<C>,
    item: Option<Pooled<C>>,
    keep: bool,
}

impl<C> Lease<'_, C> {
    pub fn conn(&mut self) -> &mut C {
        &mut self.pooled().conn
    }

    pub fn id(&self) -> u64 {
        self.item.as_ref().map_or(0, |p| p.id)
    }

    pub fn max_packet(&self) -> u64 {
        self.item.as_ref().map_or(u64::MAX, |p| p.max_packet)
    }

    /// The connection is broken (its stream failed): close it instead of
    /// lending it again, and free its slot.
    pub fn discard(&mut self) {
        self.keep = false;
    }

    fn pooled(&mut self) -> &mut Pooled<C> {
        self.item
            .as_mut()
            .expect("a lease holds its connection until dropped")
    }
}

impl<C> Drop for Lease<'_, C> {
    fn drop(&mut self) {
        let Some(item) = self.item.take() else { return };
        let mut state = self.pool.lock();
        state.in_use.remove(&item.id);
        let grant = if self.keep {
            Grant::Idle(item)
        } else {
            Grant::Open
        };
        self.pool.hand_on(&mut state, grant);
        let watched = state.watching > 0;
        drop(state);
        if watched {
            self.pool.returned.notify_all();
        }
    }
}

/// What to do after asking for a connection.
enum Next<C> {
    Go(Grant<C>),
    Wait(oneshot::Receiver<Grant<C>>),
}

impl<C> Pool<C> {
    pub fn new(budget: usize) -> Pool<C> {
        Pool {
            budget,
            state: Mutex::new(State {
                idle: Vec::new(),
                open: 0,
                waiters: VecDeque::new(),
                in_use: BTreeSet::new(),
                cancelled: false,
                failed: None,
                watching: 0,
            }),
            returned: Condvar::new(),
        }
    }

    /// The most connections the pool opens.
    pub fn budget(&self) -> usize {
        self.budget
    }

    fn lock(&self) -> MutexGuard<'_, State<C>> {
        // A panic while holding the lock leaves the state consistent (every
        // update is a single step), so a poisoned lock is used as it is.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Gives `grant` to the longest waiter still waiting, else keeps it.
    fn hand_on(&self, state: &mut State<C>, mut grant: Grant<C>) {
        if !state.cancelled && state.failed.is_none() {
            while let Some(waiter) = state.waiters.pop_front() {
                match waiter.send(grant) {
                    Ok(()) => return,
                    Err(back) => grant = back,
                }
            }
        }
        match grant {
            Grant::Idle(item) => state.idle.push(item),
            Grant::Open => state.open -= 1,
        }
    }

    fn ask(&self) -> Result<Next<C>, Error> {
        let mut state = self.lock();
        if state.cancelled {
            return Err(Error::Interrupted);
        }
        if let Some(server_lost) = state.failed {
            return Err(Error::Stopped { server_lost });
        }
        if let Some(item) = state.idle.pop() {
            return Ok(Next::Go(Grant::Idle(item)));
        }
        if state.open < self.budget {
            state.open += 1;
            return Ok(Next::Go(Grant::Open));
        }
        let (tx, rx) = oneshot::channel();
        state.waiters.push_back(tx);
        Ok(Next::Wait(rx))
    }

    /// Lends `item` unless the run was cancelled meanwhile; from here on a
    /// cancellation kills its query.
    fn lend(&self, item: Pooled<C>) -> Result<Lease<'_, C>, Error> {
        let mut state = self.lock();
        if state.cancelled {
            self.hand_on(&mut state, Grant::Idle(item));
            return Err(Error::Interrupted);
        }
        state.in_use.insert(item.id);
        Ok(Lease {
            pool: self,
            item: Some(item),
            keep: true,
        })
    }

    /// After a failed connect: frees the slot and stops every waiter.
    fn connect_failed(&self, error: &Error) {
        let mut state = self.lock();
        state.failed = Some(error.server_lost());
        state.open -= 1;
        // Dropping the senders wakes the waiters with `Canceled`.
        state.waiters.clear();
    }

    /// The error for a waiter whose sender was dropped.
    fn why_stopped(&self) -> Error {
        let state = self.lock();
        if state.cancelled {
            Error::Interrupted
        } else {
            Error::Stopped {
                server_lost: state.failed.unwrap_or(false),
            }
        }
    }

    /// A connection, blocking this thread while the budget is in use;
    /// `connect` opens a new one when a slot is free.
    pub fn get(
        &self,
        connect: impl FnOnce() -> Result<Pooled<C>, Error>,
    ) -> Result<Lease<'_, C>, Error> {
        let grant = match self.ask()? {
            Next::Go(grant) => grant,
            Next::Wait(rx) => futures::executor::block_on(rx).map_err(|_| self.why_stopped())?,
        };
        let item = match grant {
            Grant::Idle(item) => item,
            Grant::Open => connect().inspect_err(|e| self.connect_failed(e))?,
        };
        self.lend(item)
    }

    /// [`Pool::get`] for tasks: waits without blocking the thread.
    pub async fn get_async<F>(&self, connect: impl FnOnce() -> F) -> Result<Lease<'_, C>, Error>
    where
        F: Future<Output = Result<Pooled<C>, Error>>,
    {
        let grant = match self.ask()? {
            Next::Go(grant) => grant,
            Next::Wait(rx) => rx.await.map_err(|_| self.why_stopped())?,
        };
        let item = match grant {
            Grant::Idle(item) => item,
            Grant::Open => connect().await.inspect_err(|e| self.connect_failed(e))?,
        };
        self.lend(item)
    }
}

impl<C> Pool<C> {
    /// An idle connection, taken out of the pool for good: after a
    /// cancellation, the killer sends its `KILL QUERY`s over it instead of
    /// opening one more (which a server whose per-user limit equals the
    /// budget would refuse).
    pub fn take_idle(&self) -> Option<Pooled<C>> {
        let mut state = self.lock();
        let item = state.idle.pop()?;
        state.open -= 1;
        Some(item)
    }
}

/// What [`crate::interrupt`] needs of a pool, whatever its connection type.
pub trait InFlight: Send + Sync {
    /// Lends nothing more; returns the server ids of the connections in use.
    fn cancel(&self) -> Vec<u64>;
    /// The server ids of the connections still in use.
    fn in_use(&self) -> Vec<u64>;
    /// Waits up to `timeout` for a connection to come back.
    fn wait_returned(&self, timeout: Duration);
    /// Waits up to `timeout` for the connection with server id `id` to
    /// come back (at once if it is not out).
    fn wait_for(&self, id: u64, timeout: Duration);
}

impl<C: Send> InFlight for Pool<C> {
    fn cancel(&self) -> Vec<u64> {
        let mut state = self.lock();
        state.cancelled = true;
        state.waiters.clear();
        state.in_use.iter().copied().collect()
    }

    fn in_use(&self) -> Vec<u64> {
        self.lock().in_use.iter().copied().collect()
    }

    fn wait_returned(&self, timeout: Duration) {
        let mut state = self.lock();
        if state.in_use.is_empty() {
            return;
        }
        state.watching += 1;
        let (mut state, _) = self
            .returned
            .wait_timeout(state, timeout)
            .unwrap_or_else(|p| p.into_inner());
        state.watching -= 1;
    }

    fn wait_for(&self, id: u64, timeout: Duration) {
        let mut state = self.lock();
        state.watching += 1;
        let (mut state, _) = self
            .returned
            .wait_timeout_while(state, timeout, |state| state.in_use.contains(&id))
            .unwrap_or_else(|p| p.into_inner());
        state.watching -= 1;
    }
}
