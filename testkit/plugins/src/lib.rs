//! Pieces shared by the broken plugin libraries in `examples/` (each one a
//! `cdylib` that fails in its own way; `tests/plugin_failures.rs` loads them).

use hetsync_core::adapter::{BulkCopyKind, Capabilities};
use hetsync_plugin_sdk::abi::ABI_MAJOR;
use hetsync_plugin_sdk::wire::{encode, Manifest, PanicStrategy};

/// Capabilities every test library claims.
pub const CAPABILITIES: Capabilities = Capabilities {
    procedures: false,
    statement_triggers: false,
    merge: false,
    bulk_copy: BulkCopyKind::PreparedStatements,
};

/// A valid manifest for a hand-written library named `adapter`.
pub fn manifest(adapter: &str) -> Vec<u8> {
    encode(&Manifest {
        adapter: adapter.into(),
        adapter_version: "0.0.1".into(),
        sdk_version: hetsync_plugin_sdk::export::SDK_VERSION.into(),
        abi_major: ABI_MAJOR,
        capabilities: CAPABILITIES,
        panic_strategy: PanicStrategy::Unwind,
        default_type_rules: String::new(),
    })
}

/// Defines the two entry points of a hand-written library (no SDK server):
/// ABI 1, a valid manifest naming `$adapter`, and the given `submit` and
/// `cancel` functions.
#[macro_export]
macro_rules! hand_written_plugin {
    ($adapter:literal, $submit:path, $cancel:path) => {
        static MANIFEST: ::std::sync::OnceLock<Vec<u8>> = ::std::sync::OnceLock::new();

        /// ABI 1, as expected.
        #[no_mangle]
        pub extern "C" fn hetsync_abi_major() -> u32 {
            ::hetsync_plugin_sdk::abi::ABI_MAJOR
        }

        /// A valid table and manifest.
        ///
        /// # Safety
        /// As `hetsync_plugin_sdk::abi::InitFn`.
        #[no_mangle]
        pub unsafe extern "C" fn hetsync_plugin_init(
            _host: *const ::hetsync_plugin_sdk::abi::HostVTable,
            _threads: u32,
            out: *mut ::hetsync_plugin_sdk::abi::PluginVTable,
            _out_size: usize,
            _error: *mut ::hetsync_plugin_sdk::abi::OwnedBuffer,
        ) -> ::hetsync_plugin_sdk::abi::Status {
            let manifest = MANIFEST.get_or_init(|| $crate::manifest($adapter));
            out.write(::hetsync_plugin_sdk::abi::PluginVTable {
                struct_size: ::std::mem::size_of::<::hetsync_plugin_sdk::abi::PluginVTable>(),
                manifest: ::hetsync_plugin_sdk::abi::ByteView::of(manifest),
                submit: Some($submit),
                cancel: Some($cancel),
            });
            ::hetsync_plugin_sdk::abi::Status::OK
        }
    };
}
