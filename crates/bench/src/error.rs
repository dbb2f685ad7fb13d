//! What stops a benchmark run.

use std::path::PathBuf;

/// Why a run stopped. [`Error::Usage`] is about the command line (exit 2);
/// the rest happen while running (exit 1, or 128 + the signal).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    Failed(String),
    #[error("cannot start {program}")]
    Spawn {
        program: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{what}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Report(#[from] bench_report::ReportError),
    /// A signal asked the run to stop; everything it started was stopped.
    #[error("interrupted by signal {0}")]
    Interrupted(i32),
}

impl Error {
    pub fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> Error {
        let what = what.into();
        move |source| Error::Io { what, source }
    }

    /// The process's exit code for this error.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Usage(_) => 2,
            Error::Interrupted(signal) => 128u8.saturating_add(*signal as u8),
            _ => 1,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
