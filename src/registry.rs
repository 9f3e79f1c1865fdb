//! The adapters this binary can use: the built-ins and the plugins of the
//! plugin directories, in one registry; connecting a configured deployment.

use anyhow::Result;
use hetsync_config::Config;
use hetsync_core::adapter::{AdapterFactory, Node, NodeSpec};
use hetsync_core::engine::Unreachable;
use hetsync_core::mapping::file::MappingFile;
use hetsync_plugin_sdk::{LoadOptions, Registry};
use std::path::{Path, PathBuf};
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
        #[cfg(feature = "odbc")]
        Arc::new(hetsync_adapter_odbc::OdbcAdapter),
    ]
}

/// A plugin directory and who named it.
#[derive(Clone, Debug)]
pub struct PluginDir {
    /// The directory.
    pub path: PathBuf,
    /// The config file whose `[plugins] dir` names it; `None` for a
    /// `--plugin-dir` (or `HETSYNC_PLUGIN_DIR`).
    pub config: Option<PathBuf>,
}

impl PluginDir {
    /// Fails when the directory does not exist or is not a directory: a
    /// configuration or usage error (exit 2). One that exists but cannot
    /// be read is a runtime failure, reported when it is read.
    fn check_exists(&self) -> Result<()> {
        let missing = match std::fs::metadata(&self.path) {
            Ok(meta) => !meta.is_dir(),
            Err(e) => e.kind() == std::io::ErrorKind::NotFound,
        };
        if !missing {
            return Ok(());
        }
        let path = self.path.display();
        Err(match &self.config {
            Some(file) => hetsync_config::ConfigError {
                file: file.clone(),
                location: None,
                message: format!("[plugins] dir: {path} is not a directory"),
            }
            .into(),
            None => hetsync_core::Error::Deployment(format!(
                "--plugin-dir {path}: no such directory (a usage error: name an existing \
                 directory on the command line or in HETSYNC_PLUGIN_DIR)"
            ))
            .into(),
        })
    }
}

/// Where plugins come from for one run.
#[derive(Clone, Debug, Default)]
pub struct PluginSources {
    /// Directories to load every library from, in order.
    pub dirs: Vec<PluginDir>,
    /// How plugins are loaded and called.
    pub options: LoadOptions,
}

impl PluginSources {
    /// The command line's `--plugin-dir`s, then the config's `[plugins] dir`;
    /// the config's call timeout.
    pub fn new(cli_dirs: &[PathBuf], config: Option<&Config>) -> PluginSources {
        let mut sources = PluginSources {
            dirs: cli_dirs
                .iter()
                .map(|path| PluginDir {
                    path: path.clone(),
                    config: None,
                })
                .collect(),
            ..PluginSources::default()
        };
        if let Some(config) = config {
            sources
                .dirs
                .extend(config.plugins.dir.iter().map(|path| PluginDir {
                    path: path.clone(),
                    config: Some(config.path.clone()),
                }));
            sources.options.call_timeout = config.plugins.call_timeout;
        }
        sources
    }
}

/// The built-ins plus every plugin the directories hold. A refused library
/// is logged and listed (`hetsync plugins`), not fatal; a missing directory
/// is a configuration or usage error.
pub fn registry(sources: &PluginSources) -> Result<Registry> {
    let mut registry = Registry::new(builtin_adapters());
    for dir in &sources.dirs {
        dir.check_exists()?;
        registry.load_dir(&dir.path, &sources.options)?;
    }
    Ok(registry)
}

/// Validates one library as `hetsync plugins check` does: loaded on its own
/// next to the built-ins, so a clash of names is reported too. Returns the
/// adapters it offers.
pub fn check_library(
    path: &Path,
    options: &LoadOptions,
) -> Result<Vec<hetsync_plugin_sdk::Registered>> {
    let mut registry = Registry::new(builtin_adapters());
    Ok(registry.load_file(path, options)?.to_vec())
}

/// The nodes of a config, connected where they can be.
pub struct ConnectedNodes {
    /// The hub, or why it could not be connected.
    pub hub: std::result::Result<Box<dyn Node>, Unreachable>,
    /// The spokes that could be connected, in config order.
    pub spokes: Vec<Box<dyn Node>>,
    /// The spokes that could not, in config order.
    pub unreachable: Vec<Unreachable>,
    /// The hub's standby, among the spokes (connected or not).
    pub standby: Option<String>,
}

/// The hub and the spokes, all connected.
pub type AllNodes = (Box<dyn Node>, Vec<Box<dyn Node>>);

impl ConnectedNodes {
    /// The hub and every spoke; fails naming a node that could not be
    /// connected, for work that needs them all.
    pub fn all(self) -> Result<AllNodes> {
        let hub = self.hub.map_err(|u| u.error())?;
        match self.unreachable.first() {
            Some(u) => Err(u.error().into()),
            None => Ok((hub, self.spokes)),
        }
    }
}

/// Connects the hub and the spokes (in config order). A node that cannot be
/// reached (refused, silent, wrong password) is listed with why; any other
/// failure (an unknown adapter, a bad option) is an error.
pub async fn connect_nodes(config: &Config, registry: &Registry) -> Result<ConnectedNodes> {
    let mut hub = None;
    let mut spokes = Vec::new();
    let mut unreachable = Vec::new();
    let mut standby = None;
    for node in &config.nodes {
        let registered = registry.find(&node.adapter).ok_or_else(|| {
            let known: Vec<&str> = registry
                .adapters()
                .iter()
                .map(|a| a.factory.name())
                .collect();
            let mut message = format!(
                "node '{}': unknown adapter '{}' (available: {})",
                node.name,
                node.adapter,
                known.join(", ")
            );
            for refused in registry.refused() {
                message.push_str(&format!("; refused {refused}"));
            }
            config.error_at(node.adapter_at, message)
        })?;
        if let Some(declared) = registered.factory.options() {
            hetsync_core::options::check_options(&node.adapter, declared, &node.options).map_err(
                |(key, message)| {
                    let at = node
                        .options_at
                        .get(&key)
                        .copied()
                        .unwrap_or(node.adapter_at);
                    config.error_at(at, format!("node '{}': {message}", node.name))
                },
            )?;
        }
        let spec = NodeSpec {
            name: node.name.clone(),
            url: node.url.clone(),
            base_dir: config.base_dir.clone(),
            options: node.options.clone(),
        };
        let connected = match registered.factory.connect(&spec).await {
            Ok(connected) => Ok(connected),
            Err(hetsync_core::Error::Connect {
                node: name,
                message,
            }) => {
                tracing::warn!(node = %name, "cannot connect: {message}");
                Err(Unreachable {
                    name,
                    adapter: node.adapter.clone(),
                    message,
                })
            }
            Err(e) => return Err(e.into()),
        };
        if node.role == hetsync_config::Role::Standby {
            standby = Some(node.name.clone());
        }
        match (node.role, connected) {
            (hetsync_config::Role::Hub, connected) => hub = Some(connected),
            (_, Ok(connected)) => spokes.push(connected),
            (_, Err(u)) => unreachable.push(u),
        }
    }
    Ok(ConnectedNodes {
        hub: hub.expect("validated config has a hub"),
        spokes,
        unreachable,
        standby,
    })
}

/// The mapping file: read when the config names it (then it must exist) or
/// when `MappingFile.xml` sits next to the config.
pub fn load_mapping(config: &Config) -> Result<Option<MappingFile>> {
    let m = &config.mapping;
    if !m.required && !m.path.exists() {
        return Ok(None);
    }
    Ok(Some(MappingFile::load(&m.path)?))
}
