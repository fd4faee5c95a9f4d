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

/// The kernel's id of the calling thread (Linux `gettid`), so another thread
/// can move it with [`move_thread`]; `None` elsewhere.
///
/// ```
/// let tid = ferrokit_core::simd::cpu::thread_id();
/// assert!(cfg!(not(target_os = "linux")) || tid.is_some_and(|t| t > 0));
/// ```
pub fn thread_id() -> Option<i32> {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: gettid takes no arguments and cannot fail.
        Some(unsafe { libc::gettid() })
    }
    #[cfg(not(target_os = "linux"))]
    {
        None
    }
}

/// Restricts thread `tid` (of this process, from [`thread_id`]) to `cpu`;
/// a runnable thread waiting on another CPU is moved there at once. `false`
/// when the CPU cannot be set (then nothing changed).
///
/// ```
/// use ferrokit_core::simd::cpu::{current, move_thread, thread_id};
/// if let (Some(tid), Some(cpu)) = (thread_id(), current()) {
///     assert!(move_thread(tid, cpu)); // stay where it runs
///     assert_eq!(current(), Some(cpu));
///     assert!(!move_thread(tid, usize::MAX));
/// }
/// ```
pub fn move_thread(tid: i32, cpu: usize) -> bool {
    #[cfg(target_os = "linux")]
    {
        if cpu >= libc::CPU_SETSIZE as usize {
            return false;
        }
        // SAFETY: an all-zero cpu_set_t is a valid empty set; CPU_SET writes
        // one bit inside it (cpu < CPU_SETSIZE, checked above), and
        // sched_setaffinity only reads `size_of::<cpu_set_t>()` bytes of it.
        // An unknown tid only makes the call fail (ESRCH), which is checked.
        unsafe {
            let mut set: libc::cpu_set_t = std::mem::zeroed();
            libc::CPU_SET(cpu, &mut set);
            libc::sched_setaffinity(tid, std::mem::size_of::<libc::cpu_set_t>(), &set) == 0
        }
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = (tid, cpu);
        false
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
