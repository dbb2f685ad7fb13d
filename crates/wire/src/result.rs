//! Reading what a `COM_QUERY` returns: an `OK`, an `ERR`, or result sets
//! (column count, column definitions, rows, a terminator), each row's
//! values handed out in place.

use crate::OnRow;
use crate::bytes::Reader;
use crate::error::{Error, Result};
use crate::framed::{Framed, MAX_PAYLOAD};
use crate::packet::{caps, server_error};

/// `SERVER_MORE_RESULTS_EXISTS`: another result set follows.
const MORE_RESULTS: u16 = 0x0008;

/// Columns of a row kept on the stack; wider rows use the heap.
const INLINE_COLUMNS: usize = 32;

/// The most columns a result may have: MariaDB's and MySQL's limit of a
/// table, and of a query's select list. A larger count is a broken or
/// hostile server's, refused before any column is read.
pub const MAX_COLUMNS: u64 = 4096;

/// Reads the reply to a query: each row of the first result set goes to
/// `row` (its values, `None` for NULL), the names of its columns to
/// `names` when asked; later result sets are read and dropped.
pub fn read(
    framed: &mut Framed,
    session_caps: u32,
    mut names: Option<&mut Vec<String>>,
    row: &mut OnRow<'_>,
) -> Result<()> {
    let eof_packets = session_caps & caps::DEPRECATE_EOF == 0;
    let mut first = true;
    loop {
        let head = framed.next()?;
        let columns = match head.first() {
            Some(0x00) => {
                if ok_status(head, false)? & MORE_RESULTS == 0 {
                    return Ok(());
                }
                first = false;
                continue;
            }
            Some(0xff) => return Err(server_error(head)),
            Some(0xfb) => {
                return Err(Error::Unsupported(
                    "the server asked for a local file (LOAD DATA LOCAL), which this client never sends"
                        .into(),
                ));
            }
            Some(_) => Reader::new(head).lenenc()?,
            None => return Err(Error::malformed("an empty reply")),
        };
        if columns > MAX_COLUMNS {
            return Err(Error::malformed(&format!(
                "a result of {columns} columns (a server sends at most {MAX_COLUMNS})"
            )));
        }
        let columns = columns as usize;
        for _ in 0..columns {
            let definition = framed.next()?;
            if first && let Some(names) = names.as_deref_mut() {
                names.push(column_name(definition)?);
            }
        }
        if eof_packets {
            framed.next()?;
        }
        let status = loop {
            let packet = framed.next()?;
            match packet.first() {
                Some(0xfe) if is_terminator(packet, eof_packets) => {
                    break ok_status(packet, eof_packets)?;
                }
                Some(0xff) => return Err(server_error(packet)),
                _ if !first => {}
                _ => {
                    let mut r = Reader::new(packet);
                    if columns <= INLINE_COLUMNS {
                        let mut values = [None; INLINE_COLUMNS];
                        for v in &mut values[..columns] {
                            *v = r.text_value()?;
                        }
                        row(&values[..columns]);
                    } else {
                        let values = (0..columns)
                            .map(|_| r.text_value())
                            .collect::<Result<Vec<_>>>()?;
                        row(&values);
                    }
                }
            }
        };
        if status & MORE_RESULTS == 0 {
            return Ok(());
        }
        first = false;
    }
}

/// A row never starts with `0xfe` unless its first value is at least 2^24
/// bytes, so its packet is full; a terminator is short.
fn is_terminator(packet: &[u8], eof_packet: bool) -> bool {
    if eof_packet {
        packet.len() < 9
    } else {
        packet.len() < MAX_PAYLOAD
    }
}

/// The status flags of an `OK` (or, before `DEPRECATE_EOF`, `EOF`) packet.
fn ok_status(packet: &[u8], eof_packet: bool) -> Result<u16> {
    let mut r = Reader::new(&packet[1..]);
    if eof_packet {
        r.u16()?; // warnings
        return r.u16();
    }
    r.lenenc()?; // affected rows
    r.lenenc()?; // last insert id
    r.u16()
}

/// The `name` (alias) of a column definition.
fn column_name(definition: &[u8]) -> Result<String> {
    let mut r = Reader::new(definition);
    for _ in 0..4 {
        r.lenenc_bytes()?; // catalog, schema, table, org_table
    }
    Ok(String::from_utf8_lossy(r.lenenc_bytes()?).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_packet_gives_code_state_and_message() {
        let mut packet = vec![0xff];
        packet.extend_from_slice(&1146u16.to_le_bytes());
        packet.extend_from_slice(b"#42S02Table 'x' doesn't exist");
        let e = server_error(&packet);
        assert_eq!(e.to_string(), "1146 (42S02): Table 'x' doesn't exist");
        assert!(!e.breaks_connection());
        assert!(server_error(&[0xff, 1]).breaks_connection());
    }

    #[test]
    fn terminators_are_told_from_rows_starting_with_0xfe() {
        assert!(is_terminator(&[0xfe, 0, 0, 2, 0, 0, 0], false));
        assert!(!is_terminator(&vec![0xfe; MAX_PAYLOAD], false));
        assert!(is_terminator(&[0xfe, 0, 0, 2, 0], true));
        assert!(!is_terminator(&[0xfe; 9], true));
    }
}
