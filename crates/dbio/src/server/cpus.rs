//! The server's CPUs: pinning it (`--server-cpus`) and its CPU time, from `/proc`.

use std::fs;

use super::{Role, ServerSettings};
use crate::error::{IoContext, Result};

/// CPU seconds (user + system) process `pid` has used so far, from
/// `/proc/<pid>/stat`; `None` when there is no such process.
pub fn cpu_seconds_of(pid: u32) -> Option<f64> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the parenthesised name: state is field 3, utime 14, stime 15.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) as f64 / clock_ticks_per_second())
}

/// Whether process `pid` is stopped (SIGSTOP, or traced): state `T` or
/// `t` in `/proc/<pid>/stat`.
pub fn is_stopped(pid: u32) -> bool {
    fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| {
            let rest = stat.rsplit_once(')')?.1.to_owned();
            rest.split_whitespace().next().map(str::to_owned)
        })
        .is_some_and(|state| state == "T" || state == "t")
}

fn clock_ticks_per_second() -> f64 {
    // SAFETY: sysconf has no preconditions.
    #[allow(unsafe_code)]
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if ticks > 0 { ticks as f64 } else { 100.0 }
}

/// The CPUs `settings` give the server: N of those this process may use,
/// the first N for the primary (or a server alone) and the next N for each
/// replica in turn (wrapping around when the machine has fewer), or,
/// unpinned, every CPU of the machine (not this process's set: a dbio
/// started under `taskset` must not pin an "unpinned" server).
pub(super) fn cpus_for(settings: &ServerSettings) -> Vec<usize> {
    match settings.server_cpus {
        Some(n) => slot(&allowed_cpus(), n as usize, Role::cpu_slot(settings.role)),
        None => machine_cpus(),
    }
}

/// The `slot`-th run of `n` CPUs of `allowed`, wrapping around.
fn slot(allowed: &[usize], n: usize, slot: usize) -> Vec<usize> {
    let mut cpus: Vec<usize> = allowed
        .iter()
        .copied()
        .cycle()
        .skip(slot * n)
        .take(n.min(allowed.len()))
        .collect();
    cpus.sort_unstable();
    cpus
}

/// Every online CPU of the machine (`/sys/devices/system/cpu/online`,
/// e.g. `0-15`); the kernel keeps a cgroup's limits on top.
pub(super) fn machine_cpus() -> Vec<usize> {
    let listed = fs::read_to_string("/sys/devices/system/cpu/online")
        .ok()
        .and_then(|text| parse_cpu_list(text.trim()));
    listed.unwrap_or_else(allowed_cpus)
}

/// `0-3,8,10-11` as a list of CPUs.
fn parse_cpu_list(text: &str) -> Option<Vec<usize>> {
    let mut cpus = Vec::new();
    for part in text.split(',') {
        match part.split_once('-') {
            Some((a, b)) => cpus.extend(a.parse::<usize>().ok()?..=b.parse::<usize>().ok()?),
            None => cpus.push(part.parse().ok()?),
        }
    }
    (!cpus.is_empty()).then_some(cpus)
}

/// The CPUs this process may run on, in order.
pub(super) fn allowed_cpus() -> Vec<usize> {
    // SAFETY: a zeroed cpu_set_t is valid; sched_getaffinity fills it.
    #[allow(unsafe_code)]
    let set = unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        if libc::sched_getaffinity(0, size_of::<libc::cpu_set_t>(), &mut set) != 0 {
            return (0..std::thread::available_parallelism().map_or(1, |n| n.get())).collect();
        }
        set
    };
    (0..libc::CPU_SETSIZE as usize)
        // SAFETY: CPU_ISSET reads a bit of a valid set.
        .filter(|&cpu| {
            #[allow(unsafe_code)]
            unsafe {
                libc::CPU_ISSET(cpu, &set)
            }
        })
        .collect()
}

pub(super) fn cpu_set(cpus: &[usize]) -> libc::cpu_set_t {
    // SAFETY: a zeroed cpu_set_t is valid; CPU_SET writes a bit of it.
    #[allow(unsafe_code)]
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        for &cpu in cpus {
            libc::CPU_SET(cpu, &mut set);
        }
        set
    }
}

/// Pins every thread of the running process `pid` to `cpus`, until no new
/// thread appears (threads it starts later inherit from their creator).
pub(super) fn pin_process(pid: u32, cpus: &[usize]) -> Result<()> {
    let set = cpu_set(cpus);
    let mut done = std::collections::BTreeSet::new();
    loop {
        let tasks: Vec<libc::pid_t> = fs::read_dir(format!("/proc/{pid}/task"))
            .ctx(
                "cannot list the server's threads",
                format!("/proc/{pid}/task"),
            )?
            .flatten()
            .filter_map(|t| t.file_name().to_str()?.parse().ok())
            .filter(|t| !done.contains(t))
            .collect();
        if tasks.is_empty() {
            return Ok(());
        }
        for tid in tasks {
            // SAFETY: sched_setaffinity reads a valid set; a thread that has
            // exited meanwhile fails harmlessly.
            #[allow(unsafe_code)]
            unsafe {
                libc::sched_setaffinity(tid, size_of::<libc::cpu_set_t>(), &set);
            }
            done.insert(tid);
        }
    }
}

/// The CPUs process `pid` may run on, as the kernel lists them (`0-1`).
pub fn cpus_of(pid: u32) -> Option<String> {
    cpus_allowed(&format!("/proc/{pid}/status"))
}

/// The CPUs thread `tid` of process `pid` may run on.
pub fn cpus_of_task(pid: u32, tid: &str) -> Option<String> {
    cpus_allowed(&format!("/proc/{pid}/task/{tid}/status"))
}

fn cpus_allowed(status: &str) -> Option<String> {
    fs::read_to_string(status)
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix("Cpus_allowed_list:"))
        .map(|l| l.trim().to_owned())
}

#[cfg(test)]
mod tests {
    use super::{parse_cpu_list, slot};

    #[test]
    fn each_server_takes_the_next_cpus() {
        let four = [0, 1, 2, 3];
        assert_eq!(slot(&four, 1, 0), [0]);
        assert_eq!(slot(&four, 1, 1), [1]);
        assert_eq!(slot(&four, 2, 1), [2, 3]);
        // More servers than the machine has room for: around again.
        assert_eq!(slot(&four, 2, 2), [0, 1]);
        assert_eq!(slot(&[0, 1], 1, 3), [1]);
        assert_eq!(slot(&[0, 1], 4, 0), [0, 1]);
    }

    #[test]
    fn cpu_lists_are_read_as_the_kernel_writes_them() {
        assert_eq!(
            parse_cpu_list("0-3,8,10-11"),
            Some(vec![0, 1, 2, 3, 8, 10, 11])
        );
        assert_eq!(parse_cpu_list("0"), Some(vec![0]));
        assert_eq!(parse_cpu_list(""), None);
        assert_eq!(parse_cpu_list("x"), None);
    }
}
