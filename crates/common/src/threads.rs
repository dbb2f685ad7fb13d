//! Threads for the thread-per-query approaches: a stack sized for one query,
//! and a check, before the run, that the machine lets the process start
//! that many at once.
//!
//! Every thread takes four memory maps (its stack and the guard page below
//! it; the alternate signal stack Rust sets up for each thread, to report a
//! stack overflow, and its guard page: 35,137 maps at 8,590 threads of
//! `test_mt`, measured), and Linux caps a process's maps at `vm.max_map_count` (65530 by
//! default): 50,000 threads once ended in SIGABRT ("failed to set up
//! alternative stack guard page"), a crash instead of an error. The check
//! reads the limits that bite first and refuses with the one that would,
//! and how many threads fit.

use std::fs;

use crate::error::Error;

/// The stack of a thread that runs one query: the driver's calls and one
/// row at a time need a few pages of it; 256 KiB leaves a wide margin (the
/// default is 2 MiB, of address space, not memory).
pub const QUERY_STACK: usize = 256 << 10;

/// Memory maps one thread adds: its stack, its signal stack, and a guard
/// page below each.
const MAPS_PER_THREAD: u64 = 4;

/// Maps left free for everything else the process maps meanwhile (the
/// allocator's arenas, the driver's buffers).
const MAPS_MARGIN: u64 = 1_000;

/// A thread builder for one query's thread.
pub fn query_thread() -> std::thread::Builder {
    std::thread::Builder::new().stack_size(QUERY_STACK)
}

/// What limits how many threads may run at once, read now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// `vm.max_map_count`, and the maps this process has now.
    pub max_maps: Option<u64>,
    pub maps_in_use: u64,
    /// `kernel.threads-max`, and the threads of the whole machine now.
    pub threads_max: Option<u64>,
    pub threads_in_use: u64,
    /// `RLIMIT_AS` (address space, `ulimit -v`) in bytes, and this
    /// process's address space now.
    pub address_space: Option<u64>,
    pub address_space_in_use: u64,
    /// `RLIMIT_NPROC` (`ulimit -u`) where it binds (not for root).
    pub nproc: Option<u64>,
}

impl Limits {
    /// The limits of this process and machine.
    pub fn read() -> Limits {
        let number =
            |path: &str| -> Option<u64> { fs::read_to_string(path).ok()?.trim().parse().ok() };
        let maps_in_use =
            fs::read_to_string("/proc/self/maps").map_or(0, |m| m.lines().count() as u64);
        // /proc/loadavg: "0.00 0.01 0.05 2/345 6789": 345 threads in all.
        let threads_in_use = fs::read_to_string("/proc/loadavg")
            .ok()
            .and_then(|l| l.split_whitespace().nth(3)?.split('/').nth(1)?.parse().ok())
            .unwrap_or(0);
        let address_space_in_use = fs::read_to_string("/proc/self/status")
            .ok()
            .and_then(|s| {
                let kib: u64 = s
                    .lines()
                    .find_map(|l| l.strip_prefix("VmSize:"))?
                    .split_whitespace()
                    .next()?
                    .parse()
                    .ok()?;
                Some(kib << 10)
            })
            .unwrap_or(0);
        let root = crate::files::effective_uid() == 0;
        Limits {
            max_maps: number("/proc/sys/vm/max_map_count"),
            maps_in_use,
            threads_max: number("/proc/sys/kernel/threads-max"),
            threads_in_use,
            address_space: rlimit(libc::RLIMIT_AS),
            address_space_in_use,
            nproc: if root {
                None
            } else {
                rlimit(libc::RLIMIT_NPROC)
            },
        }
    }

    /// Refuses `threads` more threads when one of the limits would stop
    /// them, naming it and how many fit.
    pub fn check(&self, threads: usize) -> Result<(), Error> {
        let n = threads as u64;
        let stack = QUERY_STACK as u64 + 4096;
        let mut bounds: Vec<(u64, String)> = Vec::new();
        if let Some(max) = self.max_maps {
            let fit = max.saturating_sub(self.maps_in_use + MAPS_MARGIN) / MAPS_PER_THREAD;
            bounds.push((
                fit,
                format!(
                    "vm.max_map_count ({max} memory maps; each thread takes {MAPS_PER_THREAD}, and {} are in use): raise it with `sysctl -w vm.max_map_count=N`",
                    self.maps_in_use
                ),
            ));
        }
        if let Some(max) = self.threads_max {
            bounds.push((
                max.saturating_sub(self.threads_in_use),
                format!(
                    "kernel.threads-max ({max} threads on the machine, {} running)",
                    self.threads_in_use
                ),
            ));
        }
        if let Some(max) = self.address_space {
            bounds.push((
                max.saturating_sub(self.address_space_in_use) / stack,
                format!(
                    "RLIMIT_AS (ulimit -v: {} MiB of address space; each thread's stack takes {} KiB)",
                    max >> 20,
                    stack >> 10
                ),
            ));
        }
        if let Some(max) = self.nproc {
            bounds.push((
                max,
                format!("RLIMIT_NPROC (ulimit -u: {max} processes and threads)"),
            ));
        }
        match bounds
            .into_iter()
            .filter(|(fit, _)| *fit < n)
            .min_by_key(|(fit, _)| *fit)
        {
            None => Ok(()),
            Some((fit, limit)) => Err(Error::MachineLimit(format!(
                "{threads} queries need {threads} threads at once (one per query), more than this machine allows: {limit}; about {fit} fit, so lower --count to {} or less (a tenth kept for what else starts meanwhile)",
                suggested(fit)
            ))),
        }
    }
}

/// The count to suggest when `fit` threads fit now: a tenth less, since
/// what is in use (other threads, memory maps) changes between this run
/// and the next, and a suggestion that is then refused helps no one.
fn suggested(fit: u64) -> u64 {
    fit - fit.div_ceil(10)
}

/// The soft limit `resource`, or `None` when unlimited.
fn rlimit(resource: libc::__rlimit_resource_t) -> Option<u64> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes the struct it is given.
    #[allow(unsafe_code)]
    let ok = unsafe { libc::getrlimit(resource, &mut limit) } == 0;
    (ok && limit.rlim_cur != libc::RLIM_INFINITY).then_some(limit.rlim_cur)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> Limits {
        Limits {
            max_maps: Some(65_530),
            maps_in_use: 530,
            threads_max: Some(1_000_000),
            threads_in_use: 500,
            address_space: None,
            address_space_in_use: 1 << 30,
            nproc: None,
        }
    }

    #[test]
    fn the_limit_that_bites_first_is_named_with_what_fits() {
        let l = limits();
        l.check(10_000).expect("fits");
        // (65530 - 530 - 1000) / 4 = 16000
        l.check(16_000).expect("just fits");
        let err = l.check(50_000).expect_err("too many").to_string();
        assert!(err.contains("vm.max_map_count"), "{err}");
        assert!(err.contains("about 16000 fit"), "{err}");
        assert!(err.contains("lower --count to 14400 or less"), "{err}");
        l.check(14_400).expect("the suggestion fits");
        let tight = Limits {
            address_space: Some((1 << 30) + 100 * (QUERY_STACK as u64 + 4096)),
            ..l
        };
        let err = tight.check(1_000).expect_err("address space").to_string();
        assert!(err.contains("RLIMIT_AS"), "{err}");
        assert!(err.contains("about 100 fit"), "{err}");
        assert!(err.contains("lower --count to 90 or less"), "{err}");
        tight.check(100).expect("100 fit");
    }
}
