//! Background threads (store appends, upkeep) yield the CPU to request handling.
//!
//! On two cores the batcher's DuckDB appends and the minute's clustering pass compete with the
//! HTTP workers; at equal priority a large append stalls acknowledgements for its whole
//! duration. Acknowledgement only needs the ingest log, so the store's work can wait: it runs
//! at a lower priority and catches up whenever requests leave the CPU idle (its input is
//! durable in the log meanwhile).

/// How much nicer background threads are than the rest of the process: well below request
/// handling, not idle-only, so a saturated server still drains its log into the store.
pub const BACKGROUND_NICE: i32 = 10;

/// Lowers the calling thread's CPU priority by [`BACKGROUND_NICE`] (at most to 19). Only this
/// thread: on Linux the nice value is per thread. A failure is logged and otherwise ignored (priority is an
/// optimisation, never needed for correctness).
pub fn background() {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: setpriority has no memory-safety preconditions; `who = 0` is the calling
        // thread under Linux's per-thread nice values.
        let target = (current_nice() + BACKGROUND_NICE).min(19);
        let rc = unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, target) };
        if rc != 0 {
            tracing::warn!(
                error = %std::io::Error::last_os_error(),
                "could not lower a background thread's priority"
            );
        }
    }
}

/// The calling thread's nice value (for tests).
#[cfg(target_os = "linux")]
pub fn current_nice() -> i32 {
    // SAFETY: getpriority has no preconditions; -1 is a valid result, errno tells errors apart.
    unsafe { libc::getpriority(libc::PRIO_PROCESS, 0) }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    #[test]
    fn lowers_only_the_calling_thread() {
        let before = super::current_nice();
        let inside = std::thread::spawn(|| {
            super::background();
            super::current_nice()
        })
        .join()
        .unwrap();
        assert_eq!(inside, (before + super::BACKGROUND_NICE).min(19));
        assert_eq!(super::current_nice(), before, "other threads keep theirs");
    }
}
