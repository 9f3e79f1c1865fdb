//! Tracking purge: each node's tracking rows that every peer has integrated
//! and that are older than the retention are deleted, in short batches.
//! A spoke's rows are integrated once the hub's watermark of the spoke has
//! passed them; the hub's, once every spoke's watermark of the hub has. A
//! spoke that never synced needs none of them (its first round compares
//! every row); a spoke that cannot be reached might, so the hub's rows are
//! then kept.

use super::Engine;
use crate::adapter::Node;
use crate::change::Watermark;
use crate::Result;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// What a purge did on one node.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodePurge {
    /// The node.
    pub node: String,
    /// Tracking rows deleted.
    pub deleted: u64,
    /// The position every peer had integrated up to; `None` when nothing
    /// was purged there (see `kept`).
    pub integrated: Option<Watermark>,
    /// Why nothing was purged, when nothing could be.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kept: Option<String>,
}

impl Engine {
    /// Deletes on every node the tracking rows all its peers have
    /// integrated and that were made more than `retention` ago (the newest
    /// row of each node stays). Watermarks only move forward, so rounds may
    /// run meanwhile.
    pub async fn purge(&self, retention: Duration) -> Result<Vec<NodePurge>> {
        let before = chrono::Utc::now().timestamp_micros()
            - i64::try_from(retention.as_micros()).unwrap_or(i64::MAX);
        let hub = self.hub();
        let mut integrated: Option<Watermark> = None;
        for s in self.spokes() {
            if let Some(mark) = s.peer_watermark(hub.name()).await? {
                integrated = Some(integrated.map_or(mark, |m| m.min(mark)));
            }
        }
        let hub_horizon = match (self.unreachable().first(), integrated) {
            (Some(u), _) => Err(format!(
                "spoke '{}' cannot be reached: it may still need them",
                u.name
            )),
            (None, None) => Err("no spoke has synced yet".to_string()),
            (None, Some(mark)) => Ok(mark),
        };
        let mut out = vec![purge_node(hub, hub_horizon, before).await?];
        for s in self.spokes() {
            let horizon = hub
                .peer_watermark(s.name())
                .await?
                .ok_or_else(|| "the hub has integrated none of its changes".to_string());
            out.push(purge_node(s, horizon, before).await?);
        }
        Ok(out)
    }
}

/// Purges `node` up to `horizon` (the position every peer has integrated),
/// or reports why it keeps everything.
async fn purge_node(
    node: &dyn Node,
    horizon: std::result::Result<Watermark, String>,
    before: i64,
) -> Result<NodePurge> {
    let (integrated, kept) = match horizon {
        Ok(mark) => (Some(mark), None),
        Err(why) => (None, Some(why)),
    };
    let deleted = match integrated {
        Some(mark) => node.purge_tracking(mark, before).await?,
        None => 0,
    };
    if deleted > 0 {
        tracing::info!(node = node.name(), deleted, "tracking rows purged");
    }
    Ok(NodePurge {
        node: node.name().to_string(),
        deleted,
        integrated,
        kept,
    })
}
