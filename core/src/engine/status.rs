//! `status`: per node, what is pending and when it last synced. A node that
//! cannot be read reports why instead of failing the whole status.

use super::Engine;
use crate::adapter::Node;
use crate::report::{NodeStatus, StatusReport};
use crate::Result;

impl Engine {
    /// Reads every node's tracking position, pending changes and watermarks.
    pub async fn status(&self) -> Result<StatusReport> {
        let mut nodes = vec![self.node_status(self.hub(), "hub").await];
        let hub_installed = nodes[0].installed;
        for spoke in self.spokes() {
            let mut st = self.node_status(spoke, "spoke").await;
            if st.installed && hub_installed {
                if let Err(e) = self.pending(spoke, &mut st).await {
                    st.error = Some(e.to_string());
                }
            }
            if let Some(state) = &self.state {
                st.last_success = state.last_success(spoke.name()).await?;
                st.last_failure = state.last_round(spoke.name()).await?.filter(|r| !r.ok);
            }
            nodes.push(st);
        }
        Ok(StatusReport { nodes })
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
        if hub_mark.is_some() {
            if let Some(synced) = spoke.synced_tables(hub.name()).await? {
                st.awaiting_comparison =
                    self.not_compared(&synced).map(|t| t.name.clone()).collect();
            }
        }
        Ok(())
    }

    async fn node_status(&self, node: &dyn Node, role: &str) -> NodeStatus {
        let mut st = NodeStatus {
            name: node.name().to_string(),
            role: role.to_string(),
            adapter: node.adapter().to_string(),
            installed: false,
            position: None,
            pending_upload: None,
            pending_download: None,
            spoke_watermark: None,
            hub_watermark: None,
            last_success: None,
            last_failure: None,
            error: None,
            awaiting_comparison: Vec::new(),
        };
        match node.is_installed().await {
            Ok(installed) => st.installed = installed,
            Err(e) => st.error = Some(e.to_string()),
        }
        if st.installed {
            match node.position().await {
                Ok(p) => st.position = Some(p),
                Err(e) => st.error = Some(e.to_string()),
            }
        }
        st
    }
}
