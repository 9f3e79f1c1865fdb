//! What crosses the boundary, as MessagePack with named fields: the
//! manifest, the requests and their answers. Fields are only ever added,
//! with `#[serde(default)]`, so an older peer still reads a newer message.

use hetsync_core::adapter::Capabilities;
use hetsync_core::change::{ApplyBatch, Watermark};
use hetsync_core::code::CombinedCode;
use hetsync_core::schema::SyncTable;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::path::Path;

/// How the plugin was built to handle panics.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PanicStrategy {
    /// Panics unwind and are caught at the boundary (required).
    Unwind,
    /// Panics abort the whole process, host included (refused at load).
    Abort,
}

/// What a plugin says about itself, read at load before anything is called.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// The adapter name used in `hetsync.toml`'s `adapter` key.
    pub adapter: String,
    /// The adapter's own version.
    pub adapter_version: String,
    /// The version of `hetsync-plugin-sdk` the plugin was built with.
    pub sdk_version: String,
    /// The ABI major version (repeated from stage one, checked again).
    pub abi_major: u32,
    /// What the adapter's databases can do.
    pub capabilities: Capabilities,
    /// The plugin's panic strategy.
    pub panic_strategy: PanicStrategy,
    /// The adapter's default type rules (TOML; empty from plugins built
    /// before rules existed).
    #[serde(default)]
    pub default_type_rules: String,
}

/// A node handle: the plugin's id for a connected node.
pub type NodeId = u64;

/// A lock handle: the plugin's id for a held integration lock.
pub type LockId = u64;

/// One call. Each variant's answer type is named in its doc comment. The
/// host sends borrowed data (no batch is copied to be encoded); the plugin
/// decodes owned data. Externally tagged (`{"apply": {…}}`): an internally
/// tagged enum would be buffered and decoded as if human-readable, which
/// changes how values read.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Request<'a> {
    /// Connects a node. Answer: [`NodeId`].
    Connect {
        /// The node's name in the deployment.
        name: Cow<'a, str>,
        /// Connection URL (may hold a secret).
        url: Cow<'a, str>,
        /// Directory relative paths are resolved against.
        base_dir: Cow<'a, Path>,
    },
    /// Forgets a node and closes its connections. Answer: `()`.
    Close { node: NodeId },
    /// `Capture::install`. Answer: `()`.
    Install {
        node: NodeId,
        tables: Cow<'a, [SyncTable]>,
    },
    /// `Capture::uninstall`. Answer: `()`.
    Uninstall { node: NodeId },
    /// `Capture::is_installed`. Answer: `bool`.
    IsInstalled { node: NodeId },
    /// `Capture::read_changes`. Answer: `ChangeSet`.
    ReadChanges {
        node: NodeId,
        tables: Cow<'a, [SyncTable]>,
        since: Watermark,
        exclude_origin: Option<Cow<'a, str>>,
    },
    /// `Capture::position`. Answer: `Watermark`.
    Position { node: NodeId },
    /// `Capture::count_events`. Answer: `u64`.
    CountEvents {
        node: NodeId,
        since: Watermark,
        exclude_origin: Option<Cow<'a, str>>,
    },
    /// `Capture::peer_watermark`. Answer: `Option<Watermark>`.
    PeerWatermark { node: NodeId, peer: Cow<'a, str> },
    /// `TypeMapping::describe`. Answer: `Option<TableShape>`.
    Describe { node: NodeId, table: Cow<'a, str> },
    /// `TypeMapping::list_tables`. Answer: `Vec<String>`.
    ListTables { node: NodeId },
    /// `Apply::apply`. Answer: `ApplyOutcome`.
    Apply {
        node: NodeId,
        tables: Cow<'a, [SyncTable]>,
        batch: Cow<'a, ApplyBatch>,
    },
    /// `Apply::fetch`. Answer: `Vec<Vec<Value>>`.
    Fetch {
        node: NodeId,
        table: Cow<'a, SyncTable>,
        codes: Cow<'a, [CombinedCode]>,
    },
    /// `Apply::scan`. Answer: `Vec<Vec<Value>>`.
    Scan {
        node: NodeId,
        table: Cow<'a, SyncTable>,
        after: Option<Cow<'a, CombinedCode>>,
        limit: usize,
    },
    /// `Apply::count_rows`. Answer: `u64`.
    CountRows {
        node: NodeId,
        table: Cow<'a, SyncTable>,
    },
    /// `Apply::lock_integration`. Answer: [`LockId`].
    LockIntegration { node: NodeId },
    /// Releases an integration lock. Answer: `()`.
    Unlock { lock: LockId },
}

impl Request<'_> {
    /// The operation's name, for messages.
    pub fn op(&self) -> &'static str {
        match self {
            Request::Connect { .. } => "connect",
            Request::Close { .. } => "close",
            Request::Install { .. } => "install",
            Request::Uninstall { .. } => "uninstall",
            Request::IsInstalled { .. } => "is_installed",
            Request::ReadChanges { .. } => "read_changes",
            Request::Position { .. } => "position",
            Request::CountEvents { .. } => "count_events",
            Request::PeerWatermark { .. } => "peer_watermark",
            Request::Describe { .. } => "describe",
            Request::ListTables { .. } => "list_tables",
            Request::Apply { .. } => "apply",
            Request::Fetch { .. } => "fetch",
            Request::Scan { .. } => "scan",
            Request::CountRows { .. } => "count_rows",
            Request::LockIntegration { .. } => "lock_integration",
            Request::Unlock { .. } => "unlock",
        }
    }
}

/// Encodes a message (named fields).
pub fn encode<T: Serialize + ?Sized>(value: &T) -> Vec<u8> {
    rmp_serde::to_vec_named(value).expect("hetsync messages always encode")
}

/// Decodes a message.
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, rmp_serde::decode::Error> {
    rmp_serde::from_slice(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hetsync_core::adapter::BulkCopyKind;
    use hetsync_core::code::KeyPart;

    #[test]
    fn requests_round_trip() {
        let request = Request::Scan {
            node: 7,
            table: Cow::Owned(SyncTable {
                name: "变电站表".into(),
                columns: vec!["编号".into(), "名称".into()],
                code: vec![0],
                form: hetsync_core::schema::SyncForm::Field,
                conflict: hetsync_core::schema::ConflictPolicy::Latest,
            }),
            after: Some(Cow::Owned(CombinedCode(vec![
                KeyPart::Int(-3),
                KeyPart::Text("x".into()),
            ]))),
            limit: 20_000,
        };
        let back: Request = decode(&encode(&request)).unwrap();
        assert_eq!(encode(&back), encode(&request));
        let Request::Scan { table, after, .. } = back else {
            panic!("wrong variant")
        };
        assert_eq!(table.name, "变电站表");
        assert_eq!(after.unwrap().0[1], KeyPart::Text("x".into()));
    }

    #[test]
    fn values_cross_as_native_msgpack_types_and_keep_their_type() {
        use hetsync_core::value::Value;
        let values = vec![
            Value::Null,
            Value::Bool(false),
            Value::Int(i64::MIN),
            Value::Int(i64::MAX),
            Value::Float(1.0),
            Value::Float(-0.0),
            Value::Float(f64::NAN),
            Value::Text(String::new()),
            Value::Text("it's 😀 变电站".into()),
            Value::Bytes(Vec::new()),
            Value::Bytes(vec![0, 1, 255]),
        ];
        let bytes = encode(&values);
        // array header, nil, false, int64 ×2, float64 ×3, fixstr ×2 (the
        // second one 19 UTF-8 bytes), bin8 ×2: no tags.
        assert_eq!(bytes.len(), 1 + 1 + 1 + 9 + 9 + 9 * 3 + 1 + 20 + 2 + 5);
        let back: Vec<Value> = decode(&bytes).unwrap();
        assert_eq!(back, values, "identical, floats by bit pattern");
    }

    #[test]
    fn an_apply_request_round_trips_with_its_values() {
        use hetsync_core::change::RowOp;
        use hetsync_core::value::Value;
        let batch = ApplyBatch {
            ops: vec![(
                "t".into(),
                vec![RowOp::Upsert {
                    values: vec![Value::Int(1), Value::Float(2.0), Value::Bytes(vec![0])],
                    fields: Some(vec![1]),
                }],
            )],
            tracking: Vec::new(),
            peer: None,
            guard: Some(Watermark(3)),
            fresh: true,
        };
        let request = Request::Apply {
            node: 1,
            tables: Cow::Owned(Vec::new()),
            batch: Cow::Borrowed(&batch),
        };
        let back: Request<'static> = decode(&encode(&request)).unwrap();
        let Request::Apply { batch: got, .. } = back else {
            panic!("wrong variant")
        };
        assert_eq!(got.into_owned(), batch);
    }

    #[test]
    fn a_newer_manifest_with_more_fields_still_reads() {
        #[derive(Serialize)]
        struct Newer {
            adapter: &'static str,
            adapter_version: &'static str,
            sdk_version: &'static str,
            abi_major: u32,
            capabilities: Capabilities,
            panic_strategy: PanicStrategy,
            something_new: u32,
        }
        let bytes = encode(&Newer {
            adapter: "x",
            adapter_version: "1.0.0",
            sdk_version: "0.1.0",
            abi_major: 1,
            capabilities: Capabilities {
                procedures: false,
                statement_triggers: false,
                merge: false,
                bulk_copy: BulkCopyKind::PreparedStatements,
            },
            panic_strategy: PanicStrategy::Unwind,
            something_new: 5,
        });
        let m: Manifest = decode(&bytes).unwrap();
        assert_eq!(m.adapter, "x");
    }
}
