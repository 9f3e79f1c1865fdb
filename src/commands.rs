//! Running the subcommands.

use crate::cli::{Cli, Command, PluginsAction};
use crate::output;
use crate::registry::{self, PluginSources};
use crate::setup::{exit, open_engine};
use anyhow::Result;

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
            let pass = engine.sync_pass(&spokes).await?;
            emit(json, &pass.rounds, |r: &Vec<_>| output::print_rounds(r))?;
            for (spoke, e) in &pass.failed {
                eprintln!("hetsync: round failed for {spoke}: {e}");
            }
            Ok(if pass.failed.is_empty() {
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
