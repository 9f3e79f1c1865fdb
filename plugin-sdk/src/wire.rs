//! What crosses the boundary, as MessagePack with named fields: the
//! manifest, the requests and their answers. Fields are only ever added,
//! with `#[serde(default)]`, so an older peer still reads a newer message
//! (and ignores the fields it does not know). A request whose operation the
//! plugin does not know is answered [`crate::abi::Status::UNSUPPORTED`].

use hetsync_core::adapter::Capabilities;
use hetsync_core::change::{ApplyBatch, Watermark};
use hetsync_core::code::CombinedCode;
use hetsync_core::schema::SyncTable;
use hetsync_core::types::CanonicalType;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::BTreeMap;
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

/// One adapter a plugin offers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdapterManifest {
    /// The adapter name used in `hetsync.toml`'s `adapter` key.
    pub name: String,
    /// The adapter's own version.
    pub version: String,
    /// What the adapter's databases can do.
    pub capabilities: Capabilities,
    /// The adapter's default type rules (TOML).
    #[serde(default)]
    pub default_type_rules: String,
}

/// What a plugin says about itself, read at load before anything is called.
///
/// A library may offer several adapters (`adapters`; one ODBC library
/// offering `odbc`, `kingbase` and `dameng`). The first of them is repeated
/// in the flat fields `adapter` … `default_type_rules`, which is all a
/// plugin built before `adapters` existed writes, and all a host of that
/// time reads.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// The first adapter's name.
    pub adapter: String,
    /// The first adapter's version.
    pub adapter_version: String,
    /// The version of `hetsync-plugin-sdk` the plugin was built with.
    pub sdk_version: String,
    /// The ABI major version (repeated from stage one, checked again).
    pub abi_major: u32,
    /// What the first adapter's databases can do.
    pub capabilities: Capabilities,
    /// The plugin's panic strategy.
    pub panic_strategy: PanicStrategy,
    /// The first adapter's default type rules (TOML; empty from plugins
    /// built before rules existed).
    #[serde(default)]
    pub default_type_rules: String,
    /// Every adapter the library offers, the first one first (empty from
    /// plugins built before multi-adapter manifests: see
    /// [`Manifest::offered`]).
    #[serde(default)]
    pub adapters: Vec<AdapterManifest>,
}

impl Manifest {
    /// The manifest of a library offering `adapters` (at least one).
    pub fn new(adapters: Vec<AdapterManifest>, panic_strategy: PanicStrategy) -> Manifest {
        let first = adapters
            .first()
            .expect("a plugin offers at least one adapter")
            .clone();
        Manifest {
            adapter: first.name,
            adapter_version: first.version,
            sdk_version: crate::export::SDK_VERSION.to_string(),
            abi_major: crate::abi::ABI_MAJOR,
            capabilities: first.capabilities,
            panic_strategy,
            default_type_rules: first.default_type_rules,
            adapters,
        }
    }

    /// The adapters offered: `adapters`, or for an older plugin's manifest
    /// the one adapter of the flat fields.
    pub fn offered(&self) -> Vec<AdapterManifest> {
        if !self.adapters.is_empty() {
            return self.adapters.clone();
        }
        vec![AdapterManifest {
            name: self.adapter.clone(),
            version: self.adapter_version.clone(),
            capabilities: self.capabilities,
            default_type_rules: self.default_type_rules.clone(),
        }]
    }
}

/// What a plugin holds right now (the answer of
/// [`crate::abi::PluginVTable::stats`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PluginStats {
    /// Connected nodes not yet closed.
    #[serde(default)]
    pub nodes: u64,
    /// Integration locks held.
    #[serde(default)]
    pub locks: u64,
    /// Calls started and not yet answered.
    #[serde(default)]
    pub calls: u64,
}

/// Adapter-specific node options (`[node.options]`), sent as MessagePack's
/// own types: a number as an integer or a float (a number neither holds
/// exactly as its decimal text), never as `serde_json`'s internal form.
mod options {
    use serde::ser::{SerializeMap, SerializeSeq};
    use serde::{Serialize, Serializer};
    use serde_json::Value;
    use std::collections::BTreeMap;

    struct Plain<'a>(&'a Value);

    impl Serialize for Plain<'_> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            match self.0 {
                Value::Null => s.serialize_unit(),
                Value::Bool(b) => s.serialize_bool(*b),
                Value::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
                    (Some(i), _, _) => s.serialize_i64(i),
                    (None, Some(u), _) => s.serialize_u64(u),
                    (None, None, Some(f)) => s.serialize_f64(f),
                    (None, None, None) => s.serialize_str(&n.to_string()),
                },
                Value::String(text) => s.serialize_str(text),
                Value::Array(items) => {
                    let mut seq = s.serialize_seq(Some(items.len()))?;
                    for item in items {
                        seq.serialize_element(&Plain(item))?;
                    }
                    seq.end()
                }
                Value::Object(fields) => map(fields.iter(), fields.len(), s),
            }
        }
    }

    fn map<'a, S: Serializer>(
        fields: impl Iterator<Item = (&'a String, &'a Value)>,
        len: usize,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        let mut out = s.serialize_map(Some(len))?;
        for (key, value) in fields {
            out.serialize_entry(key, &Plain(value))?;
        }
        out.end()
    }

    /// `serialize_with` for the options map (borrowed or owned).
    pub fn serialize<S, M>(options: &M, s: S) -> Result<S::Ok, S::Error>
    where
        S: Serializer,
        M: std::ops::Deref<Target = BTreeMap<String, Value>>,
    {
        map(options.iter(), options.len(), s)
    }
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
        /// Which of the library's adapters connects it (absent from older
        /// hosts: the first one).
        #[serde(default)]
        adapter: Option<Cow<'a, str>>,
        /// The node's adapter-specific options (`[node.options]`; absent
        /// from older hosts: none).
        #[serde(default, serialize_with = "options::serialize")]
        options: Cow<'a, BTreeMap<String, serde_json::Value>>,
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
    /// `Capture::read_changes` (the range's fields inline). Answer: `ChangeSet`.
    ReadChanges {
        node: NodeId,
        tables: Cow<'a, [SyncTable]>,
        since: Watermark,
        exclude_origin: Option<Cow<'a, str>>,
        /// Added with bounded reads: a plugin from before reads everything.
        #[serde(default)]
        until: Option<Watermark>,
        /// Added with bounded reads.
        #[serde(default)]
        limit: Option<u64>,
        /// Added with the standby hub: a plugin from before reads the
        /// changes it integrated too (the engine then refuses the node as
        /// a standby).
        #[serde(default)]
        only_local: bool,
    },
    /// `Capture::position`. Answer: `Watermark`.
    Position { node: NodeId },
    /// `Capture::committed_position` (added with the standby hub; a plugin
    /// from before answers unsupported, and its position is taken).
    /// Answer: `Watermark`.
    CommittedPosition { node: NodeId },
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
    /// `Capture::pending_conflicts`. Answer: `Vec<Conflict>`.
    PendingConflicts { node: NodeId },
    /// `Capture::forget_conflicts`. Answer: `()`.
    ForgetConflicts {
        node: NodeId,
        uids: Cow<'a, [String]>,
    },
    /// `Capture::synced_tables`. Answer: `Option<Vec<String>>`.
    SyncedTables { node: NodeId, peer: Cow<'a, str> },
    /// `Capture::purge_tracking`. Answer: `u64`.
    PurgeTracking {
        node: NodeId,
        integrated: Watermark,
        before_micros: i64,
    },
    /// `Capture::purged_history`. Answer: `Option<PurgedHistory>`.
    PurgedHistory { node: NodeId },
    /// `Capture::bulk_begin`. Answer: `()`.
    BulkBegin {
        node: NodeId,
        tables: Cow<'a, [SyncTable]>,
        since: i64,
    },
    /// `Capture::bulk_end`. Answer: `Vec<BulkRecorded>`.
    BulkEnd {
        node: NodeId,
        tables: Cow<'a, [SyncTable]>,
        stamp: i64,
        user: Option<Cow<'a, str>>,
    },
    /// `Capture::bulk_tables`. Answer: `BTreeMap<String, i64>`.
    BulkTables { node: NodeId },
    /// `Capture::await_changes`. Answer: `ChangeSign`.
    AwaitChanges { node: NodeId, timeout_ms: u64 },
    /// `Apply::backup_file`. Answer: `Option<PathBuf>`.
    BackupFile {
        node: NodeId,
        suffix: Cow<'a, str>,
        keep: usize,
    },
    /// `Apply::digest`. Answer: `Option<Vec<BucketDigest>>`.
    Digest {
        node: NodeId,
        table: Cow<'a, SyncTable>,
        types: Cow<'a, [CanonicalType]>,
        buckets: u32,
    },
    /// `Apply::digest_rows`. Answer: `Option<Vec<RowDigest>>`.
    DigestRows {
        node: NodeId,
        table: Cow<'a, SyncTable>,
        types: Cow<'a, [CanonicalType]>,
        buckets: u32,
        which: Cow<'a, [u32]>,
    },
    /// `Node::default_type_rules`, asked once when the node is connected
    /// (added with per-node rules; a plugin from before answers
    /// unsupported, and its adapter's rules are taken). Answer:
    /// `Option<String>`.
    DefaultTypeRules { node: NodeId },
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
            Request::CommittedPosition { .. } => "committed_position",
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
            Request::PendingConflicts { .. } => "pending_conflicts",
            Request::ForgetConflicts { .. } => "forget_conflicts",
            Request::SyncedTables { .. } => "synced_tables",
            Request::PurgeTracking { .. } => "purge_tracking",
            Request::PurgedHistory { .. } => "purged_history",
            Request::BulkBegin { .. } => "bulk_begin",
            Request::BulkEnd { .. } => "bulk_end",
            Request::BulkTables { .. } => "bulk_tables",
            Request::AwaitChanges { .. } => "await_changes",
            Request::BackupFile { .. } => "backup_file",
            Request::Digest { .. } => "digest",
            Request::DigestRows { .. } => "digest_rows",
            Request::DefaultTypeRules { .. } => "default_type_rules",
        }
    }
}

impl Request<'static> {
    /// Whether `op` names an operation this SDK's requests know.
    pub fn knows(op: &str) -> bool {
        static OPS: std::sync::OnceLock<&'static [&'static str]> = std::sync::OnceLock::new();
        OPS.get_or_init(|| {
            let mut probe = VariantNames(&[]);
            let _ = Request::deserialize(&mut probe);
            probe.0
        })
        .contains(&op)
    }
}

/// Reads the variant names of a derived enum `Deserialize`: serde hands them
/// to `deserialize_enum`, where this deserializer keeps them (and stops).
struct VariantNames(&'static [&'static str]);

impl<'de> serde::Deserializer<'de> for &mut VariantNames {
    type Error = serde::de::value::Error;

    fn deserialize_any<V: serde::de::Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
        Err(serde::de::Error::custom(
            "only an enum's variant names are read",
        ))
    }

    fn deserialize_enum<V: serde::de::Visitor<'de>>(
        self,
        _name: &'static str,
        variants: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, Self::Error> {
        self.0 = variants;
        Err(serde::de::Error::custom("variant names read"))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map struct identifier ignored_any
    }
}

/// The operation a request names (the key of its one-entry map), even when
/// the request itself cannot be read.
pub fn op_name(bytes: &[u8]) -> Option<String> {
    let map: BTreeMap<String, serde::de::IgnoredAny> = decode(bytes).ok()?;
    let mut keys = map.into_keys();
    match (keys.next(), keys.next()) {
        (Some(op), None) => Some(op),
        _ => None,
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
    fn digests_cross_whole() {
        use hetsync_core::digest::{BucketDigest, RowDigest, RowHash};
        let buckets = Some(vec![BucketDigest {
            rows: 40,
            sum: u128::from(u64::MAX) * 40,
        }]);
        let bytes = encode(&buckets);
        assert_eq!(
            decode::<Option<Vec<BucketDigest>>>(&bytes).unwrap(),
            buckets
        );
        let rows = Some(vec![RowDigest {
            code: CombinedCode(vec![KeyPart::Text("线路-1".into())]),
            hash: RowHash::of(b"t8:x"),
        }]);
        let bytes = encode(&rows);
        assert_eq!(decode::<Option<Vec<RowDigest>>>(&bytes).unwrap(), rows);
        assert!(Request::knows("digest") && Request::knows("digest_rows"));
    }

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
            guard: Some(Watermark::at(3)),
            fresh: true,
            settle: None,
            stamps: Vec::new(),
            log: None,
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
    fn node_options_cross_as_plain_messagepack_and_read_back_equal() {
        let options: BTreeMap<String, serde_json::Value> = serde_json::from_str(
            r#"{"pool": {"size": 12345678901234, "ratio": 1.5, "neg": -3}, "名": ["值", null, true]}"#,
        )
        .unwrap();
        let request = Request::Connect {
            name: Cow::Borrowed("n"),
            url: Cow::Borrowed("u"),
            base_dir: Cow::Borrowed(Path::new(".")),
            adapter: Some(Cow::Borrowed("kingbase")),
            options: Cow::Borrowed(&options),
        };
        let bytes = encode(&request);
        assert!(
            !String::from_utf8_lossy(&bytes).contains("serde_json"),
            "numbers are MessagePack numbers, not serde_json's private form"
        );
        let back: Request = decode(&bytes).unwrap();
        let Request::Connect {
            adapter,
            options: got,
            ..
        } = back
        else {
            panic!("wrong variant")
        };
        assert_eq!(adapter.as_deref(), Some("kingbase"));
        assert_eq!(got.into_owned(), options);
    }

    #[test]
    fn an_older_hosts_connect_request_still_reads() {
        #[derive(Serialize)]
        #[serde(rename_all = "snake_case")]
        enum OldRequest {
            Connect {
                name: &'static str,
                url: &'static str,
                base_dir: &'static str,
            },
        }
        let old = encode(&OldRequest::Connect {
            name: "n",
            url: "u",
            base_dir: ".",
        });
        let Request::Connect {
            name,
            adapter,
            options,
            ..
        } = decode(&old).unwrap()
        else {
            panic!("wrong variant")
        };
        assert_eq!(name, "n");
        assert_eq!(adapter, None, "the library's default adapter");
        assert!(options.is_empty());
    }

    #[test]
    fn operation_names_are_the_requests_own() {
        let request = Request::ListTables { node: 1 };
        assert!(Request::knows(request.op()));
        assert!(Request::knows("connect") && Request::knows("lock_integration"));
        assert!(!Request::knows("frobnicate"));
        assert_eq!(op_name(&encode(&request)).as_deref(), Some("list_tables"));
        let unknown = encode(&BTreeMap::from([("frobnicate", 1)]));
        assert_eq!(op_name(&unknown).as_deref(), Some("frobnicate"));
    }

    #[test]
    fn an_older_manifest_offers_its_one_adapter() {
        let offered = AdapterManifest {
            name: "x".into(),
            version: "1.0.0".into(),
            capabilities: Capabilities {
                procedures: true,
                statement_triggers: false,
                merge: false,
                bulk_copy: BulkCopyKind::StagingTable,
            },
            default_type_rules: "[[rule]]".into(),
        };
        let mut old = Manifest::new(vec![offered.clone()], PanicStrategy::Unwind);
        old.adapters.clear();
        assert_eq!(old.offered(), std::slice::from_ref(&offered));
        let two = AdapterManifest {
            name: "y".into(),
            ..offered.clone()
        };
        let both = Manifest::new(vec![offered.clone(), two.clone()], PanicStrategy::Unwind);
        assert_eq!(both.adapter, "x", "an older host sees the first");
        assert_eq!(both.offered(), [offered, two]);
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
