//! A plugin as the first ABI-1 SDK made it: its function table ends after
//! `cancel` (no `stats`), and its manifest holds only the flat fields of one
//! adapter (no `adapters` list). Behind that old face, today's SDK serves
//! SQLite files as adapter `old_sqlite`, so a test can see an older plugin
//! load, connect and work in a newer host, which must treat what the old
//! table lacks as absent.

use hetsync_core::adapter::{AdapterFactory, Capabilities};
use hetsync_plugin_sdk::abi::{
    ByteView, CancelFn, HostVTable, OwnedBuffer, PluginVTable, Status, SubmitFn, Table, ABI_MAJOR,
};
use hetsync_plugin_sdk::export::{init, SDK_VERSION};
use hetsync_plugin_sdk::wire::{encode, PanicStrategy};
use hetsync_test_plugins::Profile;
use serde::Serialize;
use std::sync::OnceLock;

/// The ABI-1 function table as first published.
#[repr(C)]
struct PluginVTableV1 {
    struct_size: usize,
    manifest: ByteView,
    submit: Option<SubmitFn>,
    cancel: Option<CancelFn>,
}

/// The manifest as first published: one adapter.
#[derive(Serialize)]
struct ManifestV1 {
    adapter: &'static str,
    adapter_version: &'static str,
    sdk_version: &'static str,
    abi_major: u32,
    capabilities: Capabilities,
    panic_strategy: PanicStrategy,
    default_type_rules: String,
}

const ADAPTER: Profile = Profile("old_sqlite");

static MANIFEST: OnceLock<Vec<u8>> = OnceLock::new();

fn factories() -> Vec<Box<dyn AdapterFactory>> {
    vec![Box::new(ADAPTER)]
}

/// ABI 1, as expected.
#[no_mangle]
pub extern "C" fn hetsync_abi_major() -> u32 {
    ABI_MAJOR
}

/// Starts today's SDK, then shows the host the old table and manifest.
///
/// # Safety
/// As `hetsync_plugin_sdk::abi::InitFn`.
#[no_mangle]
pub unsafe extern "C" fn hetsync_plugin_init(
    host: *const HostVTable,
    threads: u32,
    out: *mut PluginVTable,
    out_size: usize,
    error: *mut OwnedBuffer,
) -> Status {
    if out.is_null() || out_size < std::mem::size_of::<PluginVTableV1>() {
        return Status::ERROR;
    }
    let mut today = PluginVTable::ABSENT;
    let status = init(
        host,
        threads,
        &mut today,
        std::mem::size_of::<PluginVTable>(),
        error,
        factories,
        PanicStrategy::Unwind,
    );
    if status != Status::OK {
        return status;
    }
    let manifest = MANIFEST.get_or_init(|| {
        encode(&ManifestV1 {
            adapter: ADAPTER.name(),
            adapter_version: ADAPTER.version(),
            sdk_version: SDK_VERSION,
            abi_major: ABI_MAJOR,
            capabilities: ADAPTER.capabilities(),
            panic_strategy: PanicStrategy::Unwind,
            default_type_rules: ADAPTER.default_type_rules().to_string(),
        })
    });
    out.cast::<PluginVTableV1>().write(PluginVTableV1 {
        struct_size: std::mem::size_of::<PluginVTableV1>(),
        manifest: ByteView::of(manifest),
        submit: today.submit,
        cancel: today.cancel,
    });
    Status::OK
}
