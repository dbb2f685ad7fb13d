//! Every fault ends a run of `test_mt` fast, with one clear line (see [`testkit::faults`]).

testkit::fault_tests!(env!("CARGO_BIN_EXE_test_mt"));

/// One thread per query: too many are refused before the run, never an abort.
#[test]
fn too_many_threads() {
    let _alongside = testkit::alongside();
    testkit::faults::too_many_threads(std::path::Path::new(env!("CARGO_BIN_EXE_test_mt")));
}
