//! `status`: per node, what is pending and when it last synced. A node that
//! cannot be read reports why instead of failing the whole status.

use super::{Engine, Unreachable};
use crate::adapter::Node;
use crate::report::{NodeStatus, StatusReport};
use crate::state::{ConflictFilter, StateStore};
use crate::Result;

impl Engine {
    /// Reads every node's tracking position, pending changes and watermarks;
    /// a spoke that could not be connected is reported as such.
    pub async fn status(&self) -> Result<StatusReport> {
        let mut nodes = vec![node_status(self.hub(), "hub").await];
        let hub_installed = nodes[0].installed;
        for spoke in self.spokes() {
            nodes.push(self.spoke_status(spoke, hub_installed).await);
        }
        nodes.extend(
            self.unreachable()
                .iter()
                .map(|u| unreachable_status(u, self.role_of(&u.name))),
        );
        last_rounds(&mut nodes, self.state.as_deref()).await?;
        report(nodes, self.state.as_deref()).await
    }

    /// The status of one node, as [`Engine::status`] reports it: the
    /// hub's own part, or a spoke's with what is pending between it and
    /// the hub and its last rounds. A spoke that could not be connected is
    /// reported by its error; a name no node has is an error.
    pub async fn node_status(&self, name: &str) -> Result<NodeStatus> {
        let hub = self.hub();
        if name == hub.name() {
            return Ok(node_status(hub, "hub").await);
        }
        let mut st = match self.unreachable().iter().find(|u| u.name == name) {
            Some(u) => unreachable_status(u, self.role_of(name)),
            None => self.spoke_status(self.spoke(name)?, true).await,
        };
        last_rounds(std::slice::from_mut(&mut st), self.state.as_deref()).await?;
        Ok(st)
    }

    /// A connected spoke's own part of its status and, when it and (per
    /// `hub_installed`) the hub are installed, what is pending between them.
    async fn spoke_status(&self, spoke: &dyn Node, hub_installed: bool) -> NodeStatus {
        let mut st = node_status(spoke, self.role_of(spoke.name())).await;
        if st.installed && hub_installed {
            if let Err(e) = self.pending(spoke, &mut st).await {
                st.error = Some(e.to_string());
            }
        }
        st
    }

    /// A spoke's role as `status` names it: `standby` or `spoke`.
    fn role_of(&self, spoke: &str) -> &'static str {
        match self.is_standby(spoke) {
            true => "standby",
            false => "spoke",
        }
    }

    async fn pending(&self, spoke: &dyn Node, st: &mut NodeStatus) -> Result<()> {
        let hub = self.hub();
        let spoke_mark = hub.peer_watermark(spoke.name()).await?;
        let hub_mark = spoke.peer_watermark(hub.name()).await?;
        st.pending_upload = Some(
            spoke
                .count_events(spoke_mark.unwrap_or_default(), None)
                .await?,
        );
        st.pending_download = match hub_mark {
            Some(mark) => Some(hub.count_events(mark, Some(spoke.name())).await?),
            None => None,
        };
        st.spoke_watermark = spoke_mark;
        st.hub_watermark = hub_mark;
        if let Some(mark) = hub_mark {
            st.stale = hub.purged_history().await?.is_some_and(|p| mark < p.upto);
        }
        if hub_mark.is_some() {
            if let Some(synced) = spoke.synced_tables(hub.name()).await? {
                st.awaiting_comparison = self
                    .not_compared(&synced)
                    .iter()
                    .map(|t| t.name.clone())
                    .collect();
            }
        }
        Ok(())
    }
}

/// `status` while the hub cannot be connected: its error, then each
/// spoke's own part (installed, position) and last rounds; what is pending
/// needs the hub.
pub async fn status_without_hub(
    hub: &Unreachable,
    spokes: &[Box<dyn Node>],
    unreachable: &[Unreachable],
    state: Option<&dyn StateStore>,
) -> Result<StatusReport> {
    let mut nodes = vec![unreachable_status(hub, "hub")];
    for spoke in spokes {
        nodes.push(node_status(spoke.as_ref(), "spoke").await);
    }
    nodes.extend(unreachable.iter().map(|u| unreachable_status(u, "spoke")));
    last_rounds(&mut nodes, state).await?;
    report(nodes, state).await
}

/// The status of `nodes`, with the conflicts the state store holds for a
/// decision.
async fn report(nodes: Vec<NodeStatus>, state: Option<&dyn StateStore>) -> Result<StatusReport> {
    let awaiting_conflicts = match state {
        None => 0,
        Some(state) => {
            let filter = ConflictFilter {
                awaiting: true,
                ..ConflictFilter::default()
            };
            state.conflicts(&filter).await?.len() as u64
        }
    };
    Ok(StatusReport {
        nodes,
        awaiting_conflicts,
    })
}

/// Fills in each spoke's last successful and last failed round.
async fn last_rounds(nodes: &mut [NodeStatus], state: Option<&dyn StateStore>) -> Result<()> {
    let Some(state) = state else { return Ok(()) };
    for st in nodes.iter_mut().filter(|st| st.role != "hub") {
        st.last_success = state.last_success(&st.name).await?;
        st.last_failure = state.last_round(&st.name).await?.filter(|r| !r.ok);
        st.parked = state.parked(Some(&st.name)).await?.len() as u64;
    }
    Ok(())
}

/// A node's own part of its status: installed, tracking position.
async fn node_status(node: &dyn Node, role: &str) -> NodeStatus {
    let mut st = NodeStatus::new(node.name(), role, node.adapter());
    match node.is_installed().await {
        Ok(installed) => st.installed = installed,
        Err(e) => st.error = Some(e.to_string()),
    }
    if st.installed {
        match node.bulk_tables().await {
            Ok(bulk) => st.bulk = bulk,
            Err(e) => st.error = Some(e.to_string()),
        }
    }
    // A node in bulk mode has no position to read (`bulk` says why).
    if st.installed && st.bulk.is_empty() {
        match node.position().await {
            Ok(p) => st.position = Some(p),
            Err(e) => st.error = Some(e.to_string()),
        }
    }
    st
}

/// The status of a node that could not be connected: its error.
fn unreachable_status(node: &Unreachable, role: &str) -> NodeStatus {
    NodeStatus {
        error: Some(node.error().to_string()),
        unreachable: true,
        ..NodeStatus::new(&node.name, role, &node.adapter)
    }
}
