//! Each approach's execution, in-process, against the shared test server
//! (dataset scale 0.01): the 26 queries from the first being scheduled to
//! the last result collected.
//!
//! What this measures: scheduling and driver overhead when the server is
//! fast (each query takes a few milliseconds), i.e. how much each approach
//! adds on top of the server's work, without process start-up. Each
//! approach is prepared once, outside the measured loop (its pool and, for
//! tokio, its runtime, as tokio's own benches build theirs), so its pool's
//! connections stay open from one iteration to the next.
//! What it does not: the blog's comparison at full scale, where the
//! server's CPU dominates: that is `scripts/bench.sh` (whole processes,
//! hyperfine, new connections every run). Numbers from here are for
//! comparing approaches in one run.

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, criterion_group, criterion_main};

use common::{Approach, RunConfig};
use driver_mysql::Threads;

fn bench<A: Approach>(group: &mut BenchmarkGroup<'_, WallTime>, cfg: &RunConfig) {
    let fail = |e: common::Error| -> ! { panic!("{}: {}", A::NAME, common::error::chain(&e)) };
    let prepared = A::prepare(&cfg.conn).unwrap_or_else(|e| fail(e));
    group.bench_function(A::NAME, |b| {
        b.iter(|| prepared.execute(&cfg.work).unwrap_or_else(|e| fail(e)))
    });
}

fn approaches(c: &mut Criterion) {
    let shared = testkit::shared();
    // Queries left running by a killed earlier process would share the server.
    shared
        .server
        .settle(std::time::Duration::from_secs(10), &dbio::stderr_progress())
        .unwrap_or_else(|e| panic!("cannot settle the server: {}", common::error::chain(&e)));
    let cfg = testkit::run_config(&shared.url, common::settings::DEFAULT_BUDGET as usize);
    let mut group = c.benchmark_group("26 queries, scale 0.01, budget 5");
    group.sample_size(20);
    bench::<Threads<test_single::Single>>(&mut group, &cfg);
    bench::<Threads<test_mt::ThreadPerQuery>>(&mut group, &cfg);
    bench::<Threads<test_mt_bounded::Gated>>(&mut group, &cfg);
    bench::<Threads<test_threadpool::Workers>>(&mut group, &cfg);
    bench::<test_asyncio::TestAsyncio>(&mut group, &cfg);
    bench::<test_async_std::TestAsyncStd>(&mut group, &cfg);
    group.finish();
}

criterion_group!(benches, approaches);
criterion_main!(benches);
