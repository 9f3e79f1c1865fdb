//! An adapter built with the SDK whose nodes panic on every call: the SDK
//! must turn each panic into an error for the host. Connecting works, and
//! logs a line the host must receive.

use async_trait::async_trait;
use hetsync_core::adapter::{
    AdapterFactory, Apply, Capabilities, Capture, IntegrationLock, Node, NodeSpec, TypeMapping,
};
use hetsync_core::change::{
    ApplyBatch, ApplyOutcome, BulkRecorded, ChangeSet, PurgedHistory, ReadRange, Watermark,
};
use hetsync_core::code::CombinedCode;
use hetsync_core::schema::{SyncTable, TableShape};
use hetsync_core::value::Value;
use hetsync_core::Result;

struct Panicking;
struct PanickingNode(String);

#[async_trait]
impl AdapterFactory for Panicking {
    fn name(&self) -> &'static str {
        "panicking"
    }
    fn version(&self) -> &'static str {
        "0.0.1"
    }
    fn capabilities(&self) -> Capabilities {
        hetsync_test_plugins::CAPABILITIES
    }

    fn default_type_rules(&self) -> &str {
        ""
    }
    async fn connect(&self, spec: &NodeSpec) -> Result<Box<dyn Node>> {
        tracing::info!(node = %spec.name, "connected a node that will panic");
        tracing::debug!("a detail the host does not want at info level");
        Ok(Box::new(PanickingNode(spec.name.clone())))
    }
}

#[async_trait]
impl Capture for PanickingNode {
    async fn install(&self, _: &[SyncTable]) -> Result<()> {
        panic!("deliberate panic in install")
    }
    async fn uninstall(&self) -> Result<()> {
        panic!("deliberate panic in uninstall")
    }
    async fn is_installed(&self) -> Result<bool> {
        panic!("deliberate panic in is_installed")
    }
    async fn read_changes(&self, _: &[SyncTable], _: &ReadRange) -> Result<ChangeSet> {
        panic!("deliberate panic in read_changes")
    }
    async fn position(&self) -> Result<Watermark> {
        panic!("deliberate panic in position")
    }
    async fn count_events(&self, _: Watermark, _: Option<&str>) -> Result<u64> {
        panic!("deliberate panic in count_events")
    }
    async fn peer_watermark(&self, _: &str) -> Result<Option<Watermark>> {
        panic!("deliberate panic in peer_watermark")
    }
    async fn synced_tables(&self, _: &str) -> Result<Option<Vec<String>>> {
        panic!("deliberate panic in synced_tables")
    }
    async fn pending_conflicts(&self) -> Result<Vec<hetsync_core::plan::Conflict>> {
        panic!("deliberate panic in pending_conflicts")
    }
    async fn forget_conflicts(&self, _: &[String]) -> Result<()> {
        panic!("deliberate panic in forget_conflicts")
    }
    async fn purge_tracking(&self, _: Watermark, _: i64) -> Result<u64> {
        panic!("deliberate panic in purge_tracking")
    }
    async fn purged_history(&self) -> Result<Option<PurgedHistory>> {
        panic!("deliberate panic in purged_history")
    }
    async fn bulk_begin(&self, _: &[SyncTable], _: i64) -> Result<()> {
        panic!("deliberate panic in bulk_begin")
    }
    async fn bulk_end(
        &self,
        _: &[SyncTable],
        _: i64,
        _: Option<&str>,
    ) -> Result<Vec<BulkRecorded>> {
        panic!("deliberate panic in bulk_end")
    }
    async fn bulk_tables(&self) -> Result<std::collections::BTreeMap<String, i64>> {
        panic!("deliberate panic in bulk_tables")
    }
}

#[async_trait]
impl TypeMapping for PanickingNode {
    async fn describe(&self, table: &str) -> Result<Option<TableShape>> {
        panic!("deliberate panic describing {table}")
    }
    async fn list_tables(&self) -> Result<Vec<String>> {
        panic!("deliberate panic in list_tables")
    }
}

#[async_trait]
impl Apply for PanickingNode {
    async fn apply(&self, _: &[SyncTable], _: &ApplyBatch) -> Result<ApplyOutcome> {
        panic!("deliberate panic in apply")
    }
    async fn fetch(&self, _: &SyncTable, _: &[CombinedCode]) -> Result<Vec<Vec<Value>>> {
        panic!("deliberate panic in fetch")
    }
    async fn scan(
        &self,
        _: &SyncTable,
        _: Option<&CombinedCode>,
        _: usize,
    ) -> Result<Vec<Vec<Value>>> {
        panic!("deliberate panic in scan")
    }
    async fn count_rows(&self, _: &SyncTable) -> Result<u64> {
        panic!("deliberate panic in count_rows")
    }
    async fn lock_integration(&self) -> Result<IntegrationLock> {
        panic!("deliberate panic in lock_integration")
    }
}

impl Node for PanickingNode {
    fn adapter(&self) -> &str {
        "panicking"
    }
    fn name(&self) -> &str {
        &self.0
    }
    fn capabilities(&self) -> Capabilities {
        hetsync_test_plugins::CAPABILITIES
    }
}

hetsync_plugin_sdk::export_adapter!(Panicking);
