//! The servers of a run as both drivers hold them: each server's pool (the
//! budget), the driver's options to connect to it and its name for errors,
//! built for every server at once, registered for cancellation on a signal,
//! with the router between them.

use std::sync::{Arc, Weak};

use crate::DbUrl;
use crate::error::Error;
use crate::interrupt::{self, Killer};
use crate::pool::{InFlight, Pool};
use crate::route::Router;

/// One server of a run: its pool and how to connect to it (`O`, the
/// driver's options).
#[derive(Debug)]
pub struct Upstream<C, O> {
    pub pool: Arc<Pool<C>>,
    pub opts: O,
    /// As errors name it (password redacted).
    pub url: String,
}

/// A pool of `budget` for each of `servers` (no connection is opened yet),
/// with the options `opts` makes of its URL; every pool registered for
/// cancellation on SIGINT/SIGTERM/SIGHUP with the killer `killer` makes;
/// and the router between them.
pub fn every<C: Send + 'static, O: Clone>(
    servers: &[DbUrl],
    budget: usize,
    opts: impl Fn(&DbUrl) -> Result<O, Error>,
    killer: impl Fn(O, Weak<Pool<C>>) -> Killer,
) -> Result<(Vec<Upstream<C, O>>, Router), Error> {
    let upstreams = servers
        .iter()
        .map(|url| {
            Ok(Upstream {
                pool: Arc::new(Pool::new(budget)),
                opts: opts(url)?,
                url: url.to_string(),
            })
        })
        .collect::<Result<Vec<_>, Error>>()?;
    interrupt::register_all(
        upstreams
            .iter()
            .map(|s| {
                let pool: Arc<dyn InFlight> = s.pool.clone();
                (
                    Arc::downgrade(&pool),
                    killer(s.opts.clone(), Arc::downgrade(&s.pool)),
                )
            })
            .collect(),
    );
    let router = Router::new(upstreams.iter().map(|s| s.url.clone()).collect());
    Ok((upstreams, router))
}
