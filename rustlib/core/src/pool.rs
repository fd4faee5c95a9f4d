//! The library-owned thread pool.
//!
//! Kernels never use rayon's global pool: ferrokit owns one pool that can be
//! resized at any time and is rebuilt — never joined or dropped — in a process
//! forked after it started (a forked child has only the forking thread, so the
//! parent's workers do not exist there and waiting on them would hang forever).
//!
//! Size: `set_num_threads(n)` if called with n > 0, else `FERROKIT_NUM_THREADS`,
//! else `OMP_NUM_THREADS` (validated and clamped, see [`crate::threads_env`];
//! read once, at first use: [`env_threads`]), else the CPUs this process may
//! use (affinity/cgroup aware).
//!
//! Placement: when the pool has no more threads than the CPUs this process may
//! use, worker `i` is pinned to the `i`-th of those CPUs (as OpenMP's
//! `OMP_PROC_BIND` does). Workers sleep between calls, and the kernel wakes a
//! sleeping thread on the CPU of the thread that woke it: unpinned, both
//! workers of a 2-CPU pool were often woken onto one CPU and a parallel call
//! ran at one CPU's speed (measured: process CPU time / wall time 1.0 instead
//! of 2.0, softmax 1.9 ms instead of 1.1 ms). `FERROKIT_PIN_THREADS=0` turns
//! pinning off.

use rayon::{ThreadPool, ThreadPoolBuilder};
use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock};
use std::time::Duration;

struct State {
    /// Threads requested by `set_num_threads`; 0 means "use the default".
    requested: usize,
    /// The pool, the process id it was built in, and the CPU each worker is
    /// pinned to (empty when the workers are not pinned).
    pool: Option<(u32, usize, Arc<ThreadPool>, Pins)>,
}

static STATE: Mutex<State> = Mutex::new(State {
    requested: 0,
    pool: None,
});

fn state() -> MutexGuard<'static, State> {
    // A panic never happens while the lock is held, but stay usable if one did.
    STATE.lock().unwrap_or_else(|e| e.into_inner())
}

thread_local! {
    /// The state lock held by this thread across a `fork` (see [`fork_prepare`]).
    static FORK_GUARD: RefCell<Option<MutexGuard<'static, State>>> = const { RefCell::new(None) };
}

/// `pthread_atfork` "prepare" handler: takes the state lock in the forking
/// thread, so no other thread holds it at the instant of `fork` (a child would
/// inherit it locked, and its first parallel call would hang).
pub fn fork_prepare() {
    let guard = state();
    let _ = FORK_GUARD.try_with(|g| *g.borrow_mut() = Some(guard));
}

/// `pthread_atfork` "parent" and "child" handler: releases the lock taken by
/// [`fork_prepare`] (a no-op if it holds none).
pub fn fork_release() {
    let _ = FORK_GUARD.try_with(|g| g.borrow_mut().take());
}

/// `FERROKIT_NUM_THREADS` / `OMP_NUM_THREADS` as they were when the library
/// first needed them (its first parallel call or thread-count query; the
/// Python package asks at import). Read once: libraries change these variables
/// in a running process for the sake of *their* workers (`dask.distributed`
/// sets `OMP_NUM_THREADS=1` in the parent's `os.environ` when a
/// `LocalCluster` starts), and re-reading them made ferrokit silently
/// single-threaded in the client process. As with OpenMP, the environment
/// configures the process at start; `set_num_threads` changes it later.
pub fn env_threads() -> &'static crate::threads_env::EnvThreads {
    static ENV: OnceLock<crate::threads_env::EnvThreads> = OnceLock::new();
    ENV.get_or_init(crate::threads_env::from_env)
}

/// The thread count used when none was requested explicitly:
/// `FERROKIT_NUM_THREADS`, else `OMP_NUM_THREADS` (validated and clamped to
/// [`crate::threads_env::MAX_THREADS`], see that module) as read once by
/// [`env_threads`], else the CPUs this process may use.
pub fn default_num_threads() -> usize {
    env_threads()
        .threads
        .unwrap_or_else(crate::threads_env::usable_cpus)
}

/// The number of threads kernels use.
pub fn num_threads() -> usize {
    let req = state().requested;
    if req > 0 {
        req
    } else {
        default_num_threads()
    }
}

/// The value last given to [`set_num_threads`] (0: none, the default applies).
pub fn requested_num_threads() -> usize {
    state().requested
}

/// Sets the number of threads kernels use; 0 restores the default.
/// Takes effect for the next kernel call; calls already running finish on the
/// old pool. The pool itself is replaced by the next parallel call that needs
/// another size (so switching to 1 thread and back keeps the pool's threads:
/// a 1-thread call never uses them).
pub fn set_num_threads(n: usize) {
    state().requested = n;
}

/// The CPUs to pin `threads` workers to: the ones this process may use, in
/// order, if there are at least `threads` of them and pinning is not turned off
/// by `FERROKIT_PIN_THREADS=0`; else none.
fn pin_cpus(threads: usize) -> Vec<core_affinity::CoreId> {
    if std::env::var("FERROKIT_PIN_THREADS").is_ok_and(|v| v.trim() == "0") {
        return Vec::new();
    }
    match core_affinity::get_core_ids() {
        Some(ids) if ids.len() >= threads => ids,
        _ => Vec::new(),
    }
}

/// The CPU each pool worker is pinned to, by worker index (empty: unpinned).
pub(crate) type Pins = Arc<[usize]>;

pub(crate) fn pool_for(threads: usize) -> Option<Arc<ThreadPool>> {
    pool_and_pins(threads).map(|(pool, _)| pool)
}

/// The pool of `threads` workers and where they are pinned.
pub(crate) fn pool_and_pins(threads: usize) -> Option<(Arc<ThreadPool>, Pins)> {
    let pid = std::process::id();
    let mut s = state();
    if let Some((p, size, pool, pins)) = &s.pool {
        if *p == pid && *size == threads {
            return Some((Arc::clone(pool), Arc::clone(pins)));
        }
    }
    if let Some((p, _, old, _)) = s.pool.take() {
        if p != pid {
            // Forked child: the old pool's threads do not exist here. Dropping it
            // would try to signal them, so leak it deliberately (once per fork).
            std::mem::forget(old);
        }
    }
    let cpus = pin_cpus(threads);
    let mut pins: Pins = cpus.iter().take(threads).map(|c| c.id).collect();
    // Workers report when they have started (named and pinned), and the pool is
    // handed out only then, so the first call already runs on placed threads.
    let started = Arc::new((Mutex::new(0usize), Condvar::new()));
    let report = Arc::clone(&started);
    let unpinned = Arc::new(AtomicBool::new(false));
    let unpinned_report = Arc::clone(&unpinned);
    let pool = ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("ferrokit-{i}"))
        .start_handler(move |i| {
            if let Some(cpu) = cpus.get(i) {
                // A hint: if the CPU cannot be set the worker just stays unpinned.
                if !core_affinity::set_for_current(*cpu) {
                    unpinned_report.store(true, Ordering::Relaxed);
                }
            }
            let (count, cv) = &*report;
            *count.lock().unwrap_or_else(|e| e.into_inner()) += 1;
            cv.notify_all();
        })
        .build()
        .ok()
        .map(Arc::new)?;
    let (count, cv) = &*started;
    let guard = count.lock().unwrap_or_else(|e| e.into_inner());
    // Bounded: a worker the OS is slow to start only delays its own placement.
    let all = cv.wait_timeout_while(guard, Duration::from_secs(2), |n| *n < threads);
    if all.is_ok_and(|(_, t)| t.timed_out()) || unpinned.load(Ordering::Relaxed) {
        pins = Arc::from([]);
    }
    s.pool = Some((pid, threads, Arc::clone(&pool), Arc::clone(&pins)));
    Some((pool, pins))
}

/// Keeps a pool worker off the calling thread's CPU while it helps that
/// caller (see [`crate::sched`]): the caller runs tasks itself, so a helper
/// that wakes on the caller's CPU only takes turns with it while another CPU
/// goes unused (measured: right after `np.dot`, the 1e7 dot product ran
/// wholly on one CPU in about half of the calls, 4.0 ms instead of ~3 ms).
/// Rayon wakes the lowest-numbered sleeping worker, so worker 0 helps
/// whichever CPU the caller is on. Created by the helper at the start of its
/// job: when it runs on `caller_cpu`, it moves to the CPU of the last worker
/// (the one a call with `threads - 1` helpers leaves idle), or of worker 0 if
/// it is the last; dropping it puts the worker back on its own CPU.
pub(crate) struct OffCallerCpu {
    home: Option<usize>,
}

impl OffCallerCpu {
    /// `pins`: the pool's pinned CPUs by worker index (empty: does nothing).
    pub(crate) fn new(caller_cpu: Option<usize>, pins: &[usize]) -> OffCallerCpu {
        let stay = OffCallerCpu { home: None };
        let (Some(caller), Some(me)) = (caller_cpu, rayon::current_thread_index()) else {
            return stay;
        };
        let Some(&home) = pins.get(me) else {
            return stay;
        };
        if crate::simd::cpu::current() != Some(caller) {
            return stay;
        }
        let last = pins.len() - 1;
        let to = [pins[last], pins[0]].into_iter().find(|&c| c != caller);
        match to {
            Some(cpu) if core_affinity::set_for_current(core_affinity::CoreId { id: cpu }) => {
                OffCallerCpu { home: Some(home) }
            }
            _ => stay,
        }
    }

    /// Whether the worker was moved.
    #[cfg(test)]
    pub(crate) fn moved(&self) -> bool {
        self.home.is_some()
    }
}

impl Drop for OffCallerCpu {
    fn drop(&mut self) {
        if let Some(home) = self.home {
            core_affinity::set_for_current(core_affinity::CoreId { id: home });
        }
    }
}

/// Runs `f` on the library pool when `work_items` is large enough to pay for the
/// hand-off and more than one thread is configured; otherwise on the calling thread.
/// `f` receives `true` when it runs in the pool and may use `rayon::join` /
/// parallel iterators (which then use this pool, never the global one).
pub fn run<R: Send>(work_items: usize, min_parallel: usize, f: impl FnOnce(bool) -> R + Send) -> R {
    if work_items < min_parallel || rayon::current_thread_index().is_some() {
        // Already inside a pool worker (nested call): stay sequential there.
        return f(false);
    }
    let threads = num_threads();
    if threads <= 1 {
        return f(false);
    }
    match pool_for(threads) {
        Some(pool) => pool.install(|| f(true)),
        None => f(false),
    }
}

/// `rayon::join` when `parallel`, else the two closures one after the other.
#[inline]
pub fn join<A: Send, B: Send>(
    parallel: bool,
    a: impl FnOnce() -> A + Send,
    b: impl FnOnce() -> B + Send,
) -> (A, B) {
    if parallel {
        rayon::join(a, b)
    } else {
        (a(), b())
    }
}

/// Runs `f` on a worker of the library pool (even with one thread configured).
/// Used where work must leave the calling thread, e.g. tests of panic handling.
pub fn install<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    match pool_for(num_threads().max(1)) {
        Some(pool) => pool.install(f),
        None => f(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_helper_on_the_callers_cpu_moves_off_it_and_back_home() {
        let ids = core_affinity::get_core_ids().unwrap_or_default();
        if ids.len() < 2 || crate::simd::cpu::current().is_none() {
            return; // nowhere to move to
        }
        let pins: Vec<usize> = ids[..2].iter().map(|c| c.id).collect();
        let homes = pins.clone();
        let pool = ThreadPoolBuilder::new()
            .num_threads(2)
            .start_handler(move |i| {
                core_affinity::set_for_current(core_affinity::CoreId { id: homes[i] });
            })
            .build()
            .unwrap();
        let seen = pool.broadcast(|ctx| {
            let (me, cpu) = (ctx.index(), crate::simd::cpu::current);
            let home = pins[me];
            let before = cpu();
            let moved = {
                // The caller is on this worker's CPU: the worker leaves it.
                let away = OffCallerCpu::new(Some(home), &pins);
                (away.moved(), cpu())
            };
            let back = cpu();
            // The caller is elsewhere: the worker stays.
            let stay = OffCallerCpu::new(Some(pins[1 - me]), &pins).moved();
            // No caller CPU known, or no pins: nothing happens.
            let none = OffCallerCpu::new(None, &pins).moved()
                || OffCallerCpu::new(Some(home), &[]).moved();
            (home, before, moved, back, stay, none)
        });
        for (home, before, (moved, during), back, stay, none) in seen {
            assert_eq!(before, Some(home));
            assert!(moved);
            assert!(during.is_some_and(|c| c != home), "{during:?} {home}");
            assert_eq!(back, Some(home));
            assert!(!stay && !none);
        }
    }

    #[test]
    fn run_small_work_stays_on_caller() {
        let r = run(1, 1000, |par| par);
        assert!(!r);
    }
}
