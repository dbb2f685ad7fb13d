//! `test_threadpool`: A fixed pool of budget worker threads fed through a crossbeam channel (test_cft.py, ThreadPoolExecutor).
//! Parses the shared command line, runs [`test_threadpool::TestThreadpool`], prints the report.

fn main() -> std::process::ExitCode {
    common::cli::main::<test_threadpool::TestThreadpool>()
}
