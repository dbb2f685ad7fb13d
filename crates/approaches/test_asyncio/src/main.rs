//! `test_asyncio`: One tokio task per query over an sqlx pool capped at the budget (test_asyncio.py).
//! Parses the shared command line, runs [`test_asyncio::TestAsyncio`], prints the report.

fn main() -> std::process::ExitCode {
    common::cli::main::<test_asyncio::TestAsyncio>()
}
