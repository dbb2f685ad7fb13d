//! A bound on the client's own memory (`--max-memory`). A broken or
//! hostile server can make a driver allocate without end: endless
//! continuation packets, a column count of 2^24 followed by column
//! definitions. `wire` and the `mysql` crate refuse an oversized packet
//! (`--max-packet`), but sqlx has no such limit and the `mysql` crate keeps
//! every column definition. So a watchdog thread reads the process's
//! resident memory ten times a second and, past the bound, hands its one
//! line to the binary's reaction. Nothing is added to an allocation; the
//! watchdog's own cost is two `pread`s and a sleep ten times a second, on a
//! thread of its own. It also keeps the most threads it saw the process run
//! ([`peak_threads`]): a sample, so a burst shorter than a period can pass
//! unseen.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use model::Error;

/// The most threads the watchdog saw (0: it has not run).
static PEAK_THREADS: AtomicUsize = AtomicUsize::new(0);

/// The most threads the process ran at one of the watchdog's readings or
/// now; `None` when no watchdog runs (`--max-memory 0`).
pub fn peak_threads() -> Option<usize> {
    let seen = PEAK_THREADS.load(Ordering::Relaxed);
    if seen == 0 {
        return None;
    }
    let now = std::fs::File::open("/proc/self/stat")
        .ok()
        .and_then(|stat| threads(&stat))
        .unwrap_or(0);
    Some(seen.max(now))
}

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
    let stat = std::fs::File::open("/proc/self/stat").ok();
    std::thread::Builder::new()
        .name("dbio-memory".into())
        .spawn(move || {
            loop {
                if let Some(n) = stat.as_ref().and_then(threads) {
                    PEAK_THREADS.fetch_max(n, Ordering::Relaxed);
                }
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

/// The process's threads, from `/proc/self/stat` (the 20th field; the
/// 18th after the command name, which may hold spaces and parentheses).
fn threads(stat: &std::fs::File) -> Option<usize> {
    use std::os::unix::fs::FileExt;
    let mut buf = [0u8; 1024];
    let n = stat.read_at(&mut buf, 0).ok()?;
    let text = std::str::from_utf8(&buf[..n]).ok()?;
    let (_, after_name) = text.rsplit_once(')')?;
    after_name.split_whitespace().nth(17)?.parse().ok()
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

    #[test]
    fn threads_are_counted_as_the_kernel_lists_them() {
        // Other tests start and end threads meanwhile: a reading counts
        // when the task list is the same just before and after it.
        let stat = std::fs::File::open("/proc/self/stat").expect("stat");
        let tasks = || std::fs::read_dir("/proc/self/task").expect("tasks").count();
        let (_stops, _parked): (Vec<_>, Vec<_>) = (0..3)
            .map(|_| {
                let (stop, stopped) = std::sync::mpsc::channel::<()>();
                (stop, std::thread::spawn(move || stopped.recv()))
            })
            .unzip();
        let agreed = (0..100).any(|_| {
            let before = tasks();
            let counted = threads(&stat);
            before == tasks() && counted == Some(before)
        });
        assert!(
            agreed,
            "/proc/self/stat's thread count never matched the task list"
        );
        assert!(tasks() >= 4, "three parked threads and this one");
    }
}
