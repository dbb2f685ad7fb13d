//! `test_async_std`: One async-std task per query over an sqlx pool capped at the budget.
//! Parses the shared command line, runs [`test_async_std::TestAsyncStd`], prints the report.

fn main() -> std::process::ExitCode {
    common::cli::main::<test_async_std::TestAsyncStd>()
}
