//! What every command that syncs starts from: the exit codes and an engine
//! opened from the config, with the state store, progress bars and faults.

use crate::faults::EnvFaults;
use crate::progress::Bars;
use crate::registry::{self, ConnectedNodes, PluginSources};
use anyhow::{Context, Result};
use hetsync_adapter_sqlite::SqliteStateStore;
use hetsync_core::adapter::Node;
use hetsync_core::engine::{status_without_hub, Deployment, Engine, EngineOptions, Unreachable};
use hetsync_core::report::StatusReport;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Exit codes.
pub mod exit {
    /// Success.
    pub const OK: u8 = 0;
    /// A runtime failure (database, network, a failed round).
    pub const FAILED: u8 = 1;
    /// Bad configuration or usage.
    pub const CONFIG: u8 = 2;
    /// `verify` found differences.
    pub const DIFFERENT: u8 = 3;
}

/// Loads the config, connects every node and builds an engine that records
/// rounds in the state store. Spokes that cannot be connected are left out
/// (their rounds fail naming them); a hub that cannot be is an error.
pub async fn open_engine(config_path: &Path, plugin_dirs: &[PathBuf]) -> Result<Engine> {
    let (config, nodes) = connect(config_path, plugin_dirs).await?;
    let hub = nodes.hub.map_err(|u| u.error())?;
    engine(&config, hub, nodes.spokes, nodes.unreachable, nodes.standby).await
}

/// `status`: the engine's, or while the hub cannot be connected what the
/// spokes and the state store can tell.
pub async fn status(config_path: &Path, plugin_dirs: &[PathBuf]) -> Result<StatusReport> {
    let (config, nodes) = connect(config_path, plugin_dirs).await?;
    match nodes.hub {
        Ok(hub) => {
            let engine =
                engine(&config, hub, nodes.spokes, nodes.unreachable, nodes.standby).await?;
            Ok(engine.status().await?)
        }
        Err(hub) => {
            let state = SqliteStateStore::open(&config.state_path).await?;
            Ok(status_without_hub(&hub, &nodes.spokes, &nodes.unreachable, Some(&state)).await?)
        }
    }
}

async fn connect(
    config_path: &Path,
    plugin_dirs: &[PathBuf],
) -> Result<(hetsync_config::Config, ConnectedNodes)> {
    let config = hetsync_config::load(config_path)?;
    let adapters = registry::registry(&PluginSources::new(plugin_dirs, Some(&config)))?;
    let nodes = registry::connect_nodes(&config, &adapters).await?;
    let state = SqliteStateStore::open(&config.state_path).await?;
    let nodes = crate::failover::acting_roles(nodes, &state).await?;
    Ok((config, nodes))
}

async fn engine(
    config: &hetsync_config::Config,
    hub: Box<dyn Node>,
    spokes: Vec<Box<dyn Node>>,
    unreachable: Vec<Unreachable>,
    standby: Option<String>,
) -> Result<Engine> {
    let deployment = Deployment {
        hub,
        spokes,
        unreachable,
        standby,
        tables: config.tables.clone(),
        mapping: registry::load_mapping(config)?,
    };
    let state = SqliteStateStore::open(&config.state_path).await?;
    let mut engine = Engine::new(deployment)
        .await
        .with_context(|| format!("in deployment {}", config.path.display()))?
        .with_state(Arc::new(state))
        .with_options(EngineOptions {
            round_events: Some(config.sync.round_events),
            on_error: config.sync.on_error,
            retention: config.sync.retention,
            stale_after: config.sync.stale_after,
            backup: config.sync.backup,
            backup_keep: config.sync.backup_keep,
            ..EngineOptions::default()
        })
        .with_progress(Arc::new(Bars::default()));
    if let Some(faults) = EnvFaults::from_env().map_err(anyhow::Error::msg)? {
        engine = engine.with_faults(Arc::new(faults));
    }
    Ok(engine)
}
