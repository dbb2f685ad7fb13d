//! Each approach's `run`, in-process, against the shared test server
//! (dataset scale 0.01): the 26 queries from pool creation to the last row.
//!
//! What this measures: scheduling and driver overhead when the server is
//! fast (each query takes a few milliseconds), i.e. how much each approach
//! adds on top of the server's work, without process start-up.
//! What it does not: the blog's comparison at full scale, where the
//! server's CPU dominates: that is `scripts/bench.sh` (whole processes,
//! hyperfine). Numbers from here are for comparing approaches in one run.

use criterion::{Criterion, criterion_group, criterion_main};

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
    for (name, run) in testkit::APPROACHES {
        group.bench_function(name, |b| {
            b.iter(|| run(&cfg).unwrap_or_else(|e| panic!("{name}: {}", common::error::chain(&e))))
        });
    }
    group.finish();
}

criterion_group!(benches, approaches);
criterion_main!(benches);
