//! Pool helpers run on another CPU than the calling thread: a helper woken on
//! the caller's CPU only takes turns with it (the caller runs tasks too), so
//! with two CPUs the second one would go unused.
//!
//! One test function: the thread count and the back-off switch are global.

use ferrokit_core::simd::cpu;
use ferrokit_core::{pool, sched};
use std::sync::Mutex;
use std::time::Duration;

#[test]
fn helpers_never_run_on_the_callers_cpu() {
    let ids = core_affinity::get_core_ids().unwrap_or_default();
    if ids.len() < 2 || cpu::current().is_none() {
        return; // one CPU, or no way to tell which: nothing to place
    }
    sched::backoff::set_disabled(true);
    pool::set_num_threads(2);
    // Start the pool before the caller pins itself (threads inherit affinity).
    sched::team(1, 0).for_each(4, |_| {});
    // Worker 0 (the one woken first) is pinned to the first CPU; the caller
    // sits on each CPU in turn, so one round puts it on worker 0's CPU.
    for caller in &ids[..2] {
        assert!(core_affinity::set_for_current(*caller));
        let helper_cpus = Mutex::new(Vec::new());
        for _ in 0..20 {
            sched::team(1, 0).for_each(16, |_| {
                // Tasks that sleep give a helper on the caller's CPU its turns.
                std::thread::sleep(Duration::from_micros(200));
                if rayon::current_thread_index().is_some() {
                    helper_cpus.lock().unwrap().push(cpu::current());
                }
            });
        }
        let seen = helper_cpus.into_inner().unwrap();
        assert!(
            !seen.is_empty(),
            "no helper ever ran (caller on CPU {})",
            caller.id
        );
        assert!(
            seen.iter().all(|&c| c != Some(caller.id)),
            "a helper ran on the caller's CPU {}: {seen:?}",
            caller.id
        );
    }
    pool::set_num_threads(0);
    sched::backoff::set_disabled(false);
}
