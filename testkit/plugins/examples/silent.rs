//! A library that accepts every call and never answers. It counts the
//! cancellations it receives (`silent_cancelled`), so a test can see that the
//! host cancels a call it gave up on.

use hetsync_plugin_sdk::abi::{ByteView, DoneFn};
use std::ffi::c_void;
use std::sync::atomic::{AtomicU64, Ordering};

static NEXT: AtomicU64 = AtomicU64::new(1);
static CANCELLED: AtomicU64 = AtomicU64::new(0);

/// How many calls the host cancelled.
#[no_mangle]
pub extern "C" fn silent_cancelled() -> u64 {
    CANCELLED.load(Ordering::SeqCst)
}

unsafe extern "C" fn submit(_request: ByteView, _done: DoneFn, _ctx: *mut c_void) -> u64 {
    NEXT.fetch_add(1, Ordering::SeqCst)
}

unsafe extern "C" fn cancel(_call: u64) {
    CANCELLED.fetch_add(1, Ordering::SeqCst);
}

hetsync_test_plugins::hand_written_plugin!("silent", submit, cancel);
