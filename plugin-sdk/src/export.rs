//! The plugin side: what [`crate::export_adapter!`] expands to. It turns
//! ordinary [`AdapterFactory`]s into the two entry points, runs every call on
//! the plugin's own tokio runtime, catches every panic, and forwards the
//! plugin's `tracing` events to the host.

use crate::abi::{
    read_table, write_table, ByteView, DoneFn, HostVTable, OwnedBuffer, PluginVTable, SendPtr,
    Status,
};
use crate::log_forward::ForwardLayer;
use crate::serve::Server;
use crate::wire::{encode, AdapterManifest, Manifest, PanicStrategy, PluginStats};
use futures_util::FutureExt;
use hetsync_core::adapter::AdapterFactory;
use std::collections::HashMap;
use std::ffi::c_void;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use tokio::sync::oneshot;

/// The version of this SDK, written into every manifest.
pub const SDK_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Everything one loaded plugin holds for the life of the process.
struct Plugin {
    runtime: tokio::runtime::Runtime,
    server: Arc<Server>,
    manifest: Vec<u8>,
    /// Running calls and the senders that cancel them.
    calls: Mutex<HashMap<u64, oneshot::Sender<()>>>,
    next_call: AtomicU64,
}

static PLUGIN: OnceLock<Plugin> = OnceLock::new();

/// Writes a message into the host's error slot.
unsafe fn set_error(error: *mut OwnedBuffer, message: String) {
    if !error.is_null() {
        error.write(OwnedBuffer::from_vec(message.into_bytes()));
    }
}

/// The message of a caught panic.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".into())
}

/// Stage two, called by the `hetsync_plugin_init` that
/// [`crate::export_adapter!`] defines. `factories` makes the adapters the
/// library offers (at least one; the first is the default).
///
/// Reads only `min(ours, theirs)` bytes of the host's table and writes only
/// `min(ours, out_size)` bytes of its own, so hosts with older or newer
/// tables load it.
///
/// # Safety
/// The pointers must be as [`crate::abi::InitFn`] documents.
pub unsafe fn init(
    host: *const HostVTable,
    runtime_threads: u32,
    out: *mut PluginVTable,
    out_size: usize,
    error: *mut OwnedBuffer,
    factories: fn() -> Vec<Box<dyn AdapterFactory>>,
    panic_strategy: PanicStrategy,
) -> Status {
    let result = catch_unwind(AssertUnwindSafe(|| {
        if out.is_null() || out_size < PluginVTable::V1_SIZE {
            return Err(format!(
                "the host's function table is {out_size} bytes; ABI 1 tables are at least {}",
                PluginVTable::V1_SIZE
            ));
        }
        if let Some(host) = read_table(host) {
            if let Some(log) = host.log {
                ForwardLayer::install(log, host.max_log_level);
            }
        }
        let plugin = match PLUGIN.get() {
            Some(plugin) => plugin,
            None => {
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(runtime_threads.max(1) as usize)
                    .thread_name("hetsync-plugin")
                    .enable_all()
                    .build()
                    .map_err(|e| format!("cannot start the plugin's runtime: {e}"))?;
                let factories = factories();
                if factories.is_empty() {
                    return Err("the plugin offers no adapter".into());
                }
                let offered = factories
                    .iter()
                    .map(|f| AdapterManifest {
                        name: f.name().to_string(),
                        version: f.version().to_string(),
                        capabilities: f.capabilities(),
                        default_type_rules: f.default_type_rules().to_string(),
                    })
                    .collect();
                let manifest = encode(&Manifest::new(offered, panic_strategy));
                let _ = PLUGIN.set(Plugin {
                    runtime,
                    server: Arc::new(Server::new(factories)),
                    manifest,
                    calls: Mutex::new(HashMap::new()),
                    next_call: AtomicU64::new(1),
                });
                PLUGIN.get().expect("just set")
            }
        };
        let table = PluginVTable {
            struct_size: std::mem::size_of::<PluginVTable>(),
            manifest: ByteView::of(&plugin.manifest),
            submit: Some(submit),
            cancel: Some(cancel),
            stats: Some(stats),
        };
        write_table(&table, out, out_size);
        Ok(())
    }));
    match result {
        Ok(Ok(())) => Status::OK,
        Ok(Err(message)) => {
            set_error(error, message);
            Status::ERROR
        }
        Err(panic) => {
            set_error(error, format!("init panicked: {}", panic_message(&*panic)));
            Status::PANIC
        }
    }
}

unsafe extern "C" fn stats(out: *mut OwnedBuffer) -> Status {
    let answered = catch_unwind(|| {
        let Some(plugin) = PLUGIN.get() else {
            return Status::ERROR;
        };
        if out.is_null() {
            return Status::ERROR;
        }
        let calls = plugin.calls.lock().unwrap_or_else(|e| e.into_inner()).len();
        let stats = PluginStats {
            calls: calls as u64,
            ..plugin.server.stats()
        };
        // SAFETY: the host passes a writable slot for one buffer.
        unsafe { out.write(OwnedBuffer::from_vec(encode(&stats))) };
        Status::OK
    });
    answered.unwrap_or(Status::PANIC)
}

unsafe extern "C" fn submit(request: ByteView, done: DoneFn, ctx: *mut c_void) -> u64 {
    let started = catch_unwind(AssertUnwindSafe(|| {
        let Some(plugin) = PLUGIN.get() else {
            return 0;
        };
        let request = request.as_slice().to_vec();
        let id = plugin.next_call.fetch_add(1, Ordering::Relaxed);
        let (cancel_tx, cancel_rx) = oneshot::channel();
        plugin
            .calls
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id, cancel_tx);
        let ctx = SendPtr(ctx);
        let server = plugin.server.clone();
        plugin.runtime.spawn(async move {
            let work = AssertUnwindSafe(server.handle(request)).catch_unwind();
            let (status, payload) = tokio::select! {
                outcome = work => match outcome {
                    Ok(answer) => answer,
                    Err(panic) => (Status::PANIC, panic_message(&*panic).into_bytes()),
                },
                _ = cancel_rx => (Status::CANCELLED, Vec::new()),
            };
            if let Some(plugin) = PLUGIN.get() {
                plugin
                    .calls
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .remove(&id);
            }
            let ctx = ctx;
            // SAFETY: `done` and `ctx` came from the host with this call,
            // which the ABI lets us complete exactly once, from any thread.
            unsafe { done(ctx.0, id, status, OwnedBuffer::from_vec(payload)) };
        });
        id
    }));
    started.unwrap_or(0)
}

unsafe extern "C" fn cancel(call: u64) {
    let _ = catch_unwind(|| {
        if let Some(plugin) = PLUGIN.get() {
            let sender = plugin
                .calls
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&call);
            if let Some(sender) = sender {
                let _ = sender.send(());
            }
        }
    });
}

/// Exports adapters as a plugin: defines `hetsync_abi_major` and
/// `hetsync_plugin_init`. Each argument is an expression that makes an
/// adapter factory; a library usually offers one:
///
/// ```ignore
/// hetsync_plugin_sdk::export_adapter!(MyAdapter);
/// ```
///
/// and may offer several (profiles of one driver), the first being the
/// default for a host that names none:
///
/// ```ignore
/// hetsync_plugin_sdk::export_adapter!(Odbc::generic(), Odbc::kingbase(), Odbc::dameng());
/// ```
///
/// Use it once, in a `cdylib` crate of its own (or behind a cargo feature):
/// two plugins' entry points cannot be linked into one binary.
#[macro_export]
macro_rules! export_adapter {
    ($($factory:expr),+ $(,)?) => {
        /// Stage one of loading: the ABI major version this plugin speaks.
        #[no_mangle]
        pub extern "C" fn hetsync_abi_major() -> u32 {
            $crate::abi::ABI_MAJOR
        }

        /// Stage two of loading: fills the plugin's function table.
        ///
        /// # Safety
        /// Called by the hetsync host as `hetsync_plugin_sdk::abi::InitFn` documents.
        #[no_mangle]
        pub unsafe extern "C" fn hetsync_plugin_init(
            host: *const $crate::abi::HostVTable,
            runtime_threads: u32,
            out: *mut $crate::abi::PluginVTable,
            out_size: usize,
            error: *mut $crate::abi::OwnedBuffer,
        ) -> $crate::abi::Status {
            fn factories() -> ::std::vec::Vec<::std::boxed::Box<dyn $crate::AdapterFactory>> {
                ::std::vec![$(
                    ::std::boxed::Box::new($factory) as ::std::boxed::Box<dyn $crate::AdapterFactory>
                ),+]
            }
            let strategy = if cfg!(panic = "unwind") {
                $crate::wire::PanicStrategy::Unwind
            } else {
                $crate::wire::PanicStrategy::Abort
            };
            $crate::export::init(
                host,
                runtime_threads,
                out,
                out_size,
                error,
                factories,
                strategy,
            )
        }
    };
}
