//! A library that answers every call `UNSUPPORTED`, as a plugin built
//! before an operation existed answers that operation.

use hetsync_plugin_sdk::abi::{ByteView, DoneFn, OwnedBuffer, Status};
use std::ffi::c_void;

unsafe extern "C" fn submit(_request: ByteView, done: DoneFn, ctx: *mut c_void) -> u64 {
    let message = b"unknown operation (built long ago)".to_vec();
    done(ctx, 1, Status::UNSUPPORTED, OwnedBuffer::from_vec(message));
    1
}

unsafe extern "C" fn cancel(_call: u64) {}

hetsync_test_plugins::hand_written_plugin!("unsupporting", submit, cancel);
