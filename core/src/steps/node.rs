//! Every [`Driver`] is a [`Node`]: the core drives its capture and apply.

use super::{apply, bulk, conflicts, digest, install, purge, read, recover, Driver};
use crate::adapter::{
    Apply, Capabilities, Capture, ChangeSign, IntegrationLock, Node, TypeMapping,
};
use crate::change::{ApplyBatch, ApplyOutcome, BulkRecorded, ChangeSet, ReadRange, Watermark};
use crate::code::CombinedCode;
use crate::digest::{BucketDigest, RowDigest};
use crate::schema::SyncTable;
use crate::types::CanonicalType;
use crate::value::Value;
use crate::Result;
use async_trait::async_trait;

/// A session on the node, with any transaction a cancelled call left open
/// rolled back first.
async fn session<D: Driver>(node: &D) -> Result<D::Session<'_>> {
    let mut s = node.session().await?;
    recover(&mut s).await;
    Ok(s)
}

#[async_trait]
impl<D: Driver> Capture for D {
    async fn install(&self, tables: &[SyncTable]) -> Result<()> {
        self.forget_columns();
        install::install(&mut session(self).await?, tables).await
    }

    async fn uninstall(&self) -> Result<()> {
        self.forget_columns();
        install::uninstall(&mut session(self).await?).await
    }

    async fn is_installed(&self) -> Result<bool> {
        install::is_installed(&mut session(self).await?).await
    }

    async fn read_changes(&self, tables: &[SyncTable], range: &ReadRange) -> Result<ChangeSet> {
        read::read_changes(&mut session(self).await?, tables, range).await
    }

    async fn position(&self) -> Result<Watermark> {
        use super::Session;
        let mut s = session(self).await?;
        install::require_capture(&mut s).await?;
        s.position().await
    }

    async fn committed_position(&self) -> Result<Watermark> {
        use super::Session;
        let mut s = session(self).await?;
        install::require_capture(&mut s).await?;
        s.committed_position().await
    }

    async fn count_events(&self, since: Watermark, exclude_origin: Option<&str>) -> Result<u64> {
        read::count_events(&mut session(self).await?, since, exclude_origin).await
    }

    async fn peer_watermark(&self, peer: &str) -> Result<Option<Watermark>> {
        read::peer_watermark(&mut session(self).await?, peer).await
    }

    async fn synced_tables(&self, peer: &str) -> Result<Option<Vec<String>>> {
        install::synced_tables(&mut session(self).await?, peer).await
    }

    async fn pending_conflicts(&self) -> Result<Vec<crate::plan::Conflict>> {
        conflicts::pending(&mut session(self).await?).await
    }

    async fn forget_conflicts(&self, uids: &[String]) -> Result<()> {
        conflicts::forget(&mut session(self).await?, uids).await
    }

    async fn purge_tracking(&self, integrated: Watermark, before_micros: i64) -> Result<u64> {
        purge::purge(&mut session(self).await?, integrated, before_micros).await
    }

    async fn purged_history(&self) -> Result<Option<crate::change::PurgedHistory>> {
        purge::purged_history(&mut session(self).await?).await
    }

    async fn await_changes(&self, timeout: std::time::Duration) -> Result<ChangeSign> {
        Driver::await_changes(self, timeout).await
    }

    async fn bulk_begin(&self, tables: &[SyncTable], since: i64) -> Result<()> {
        bulk::begin(&mut session(self).await?, tables, since).await
    }

    async fn bulk_end(
        &self,
        tables: &[SyncTable],
        stamp: i64,
        user: Option<&str>,
    ) -> Result<Vec<BulkRecorded>> {
        bulk::end(&mut session(self).await?, tables, stamp, user).await
    }

    async fn bulk_tables(&self) -> Result<bulk::BulkTables> {
        bulk::in_bulk(&mut session(self).await?).await
    }
}

#[async_trait]
impl<D: Driver> Apply for D {
    async fn apply(&self, tables: &[SyncTable], batch: &ApplyBatch) -> Result<ApplyOutcome> {
        apply::apply(&mut session(self).await?, tables, batch).await
    }

    async fn fetch(&self, table: &SyncTable, codes: &[CombinedCode]) -> Result<Vec<Vec<Value>>> {
        use super::Session;
        if codes.is_empty() {
            return Ok(Vec::new());
        }
        session(self).await?.fetch(table, codes).await
    }

    async fn scan(
        &self,
        table: &SyncTable,
        after: Option<&CombinedCode>,
        limit: usize,
    ) -> Result<Vec<Vec<Value>>> {
        read::scan(&mut session(self).await?, table, after, limit).await
    }

    async fn count_rows(&self, table: &SyncTable) -> Result<u64> {
        read::count_rows(&mut session(self).await?, table).await
    }

    async fn digest(
        &self,
        table: &SyncTable,
        types: &[CanonicalType],
        buckets: u32,
    ) -> Result<Option<Vec<BucketDigest>>> {
        if self.dialect().digest().is_none() {
            return Ok(None);
        }
        digest::buckets(&mut session(self).await?, table, types, buckets).await
    }

    async fn digest_rows(
        &self,
        table: &SyncTable,
        types: &[CanonicalType],
        buckets: u32,
        which: &[u32],
    ) -> Result<Option<Vec<RowDigest>>> {
        if self.dialect().digest().is_none() {
            return Ok(None);
        }
        digest::rows(&mut session(self).await?, table, types, buckets, which).await
    }

    async fn lock_integration(&self) -> Result<IntegrationLock> {
        Driver::lock_integration(self).await
    }

    async fn backup_file(&self, suffix: &str, keep: usize) -> Result<Option<std::path::PathBuf>> {
        Driver::backup_file(self, suffix, keep).await
    }
}

impl<D: Driver + TypeMapping> Node for D {
    fn adapter(&self) -> &str {
        Driver::adapter(self)
    }

    fn name(&self) -> &str {
        Driver::name(self)
    }

    fn capabilities(&self) -> Capabilities {
        self.dialect().capabilities()
    }

    fn default_type_rules(&self) -> Option<&str> {
        Driver::default_type_rules(self)
    }
}
