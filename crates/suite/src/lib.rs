//! Every approach, in-process, for the tests and the bench of this package.
//!
//! The workspace is the list of approaches (`crates/test_*`; `bench.sh`
//! reads it from there): this table adds the entry points, which only Rust
//! can name, and `tests/approaches.rs` checks that both agree.

use common::approach::{Approach, run};
use common::{Error, Report, RunConfig};
use driver_mysql::Threads;

/// An approach's prepare-and-execute, as a binary runs it.
pub type Entry = fn(&RunConfig) -> Result<Report, Error>;

/// Every approach, by package name, `test_single` (the baseline) first.
pub const APPROACHES: [(&str, Entry); 6] = [
    entry::<Threads<test_single::Single>>(),
    entry::<Threads<test_mt::ThreadPerQuery>>(),
    entry::<Threads<test_mt_bounded::Gated>>(),
    entry::<Threads<test_threadpool::Workers>>(),
    entry::<test_asyncio::TestAsyncio>(),
    entry::<test_async_std::TestAsyncStd>(),
];

const fn entry<A: Approach>() -> (&'static str, Entry) {
    (A::NAME, run::<A>)
}
