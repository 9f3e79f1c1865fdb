//! `hetsync bulk begin|end` (paper 001's bulk mode): capture on a node's
//! tables is suspended while an application loads data at full speed, and
//! the load is recorded set-based at the end ([`crate::steps::bulk`]).
//! Both hold the hub's integration lock, so no round is writing to the
//! node meanwhile; in between, rounds refuse the node.

use super::Engine;
use crate::adapter::Capture;
use crate::change::BulkRecorded;
use crate::mapping::node::MappedNode;
use crate::schema::SyncTable;
use crate::Result;

impl Engine {
    /// Suspends capture on `tables` (hub names; every synced table when
    /// none is named) of node `node` for a bulk load. Returns the tables.
    pub async fn bulk_begin(&self, node: &str, tables: &[String]) -> Result<Vec<String>> {
        let target = self.bulk_node(node)?;
        let chosen: Vec<SyncTable> = self.tables_named(tables)?.into_iter().cloned().collect();
        let _lock = self.hub().lock_integration().await?;
        let since = chrono::Utc::now().timestamp_micros();
        target.bulk_begin(&chosen, since).await?;
        tracing::info!(node, tables = chosen.len(), "bulk mode begun");
        Ok(chosen.into_iter().map(|t| t.name).collect())
    }

    /// Ends the bulk load on node `node`: capture comes back and what the
    /// load changed is recorded as changes made there now (by `user`), for
    /// the next round to ship.
    pub async fn bulk_end(&self, node: &str, user: Option<&str>) -> Result<Vec<BulkRecorded>> {
        let target = self.bulk_node(node)?;
        let _lock = self.hub().lock_integration().await?;
        let stamp = chrono::Utc::now().timestamp_micros();
        let recorded = target.bulk_end(&self.tables, stamp, user).await?;
        tracing::info!(node, tables = recorded.len(), "bulk mode ended");
        Ok(recorded)
    }

    /// The node a bulk command names: the hub or a connected spoke.
    fn bulk_node(&self, node: &str) -> Result<&MappedNode> {
        if let Some(u) = self.unreachable.iter().find(|u| u.name == node) {
            return Err(u.error());
        }
        self.mapped(node)
    }
}
