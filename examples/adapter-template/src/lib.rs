//! A hetsync adapter plugin template.
//!
//! An adapter is two types: a factory ([`AdapterFactory`]) that connects to
//! one database, and the connected node, which implements [`Capture`]
//! (tracking table and triggers, reading changes), [`TypeMapping`] (the data
//! dictionary) and [`Apply`] (writing batches, lookups, scans, the
//! integration lock). `export_adapter!` at the bottom makes the crate a plugin.
//!
//! So that it builds and passes hetsync's conformance suite as it is, this
//! template reaches a SQLite file through hetsync's SQLite adapter: every
//! method below forwards to it. Replace each body with your database's code;
//! the doc comment of each trait method in `hetsync_core::adapter` says what
//! it must do, and `tests/conformance.rs` runs hetsync's conformance suite on it.

use async_trait::async_trait;
use hetsync_core::adapter::{
    AdapterFactory, Apply, BulkCopyKind, Capabilities, Capture, IntegrationLock, Node, NodeSpec,
    TypeMapping,
};
use hetsync_core::change::{
    ApplyBatch, ApplyOutcome, BulkRecorded, ChangeSet, PurgedHistory, ReadRange, Watermark,
};
use hetsync_core::code::CombinedCode;
use hetsync_core::plan::Conflict;
use hetsync_core::schema::{SyncTable, TableShape};
use hetsync_core::value::Value;
use hetsync_core::Result;
use std::collections::BTreeMap;

/// The name operators write in `hetsync.toml`: `adapter = "template"`.
pub const NAME: &str = "template";

/// What your database can do. An adapter built on the core's steps (a
/// `hetsync_core::steps::Driver` speaking a `hetsync_core::dialect::Dialect`,
/// see `docs/dialects.md`) has its apply strategy chosen by `procedures`
/// (staged per-table procedures, or row statements); one that implements the
/// traits itself, as this template does, only reports them.
pub const CAPABILITIES: Capabilities = Capabilities {
    procedures: false,
    statement_triggers: false,
    merge: false,
    bulk_copy: BulkCopyKind::PreparedStatements,
};

/// Connects nodes. Must be constructible in a constant expression or a
/// function call for `export_adapter!`.
pub struct TemplateAdapter;

#[async_trait]
impl AdapterFactory for TemplateAdapter {
    fn name(&self) -> &'static str {
        NAME
    }

    fn version(&self) -> &'static str {
        env!("CARGO_PKG_VERSION")
    }

    fn capabilities(&self) -> Capabilities {
        CAPABILITIES
    }

    fn default_type_rules(&self) -> &str {
        // Replace with your database's rules (a TOML [[rule]] list).
        hetsync_adapter_sqlite::types::DEFAULT_TYPE_RULES
    }

    /// Opens the database `spec.url` names. Never put the URL's password in
    /// an error or a log line (`hetsync_core::adapter::redact_url` helps).
    async fn connect(&self, spec: &NodeSpec) -> Result<Box<dyn Node>> {
        let database = hetsync_adapter_sqlite::SqliteAdapter.connect(spec).await?;
        Ok(Box::new(TemplateNode {
            name: spec.name.clone(),
            database,
        }))
    }
}

/// One connected database.
pub struct TemplateNode {
    name: String,
    /// Replace with your connection (or pool).
    database: Box<dyn Node>,
}

#[async_trait]
impl Capture for TemplateNode {
    async fn install(&self, tables: &[SyncTable]) -> Result<()> {
        self.database.install(tables).await
    }

    async fn uninstall(&self) -> Result<()> {
        self.database.uninstall().await
    }

    async fn is_installed(&self) -> Result<bool> {
        self.database.is_installed().await
    }

    async fn read_changes(&self, tables: &[SyncTable], range: &ReadRange) -> Result<ChangeSet> {
        self.database.read_changes(tables, range).await
    }

    async fn position(&self) -> Result<Watermark> {
        self.database.position().await
    }

    async fn count_events(&self, since: Watermark, exclude_origin: Option<&str>) -> Result<u64> {
        self.database.count_events(since, exclude_origin).await
    }

    async fn peer_watermark(&self, peer: &str) -> Result<Option<Watermark>> {
        self.database.peer_watermark(peer).await
    }

    async fn synced_tables(&self, peer: &str) -> Result<Option<Vec<String>>> {
        self.database.synced_tables(peer).await
    }

    async fn pending_conflicts(&self) -> Result<Vec<Conflict>> {
        self.database.pending_conflicts().await
    }

    async fn forget_conflicts(&self, uids: &[String]) -> Result<()> {
        self.database.forget_conflicts(uids).await
    }

    async fn purge_tracking(&self, integrated: Watermark, before_micros: i64) -> Result<u64> {
        self.database
            .purge_tracking(integrated, before_micros)
            .await
    }

    async fn purged_history(&self) -> Result<Option<PurgedHistory>> {
        self.database.purged_history().await
    }

    async fn bulk_begin(&self, tables: &[SyncTable], since: i64) -> Result<()> {
        self.database.bulk_begin(tables, since).await
    }

    async fn bulk_end(
        &self,
        tables: &[SyncTable],
        stamp: i64,
        user: Option<&str>,
    ) -> Result<Vec<BulkRecorded>> {
        self.database.bulk_end(tables, stamp, user).await
    }

    async fn bulk_tables(&self) -> Result<BTreeMap<String, i64>> {
        self.database.bulk_tables().await
    }
}

#[async_trait]
impl TypeMapping for TemplateNode {
    async fn describe(&self, table: &str) -> Result<Option<TableShape>> {
        self.database.describe(table).await
    }

    async fn list_tables(&self) -> Result<Vec<String>> {
        self.database.list_tables().await
    }
}

#[async_trait]
impl Apply for TemplateNode {
    async fn apply(&self, tables: &[SyncTable], batch: &ApplyBatch) -> Result<ApplyOutcome> {
        self.database.apply(tables, batch).await
    }

    async fn fetch(&self, table: &SyncTable, codes: &[CombinedCode]) -> Result<Vec<Vec<Value>>> {
        self.database.fetch(table, codes).await
    }

    async fn scan(
        &self,
        table: &SyncTable,
        after: Option<&CombinedCode>,
        limit: usize,
    ) -> Result<Vec<Vec<Value>>> {
        self.database.scan(table, after, limit).await
    }

    async fn count_rows(&self, table: &SyncTable) -> Result<u64> {
        self.database.count_rows(table).await
    }

    async fn lock_integration(&self) -> Result<IntegrationLock> {
        self.database.lock_integration().await
    }
}

impl Node for TemplateNode {
    fn adapter(&self) -> &str {
        NAME
    }

    fn name(&self) -> &str {
        &self.name
    }

    fn capabilities(&self) -> Capabilities {
        CAPABILITIES
    }
}

#[cfg(feature = "plugin")]
hetsync_plugin_sdk::export_adapter!(TemplateAdapter);
