//! `test_mt_bounded`: One thread per query, gated by a counting semaphore with one permit per connection (test_mt_bounded.py).
//! Parses the shared command line, runs [`test_mt_bounded::Gated`] on the blocking driver, prints the report.

fn main() -> std::process::ExitCode {
    common::cli::main::<driver_mysql::Threads<test_mt_bounded::Gated>>()
}
