//! A bound on the client's own memory (`--max-memory`). A broken or
//! hostile server can make a driver allocate without end: endless
//! continuation packets, a column count of 2^24 followed by column
//! definitions. `wire` and the `mysql` crate refuse an oversized packet
//! (`--max-packet`), but sqlx has no such limit and the `mysql` crate keeps
//! every column definition. So a watchdog thread reads the process's
//! resident memory ten times a second and, past the bound, hands its one
//! line to the binary's reaction. Nothing is added to an allocation; the
//! watchdog's own cost is a `pread` and a sleep ten times a second, on a
//! thread of its own.

use std::time::Duration;

use model::Error;

/// How often the watchdog reads the process's resident memory.
pub const PERIOD: Duration = Duration::from_millis(100);

/// `--max-memory`'s default, in MiB: well above what any run of this
/// project needs (see docs/security.md: a broken or hostile server, for what runs take).
pub const DEFAULT_MAX_MEMORY: u64 = 2048;

/// The bound from `DBIO_MAX_MEMORY` (MiB), or `--max-memory`'s default:
/// for `dbio verify` and `dbio facts`, which have no such flag.
pub fn limit_from_env() -> u64 {
    std::env::var("DBIO_MAX_MEMORY")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_MAX_MEMORY)
}

/// Starts the watchdog for a bound of `limit_mib` MiB (0: none): once the
/// process's resident memory passes it, `exceeded` gets the line to print,
/// once, and the watchdog ends.
pub fn watch(limit_mib: u64, exceeded: impl FnOnce(String) + Send + 'static) -> Result<(), Error> {
    if limit_mib == 0 {
        return Ok(());
    }
    let limit = limit_mib.saturating_mul(1 << 20);
    let page = page_size();
    let statm = std::fs::File::open("/proc/self/statm").map_err(|source| Error::Io {
        what: "cannot read /proc/self/statm (for --max-memory)".into(),
        source,
    })?;
    std::thread::Builder::new()
        .name("dbio-memory".into())
        .spawn(move || {
            loop {
                if let Some(resident) = resident_pages(&statm).map(|p| p.saturating_mul(page))
                    && resident > limit
                {
                    exceeded(format!(
                        "the client's memory passed {limit_mib} MiB (--max-memory, DBIO_MAX_MEMORY): the server sends more than a result of this run should need (a broken or hostile server?)"
                    ));
                    return;
                }
                std::thread::sleep(PERIOD);
            }
        })
        .map_err(|source| Error::Io {
            what: "cannot start the memory watchdog".into(),
            source,
        })?;
    Ok(())
}

/// The process's resident pages, from `/proc/self/statm` (its second
/// field), read again from its start: one `pread` a reading, with the
/// sleep the watchdog's only system calls (20 a second, whatever the run
/// does; `suite/tests/syscalls.rs` counts the query path without them).
fn resident_pages(statm: &std::fs::File) -> Option<u64> {
    use std::os::unix::fs::FileExt;
    let mut buf = [0u8; 128];
    let n = statm.read_at(&mut buf, 0).ok()?;
    let text = std::str::from_utf8(&buf[..n]).ok()?;
    text.split_whitespace().nth(1)?.parse().ok()
}

fn page_size() -> u64 {
    // SAFETY: sysconf has no preconditions.
    #[allow(unsafe_code)]
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    u64::try_from(size).unwrap_or(4096)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resident_memory_is_read_and_grows_with_what_is_touched() {
        let statm = std::fs::File::open("/proc/self/statm").expect("statm");
        let before = resident_pages(&statm).expect("statm") * page_size();
        let block = vec![1u8; 64 << 20];
        let after = resident_pages(&statm).expect("statm") * page_size();
        assert!(after >= before + (60 << 20), "{before} -> {after}");
        drop(block);
    }
}
