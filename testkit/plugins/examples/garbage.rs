//! A library that answers every call with bytes that are not MessagePack.

use hetsync_plugin_sdk::abi::{ByteView, DoneFn, OwnedBuffer, Status};
use std::ffi::c_void;

unsafe extern "C" fn submit(_request: ByteView, done: DoneFn, ctx: *mut c_void) -> u64 {
    // 0xc1 is never used in MessagePack.
    done(
        ctx,
        1,
        Status::OK,
        OwnedBuffer::from_vec(vec![0xc1, 0xff, 0x00, 0x13]),
    );
    1
}

unsafe extern "C" fn cancel(_call: u64) {}

hetsync_test_plugins::hand_written_plugin!("garbage", submit, cancel);
