//! The hub and its standby: which of the two acts as the hub (the one
//! promoted last, by epoch), `hetsync promote`, and the heartbeat
//! `hetsync run` checks before it promotes the standby itself.

use crate::registry::{self, ConnectedNodes, PluginSources};
use anyhow::{bail, Result};
use hetsync_adapter_sqlite::SqliteStateStore;
use hetsync_config::{Config, Role};
use hetsync_core::engine::{node_epoch, record_epoch};
use hetsync_core::state::StateStore;
use std::path::Path;

/// The configured hub's and standby's roles as they act now: the standby
/// takes the hub's place (and the hub becomes its standby) once it was
/// promoted after the hub, by the epochs the two nodes hold or, for a node
/// that cannot be reached, the last promotion the state store recorded. So
/// an old hub that comes back after a failover cannot act as the hub.
pub async fn acting_roles(nodes: ConnectedNodes, state: &dyn StateStore) -> Result<ConnectedNodes> {
    let Some(standby) = nodes.standby.clone() else {
        return Ok(nodes);
    };
    let recorded = state.last_promotion().await?;
    let known = |name: &str, on_node: Option<u64>| {
        let in_state = recorded
            .as_ref()
            .filter(|(_, node)| node == name)
            .map_or(0, |(epoch, _)| *epoch);
        on_node.unwrap_or(0).max(in_state)
    };
    let hub_epoch = match &nodes.hub {
        Ok(hub) => known(hub.name(), Some(node_epoch(hub.as_ref()).await?)),
        Err(u) => known(&u.name, None),
    };
    let standby_epoch = match nodes.spokes.iter().find(|s| s.name() == standby) {
        Some(node) => known(&standby, Some(node_epoch(node.as_ref()).await?)),
        None => known(&standby, None),
    };
    if standby_epoch <= hub_epoch {
        return Ok(nodes);
    }
    // They trade places: the old hub first among the spokes.
    let ConnectedNodes {
        hub: old_hub,
        mut spokes,
        mut unreachable,
        ..
    } = nodes;
    let hub = match spokes.iter().position(|s| s.name() == standby) {
        Some(i) => Ok(spokes.remove(i)),
        None => {
            let i = unreachable
                .iter()
                .position(|u| u.name == standby)
                .expect("the standby is connected or not");
            Err(unreachable.remove(i))
        }
    };
    let old_hub_name = match old_hub {
        Ok(node) => {
            let name = node.name().to_string();
            spokes.insert(0, node);
            name
        }
        Err(u) => {
            let name = u.name.clone();
            unreachable.insert(0, u);
            name
        }
    };
    tracing::info!(
        hub = %standby,
        standby = %old_hub_name,
        epoch = standby_epoch,
        "the standby was promoted: it acts as the hub"
    );
    Ok(ConnectedNodes {
        hub,
        spokes,
        unreachable,
        standby: Some(old_hub_name),
    })
}

/// What `hetsync promote` did.
#[derive(Debug, serde::Serialize)]
pub struct Promoted {
    /// The node that acts as the hub now.
    pub hub: String,
    /// Its epoch.
    pub epoch: u64,
    /// The node that was the hub, its standby from now on.
    pub standby: String,
    /// Whether the old hub could be reached (its integration lock was held
    /// while the epoch was recorded).
    pub old_hub_reachable: bool,
}

/// Promotes the standby `node`: records an epoch above every one known on
/// it and in the state store, so it acts as the hub from now on and the
/// hub as its standby. Refused for any other node. When the hub can be
/// reached, its integration lock is held meanwhile, so no round is under
/// way.
pub async fn promote(
    config_path: &Path,
    plugin_dirs: &[std::path::PathBuf],
    node: &str,
) -> Result<Promoted> {
    let config = hetsync_config::load(config_path)?;
    let state = SqliteStateStore::open(&config.state_path).await?;
    let nodes = connect_pair(&config, plugin_dirs, &state).await?;
    let hub_name = match &nodes.hub {
        Ok(hub) => hub.name().to_string(),
        Err(u) => u.name.clone(),
    };
    if node == hub_name {
        bail!("'{node}' already acts as the hub");
    }
    let Some(standby) = nodes.standby.as_deref().filter(|s| *s == node) else {
        bail!(
            "'{node}' is not the hub's standby ({}): only the standby can be promoted",
            match &nodes.standby {
                Some(s) => format!("the standby is '{s}'"),
                None => "no node has role = \"standby\"".to_string(),
            }
        );
    };
    let Some(standby_node) = nodes.spokes.iter().find(|s| s.name() == standby) else {
        let why = nodes
            .unreachable
            .iter()
            .find(|u| u.name == standby)
            .map(|u| u.error().to_string())
            .unwrap_or_default();
        bail!("the standby '{standby}' cannot be promoted: {why}");
    };
    let _lock = match &nodes.hub {
        Ok(hub) => Some(hub.lock_integration().await?),
        Err(_) => None,
    };
    let mut epoch = node_epoch(standby_node.as_ref()).await?;
    if let Ok(hub) = &nodes.hub {
        epoch = epoch.max(node_epoch(hub.as_ref()).await?);
    }
    if let Some((recorded, _)) = state.last_promotion().await? {
        epoch = epoch.max(recorded);
    }
    let epoch = epoch + 1;
    record_epoch(standby_node.as_ref(), epoch).await?;
    state.record_promotion(epoch, standby).await?;
    tracing::warn!(hub = %standby, standby = %hub_name, epoch, "standby promoted");
    Ok(Promoted {
        hub: standby.to_string(),
        epoch,
        standby: hub_name,
        old_hub_reachable: nodes.hub.is_ok(),
    })
}

/// What a heartbeat found.
#[derive(Debug)]
pub struct Beat {
    /// The node acting as the hub.
    pub hub: String,
    /// Its standby.
    pub standby: Option<String>,
    /// Why the hub did not answer; `None` when it did.
    pub missed: Option<String>,
}

/// The heartbeat of the hub as it acts now: whether it answers (its
/// tracking position can be read).
pub async fn heartbeat(config: &Config, plugin_dirs: &[std::path::PathBuf]) -> Result<Beat> {
    let state = SqliteStateStore::open(&config.state_path).await?;
    let nodes = connect_pair(config, plugin_dirs, &state).await?;
    let (hub, missed) = match nodes.hub {
        Ok(hub) => (
            hub.name().to_string(),
            hub.position().await.err().map(|e| e.to_string()),
        ),
        Err(u) => (u.name, Some(u.message)),
    };
    Ok(Beat {
        hub,
        standby: nodes.standby,
        missed,
    })
}

/// The hub and its standby alone, connected where they can be, in their
/// acting roles.
async fn connect_pair(
    config: &Config,
    plugin_dirs: &[std::path::PathBuf],
    state: &dyn StateStore,
) -> Result<ConnectedNodes> {
    let mut pair = config.clone();
    pair.nodes.retain(|n| n.role != Role::Spoke);
    let adapters = registry::registry(&PluginSources::new(plugin_dirs, Some(config)))?;
    let nodes = registry::connect_nodes(&pair, &adapters).await?;
    acting_roles(nodes, state).await
}
