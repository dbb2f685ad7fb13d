//! `test_mt`: One OS thread per query, all started at once, sharing one pool capped at the budget (test_mt.py).
//! Parses the shared command line, runs [`test_mt::ThreadPerQuery`] on the blocking driver, prints the report.

fn main() -> std::process::ExitCode {
    common::cli::main::<driver_mysql::Threads<test_mt::ThreadPerQuery>>()
}
