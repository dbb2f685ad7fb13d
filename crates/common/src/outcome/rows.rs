//! The steps every driver takes around one query (count the connection,
//! check the packet limit, stamp), and its rows as they stream in.

use super::clock::{Clock, Sent};
use super::execution::{Execution, GaugeGuard};
use super::finished::{Finished, FirstRow};
use crate::error::Error;
use crate::queries::Query;

/// Starts one query for either driver, once it has its connection: counts
/// the connection in use, checks that the query fits the server's packet
/// limit, and stamps when it is sent.
pub fn begin_query<'e, C>(
    lease: &crate::pool::Lease<'_, C>,
    query: &Query,
    submitted_us: u64,
    exec: &'e Execution,
) -> Result<(GaugeGuard<'e>, Sent), Error> {
    let held = exec.gauge.hold();
    query.fits(lease.max_packet())?;
    let sent = Sent {
        submitted_us,
        connected_us: exec.clock.offset_us(),
    };
    Ok((held, sent))
}

/// Ends one query for either driver: the gauge drops before the connection
/// goes back to the pool (its next user counts it again), a connection the
/// failure broke is discarded, and the result is stamped with when the
/// last row arrived and, in a run on several servers, which one ran it.
pub fn end_query<C>(
    mut lease: crate::pool::Lease<'_, C>,
    held: GaugeGuard<'_>,
    outcome: Result<RowSink, Error>,
    query: &Query,
    sent: Sent,
    server: Option<usize>,
    exec: &Execution,
) -> Result<Finished, Error> {
    let finished_us = exec.clock.offset_us();
    if outcome.as_ref().is_err_and(Error::connection_lost) {
        lease.discard();
    }
    let connection_id = lease.id();
    drop(held);
    drop(lease);
    let mut result = outcome?.finish(query, sent, finished_us, Some(connection_id));
    result.server = server;
    Ok(result)
}

/// Collects one query's rows as they stream in: the count, the digest and
/// the first row. Every driver feeds it the same text values, so all
/// produce the same [`Finished`] for the same rows.
#[derive(Debug)]
pub struct RowSink {
    clock: Clock,
    digest: crate::digest::Digest,
    rows: u64,
    first_row: Option<FirstRow>,
    first_row_us: Option<u64>,
}

impl RowSink {
    /// A sink that stamps the first row's arrival on `exec`'s clock.
    pub fn new(exec: &Execution) -> RowSink {
        RowSink {
            clock: exec.clock,
            digest: crate::digest::Digest::default(),
            rows: 0,
            first_row: None,
            first_row_us: None,
        }
    }

    /// Adds one row, given as its values in text form (`None` for NULL).
    pub fn row(&mut self, values: &[Option<&[u8]>]) {
        let mut hasher = crate::digest::RowHasher::default();
        for value in values {
            hasher.value(*value);
        }
        self.digest.add_row(hasher);
        if self.rows == 0 {
            self.first_row_us = Some(self.clock.offset_us());
            self.first_row = Some(FirstRow::new(values));
        }
        self.rows += 1;
    }

    pub fn finish(
        self,
        query: &Query,
        sent: Sent,
        finished_us: u64,
        connection_id: Option<u64>,
    ) -> Finished {
        Finished {
            index: query.index,
            rows: self.rows,
            digest: self.digest,
            first_row: self.first_row,
            submitted_us: sent.submitted_us,
            connected_us: sent.connected_us,
            first_row_us: self.first_row_us.unwrap_or(finished_us),
            finished_us,
            connection_id,
            server: None,
            moved_from: None,
        }
    }
}
