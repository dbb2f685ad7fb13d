//! The faults of `faults.rs` with the pool's connections on dbio's own
//! `wire` client (`--blocking-driver wire`): every one still ends the run
//! fast, with one clear line; signals still kill the server's queries.

testkit::fault_tests!(
    env!("CARGO_BIN_EXE_test_threadpool"),
    blocking_driver = "wire"
);
