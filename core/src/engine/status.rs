//! `status`: per node, what is pending and when it last synced.

use super::report::{NodeStatus, StatusReport};
use super::Engine;
use crate::adapter::Node;
use crate::Result;

impl Engine {
    /// Reads every node's tracking position, pending changes and watermarks.
    pub async fn status(&self) -> Result<StatusReport> {
        let hub = self.hub();
        let mut nodes = vec![self.node_status(hub, "hub").await?];
        let hub_installed = nodes[0].installed;
        for spoke in self.spokes() {
            let mut st = self.node_status(spoke, "spoke").await?;
            if st.installed && hub_installed {
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
            }
            if let Some(state) = &self.state {
                st.last_success = state.last_success(spoke.name()).await?;
                st.last_failure = state.last_round(spoke.name()).await?.filter(|r| !r.ok);
            }
            nodes.push(st);
        }
        Ok(StatusReport { nodes })
    }

    async fn node_status(&self, node: &dyn Node, role: &str) -> Result<NodeStatus> {
        let installed = node.is_installed().await?;
        Ok(NodeStatus {
            name: node.name().to_string(),
            role: role.to_string(),
            adapter: node.adapter().to_string(),
            installed,
            position: if installed {
                Some(node.position().await?)
            } else {
                None
            },
            pending_upload: None,
            pending_download: None,
            spoke_watermark: None,
            hub_watermark: None,
            last_success: None,
            last_failure: None,
        })
    }
}
