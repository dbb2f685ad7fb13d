//! `test_mt_bounded`: One thread per query, gated by a counting semaphore with one permit per connection (test_mt_bounded.py).
//! Parses the shared command line, runs [`test_mt_bounded::TestMtBounded`], prints the report.

fn main() -> std::process::ExitCode {
    common::cli::main::<test_mt_bounded::TestMtBounded>()
}
