//! The adapters this binary can use and connecting a configured deployment.

use anyhow::Result;
use hetsync_config::Config;
use hetsync_core::adapter::{AdapterFactory, NodeSpec};
use hetsync_core::engine::Deployment;
use std::sync::Arc;

/// The adapters linked into this binary. SQLite, the embedded default, is
/// always built in (it also holds the state store); the others follow the
/// binary's cargo features.
pub fn builtin_adapters() -> Vec<Arc<dyn AdapterFactory>> {
    vec![
        Arc::new(hetsync_adapter_sqlite::SqliteAdapter),
        #[cfg(feature = "postgres")]
        Arc::new(hetsync_adapter_postgres::PostgresAdapter),
        #[cfg(feature = "mysql")]
        Arc::new(hetsync_adapter_mysql::MysqlAdapter),
    ]
}

/// Connects every node of a config.
pub async fn connect(config: &Config) -> Result<Deployment> {
    let adapters = builtin_adapters();
    let mut hub = None;
    let mut spokes = Vec::new();
    for node in &config.nodes {
        let factory = adapters
            .iter()
            .find(|a| a.name() == node.adapter)
            .ok_or_else(|| {
                let known: Vec<&str> = adapters.iter().map(|a| a.name()).collect();
                config.error_at(
                    node.adapter_at,
                    format!(
                        "node '{}': unknown adapter '{}' (available: {})",
                        node.name,
                        node.adapter,
                        known.join(", ")
                    ),
                )
            })?;
        let spec = NodeSpec {
            name: node.name.clone(),
            url: node.url.clone(),
            base_dir: config.base_dir.clone(),
        };
        let connected = factory.connect(&spec).await?;
        match node.role {
            hetsync_config::Role::Hub => hub = Some(connected),
            hetsync_config::Role::Spoke => spokes.push(connected),
        }
    }
    Ok(Deployment {
        hub: hub.expect("validated config has a hub"),
        spokes,
        tables: config.tables.clone(),
    })
}
