//! A loaded plugin seen through the core traits: [`PluginAdapter`] is an
//! [`AdapterFactory`] and its nodes are ordinary [`Node`]s, so the engine
//! cannot tell them from built-in adapters. Each trait call becomes one
//! request, awaited on a oneshot that the plugin's callback completes.

use crate::abi::{ByteView, OwnedBuffer, Status};
use crate::loader::PluginLibrary;
use crate::wire::{decode, encode, AdapterManifest, LockId, NodeId, PluginStats, Request};
use async_trait::async_trait;
use hetsync_core::adapter::{
    AdapterFactory, Apply, Capabilities, Capture, ChangeSign, IntegrationLock, Node, NodeSpec,
    TypeMapping,
};
use hetsync_core::change::{
    ApplyBatch, ApplyOutcome, BulkRecorded, ChangeSet, PurgedHistory, ReadRange, Watermark,
};
use hetsync_core::code::CombinedCode;
use hetsync_core::digest::{BucketDigest, RowDigest};
use hetsync_core::plan::Conflict;
use hetsync_core::schema::{SyncTable, TableShape};
use hetsync_core::types::CanonicalType;
use hetsync_core::value::Value;
use hetsync_core::{Error, Result};
use serde::de::DeserializeOwned;
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::ffi::c_void;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use tokio::sync::oneshot;

type Answer = (Status, Vec<u8>);

/// Completes a waiting call: `ctx` is the boxed sender made by `call`.
unsafe extern "C" fn on_done(ctx: *mut c_void, _call: u64, status: Status, result: OwnedBuffer) {
    let _ = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: `ctx` is the sender boxed by `call`, completed once.
        let sender = unsafe { Box::from_raw(ctx.cast::<oneshot::Sender<Answer>>()) };
        let bytes = unsafe { result.take() };
        let _ = sender.send((status, bytes));
    }));
}

/// Completes a call nobody waits for (closing a node, releasing a lock).
unsafe extern "C" fn on_detached_done(
    _ctx: *mut c_void,
    _call: u64,
    _status: Status,
    result: OwnedBuffer,
) {
    let _ = catch_unwind(AssertUnwindSafe(|| unsafe { result.take() }));
}

/// Cancels the call when the waiting future is dropped before its answer.
/// The answer to a request an older plugin may not know.
pub(crate) enum Supported<T> {
    /// The plugin answered.
    Answer(T),
    /// The plugin does not know the operation (why, as it said).
    Not(String),
}

struct Pending<'a> {
    library: &'a PluginLibrary,
    call: u64,
    answered: bool,
}

impl Drop for Pending<'_> {
    fn drop(&mut self) {
        if !self.answered {
            // SAFETY: `cancel` accepts any id.
            unsafe { (self.library.cancel)(self.call) };
        }
    }
}

impl PluginLibrary {
    /// How errors name this plugin: its adapters and its file.
    pub fn label(&self) -> String {
        let names: Vec<&str> = self.adapters.iter().map(|a| a.name.as_str()).collect();
        format!("'{}' ({})", names.join("', '"), self.path.display())
    }

    fn fail(&self, message: String) -> Error {
        Error::Plugin {
            plugin: self.label(),
            message,
        }
    }

    /// The error for an operation the plugin does not know.
    fn unsupported(&self, op: &str, why: &str) -> Error {
        self.fail(format!("does not support '{op}': {why}"))
    }

    /// What the plugin holds right now: connected nodes, held locks and
    /// running calls. A plugin whose function table predates `stats` says
    /// it does not support it.
    pub fn stats(&self) -> Result<PluginStats> {
        let Some(stats) = self.stats else {
            return Err(self.unsupported(
                "stats",
                &format!(
                    "its function table of {} bytes ends before that function",
                    self.table_size
                ),
            ));
        };
        let mut out = OwnedBuffer::EMPTY;
        // SAFETY: `out` is a slot for one buffer, which we then own.
        let status = unsafe { stats(&mut out) };
        // SAFETY: the buffer is either untouched (empty) or handed over.
        let bytes = unsafe { out.take() };
        match status {
            Status::OK => decode(&bytes)
                .map_err(|e| self.fail(format!("sent an unreadable answer to 'stats': {e}"))),
            Status(other) => Err(self.fail(format!("answered 'stats' with status {other}"))),
        }
    }

    /// Runs one request and decodes its answer.
    pub(crate) async fn call<T: DeserializeOwned>(&self, request: &Request<'_>) -> Result<T> {
        match self.call_if_supported(request).await? {
            Supported::Answer(answer) => Ok(answer),
            Supported::Not(why) => Err(self.unsupported(request.op(), &why)),
        }
    }

    /// Runs one request that an older plugin may not know: its answer, or
    /// `T`'s default (nothing recorded, nothing computed) when the plugin
    /// does not support it.
    pub(crate) async fn call_or_default<T: DeserializeOwned + Default>(
        &self,
        request: &Request<'_>,
    ) -> Result<T> {
        match self.call_if_supported(request).await? {
            Supported::Answer(answer) => Ok(answer),
            Supported::Not(_) => Ok(T::default()),
        }
    }

    /// Runs one request that an older plugin may not know: its answer, or
    /// why the plugin does not support it.
    pub(crate) async fn call_if_supported<T: DeserializeOwned>(
        &self,
        request: &Request<'_>,
    ) -> Result<Supported<T>> {
        let op = request.op();
        let bytes = encode(request);
        let (sender, receiver) = oneshot::channel::<Answer>();
        let ctx = Box::into_raw(Box::new(sender)).cast::<c_void>();
        // SAFETY: the request is borrowed for the call; `ctx` stays valid
        // until `on_done` takes it back.
        let call = unsafe { (self.submit)(ByteView::of(&bytes), on_done, ctx) };
        if call == 0 {
            // SAFETY: a refused call never calls back, so `ctx` is still ours.
            drop(unsafe { Box::from_raw(ctx.cast::<oneshot::Sender<Answer>>()) });
            return Err(self.fail(format!("refused to start '{op}'")));
        }
        let mut pending = Pending {
            library: self,
            call,
            answered: false,
        };
        let outcome = tokio::time::timeout(self.call_timeout, receiver).await;
        let Ok(answer) = outcome else {
            return Err(self.fail(format!(
                "did not answer '{op}' within {:?}; the call was cancelled",
                self.call_timeout
            )));
        };
        pending.answered = true;
        let (status, bytes) =
            answer.map_err(|_| self.fail(format!("dropped '{op}' without answering")))?;
        let text = || String::from_utf8_lossy(&bytes).into_owned();
        match status {
            Status::OK => decode(&bytes)
                .map(Supported::Answer)
                .map_err(|e| self.fail(format!("sent an unreadable answer to '{op}': {e}"))),
            Status::ERROR => Err(decode::<Error>(&bytes).unwrap_or_else(|e| {
                self.fail(format!("sent an unreadable error for '{op}': {e}"))
            })),
            Status::PANIC => Err(self.fail(format!("panicked during '{op}': {}", text()))),
            Status::CANCELLED => Err(self.fail(format!("cancelled '{op}'"))),
            Status::BAD_REQUEST => {
                Err(self.fail(format!("could not read the '{op}' request: {}", text())))
            }
            Status::UNSUPPORTED => Ok(Supported::Not(text())),
            Status(other) => Err(self.fail(format!("answered '{op}' with unknown status {other}"))),
        }
    }

    /// Sends a request without waiting for its answer.
    fn call_detached(&self, request: &Request<'_>) {
        let bytes = encode(request);
        // SAFETY: the request is borrowed for the call; the context is unused.
        unsafe { (self.submit)(ByteView::of(&bytes), on_detached_done, std::ptr::null_mut()) };
    }
}

/// One adapter of a loaded plugin, as an adapter factory.
pub struct PluginAdapter {
    library: Arc<PluginLibrary>,
    name: &'static str,
    version: &'static str,
    offered: AdapterManifest,
}

impl PluginAdapter {
    /// Every adapter the library offers, the default first.
    pub fn all(library: PluginLibrary) -> Vec<PluginAdapter> {
        let library = Arc::new(library);
        library
            .adapters
            .iter()
            .map(|offered| PluginAdapter {
                library: library.clone(),
                // Libraries are never unloaded, so their names live as long.
                name: Box::leak(offered.name.clone().into_boxed_str()),
                version: Box::leak(offered.version.clone().into_boxed_str()),
                offered: offered.clone(),
            })
            .collect()
    }

    /// The library's default adapter: its first, and usually its only one.
    pub fn new(library: PluginLibrary) -> PluginAdapter {
        Self::all(library)
            .into_iter()
            .next()
            .expect("a loaded library offers at least one adapter")
    }

    /// The library behind the adapter.
    pub fn library(&self) -> &PluginLibrary {
        &self.library
    }
}

#[async_trait]
impl AdapterFactory for PluginAdapter {
    fn name(&self) -> &'static str {
        self.name
    }

    fn version(&self) -> &'static str {
        self.version
    }

    fn capabilities(&self) -> Capabilities {
        self.offered.capabilities
    }

    fn default_type_rules(&self) -> &str {
        &self.offered.default_type_rules
    }

    async fn connect(&self, spec: &NodeSpec) -> Result<Box<dyn Node>> {
        let id: NodeId = self
            .library
            .call(&Request::Connect {
                name: Cow::Borrowed(&spec.name),
                url: Cow::Borrowed(&spec.url),
                base_dir: Cow::Borrowed(&spec.base_dir),
                adapter: Some(Cow::Borrowed(self.name)),
                options: Cow::Borrowed(&spec.options),
            })
            .await?;
        let mut node = PluginNode {
            library: self.library.clone(),
            id,
            name: spec.name.clone(),
            adapter: self.name,
            capabilities: self.offered.capabilities,
            default_type_rules: None,
        };
        // Dropped (and closed in the plugin) if the question fails.
        let request = Request::DefaultTypeRules { node: id };
        if let Supported::Answer(rules) = self.library.call_if_supported(&request).await? {
            node.default_type_rules = rules;
        }
        Ok(Box::new(node))
    }
}

/// A node connected through a plugin.
struct PluginNode {
    library: Arc<PluginLibrary>,
    id: NodeId,
    name: String,
    adapter: &'static str,
    capabilities: Capabilities,
    /// The node's own default type rules, when the plugin says it has them.
    default_type_rules: Option<String>,
}

impl Drop for PluginNode {
    fn drop(&mut self) {
        self.library
            .call_detached(&Request::Close { node: self.id });
    }
}

/// An integration lock held inside a plugin; released when dropped.
struct PluginLock {
    library: Arc<PluginLibrary>,
    lock: LockId,
}

impl Drop for PluginLock {
    fn drop(&mut self) {
        self.library
            .call_detached(&Request::Unlock { lock: self.lock });
    }
}

#[async_trait]
impl Capture for PluginNode {
    async fn install(&self, tables: &[SyncTable]) -> Result<()> {
        self.library
            .call(&Request::Install {
                node: self.id,
                tables: Cow::Borrowed(tables),
            })
            .await
    }

    async fn uninstall(&self) -> Result<()> {
        self.library
            .call(&Request::Uninstall { node: self.id })
            .await
    }

    async fn is_installed(&self) -> Result<bool> {
        self.library
            .call(&Request::IsInstalled { node: self.id })
            .await
    }

    async fn read_changes(&self, tables: &[SyncTable], range: &ReadRange) -> Result<ChangeSet> {
        self.library
            .call(&Request::ReadChanges {
                node: self.id,
                tables: Cow::Borrowed(tables),
                since: range.since,
                exclude_origin: range.exclude_origin.as_deref().map(Cow::Borrowed),
                until: range.until,
                limit: range.limit,
                only_local: range.only_local,
            })
            .await
    }

    async fn position(&self) -> Result<Watermark> {
        self.library
            .call(&Request::Position { node: self.id })
            .await
    }

    async fn committed_position(&self) -> Result<Watermark> {
        let request = Request::CommittedPosition { node: self.id };
        match self.library.call_if_supported(&request).await? {
            Supported::Answer(position) => Ok(position),
            Supported::Not(_) => self.position().await,
        }
    }

    async fn count_events(&self, since: Watermark, exclude_origin: Option<&str>) -> Result<u64> {
        self.library
            .call(&Request::CountEvents {
                node: self.id,
                since,
                exclude_origin: exclude_origin.map(Cow::Borrowed),
            })
            .await
    }

    async fn pending_conflicts(&self) -> Result<Vec<Conflict>> {
        // A plugin that predates the conflict table records none.
        self.library
            .call_or_default(&Request::PendingConflicts { node: self.id })
            .await
    }

    async fn forget_conflicts(&self, uids: &[String]) -> Result<()> {
        self.library
            .call_or_default(&Request::ForgetConflicts {
                node: self.id,
                uids: Cow::Borrowed(uids),
            })
            .await
    }

    async fn purge_tracking(&self, integrated: Watermark, before_micros: i64) -> Result<u64> {
        // A plugin that predates purging deletes nothing (and says 0).
        self.library
            .call_or_default(&Request::PurgeTracking {
                node: self.id,
                integrated,
                before_micros,
            })
            .await
    }

    async fn purged_history(&self) -> Result<Option<PurgedHistory>> {
        // A plugin that predates purging never purged.
        self.library
            .call_or_default(&Request::PurgedHistory { node: self.id })
            .await
    }

    async fn bulk_begin(&self, tables: &[SyncTable], since: i64) -> Result<()> {
        self.library
            .call(&Request::BulkBegin {
                node: self.id,
                tables: Cow::Borrowed(tables),
                since,
            })
            .await
    }

    async fn bulk_end(
        &self,
        tables: &[SyncTable],
        stamp: i64,
        user: Option<&str>,
    ) -> Result<Vec<BulkRecorded>> {
        self.library
            .call(&Request::BulkEnd {
                node: self.id,
                tables: Cow::Borrowed(tables),
                stamp,
                user: user.map(Cow::Borrowed),
            })
            .await
    }

    async fn bulk_tables(&self) -> Result<BTreeMap<String, i64>> {
        // A plugin that predates bulk mode has no table in it.
        self.library
            .call_or_default(&Request::BulkTables { node: self.id })
            .await
    }

    async fn await_changes(&self, timeout: std::time::Duration) -> Result<ChangeSign> {
        // A plugin that predates push mode cannot tell: its position is polled.
        self.library
            .call_or_default(&Request::AwaitChanges {
                node: self.id,
                timeout_ms: u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX),
            })
            .await
    }

    async fn peer_watermark(&self, peer: &str) -> Result<Option<Watermark>> {
        self.library
            .call(&Request::PeerWatermark {
                node: self.id,
                peer: Cow::Borrowed(peer),
            })
            .await
    }

    async fn synced_tables(&self, peer: &str) -> Result<Option<Vec<String>>> {
        // A plugin that predates per-table full syncs records none.
        self.library
            .call_or_default(&Request::SyncedTables {
                node: self.id,
                peer: Cow::Borrowed(peer),
            })
            .await
    }
}

#[async_trait]
impl TypeMapping for PluginNode {
    async fn describe(&self, table: &str) -> Result<Option<TableShape>> {
        self.library
            .call(&Request::Describe {
                node: self.id,
                table: Cow::Borrowed(table),
            })
            .await
    }

    async fn list_tables(&self) -> Result<Vec<String>> {
        self.library
            .call(&Request::ListTables { node: self.id })
            .await
    }
}

#[async_trait]
impl Apply for PluginNode {
    async fn apply(&self, tables: &[SyncTable], batch: &ApplyBatch) -> Result<ApplyOutcome> {
        self.library
            .call(&Request::Apply {
                node: self.id,
                tables: Cow::Borrowed(tables),
                batch: Cow::Borrowed(batch),
            })
            .await
    }

    async fn fetch(&self, table: &SyncTable, codes: &[CombinedCode]) -> Result<Vec<Vec<Value>>> {
        self.library
            .call(&Request::Fetch {
                node: self.id,
                table: Cow::Borrowed(table),
                codes: Cow::Borrowed(codes),
            })
            .await
    }

    async fn scan(
        &self,
        table: &SyncTable,
        after: Option<&CombinedCode>,
        limit: usize,
    ) -> Result<Vec<Vec<Value>>> {
        self.library
            .call(&Request::Scan {
                node: self.id,
                table: Cow::Borrowed(table),
                after: after.map(Cow::Borrowed),
                limit,
            })
            .await
    }

    async fn digest(
        &self,
        table: &SyncTable,
        types: &[CanonicalType],
        buckets: u32,
    ) -> Result<Option<Vec<BucketDigest>>> {
        // A plugin that predates the digest: the engine streams its rows.
        self.library
            .call_or_default(&Request::Digest {
                node: self.id,
                table: Cow::Borrowed(table),
                types: Cow::Borrowed(types),
                buckets,
            })
            .await
    }

    async fn digest_rows(
        &self,
        table: &SyncTable,
        types: &[CanonicalType],
        buckets: u32,
        which: &[u32],
    ) -> Result<Option<Vec<RowDigest>>> {
        self.library
            .call_or_default(&Request::DigestRows {
                node: self.id,
                table: Cow::Borrowed(table),
                types: Cow::Borrowed(types),
                buckets,
                which: Cow::Borrowed(which),
            })
            .await
    }

    async fn count_rows(&self, table: &SyncTable) -> Result<u64> {
        self.library
            .call(&Request::CountRows {
                node: self.id,
                table: Cow::Borrowed(table),
            })
            .await
    }

    async fn lock_integration(&self) -> Result<IntegrationLock> {
        let lock: LockId = self
            .library
            .call(&Request::LockIntegration { node: self.id })
            .await?;
        Ok(IntegrationLock(Box::new(PluginLock {
            library: self.library.clone(),
            lock,
        })))
    }

    async fn backup_file(&self, suffix: &str, keep: usize) -> Result<Option<std::path::PathBuf>> {
        // A plugin that predates file backups makes none.
        self.library
            .call_or_default(&Request::BackupFile {
                node: self.id,
                suffix: Cow::Borrowed(suffix),
                keep,
            })
            .await
    }
}

impl Node for PluginNode {
    fn adapter(&self) -> &str {
        self.adapter
    }

    fn name(&self) -> &str {
        &self.name
    }

    fn capabilities(&self) -> Capabilities {
        self.capabilities
    }

    fn default_type_rules(&self) -> Option<&str> {
        self.default_type_rules.as_deref()
    }
}
