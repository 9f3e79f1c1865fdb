//! Pieces shared by the plugin libraries in `examples/` (each one a
//! `cdylib`; most fail in their own way, some are of another age or shape;
//! `tests/plugin_failures.rs` and `plugin-sdk/tests/growth.rs` load them).

use async_trait::async_trait;
use hetsync_core::adapter::{AdapterFactory, BulkCopyKind, Capabilities, Node, NodeSpec};
use hetsync_core::{Error, Result};
use hetsync_plugin_sdk::wire::{encode, AdapterManifest, Manifest, PanicStrategy};

/// Capabilities every hand-written test library claims.
pub const CAPABILITIES: Capabilities = Capabilities {
    procedures: false,
    statement_triggers: false,
    merge: false,
    bulk_copy: BulkCopyKind::PreparedStatements,
};

/// A valid manifest for a hand-written library named `adapter`.
pub fn manifest(adapter: &str) -> Vec<u8> {
    encode(&Manifest::new(
        vec![AdapterManifest {
            name: adapter.into(),
            version: "0.0.1".into(),
            capabilities: CAPABILITIES,
            default_type_rules: String::new(),
        }],
        PanicStrategy::Unwind,
    ))
}

/// SQLite files served under another adapter name: a stand-in for one
/// profile of a driver that reaches several databases. It reads one node
/// option, `require_tables` (a list of table names the database must
/// have), and refuses any other, as an adapter with typed options does.
pub struct Profile(pub &'static str);

impl Profile {
    /// Checks the node's options against the connected database.
    async fn check_options(&self, spec: &NodeSpec, node: &dyn Node) -> Result<()> {
        let fail = |message: String| Error::Connect {
            node: spec.name.clone(),
            message,
        };
        for (key, value) in &spec.options {
            if key != "require_tables" {
                return Err(fail(format!(
                    "adapter '{}' has no option '{key}' (given {value})",
                    self.0
                )));
            }
            let tables = node.list_tables().await?;
            let required = value
                .as_array()
                .ok_or_else(|| fail(format!("option 'require_tables' is a list, not {value}")))?;
            for table in required {
                if !tables.iter().any(|t| Some(t.as_str()) == table.as_str()) {
                    return Err(fail(format!("required table {table} is missing")));
                }
            }
        }
        Ok(())
    }
}

#[async_trait]
impl AdapterFactory for Profile {
    fn name(&self) -> &'static str {
        self.0
    }

    fn version(&self) -> &'static str {
        "0.0.1"
    }

    fn capabilities(&self) -> Capabilities {
        hetsync_adapter_sqlite::SqliteAdapter.capabilities()
    }

    fn default_type_rules(&self) -> &str {
        hetsync_adapter_sqlite::types::DEFAULT_TYPE_RULES
    }

    async fn connect(&self, spec: &NodeSpec) -> Result<Box<dyn Node>> {
        let node = hetsync_adapter_sqlite::SqliteAdapter.connect(spec).await?;
        self.check_options(spec, node.as_ref()).await?;
        Ok(node)
    }
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
            out_size: usize,
            _error: *mut ::hetsync_plugin_sdk::abi::OwnedBuffer,
        ) -> ::hetsync_plugin_sdk::abi::Status {
            use ::hetsync_plugin_sdk::abi::{ByteView, PluginVTable, Table};
            let manifest = MANIFEST.get_or_init(|| $crate::manifest($adapter));
            let table = PluginVTable {
                struct_size: ::std::mem::size_of::<PluginVTable>(),
                manifest: ByteView::of(manifest),
                submit: Some($submit),
                cancel: Some($cancel),
                ..PluginVTable::ABSENT
            };
            ::hetsync_plugin_sdk::abi::write_table(&table, out, out_size);
            ::hetsync_plugin_sdk::abi::Status::OK
        }
    };
}
