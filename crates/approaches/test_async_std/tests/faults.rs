//! Every fault ends a run of `test_async_std` fast, with one clear line (see [`testkit::faults`]).

testkit::fault_tests!(env!("CARGO_BIN_EXE_test_async_std"));
