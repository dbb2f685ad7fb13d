//! `test_single`: The 26 queries one after another on one connection (the blog's test_single.py).
//! Parses the shared command line, runs [`test_single::Single`] on the blocking driver, prints the report.

fn main() -> std::process::ExitCode {
    common::cli::main::<driver_mysql::Threads<test_single::Single>>()
}
