//! Fork safety of the pool's state lock.
//!
//! A forked child has only the thread that called `fork`. If another thread of
//! the parent held the pool's state lock at that instant (it is taken briefly
//! by every parallel call, and while a pool is being built), the child would
//! inherit it locked and its first parallel call would wait forever. The
//! handlers registered here take the lock before `fork` and release it after,
//! in parent and child, so it is never copied in a locked state.

#[cfg(target_os = "linux")]
use crate::boundary::guard_value;

// The handlers are C callbacks like the exports: they run inside the panic
// boundary too (a panic must not unwind into libc's fork).
#[cfg(target_os = "linux")]
extern "C" fn prepare() {
    guard_value((), ferrokit_core::pool::fork_prepare)
}

#[cfg(target_os = "linux")]
extern "C" fn release() {
    guard_value((), ferrokit_core::pool::fork_release)
}

/// Registers the handlers once, when the library is loaded (an ELF
/// constructor: runs at `dlopen` for the shared library and at program start
/// for the static one), before any thread of ours exists.
#[cfg(target_os = "linux")]
extern "C" fn register_fork_handlers() {
    guard_value((), || {
        // SAFETY: pthread_atfork only records the three function pointers; the
        // handlers are plain `extern "C"` functions that never unwind (each runs
        // in the panic boundary).
        unsafe {
            libc::pthread_atfork(Some(prepare), Some(release), Some(release));
        }
    })
}

#[cfg(target_os = "linux")]
#[used]
#[link_section = ".init_array"]
static REGISTER_FORK_HANDLERS: extern "C" fn() = register_fork_handlers;
