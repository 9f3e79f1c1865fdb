//! Tracking purge: each node's tracking rows that every peer has integrated
//! and that are older than the retention are deleted, in short batches.
//! A spoke's rows are integrated once the hub's watermark of the spoke has
//! passed them; the hub's, once every spoke's watermark of the hub has. A
//! spoke that never synced needs none of them (its first round compares
//! every row); a spoke that cannot be reached might, so the hub's rows are
//! then kept. A spoke whose last successful round is older than
//! [`super::EngineOptions::stale_after`] holds nothing back: purged past,
//! it is stale, and its next round resyncs it (see [`super::round`]).

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
    /// The spokes past `stale_after` whose needs this purge did not wait
    /// for (only on the hub): each resyncs in its next round.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub released: Vec<String>,
}

impl Engine {
    /// Deletes on every node the tracking rows all its peers have
    /// integrated and that were made more than `retention` ago (the newest
    /// row of each node stays). Watermarks only move forward, so rounds may
    /// run meanwhile.
    pub async fn purge(&self, retention: Duration) -> Result<Vec<NodePurge>> {
        let now = chrono::Utc::now().timestamp_micros();
        let before = now - micros(retention);
        let hub = self.hub();
        let mut integrated: Option<Watermark> = None;
        let mut released = Vec::new();
        for s in self.spokes() {
            if self.past_stale_after(s.name(), now).await? {
                released.push(s.name().to_string());
            } else if let Some(mark) = s.peer_watermark(hub.name()).await? {
                integrated = Some(integrated.map_or(mark, |m| m.min(mark)));
            }
        }
        let mut unreachable = None;
        for u in self.unreachable() {
            if self.past_stale_after(&u.name, now).await? {
                released.push(u.name.clone());
            } else {
                unreachable.get_or_insert(&u.name);
            }
        }
        let hub_horizon = match (unreachable, integrated) {
            (Some(name), _) => Err(format!(
                "spoke '{name}' cannot be reached: it may still need them"
            )),
            (None, Some(mark)) => Ok(mark),
            // Every spoke that synced is past `stale_after`.
            (None, None) if !released.is_empty() => Ok(hub.position().await?),
            (None, None) => Err("no spoke has synced yet".to_string()),
        };
        if !released.is_empty() {
            tracing::warn!(
                spokes = %released.join(", "),
                "past stale_after: the purge does not wait for them; each resyncs when it returns"
            );
        }
        let mut hub_purge = purge_node(hub, hub_horizon, before).await?;
        hub_purge.released = released;
        let mut out = vec![hub_purge];
        for s in self.spokes() {
            let horizon = match hub.peer_watermark(s.name()).await? {
                None => Err("the hub has integrated none of its changes".to_string()),
                Some(mark) => self.standby_horizon(s, mark).await?,
            };
            out.push(purge_node(s, horizon, before).await?);
        }
        Ok(out)
    }

    /// With a standby, a spoke's tracking rows are also kept until the
    /// standby's copy of the hub's watermark of it has passed them, and
    /// the standby's own until every spoke's watermark of it has (what
    /// each reads once the standby is promoted); `mark` is the hub's.
    async fn standby_horizon(
        &self,
        s: &dyn Node,
        mark: Watermark,
    ) -> Result<std::result::Result<Watermark, String>> {
        let Some(standby) = self.standby() else {
            return Ok(Ok(mark));
        };
        if !self.is_standby(s.name()) {
            let Ok(standby) = self.spoke(standby) else {
                return Ok(Err(format!(
                    "the standby '{standby}' cannot be reached: it may still need them"
                )));
            };
            return Ok(Ok(match standby.peer_watermark(s.name()).await? {
                Some(copied) => copied.min(mark),
                None => mark,
            }));
        }
        if let Some(u) = self.unreachable().first() {
            return Ok(Err(format!(
                "spoke '{}' cannot be reached: it may still need them once the standby is \
                 promoted",
                u.name
            )));
        }
        let mut horizon = mark;
        for spoke in self.spokes().filter(|n| n.name() != standby) {
            if let Some(of_standby) = spoke.peer_watermark(standby).await? {
                horizon = horizon.min(of_standby);
            }
        }
        Ok(Ok(horizon))
    }

    /// Whether `spoke`'s last successful round, as the state store recorded
    /// it, is older than [`super::EngineOptions::stale_after`]. Without
    /// that setting, a state store or a recorded success, it is not.
    async fn past_stale_after(&self, spoke: &str, now: i64) -> Result<bool> {
        let (Some(stale_after), Some(state)) = (self.options.stale_after, &self.state) else {
            return Ok(false);
        };
        let Some(last) = state.last_success(spoke).await? else {
            return Ok(false);
        };
        let finished = chrono::DateTime::parse_from_rfc3339(&last.finished_at)
            .map_err(|e| {
                crate::Error::Setup(format!(
                    "the state store's last round of '{spoke}' has an unreadable time {:?}: {e}",
                    last.finished_at
                ))
            })?
            .timestamp_micros();
        Ok(finished < now - micros(stale_after))
    }
}

/// A duration in µs, saturating.
fn micros(d: Duration) -> i64 {
    i64::try_from(d.as_micros()).unwrap_or(i64::MAX)
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
        released: Vec::new(),
    })
}
