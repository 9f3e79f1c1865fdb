//! A shared library that is not a hetsync plugin: no `hetsync_abi_major`.

/// Some unrelated export.
#[no_mangle]
pub extern "C" fn hello() -> u32 {
    42
}
