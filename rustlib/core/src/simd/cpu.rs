//! Which CPU the calling thread runs on, for placing pool helpers
//! ([`crate::pool`]). A hint only: the thread may move right after.

/// The CPU the calling thread is running on (Linux `sched_getcpu`, a vDSO
/// read of a few nanoseconds); `None` elsewhere or on failure.
///
/// ```
/// let cpu = ferrokit_core::simd::cpu::current();
/// assert!(cfg!(not(target_os = "linux")) || cpu.is_some());
/// ```
pub fn current() -> Option<usize> {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: sched_getcpu takes no arguments, reads only the calling
        // thread's scheduling state and returns -1 on failure (checked).
        let cpu = unsafe { libc::sched_getcpu() };
        usize::try_from(cpu).ok()
    }
    #[cfg(not(target_os = "linux"))]
    {
        None
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn current_cpu_is_one_this_process_may_use() {
        let Some(cpu) = super::current() else {
            return;
        };
        let usable = core_affinity::get_core_ids().unwrap_or_default();
        assert!(
            usable.is_empty() || usable.iter().any(|c| c.id == cpu),
            "{cpu}"
        );
    }
}
