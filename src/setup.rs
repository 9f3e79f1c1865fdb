//! What every command that syncs starts from: the exit codes and an engine
//! opened from the config, with the state store, progress bars and faults.

use crate::faults::EnvFaults;
use crate::progress::Bars;
use crate::registry::{self, PluginSources};
use anyhow::{Context, Result};
use hetsync_adapter_sqlite::SqliteStateStore;
use hetsync_core::engine::{Engine, EngineOptions};
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
/// rounds in the state store.
pub async fn open_engine(config_path: &Path, plugin_dirs: &[PathBuf]) -> Result<Engine> {
    let config = hetsync_config::load(config_path)?;
    let adapters = registry::registry(&PluginSources::new(plugin_dirs, Some(&config)))?;
    let deployment = registry::connect(&config, &adapters).await?;
    let state = SqliteStateStore::open(&config.state_path).await?;
    let mut engine = Engine::new(deployment)
        .await
        .with_context(|| format!("in deployment {}", config.path.display()))?
        .with_state(Arc::new(state))
        .with_options(EngineOptions {
            round_events: Some(config.sync.round_events),
            ..EngineOptions::default()
        })
        .with_progress(Arc::new(Bars::default()));
    if let Some(faults) = EnvFaults::from_env().map_err(anyhow::Error::msg)? {
        engine = engine.with_faults(Arc::new(faults));
    }
    Ok(engine)
}
