//! A library built for another ABI major version.

/// Answers ABI 99.
#[no_mangle]
pub extern "C" fn hetsync_abi_major() -> u32 {
    99
}

/// Must never be called: the host stops at the ABI major.
#[no_mangle]
pub extern "C" fn hetsync_plugin_init() -> i32 {
    std::process::abort()
}
