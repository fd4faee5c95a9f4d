//! Dynamic hand-out of fixed-size tasks to the calling thread and the pool.
//!
//! A parallel kernel cuts its work into tasks whose size never depends on the
//! thread count, and the calling thread plus `threads - 1` pool workers claim
//! them one at a time from a shared atomic counter. A thread that shares its
//! core with another process (or with a BLAS thread still spinning after its
//! call) simply claims fewer tasks: the slowest core no longer decides the
//! time, as it did when each thread got one fixed part. The calling thread
//! starts on the first task at once instead of sleeping until a worker wakes.
//!
//! Helpers keep off the calling thread's CPU ([`crate::pool::OffCallerCpu`]):
//! one that wakes there only takes turns with the caller. Every pinned worker
//! is offered the job and the first to start helps, and the caller never
//! waits for a helper that has not started: workers join late and only claim
//! what is left, so a worker whose CPU is busy (another process, a BLAS
//! thread spinning after its call) costs the call almost nothing. A helper
//! still in its last task when the caller runs out of tasks is moved onto the
//! caller's CPU ([`late`]): descheduled on a shared CPU, it would otherwise
//! hold the call up for a time slice.
//!
//! Which thread runs a task never changes what the task computes, and
//! reductions combine the per-task results in a fixed order
//! ([`fixed_tree`]), so results are bit-identical for any thread count and
//! any timing.

use crate::pool;
use rayon::ThreadPool;
use std::ops::Range;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// Who runs the tasks of one kernel call: the calling thread alone, or the
/// calling thread and `helpers` pool workers.
pub struct Team {
    pool: Option<(Arc<ThreadPool>, usize, pool::Pins)>,
}

/// The team for a call with `work_items` units of work: parallel when there are
/// at least `min_parallel` of them, more than one thread is configured and the
/// caller is not itself a pool worker (nested calls stay sequential).
///
/// ```
/// let team = ferrokit_core::sched::team(10, 1_000_000);
/// assert!(!team.is_parallel());
/// assert_eq!(team.map(3, |i| i * 10), vec![0, 10, 20]);
/// ```
pub fn team(work_items: usize, min_parallel: usize) -> Team {
    if work_items < min_parallel || rayon::current_thread_index().is_some() {
        return Team { pool: None };
    }
    let threads = pool::num_threads();
    if threads <= 1 || !backoff::helpers_welcome(threads) {
        return Team { pool: None };
    }
    Team {
        pool: pool::pool_and_pins(threads).map(|(p, pins)| (p, threads - 1, pins)),
    }
}

impl Team {
    /// A team of the calling thread alone.
    pub fn sequential() -> Team {
        Team { pool: None }
    }

    /// Whether more than one thread takes part.
    pub fn is_parallel(&self) -> bool {
        self.pool.is_some()
    }

    /// Runs `task(i)` for every `i` in `0..n_tasks`, each exactly once; tasks
    /// are claimed in increasing order by whichever participant is free.
    pub fn for_each(&self, n_tasks: usize, task: impl Fn(usize) + Sync) {
        let Some((pool, helpers, pins)) = &self.pool else {
            (0..n_tasks).for_each(task);
            return;
        };
        let helpers = (*helpers).min(n_tasks.saturating_sub(1));
        if helpers == 0 {
            (0..n_tasks).for_each(task);
            return;
        }
        let next = AtomicUsize::new(0);
        let claim = |helper: bool| {
            let mut claimed = 0;
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n_tasks {
                    break claimed;
                }
                if helper {
                    slow::pause();
                }
                task(i);
                claimed += 1;
            }
        };
        // Helpers keep off the caller's CPU (pool::OffCallerCpu).
        let caller_cpu = if pins.is_empty() {
            None
        } else {
            crate::simd::cpu::current()
        };
        // Rayon wakes the lowest-numbered sleeping worker per job, but a
        // worker still awake from the last call takes a job whatever its
        // number. One pinned to the caller's CPU has to wait for the caller's
        // time slice before it can move away, so when the caller shares a
        // CPU with any worker, one more offer reaches a worker on another
        // CPU. Whichever worker starts first helps; `helpers` at most claim
        // tasks. (Offering every worker each call woke a worker on the
        // caller's CPU even when not needed. Adding the offer only when the
        // caller's CPU was worker 0's left a caller on worker 1's CPU alone:
        // with 2 threads, 1-query index searches ran at the 1-thread speed,
        // 870-1040 µs instead of 540-680 µs, in half the processes.)
        let on_caller = caller_cpu.is_some_and(|c| pins.contains(&c));
        let offers = helpers + usize::from(on_caller);
        let slots = AtomicUsize::new(helpers);
        let started = AtomicUsize::new(0);
        let late = late::Helpers::new(helpers);
        let offer = || {
            started.fetch_add(1, Ordering::Relaxed);
            if next.load(Ordering::Relaxed) >= n_tasks {
                return; // late: nothing left, so no move and no wait
            }
            let slot =
                slots.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1));
            if let Ok(k) = slot {
                let _placed = pool::OffCallerCpu::new(caller_cpu, pins);
                let _working = late.working(k - 1, pins);
                claim(true);
            }
        };
        let start = std::time::Instant::now();
        let mut own = std::time::Duration::ZERO;
        let mut mine = 0;
        pool.in_place_scope(|s| {
            for _ in 0..offers {
                s.spawn(|_| offer());
            }
            mine = claim(false);
            own = start.elapsed();
            late.bring_over((own / mine.max(1) as u32 * 2).min(late::MAX_GRACE));
            if started.load(Ordering::Relaxed) < offers {
                // The scope still has to run an offer whose worker waits for
                // a busy CPU. Wake a sleeping worker -- typically the one on
                // this CPU, free once the caller blocks -- which takes the
                // offer from the queue, finds nothing left and returns at
                // once (traced right after np.dot: the caller had run every
                // task and then waited 3-10 ms for a helper to start).
                pool.spawn(|| {});
            }
        });
        backoff::record(own, start.elapsed() - own, mine, n_tasks);
    }

    /// `task(i)` for every `i` in `0..n_tasks`, results in task order.
    pub fn map<R: Send>(&self, n_tasks: usize, task: impl Fn(usize) -> R + Sync) -> Vec<R> {
        if !self.is_parallel() {
            return (0..n_tasks).map(task).collect();
        }
        let slots: Vec<Mutex<Option<R>>> = (0..n_tasks).map(|_| Mutex::new(None)).collect();
        self.for_each(n_tasks, |i| {
            let r = task(i);
            *slots[i].lock().unwrap_or_else(|e| e.into_inner()) = Some(r);
        });
        slots
            .into_iter()
            .map(|m| m.into_inner().unwrap_or_else(|e| e.into_inner()))
            .map(|r| r.expect("every task ran exactly once"))
            .collect()
    }

    /// `f(i, chunk)` for every `chunk`-sized piece `i` of `out` (the last may
    /// be shorter), as tasks; returns the results in order.
    pub fn map_chunks_mut<U: Send, R: Send>(
        &self,
        out: &mut [U],
        chunk: usize,
        f: impl Fn(usize, &mut [U]) -> R + Sync,
    ) -> Vec<R> {
        let chunk = chunk.max(1);
        if !self.is_parallel() {
            return out
                .chunks_mut(chunk)
                .enumerate()
                .map(|(i, c)| f(i, c))
                .collect();
        }
        let parts: Vec<Mutex<&mut [U]>> = out.chunks_mut(chunk).map(Mutex::new).collect();
        self.map(parts.len(), |i| {
            let mut c = parts[i].lock().unwrap_or_else(|e| e.into_inner());
            f(i, &mut c)
        })
    }

    /// [`Team::map_chunks_mut`] without results.
    pub fn for_each_chunk_mut<U: Send>(
        &self,
        out: &mut [U],
        chunk: usize,
        f: impl Fn(usize, &mut [U]) + Sync,
    ) {
        let chunk = chunk.max(1);
        if !self.is_parallel() {
            out.chunks_mut(chunk).enumerate().for_each(|(i, c)| f(i, c));
            return;
        }
        let parts: Vec<Mutex<&mut [U]>> = out.chunks_mut(chunk).map(Mutex::new).collect();
        self.for_each(parts.len(), |i| {
            let mut c = parts[i].lock().unwrap_or_else(|e| e.into_inner());
            f(i, &mut c)
        })
    }

    /// `f(i, a_chunk, b_chunk)` over matching pieces of two outputs (`a` in
    /// pieces of `ca`, `b` in pieces of `cb`; both must give the same count).
    pub fn for_each_chunk_mut2<U: Send, V: Send>(
        &self,
        a: &mut [U],
        ca: usize,
        b: &mut [V],
        cb: usize,
        f: impl Fn(usize, &mut [U], &mut [V]) + Sync,
    ) {
        let pairs: Vec<Mutex<(&mut [U], &mut [V])>> = a
            .chunks_mut(ca.max(1))
            .zip(b.chunks_mut(cb.max(1)))
            .map(Mutex::new)
            .collect();
        self.for_each(pairs.len(), |i| {
            let mut g = pairs[i].lock().unwrap_or_else(|e| e.into_inner());
            let (x, y) = &mut *g;
            f(i, x, y)
        })
    }
}

/// Reduces leaves `0..n_leaves` (`n_leaves >= 1`) in the fixed midpoint tree
/// (`[lo, hi)` splits at `lo + (hi - lo) / 2`). Subtrees of at most
/// `leaves_per_task` leaves are tasks of `team`; the levels above them are
/// combined by the calling thread, in the same tree. The shape never depends
/// on the team, so neither do the bits of the result.
///
/// ```
/// use ferrokit_core::sched::{fixed_tree, Team};
/// let s = fixed_tree(&Team::sequential(), 5, 2, &|i| vec![i], &|mut a, b| {
///     a.extend(b);
///     a
/// });
/// assert_eq!(s, vec![0, 1, 2, 3, 4]);
/// ```
pub fn fixed_tree<T, L, C>(
    team: &Team,
    n_leaves: usize,
    leaves_per_task: usize,
    leaf: &L,
    combine: &C,
) -> T
where
    T: Send,
    L: Fn(usize) -> T + Sync,
    C: Fn(T, T) -> T + Sync,
{
    fn sub<T, L: Fn(usize) -> T, C: Fn(T, T) -> T>(
        lo: usize,
        hi: usize,
        leaf: &L,
        combine: &C,
    ) -> T {
        if hi - lo == 1 {
            return leaf(lo);
        }
        let mid = lo + (hi - lo) / 2;
        let a = sub(lo, mid, leaf, combine);
        combine(a, sub(mid, hi, leaf, combine))
    }
    debug_assert!(n_leaves >= 1);
    let g = leaves_per_task.max(1);
    if !team.is_parallel() || n_leaves <= g {
        return sub(0, n_leaves, leaf, combine);
    }
    let parts = frontier(n_leaves, g);
    let results = team.map(parts.len(), |t| {
        let (lo, hi) = parts[t];
        sub(lo, hi, leaf, combine)
    });
    top(0, n_leaves, g, &mut results.into_iter(), combine)
}

/// [`fixed_tree`] for kernels that are faster over a run of leaves than one
/// leaf at a time: `leaves(lo..hi)` gives the results of leaves `lo..hi` in
/// order, and is called once per task (once per subtree of at most
/// `leaves_per_task` leaves, also on one thread). The same tree combines
/// them, so the result is `fixed_tree`'s with `leaf(i) = leaves(i..i + 1)[0]`.
///
/// ```
/// use ferrokit_core::sched::{fixed_tree_runs, Team};
/// let s = fixed_tree_runs(&Team::sequential(), 5, 2, &|r| r.collect(), &|a, b| a + b);
/// assert_eq!(s, 10);
/// ```
pub fn fixed_tree_runs<T, L, C>(
    team: &Team,
    n_leaves: usize,
    leaves_per_task: usize,
    leaves: &L,
    combine: &C,
) -> T
where
    T: Send,
    L: Fn(Range<usize>) -> Vec<T> + Sync,
    C: Fn(T, T) -> T + Sync,
{
    debug_assert!(n_leaves >= 1);
    let g = leaves_per_task.max(1);
    let parts = frontier(n_leaves, g);
    let part = |(lo, hi): (usize, usize)| {
        let done = leaves(lo..hi);
        assert_eq!(done.len(), hi - lo, "one result per leaf of the run");
        // Groups of one leaf: the midpoint tree over lo..hi, as fixed_tree's.
        top(lo, hi, 1, &mut done.into_iter(), combine)
    };
    let results: Vec<T> = if team.is_parallel() && parts.len() > 1 {
        team.map(parts.len(), |t| part(parts[t]))
    } else {
        parts.iter().map(|&p| part(p)).collect()
    };
    top(0, n_leaves, g, &mut results.into_iter(), combine)
}

/// The subtrees of the midpoint tree over `0..n` of at most `g` leaves that
/// are largest (the tasks of [`fixed_tree`]), left to right.
fn frontier(n: usize, g: usize) -> Vec<(usize, usize)> {
    fn walk(lo: usize, hi: usize, g: usize, out: &mut Vec<(usize, usize)>) {
        if hi - lo <= g {
            out.push((lo, hi));
        } else {
            let mid = lo + (hi - lo) / 2;
            walk(lo, mid, g, out);
            walk(mid, hi, g, out);
        }
    }
    let mut out = Vec::new();
    walk(0, n, g, &mut out);
    out
}

/// Combines the results of [`frontier`]`(hi - lo, g)`'s subtrees of
/// `lo..hi`, taken from `done` left to right, in the midpoint tree above them.
fn top<T, C: Fn(T, T) -> T>(
    lo: usize,
    hi: usize,
    g: usize,
    done: &mut impl Iterator<Item = T>,
    combine: &C,
) -> T {
    if hi - lo <= g {
        return done.next().expect("one result per frontier subtree");
    }
    let mid = lo + (hi - lo) / 2;
    let a = top(lo, mid, g, done, combine);
    combine(a, top(mid, hi, g, done, combine))
}

/// The end of a call: a helper still running its last task when the caller
/// has found no task left may be waiting for a CPU it shares with a busy
/// process (or a BLAS thread spinning after its call), descheduled for a time
/// slice of several milliseconds, and the caller must wait for it because
/// the task borrows the caller's data. The caller is about to sleep, so its
/// own CPU is about to be free: after a grace period (twice the caller's
/// mean task time), such a helper is moved onto the caller's CPU, where it
/// runs at once; it goes back to its own CPU when it finishes.
mod late {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Mutex;
    use std::time::{Duration, Instant};

    #[derive(Default)]
    struct Slot {
        /// The helper's thread id and home CPU while it runs tasks.
        working: Option<(i32, usize)>,
        /// The caller moved it to its CPU.
        moved: bool,
    }

    /// The longest the caller waits before bringing a helper over: a helper
    /// running a long task on a free CPU loses little by finishing it on the
    /// caller's (which is free as well once the caller sleeps).
    pub(super) const MAX_GRACE: Duration = Duration::from_micros(500);

    /// Helpers moved to the caller's CPU so far (tests).
    #[cfg(test)]
    pub(super) static BROUGHT: AtomicUsize = AtomicUsize::new(0);

    /// One slot per helper of a call, and how many are working.
    pub(super) struct Helpers {
        slots: Vec<Mutex<Slot>>,
        active: AtomicUsize,
    }

    /// Marks a helper as working until dropped; puts it back on its home CPU
    /// if the caller moved it.
    pub(super) struct Working<'a>(Option<(&'a Mutex<Slot>, &'a AtomicUsize)>);

    fn lock(m: &Mutex<Slot>) -> std::sync::MutexGuard<'_, Slot> {
        m.lock().unwrap_or_else(|e| e.into_inner())
    }

    impl Helpers {
        pub(super) fn new(n: usize) -> Helpers {
            Helpers {
                slots: (0..n).map(|_| Mutex::default()).collect(),
                active: AtomicUsize::new(0),
            }
        }

        /// Called by helper `k` (a pool worker) before it claims tasks. Only a
        /// pinned worker takes part: it knows its home CPU to go back to (an
        /// unpinned one may move to the free CPU by itself).
        pub(super) fn working(&self, k: usize, pins: &[usize]) -> Working<'_> {
            let home = rayon::current_thread_index().and_then(|i| pins.get(i).copied());
            let (Some(slot), Some(tid), Some(home)) =
                (self.slots.get(k), crate::simd::cpu::thread_id(), home)
            else {
                return Working(None);
            };
            self.active.fetch_add(1, Ordering::AcqRel);
            lock(slot).working = Some((tid, home));
            Working(Some((slot, &self.active)))
        }

        fn any_working(&self) -> bool {
            self.active.load(Ordering::Acquire) > 0
        }

        /// Called by the caller once no task is left: waits up to `grace` for
        /// the helpers to finish, then moves those still working to its CPU.
        pub(super) fn bring_over(&self, grace: Duration) {
            let until = Instant::now() + grace;
            while self.any_working() {
                if Instant::now() >= until {
                    let Some(cpu) = crate::simd::cpu::current() else {
                        return;
                    };
                    for s in &self.slots {
                        let mut g = lock(s);
                        if let (Some((tid, _)), false) = (g.working, g.moved) {
                            g.moved = crate::simd::cpu::move_thread(tid, cpu);
                            #[cfg(test)]
                            BROUGHT.fetch_add(usize::from(g.moved), Ordering::Relaxed);
                        }
                    }
                    return;
                }
                std::hint::spin_loop();
            }
        }
    }

    impl Drop for Working<'_> {
        fn drop(&mut self) {
            let Some((slot, active)) = self.0 else {
                return;
            };
            let mut g = lock(slot);
            if let (Some((tid, home)), true) = (g.working, g.moved) {
                crate::simd::cpu::move_thread(tid, home);
            }
            *g = Slot::default();
            active.fetch_sub(1, Ordering::AcqRel);
        }
    }
}

/// Helpers only when they help: the calling thread must wait at the end of a
/// call until every helper it offered work to has started (and finished its
/// task), because the tasks borrow the caller's data. On an oversubscribed
/// machine a sleeping worker can take many milliseconds to get a CPU, far
/// longer than the call (measured here at load 15 on 2 cores: a 1.6 ms softmax
/// took 19 ms at 2 threads); with one other busy process, the helper that
/// shares its core with it is descheduled for a time slice of several ms now
/// and then. So each parallel call checks whether the helpers paid: the
/// caller ran `mine` of the `n` tasks in `own`, so alone it would have needed
/// about `own · n / mine` (an estimate that flatters the helpers a little for
/// memory-bound kernels, where the caller ran slower because they shared the
/// memory bus — those gain little either way). When the call took longer than
/// that (its own share plus the wait for the helpers at the end), the next
/// calls run on the calling thread alone for a back-off period (doubling while
/// it keeps happening, 2 ms to 256 ms; halved by each call that paid), then
/// helpers are offered again -- unless more threads are runnable than there
/// are CPUs plus one, in which case the back-off is extended without a probe.
/// (An earlier rule, "the wait exceeded a quarter of the caller's share",
/// also backed off when a helper was slow but still saved time: with one busy
/// core StandardScaler.fit ran at 1.00x of 1 thread instead of 1.29x.)
/// Results never depend on it.
pub mod backoff {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::OnceLock;
    use std::time::{Duration, Instant};

    static UNTIL_NS: AtomicU64 = AtomicU64::new(0);
    /// The `UNTIL_NS` of the back-off whose end was last checked for a crowd.
    static CHECKED_NS: AtomicU64 = AtomicU64::new(0);
    static LENGTH_NS: AtomicU64 = AtomicU64::new(0);
    static DISABLED: AtomicU64 = AtomicU64::new(0);
    const MIN_NS: u64 = 2_000_000;
    const MAX_NS: u64 = 256_000_000;

    fn now_ns() -> u64 {
        static EPOCH: OnceLock<Instant> = OnceLock::new();
        EPOCH.get_or_init(Instant::now).elapsed().as_nanos() as u64
    }

    /// Turns the back-off off (`true`) or on again (`false`): tests and the
    /// benchmark use it to compare.
    pub fn set_disabled(off: bool) {
        DISABLED.store(u64::from(off), Ordering::Relaxed);
        UNTIL_NS.store(0, Ordering::Relaxed);
        LENGTH_NS.store(0, Ordering::Relaxed);
        CHECKED_NS.store(0, Ordering::Relaxed);
    }

    /// `FERROKIT_SCHED_BACKOFF=0` turns the back-off off for the process.
    fn env_off() -> bool {
        static OFF: OnceLock<bool> = OnceLock::new();
        *OFF.get_or_init(|| std::env::var("FERROKIT_SCHED_BACKOFF").is_ok_and(|v| v.trim() == "0"))
    }

    /// Whether a call with a team of `threads` may offer work to helpers.
    pub(super) fn helpers_welcome(threads: usize) -> bool {
        if DISABLED.load(Ordering::Relaxed) != 0 || env_off() {
            return true;
        }
        let now = now_ns();
        let until = UNTIL_NS.load(Ordering::Relaxed);
        if now < until {
            return false;
        }
        let len = LENGTH_NS.load(Ordering::Relaxed);
        // Once per back-off: reading /proc/loadavg costs 35 µs here (about
        // 200 µs in a call after a pause), as much as a whole 1e5-element
        // dot product. Checked on every call while the back-off length
        // decayed, it made each of those calls slower than the caller alone.
        if len > 0 && first_check_of(until, &CHECKED_NS) && crowded(threads) {
            // A back-off just ended but more threads are runnable than there
            // are CPUs: a probe would only pay a wake-up wait again. Extend
            // it (one read of /proc/loadavg per back-off period).
            UNTIL_NS.store(now + len, Ordering::Relaxed);
            return false;
        }
        true
    }

    /// `true` the first time it is asked about the back-off that ends at
    /// `until` (`checked` remembers the last one asked about).
    pub(super) fn first_check_of(until: u64, checked: &AtomicU64) -> bool {
        checked.swap(until, Ordering::Relaxed) != until
    }

    /// More threads runnable right now than the CPUs plus this call's own
    /// team of `threads` (Linux: `/proc/loadavg`'s running count). The count
    /// includes the calling thread and this pool's workers that are still
    /// spinning after the previous call (rayon yields a few dozen times
    /// before a worker sleeps). Counting them as strangers ("CPUs plus one")
    /// saw a crowd with one busy process on 2 CPUs (caller + busy process +
    /// the two workers still spinning after the previous 2-thread call = 4 >
    /// 2 + 1), so a back-off, once started, could be extended call after call
    /// and 2-thread calls ran on the caller alone.
    fn crowded(threads: usize) -> bool {
        let Ok(text) = std::fs::read_to_string("/proc/loadavg") else {
            return false;
        };
        let running = text
            .split_whitespace()
            .nth(3)
            .and_then(|f| f.split('/').next())
            .and_then(|n| n.parse::<usize>().ok());
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        running.is_some_and(|r| r > cpus + threads)
    }

    /// `true` when a parallel call paid: its time (`own` + `waited`) was at
    /// most what the caller alone would have needed at the speed it showed
    /// (`own` for `mine` of `n` tasks), with 20 µs of slack for the timer
    /// and the hand-off.
    pub fn paid(own: Duration, waited: Duration, mine: usize, n: usize) -> bool {
        let alone = own.as_secs_f64() * n as f64 / mine.max(1) as f64;
        (own + waited).as_secs_f64() <= alone + 20e-6
    }

    /// Records one parallel call: `own` = the caller's share (until it found no
    /// task left), `waited` = the time it then waited for the helpers, `mine`
    /// of the `n` tasks ran on the caller.
    pub(super) fn record(own: Duration, waited: Duration, mine: usize, n: usize) {
        if paid(own, waited, mine, n) {
            // A good call halves the next back-off (one lucky probe on a
            // loaded machine does not bring back the short one).
            LENGTH_NS.store(LENGTH_NS.load(Ordering::Relaxed) / 2, Ordering::Relaxed);
            return;
        }
        let len = (LENGTH_NS.load(Ordering::Relaxed) * 2).clamp(MIN_NS, MAX_NS);
        LENGTH_NS.store(len, Ordering::Relaxed);
        UNTIL_NS.store(now_ns() + len, Ordering::Relaxed);
    }
}

/// A test hook that makes every pool helper sleep before each task it claims,
/// so tests can show that a slow worker changes no result.
pub mod slow {
    use std::sync::atomic::{AtomicU64, Ordering};

    static HELPER_DELAY_US: AtomicU64 = AtomicU64::new(0);

    /// Sets the delay (microseconds) a helper waits before each task; 0 turns it off.
    pub fn set_helper_delay_us(us: u64) {
        HELPER_DELAY_US.store(us, Ordering::Relaxed);
    }

    #[inline]
    pub(super) fn pause() {
        let us = HELPER_DELAY_US.load(Ordering::Relaxed);
        if us > 0 {
            std::thread::sleep(std::time::Duration::from_micros(us));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    fn with_threads<R>(threads: usize, f: impl FnOnce() -> R) -> R {
        pool::set_num_threads(threads);
        let r = f();
        pool::set_num_threads(0);
        r
    }

    #[test]
    fn every_task_runs_once_for_any_thread_count() {
        for threads in [1, 2, 3] {
            for n in [0, 1, 2, 3, 17, 1000] {
                let hits: Vec<AtomicUsize> = (0..n).map(|_| AtomicUsize::new(0)).collect();
                with_threads(threads, || {
                    team(1, 0).for_each(n, |i| {
                        hits[i].fetch_add(1, Ordering::Relaxed);
                    })
                });
                assert!(
                    hits.iter().all(|h| h.load(Ordering::Relaxed) == 1),
                    "{threads} {n}"
                );
            }
        }
    }

    #[test]
    fn map_and_chunks_keep_order() {
        with_threads(3, || {
            let t = team(1, 0);
            assert_eq!(
                t.map(100, |i| i * i),
                (0..100).map(|i| i * i).collect::<Vec<_>>()
            );
            let mut v = vec![0usize; 1001];
            let firsts = t.map_chunks_mut(&mut v, 10, |i, c| {
                c.iter_mut().for_each(|x| *x = i);
                c.len()
            });
            assert_eq!(firsts.len(), 101);
            assert_eq!(firsts[100], 1);
            assert!(v.iter().enumerate().all(|(j, &x)| x == j / 10));
            let (mut a, mut b) = (vec![0u8; 30], vec![0u16; 60]);
            t.for_each_chunk_mut2(&mut a, 3, &mut b, 6, |i, x, y| {
                x.fill(i as u8);
                y.fill(i as u16);
            });
            assert!(a.iter().enumerate().all(|(j, &x)| x as usize == j / 3));
            assert!(b.iter().enumerate().all(|(j, &x)| x as usize == j / 6));
        });
    }

    #[test]
    fn fixed_tree_and_its_runs_have_the_same_shape_for_any_team_and_group() {
        // Combining strings records the shape of the tree exactly.
        let leaf = |i: usize| i.to_string();
        let comb = |a: String, b: String| format!("({a} {b})");
        for n in [1, 2, 3, 7, 64, 101] {
            let want = fixed_tree(&Team::sequential(), n, 1, &leaf, &comb);
            for threads in [1, 2, 3] {
                for g in [1, 2, 5, 16, 200] {
                    let got = with_threads(threads, || fixed_tree(&team(1, 0), n, g, &leaf, &comb));
                    assert_eq!(got, want, "n {n} threads {threads} group {g}");
                    let runs = |r: Range<usize>| r.map(leaf).collect();
                    let got =
                        with_threads(threads, || fixed_tree_runs(&team(1, 0), n, g, &runs, &comb));
                    assert_eq!(got, want, "runs: n {n} threads {threads} group {g}");
                }
            }
        }
    }

    #[test]
    fn helpers_back_off_after_long_waits_and_come_back() {
        use std::time::Duration;
        let ms = Duration::from_millis;
        for _ in 0..8 {
            backoff::record(ms(1), ms(5), 10, 16);
        }
        assert!(!backoff::helpers_welcome(2));
        assert!(!team(1, 0).is_parallel());
        backoff::set_disabled(false); // resets the back-off
        assert!(backoff::helpers_welcome(2));
        backoff::record(ms(4), Duration::from_micros(100), 8, 16);
        assert!(backoff::helpers_welcome(2));
        // A long wait that still beat the caller alone is no reason to back off.
        backoff::record(ms(10), ms(4), 10, 16);
        assert!(backoff::helpers_welcome(2));
        backoff::set_disabled(false);
    }

    #[test]
    fn the_crowd_is_checked_once_per_back_off() {
        use std::sync::atomic::AtomicU64;
        let checked = AtomicU64::new(0);
        assert!(backoff::first_check_of(5_000, &checked));
        assert!(!backoff::first_check_of(5_000, &checked));
        assert!(!backoff::first_check_of(5_000, &checked));
        // A new back-off (or one extended by the crowd) is checked again.
        assert!(backoff::first_check_of(9_000, &checked));
        assert!(!backoff::first_check_of(9_000, &checked));
    }

    #[test]
    fn a_call_paid_when_it_beat_the_caller_alone() {
        use std::time::Duration;
        let us = Duration::from_micros;
        // Caller ran 10 of 16 tasks in 10 ms: alone about 16 ms.
        assert!(backoff::paid(us(10_000), us(5_000), 10, 16));
        assert!(!backoff::paid(us(10_000), us(7_000), 10, 16));
        // Caller ran everything: any wait beyond the slack is a loss.
        assert!(backoff::paid(us(1_000), us(10), 4, 4));
        assert!(!backoff::paid(us(1_000), us(500), 4, 4));
        // Nothing ran on the caller (0 tasks): never divides by zero.
        assert!(backoff::paid(us(0), us(10), 0, 4));
    }

    #[test]
    fn a_late_helper_is_brought_to_the_callers_cpu_and_goes_back_home() {
        if core_affinity::get_core_ids().unwrap_or_default().len() < 2
            || crate::simd::cpu::current().is_none()
        {
            return; // one CPU: no helper CPU to bring over from
        }
        let before = late::BROUGHT.load(Ordering::Relaxed);
        let hits: Vec<AtomicUsize> = (0..64).map(|_| AtomicUsize::new(0)).collect();
        // Other tests change the thread count and the back-off concurrently,
        // so a call may run without a helper: try until one was brought over.
        let mut calls = 0;
        while calls < 50 && late::BROUGHT.load(Ordering::Relaxed) == before {
            pool::set_num_threads(2);
            backoff::set_disabled(true);
            // A helper sleeps 3 ms in each task it claims: the caller runs
            // the rest long before, and then brings the sleeper over.
            slow::set_helper_delay_us(3000);
            team(1, 0).for_each(hits.len(), |i| {
                // 20 µs of work per task, so that the helper starts in time.
                let t = std::time::Instant::now();
                while t.elapsed() < std::time::Duration::from_micros(20) {}
                hits[i].fetch_add(1, Ordering::Relaxed);
            });
            slow::set_helper_delay_us(0);
            calls += 1;
        }
        backoff::set_disabled(false);
        assert!(late::BROUGHT.load(Ordering::Relaxed) > before);
        assert!(hits.iter().all(|h| h.load(Ordering::Relaxed) == calls));
        // Every worker is back on its own CPU.
        if let Some((pool, pins)) = pool::pool_and_pins(2).filter(|(_, p)| !p.is_empty()) {
            let homes = pool.broadcast(|ctx| (pins[ctx.index()], crate::simd::cpu::current()));
            for (home, now) in homes {
                assert_eq!(Some(home), now, "a worker stayed on the caller's CPU");
            }
        }
        pool::set_num_threads(0);
    }

    #[test]
    fn a_panicking_task_reaches_the_caller() {
        let r = std::panic::catch_unwind(|| {
            with_threads(2, || {
                team(1, 0).for_each(64, |i| {
                    if i == 40 {
                        panic!("task 40");
                    }
                })
            })
        });
        pool::set_num_threads(0);
        assert!(r.is_err());
    }
}
