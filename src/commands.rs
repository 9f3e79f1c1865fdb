//! Running the subcommands.

use crate::cli::{Cli, Command, PluginsAction};
use crate::faults::EnvFaults;
use crate::output;
use crate::progress::Bars;
use crate::registry::{self, PluginSources};
use anyhow::{Context, Result};
use hetsync_adapter_sqlite::SqliteStateStore;
use hetsync_core::engine::Engine;
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
        .with_progress(Arc::new(Bars::default()));
    if let Some(faults) = EnvFaults::from_env().map_err(anyhow::Error::msg)? {
        engine = engine.with_faults(Arc::new(faults));
    }
    Ok(engine)
}

/// Runs the parsed command line; returns the exit code.
pub async fn run(cli: Cli) -> Result<u8> {
    match cli.command {
        Command::Demo { dir } => crate::demo::run(&dir).await,
        Command::Plugins { json, action } => {
            // The config adds its plugin directory when there is one.
            let config = if cli.config.exists() {
                Some(hetsync_config::load(&cli.config)?)
            } else {
                None
            };
            let sources = PluginSources::new(&cli.plugin_dirs, config.as_ref());
            match action {
                Some(PluginsAction::Check { file }) => {
                    let found = registry::check_library(&file, &sources.options)?;
                    let listing = output::AdapterListing::of(&found, &[]);
                    emit(json, &listing, output::print_check)?;
                }
                None => {
                    let adapters = registry::registry(&sources)?;
                    let listing =
                        output::AdapterListing::of(adapters.adapters(), adapters.refused());
                    emit(json, &listing, output::print_adapters)?;
                }
            }
            Ok(exit::OK)
        }
        Command::Discover {
            json,
            write_mapping,
            force,
        } => {
            let report = crate::discover::run(&crate::discover::DiscoverOptions {
                config: &cli.config,
                plugin_dirs: &cli.plugin_dirs,
                write_mapping,
                force,
            })
            .await?;
            emit(json, &report, output::print_discover)?;
            Ok(exit::OK)
        }
        Command::Install => {
            let engine = open_engine(&cli.config, &cli.plugin_dirs).await?;
            engine.install().await?;
            println!(
                "installed capture on {} node(s) for {} table(s)",
                1 + engine.spokes().count(),
                engine.tables().len()
            );
            Ok(exit::OK)
        }
        Command::Uninstall => {
            let engine = open_engine(&cli.config, &cli.plugin_dirs).await?;
            engine.uninstall().await?;
            println!(
                "removed hetsync tables and triggers from {} node(s)",
                1 + engine.spokes().count()
            );
            Ok(exit::OK)
        }
        Command::Sync { node, json } => {
            let engine = open_engine(&cli.config, &cli.plugin_dirs).await?;
            let spokes: Vec<String> = match node {
                Some(name) => vec![name],
                None => engine.spokes().map(|s| s.name().to_string()).collect(),
            };
            // One failing spoke does not keep the others from syncing.
            let mut reports = Vec::new();
            let mut failed = Vec::new();
            for spoke in &spokes {
                match engine.sync_spoke(spoke).await {
                    Ok(report) => reports.push(report),
                    Err(e @ hetsync_core::Error::Deployment(_)) => return Err(e.into()),
                    Err(e) => failed.push(format!("{spoke}: {e}")),
                }
            }
            emit(json, &reports, |r: &Vec<_>| output::print_rounds(r))?;
            for f in &failed {
                eprintln!("hetsync: round failed for {f}");
            }
            Ok(if failed.is_empty() {
                exit::OK
            } else {
                exit::FAILED
            })
        }
        Command::Status { json } => {
            let engine = open_engine(&cli.config, &cli.plugin_dirs).await?;
            emit(json, &engine.status().await?, output::print_status)?;
            Ok(exit::OK)
        }
        Command::Verify { json } => {
            let engine = open_engine(&cli.config, &cli.plugin_dirs).await?;
            let report = engine.verify().await?;
            emit(json, &report, output::print_verify)?;
            Ok(if report.ok { exit::OK } else { exit::DIFFERENT })
        }
    }
}

/// Prints `value` as pretty JSON, or for people with `human`.
fn emit<T: serde::Serialize>(json: bool, value: &T, human: impl Fn(&T)) -> Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(value)?);
    } else {
        human(value);
    }
    Ok(())
}
