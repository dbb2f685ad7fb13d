//! One query of a profile run as the table reads it: its row count, where
//! it ran, and its timestamps. What `profile` reads and `latency` measures.

/// One query of a profile: its row count and, where the approach recorded
/// them, its timestamps in microseconds from the run's start.
#[derive(Debug, Clone, PartialEq)]
pub struct ProfileQuery {
    pub label: String,
    pub rows: u64,
    pub at: Option<Stamps>,
    pub connection_id: Option<u64>,
    /// The index of the server that ran it, in a run on several.
    pub server: Option<usize>,
}

/// When a query was submitted, had its connection and was sent, received
/// its first row and its last row (`model::QueryResult`).
#[derive(Debug, Clone, Copy, PartialEq, serde::Deserialize)]
pub struct Stamps {
    pub submitted_us: u64,
    pub connected_us: u64,
    pub first_row_us: u64,
    pub finished_us: u64,
}
