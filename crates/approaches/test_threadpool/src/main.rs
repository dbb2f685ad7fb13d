//! `test_threadpool`: A fixed pool of budget worker threads fed through a crossbeam channel (test_cft.py, ThreadPoolExecutor).
//! Parses the shared command line, runs [`test_threadpool::Workers`] on the blocking driver, prints the report.

fn main() -> std::process::ExitCode {
    common::cli::main::<driver_mysql::Threads<test_threadpool::Workers>>()
}
