//! The harness's reaction to the memory bound ([`limits::memory`]): past
//! it, the run ends as a panic does: one `error:` line, the running queries
//! cancelled, exit 1.

use std::time::Duration;

use crate::error::Error;

/// How long the cancelling may take once the bound is passed: the driver
/// goes on allocating meanwhile, so less than a signal's grace.
pub const CANCEL: Duration = Duration::from_millis(250);

/// Starts the watchdog for a bound of `limit_mib` MiB (0: none).
pub fn bound(limit_mib: u64) -> Result<(), Error> {
    limits::memory::watch(limit_mib, |line| crate::fatal::fail(&line, CANCEL))
}
