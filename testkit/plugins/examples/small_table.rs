//! A library whose function table is shorter than the ABI's.

use hetsync_plugin_sdk::abi::{HostVTable, OwnedBuffer, PluginVTable, Status, ABI_MAJOR};

/// ABI 1, as expected.
#[no_mangle]
pub extern "C" fn hetsync_abi_major() -> u32 {
    ABI_MAJOR
}

/// Claims a table of two words.
///
/// # Safety
/// As `hetsync_plugin_sdk::abi::InitFn`.
#[no_mangle]
pub unsafe extern "C" fn hetsync_plugin_init(
    _host: *const HostVTable,
    _threads: u32,
    out: *mut PluginVTable,
    _out_size: usize,
    _error: *mut OwnedBuffer,
) -> Status {
    (*out).struct_size = 2 * std::mem::size_of::<usize>();
    Status::OK
}
