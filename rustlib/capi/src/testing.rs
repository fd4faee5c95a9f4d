//! Test-only exports (feature `testing`): prove that panics come back as status.

use crate::boundary::guard;
use crate::status::FkStatus;

/// Panics on purpose: `where_ == 0` on the calling thread, `1` inside a worker
/// of the library's thread pool. Must return `FK_ERR_PANIC`, never abort.
#[no_mangle]
pub extern "C" fn fk_test_panic(where_: i32) -> FkStatus {
    guard(|| {
        if where_ == 1 {
            ferrokit_core::pool::install(|| {
                panic!("fk_test_panic: deliberate panic in a pool worker")
            });
        }
        panic!("fk_test_panic: deliberate panic on the calling thread");
    })
}
