//! The host side of loading: opens a library, checks it in order (entry
//! symbol, ABI major, init, function table size, manifest, SDK version,
//! panic strategy) and keeps it loaded for the life of the process.

use crate::abi::{
    read_table, AbiMajorFn, ByteView, CancelFn, HostVTable, InitFn, OwnedBuffer, PluginVTable,
    StatsFn, Status, SubmitFn, Table, ABI_MAJOR, ABI_MAJOR_SYMBOL, INIT_SYMBOL,
};
use crate::export::SDK_VERSION;
use crate::log_forward::level_number;
use crate::wire::{decode, AdapterManifest, Manifest, PanicStrategy};
use std::panic::catch_unwind;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How plugins are loaded and called.
#[derive(Clone, Debug)]
pub struct LoadOptions {
    /// Worker threads of the runtime each plugin starts for itself.
    pub runtime_threads: u32,
    /// How long a call may take before the host cancels it.
    pub call_timeout: Duration,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            runtime_threads: 2,
            call_timeout: Duration::from_secs(30 * 60),
        }
    }
}

/// Why a library was refused.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    /// The dynamic loader could not open it.
    #[error("cannot be opened as a shared library: {0}")]
    NotALibrary(String),
    /// It has no stage-one entry point.
    #[error("is not a hetsync plugin: it exports no `{ABI_MAJOR_SYMBOL}` symbol")]
    NotAPlugin,
    /// It speaks another ABI major version (`AbiMismatch`).
    #[error("AbiMismatch: built for plugin ABI {found}, this hetsync speaks ABI {ABI_MAJOR}; rebuild it against hetsync-plugin-sdk {SDK_VERSION}")]
    AbiMismatch {
        /// What the library returned.
        found: u32,
    },
    /// It has no stage-two entry point.
    #[error("exports `{ABI_MAJOR_SYMBOL}` but not `{INIT_SYMBOL}`")]
    NoInit,
    /// Its init returned an error.
    #[error("its `{INIT_SYMBOL}` failed (status {status}): {message}")]
    InitFailed {
        /// The status returned.
        status: i32,
        /// The plugin's message.
        message: String,
    },
    /// Its function table is shorter than the first table of this ABI.
    #[error("its function table is {found} bytes; ABI {ABI_MAJOR} needs at least {needed}")]
    TableTooSmall {
        /// The table's `struct_size`.
        found: usize,
        /// [`PluginVTable::V1_SIZE`].
        needed: usize,
    },
    /// A required function pointer is null.
    #[error("its function table has no `{0}` function")]
    MissingFunction(&'static str),
    /// The manifest cannot be read or says something impossible.
    #[error("its manifest is unreadable: {0}")]
    BadManifest(String),
    /// Built with an SDK this host cannot load.
    #[error("built with hetsync-plugin-sdk {found}, which this hetsync (SDK {SDK_VERSION}) cannot load: {why}")]
    SdkMismatch {
        /// The plugin's SDK version.
        found: String,
        /// Why it does not fit.
        why: String,
    },
    /// Built with `panic = "abort"`.
    #[error("built with panic = \"abort\": a panic in it would kill hetsync; build it with panic = \"unwind\"")]
    PanicAbort,
    /// Another adapter already has its name.
    #[error("adapter '{name}' is already provided by {by}")]
    Duplicate {
        /// The adapter name.
        name: String,
        /// The built-in or the other library.
        by: String,
    },
}

/// A refused library and why.
#[derive(Debug, thiserror::Error)]
#[error("plugin {}: {reason}", path.display())]
pub struct LoadError {
    /// The library file.
    pub path: PathBuf,
    /// Why it was refused.
    pub reason: Refusal,
}

/// A loaded, checked plugin library.
#[derive(Debug)]
pub struct PluginLibrary {
    /// The library file.
    pub path: PathBuf,
    /// What it says about itself.
    pub manifest: Manifest,
    /// The adapters it offers ([`Manifest::offered`]), the default first.
    pub adapters: Vec<AdapterManifest>,
    /// The size of its function table as it declared it.
    pub table_size: usize,
    pub(crate) submit: SubmitFn,
    pub(crate) cancel: CancelFn,
    /// Absent from tables older than the function.
    pub(crate) stats: Option<StatsFn>,
    pub(crate) call_timeout: Duration,
}

/// The host's log sink for plugins: events arrive under the target
/// `hetsync::plugin` with the plugin's own target as a field.
unsafe extern "C" fn host_log(level: u32, target: ByteView, message: ByteView) {
    let _ = catch_unwind(|| {
        // SAFETY: the plugin lends both views for the duration of this call.
        let (target, message) = unsafe {
            (
                String::from_utf8_lossy(target.as_slice()),
                String::from_utf8_lossy(message.as_slice()),
            )
        };
        match level {
            1 => tracing::error!(target: "hetsync::plugin", plugin_target = %target, "{message}"),
            2 => tracing::warn!(target: "hetsync::plugin", plugin_target = %target, "{message}"),
            3 => tracing::info!(target: "hetsync::plugin", plugin_target = %target, "{message}"),
            4 => tracing::debug!(target: "hetsync::plugin", plugin_target = %target, "{message}"),
            _ => tracing::trace!(target: "hetsync::plugin", plugin_target = %target, "{message}"),
        }
    });
}

fn host_vtable() -> HostVTable {
    let max_log_level = tracing::level_filters::LevelFilter::current()
        .into_level()
        .map(|l| level_number(&l))
        .unwrap_or(0);
    HostVTable {
        struct_size: std::mem::size_of::<HostVTable>(),
        log: Some(host_log),
        max_log_level,
    }
}

/// The path to open `path` as: the dynamic loader searches its library path
/// for a bare file name (`libx.so`), so a name without a directory is made
/// relative to the working directory (`./libx.so`), as every other path is.
fn as_file(path: &Path) -> PathBuf {
    let bare = path.parent().is_some_and(|p| p.as_os_str().is_empty());
    if bare {
        Path::new(".").join(path)
    } else {
        path.to_path_buf()
    }
}

/// Whether a plugin built with SDK `plugin` can be loaded by SDK `host`:
/// the same major version (the same minor while the major is 0), and the
/// plugin no newer than the host.
fn sdk_fits(plugin: &str, host: &str) -> Result<(), String> {
    let req = semver::VersionReq::parse(&format!("^{plugin}"))
        .map_err(|e| format!("'{plugin}' is not a version: {e}"))?;
    let host = semver::Version::parse(host).expect("the SDK's own version parses");
    if req.matches(&host) {
        Ok(())
    } else {
        Err(format!(
            "hetsync needs a plugin built with a version compatible with {host} and not newer"
        ))
    }
}

impl PluginLibrary {
    /// Loads and checks one library. The library stays loaded for the life
    /// of the process, whether it is accepted or not (unloading a library
    /// whose threads or destructors may still run is never safe).
    pub fn load(path: &Path, options: &LoadOptions) -> Result<PluginLibrary, LoadError> {
        let refuse = |reason| LoadError {
            path: path.to_path_buf(),
            reason,
        };
        // SAFETY: opening a library runs its initializers; that is the
        // operator's trust decision in putting it in the plugin directory.
        let library = unsafe { libloading::Library::new(as_file(path)) }
            .map_err(|e| refuse(Refusal::NotALibrary(e.to_string())))?;
        let library: &'static libloading::Library = Box::leak(Box::new(library));
        // SAFETY: the symbol's type is fixed by the ABI; nothing else is read
        // before its answer is checked.
        let major = unsafe {
            let f = library
                .get::<AbiMajorFn>(ABI_MAJOR_SYMBOL.as_bytes())
                .map_err(|_| refuse(Refusal::NotAPlugin))?;
            f()
        };
        if major != ABI_MAJOR {
            return Err(refuse(Refusal::AbiMismatch { found: major }));
        }
        // SAFETY: ABI major 1 fixes the init signature.
        let init = unsafe { library.get::<InitFn>(INIT_SYMBOL.as_bytes()) }
            .map_err(|_| refuse(Refusal::NoInit))?;
        let host = host_vtable();
        let mut filled = PluginVTable::ABSENT;
        let mut error = OwnedBuffer::EMPTY;
        // SAFETY: all pointers are valid for the call; the plugin fills at
        // most `size_of::<PluginVTable>()` bytes of `filled`.
        let status = unsafe {
            init(
                &host,
                options.runtime_threads,
                &mut filled,
                std::mem::size_of::<PluginVTable>(),
                &mut error,
            )
        };
        // SAFETY: the error buffer is either untouched (empty) or handed over.
        let message = String::from_utf8_lossy(&unsafe { error.take() }).into_owned();
        if status != Status::OK {
            return Err(refuse(Refusal::InitFailed {
                status: status.0,
                message,
            }));
        }
        // SAFETY: `filled` is ours and whole; only the first
        // `min(ours, struct_size)` bytes are kept, the rest stay absent.
        let table = unsafe { read_table(&filled) }.expect("not null");
        if table.struct_size < PluginVTable::V1_SIZE {
            return Err(refuse(Refusal::TableTooSmall {
                found: table.struct_size,
                needed: PluginVTable::V1_SIZE,
            }));
        }
        let submit = table
            .submit
            .ok_or_else(|| refuse(Refusal::MissingFunction("submit")))?;
        let cancel = table
            .cancel
            .ok_or_else(|| refuse(Refusal::MissingFunction("cancel")))?;
        // SAFETY: the manifest lives as long as the (never unloaded) library.
        let manifest: Manifest = decode(unsafe { table.manifest.as_slice() })
            .map_err(|e| refuse(Refusal::BadManifest(e.to_string())))?;
        if manifest.abi_major != ABI_MAJOR {
            return Err(refuse(Refusal::BadManifest(format!(
                "it names ABI {} but answered {ABI_MAJOR} at stage one",
                manifest.abi_major
            ))));
        }
        let adapters = manifest.offered();
        check_offered(&manifest, &adapters).map_err(|why| refuse(Refusal::BadManifest(why)))?;
        sdk_fits(&manifest.sdk_version, SDK_VERSION).map_err(|why| {
            refuse(Refusal::SdkMismatch {
                found: manifest.sdk_version.clone(),
                why,
            })
        })?;
        if manifest.panic_strategy != PanicStrategy::Unwind {
            return Err(refuse(Refusal::PanicAbort));
        }
        Ok(PluginLibrary {
            path: path.to_path_buf(),
            manifest,
            adapters,
            table_size: table.struct_size,
            submit,
            cancel,
            stats: table.stats,
            call_timeout: options.call_timeout,
        })
    }
}

/// Whether the adapters a manifest offers can be registered: each named,
/// no name twice, and the first one repeated in the flat fields.
fn check_offered(manifest: &Manifest, adapters: &[AdapterManifest]) -> Result<(), String> {
    for (i, adapter) in adapters.iter().enumerate() {
        if adapter.name.trim().is_empty() {
            return Err("an adapter name is empty".into());
        }
        if adapters[..i].iter().any(|a| a.name == adapter.name) {
            return Err(format!("it offers adapter '{}' twice", adapter.name));
        }
    }
    if adapters[0].name != manifest.adapter {
        return Err(format!(
            "its first adapter is '{}' but its flat fields name '{}'",
            adapters[0].name, manifest.adapter
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{as_file, sdk_fits};
    use std::path::Path;

    #[test]
    fn a_bare_file_name_is_opened_in_the_working_directory() {
        assert_eq!(as_file(Path::new("libx.so")), Path::new("./libx.so"));
        assert_eq!(as_file(Path::new("lib/libx.so")), Path::new("lib/libx.so"));
        assert_eq!(
            as_file(Path::new("/opt/libx.so")),
            Path::new("/opt/libx.so")
        );
        assert_eq!(as_file(Path::new("./libx.so")), Path::new("./libx.so"));
    }

    #[test]
    fn sdk_versions_follow_semver() {
        assert!(sdk_fits("0.1.0", "0.1.3").is_ok());
        assert!(sdk_fits("0.1.3", "0.1.0").is_err(), "a newer plugin SDK");
        assert!(sdk_fits("0.2.0", "0.1.0").is_err());
        assert!(sdk_fits("1.2.0", "1.4.1").is_ok());
        assert!(sdk_fits("2.0.0", "1.4.1").is_err());
        assert!(sdk_fits("banana", "1.0.0").is_err());
    }
}
