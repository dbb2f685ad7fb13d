//! What a run keeps of each query until its clock stops: numbers, and the
//! first row's bytes in one allocation. Nothing is formatted during the
//! run; [`Finished::into_result`] makes the report's [`QueryResult`]
//! (labels, hex digests, text values) after it.

use crate::QueryResult;
use crate::arrivals::Schedule;
use crate::digest::Digest;
use crate::queries::Query;

/// One query's outcome during the run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finished {
    /// The query's place in the work's list ([`Query::index`]).
    pub index: usize,
    pub rows: u64,
    pub digest: Digest,
    pub first_row: Option<FirstRow>,
    /// As in [`QueryResult`]: microseconds from the execution's start.
    pub submitted_us: u64,
    pub connected_us: u64,
    pub first_row_us: u64,
    pub finished_us: u64,
    pub connection_id: Option<u64>,
    pub server: Option<usize>,
    pub moved_from: Option<usize>,
}

impl Finished {
    /// The report's form of it, for `query` (whose index it has), of an
    /// open-loop run's `schedule` where there is one.
    pub fn into_result(self, query: &Query, schedule: Option<&Schedule>) -> QueryResult {
        QueryResult {
            label: query.label.clone(),
            rows: self.rows,
            digest: Some(self.digest.hex()),
            first_row: self.first_row.map(|row| row.values()),
            submitted_us: self.submitted_us,
            connected_us: self.connected_us,
            first_row_us: self.first_row_us,
            finished_us: self.finished_us,
            connection_id: self.connection_id,
            server: self.server,
            moved_from: self.moved_from,
            request: schedule.map(|s| s.request_of(query.index)),
            due_us: schedule.map(|s| s.due_us(query.index)),
            unfinished: false,
        }
    }
}

/// A row's values as the server sent them, in one buffer: per value a tag
/// (0 for NULL, 1 for a value) and, for a value, its length (4 bytes,
/// little-endian) and bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FirstRow(Box<[u8]>);

impl FirstRow {
    pub fn new(values: &[Option<&[u8]>]) -> FirstRow {
        let len = values
            .iter()
            .map(|v| 1 + v.map_or(0, |v| 4 + v.len()))
            .sum();
        let mut bytes = Vec::with_capacity(len);
        for value in values {
            match value {
                None => bytes.push(0),
                Some(v) => {
                    bytes.push(1);
                    // A value is at most a packet (1 GiB): its length fits.
                    bytes.extend_from_slice(&(v.len() as u32).to_le_bytes());
                    bytes.extend_from_slice(v);
                }
            }
        }
        FirstRow(bytes.into_boxed_slice())
    }

    /// The values in text form (`None` for NULL; bytes that are not UTF-8
    /// replaced, as the report has always shown them).
    pub fn values(&self) -> Vec<Option<String>> {
        let mut values = Vec::new();
        let mut rest = &self.0[..];
        while let Some((&tag, after)) = rest.split_first() {
            if tag == 0 {
                values.push(None);
                rest = after;
                continue;
            }
            let (len, after) = after.split_at(4);
            let len = u32::from_le_bytes([len[0], len[1], len[2], len[3]]) as usize;
            let (value, after) = after.split_at(len);
            values.push(Some(String::from_utf8_lossy(value).into_owned()));
            rest = after;
        }
        values
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_first_row_keeps_nulls_empty_values_and_bytes() {
        let long = vec![b'x'; 70_000];
        let values: [Option<&[u8]>; 5] = [None, Some(b""), Some(b"A"), Some(&long), Some(b"\xff")];
        let row = FirstRow::new(&values);
        let text = row.values();
        assert_eq!(text.len(), 5);
        assert_eq!(text[0], None);
        assert_eq!(text[1].as_deref(), Some(""));
        assert_eq!(text[2].as_deref(), Some("A"));
        assert_eq!(text[3].as_ref().map(String::len), Some(70_000));
        assert_eq!(text[4].as_deref(), Some("\u{fffd}"));
        assert!(FirstRow::new(&[]).values().is_empty());
    }
}
