//! The allocator's growth, set before the run: results accumulate as the
//! queries finish, and glibc grows a worker thread's arena one page-rounded
//! step at a time, an `mprotect` each (0.05 system calls per query of
//! `test_threadpool` at 50,000 point lookups, measured with `strace -c`).
//! A larger top pad makes each step reserve more at once: the pages are
//! only address space until the results fill them, so peak memory does not
//! change. Every Rust approach runs with the same setting.

/// How much more than asked the allocator takes whenever a heap grows.
pub const TOP_PAD: usize = 16 << 20;

/// Sets [`TOP_PAD`]; called once by every approach's `main`, before any
/// thread starts.
pub fn reserve_growth() {
    let pad = libc::c_int::try_from(TOP_PAD).unwrap_or(libc::c_int::MAX);
    // SAFETY: mallopt only changes a tuning parameter of glibc's malloc;
    // it is called before the process starts any thread.
    #[allow(unsafe_code)]
    unsafe {
        libc::mallopt(libc::M_TOP_PAD, pad);
    }
}
