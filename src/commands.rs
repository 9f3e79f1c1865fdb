//! Running the subcommands.

use crate::cli::{BulkAction, Cli, Command, PluginsAction};
use crate::output;
use crate::registry::{self, PluginSources};
use crate::setup::{exit, open_engine};
use anyhow::Result;
use hetsync_core::engine::{Engine, EngineOptions};

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
            let problems: Vec<String> = report
                .tables
                .iter()
                .flat_map(crate::discover::problems_of)
                .collect();
            // The configuration does not fit the databases.
            Ok(exit_for(&problems, exit::CONFIG))
        }
        Command::Install => {
            let engine = open_engine(&cli.config, &cli.plugin_dirs).await?;
            engine.install().await?;
            crate::say!(
                "installed capture on {} node(s) for {} table(s)",
                1 + engine.spokes().count(),
                engine.tables().len()
            );
            Ok(exit::OK)
        }
        Command::Uninstall { force } => {
            let engine = open_engine(&cli.config, &cli.plugin_dirs).await?;
            if !force {
                refuse_to_discard(&engine).await?;
            }
            engine.uninstall().await?;
            crate::say!(
                "removed hetsync tables and triggers from {} node(s)",
                1 + engine.spokes().count()
            );
            Ok(exit::OK)
        }
        Command::Sync {
            node,
            json,
            dry_run,
            force,
        } => {
            let engine = open_engine(&cli.config, &cli.plugin_dirs).await?;
            let engine = match force {
                true => {
                    let options = EngineOptions {
                        force_whole: true,
                        ..engine.options().clone()
                    };
                    engine.with_options(options)
                }
                false => engine,
            };
            let spokes: Vec<String> = match node {
                Some(name) => vec![name],
                None => engine.spoke_names(),
            };
            if dry_run {
                return preview(&engine, &spokes, json).await;
            }
            let pass = engine.sync_pass(&spokes).await?;
            if json {
                print_json_per_spoke(&pass.rounds, &pass.failed)?;
            } else {
                output::print_rounds(&pass.rounds);
            }
            for (spoke, e) in &pass.failed {
                eprintln!("hetsync: round failed for {spoke}: {e}");
            }
            let purge_failed = match &pass.purged {
                Some(Ok(purged)) if !json => {
                    output::print_purged(purged);
                    false
                }
                Some(Err(e)) => {
                    eprintln!("hetsync: purging tracking rows failed: {e}");
                    true
                }
                _ => false,
            };
            Ok(if pass.failed.is_empty() && !purge_failed {
                exit::OK
            } else {
                exit::FAILED
            })
        }
        Command::Repair {
            node,
            table,
            prefer,
            json,
        } => {
            let engine = open_engine(&cli.config, &cli.plugin_dirs).await?;
            let spokes = match node {
                Some(name) => vec![name],
                None => engine.spoke_names(),
            };
            let mut reports = Vec::new();
            let mut failed = Vec::new();
            for spoke in spokes {
                match engine.repair(&spoke, &table, prefer.into()).await {
                    Ok(report) => reports.push(report),
                    Err(e @ hetsync_core::Error::Deployment(_)) => return Err(e.into()),
                    Err(e) => failed.push((spoke, e)),
                }
            }
            if json {
                print_json_per_spoke(&reports, &failed)?;
            } else {
                output::print_repairs(&reports);
            }
            let failed: Vec<String> = failed
                .iter()
                .map(|(spoke, e)| format!("repair failed for {spoke}: {e}"))
                .collect();
            Ok(exit_for(&failed, exit::FAILED))
        }
        Command::Parked { json, action } => {
            let state = state_store(&cli.config).await?;
            use hetsync_core::state::StateStore;
            match action {
                None => {
                    let parked = state.parked(None).await?;
                    emit(json, &parked, |p| output::print_parked(p))?;
                    Ok(exit::OK)
                }
                Some(crate::cli::ParkedAction::Retry { id }) => {
                    if !state.retry_parked(id).await? {
                        anyhow::bail!("no parked change with id {id} (see `hetsync parked`)");
                    }
                    crate::say!("parked change {id}: the next sync of its spoke reads it again");
                    Ok(exit::OK)
                }
                Some(crate::cli::ParkedAction::Drop { id }) => {
                    let parked = state.parked(None).await?;
                    let Some(p) = parked.iter().find(|p| p.id == id) else {
                        anyhow::bail!("no parked change with id {id} (see `hetsync parked`)");
                    };
                    if p.stale {
                        drop(state);
                        let engine = open_engine(&cli.config, &cli.plugin_dirs).await?;
                        engine.drop_held(p).await?;
                        crate::say!(
                            "held change {id} dropped: {} has the hub's copy of the row again",
                            p.spoke
                        );
                    } else {
                        state.drop_parked(id).await?;
                        crate::say!("parked change {id} dropped: it will not be synced");
                    }
                    Ok(exit::OK)
                }
            }
        }
        Command::Bulk { action } => {
            let engine = open_engine(&cli.config, &cli.plugin_dirs).await?;
            match action {
                BulkAction::Begin { node, tables } => {
                    let tables = engine.bulk_begin(&node, &tables).await?;
                    crate::say!(
                        "bulk mode on node '{node}': capture suspended on {}. Load the data, then \
                         run `hetsync bulk end --node {node}`; rounds wait for it",
                        tables.join(", ")
                    );
                }
                BulkAction::End { node, user, json } => {
                    let recorded = engine.bulk_end(&node, user.as_deref()).await?;
                    emit(json, &recorded, |r| output::print_bulk_recorded(&node, r))?;
                }
            }
            Ok(exit::OK)
        }
        Command::Rollback { round, node, json } => {
            let engine = open_engine(&cli.config, &cli.plugin_dirs).await?;
            let done = engine.rollback(&round, node.as_deref()).await?;
            emit(json, &done, |d| output::print_rolled_back(&round, d))?;
            Ok(exit::OK)
        }
        Command::Promote { node, json } => {
            let promoted = crate::failover::promote(&cli.config, &cli.plugin_dirs, &node).await?;
            emit(json, &promoted, output::print_promoted)?;
            Ok(exit::OK)
        }
        Command::Purge { json, retention } => {
            let config = hetsync_config::load(&cli.config)?;
            let Some(retention) = retention.or(config.sync.retention) else {
                anyhow::bail!(
                    "{}: no retention: set `retention = \"30d\"` under [sync], or pass --retention",
                    cli.config.display()
                );
            };
            let engine = open_engine(&cli.config, &cli.plugin_dirs).await?;
            let purged = engine.purge(retention).await?;
            emit(json, &purged, |p| output::print_purged(p))?;
            Ok(exit::OK)
        }
        Command::Conflicts {
            json,
            table,
            since,
            awaiting,
            action,
        } => {
            use crate::cli::ConflictsAction;
            use hetsync_core::engine::Keep;
            use hetsync_core::state::{ConflictFilter, StateStore};
            let state = state_store(&cli.config).await?;
            let Some(action) = action else {
                let filter = ConflictFilter {
                    table,
                    since,
                    id: None,
                    awaiting,
                };
                let conflicts = state.conflicts(&filter).await?;
                emit(json, &conflicts, |c| output::print_conflicts(c))?;
                return Ok(exit::OK);
            };
            let id = match &action {
                ConflictsAction::Undo { id } | ConflictsAction::Resolve { id, .. } => *id,
            };
            let filter = ConflictFilter {
                id: Some(id),
                ..ConflictFilter::default()
            };
            let Some(conflict) = state.conflicts(&filter).await?.pop() else {
                anyhow::bail!("no logged conflict with id {id} (see `hetsync conflicts`)");
            };
            drop(state);
            let engine = open_engine(&cli.config, &cli.plugin_dirs).await?;
            let written = match action {
                ConflictsAction::Undo { .. } => engine.undo_conflict(&conflict).await?,
                ConflictsAction::Resolve { keep, value, .. } => {
                    let keep = match (keep.as_deref(), value) {
                        (_, Some(value)) => Keep::Value(value),
                        (Some("hub"), None) => Keep::Hub,
                        (Some("spoke"), None) => Keep::Spoke,
                        (Some(value), None) => Keep::Value(value.to_string()),
                        (None, None) => unreachable!("clap requires --keep or --value"),
                    };
                    engine.resolve_conflict(&conflict, keep).await?
                }
            };
            emit(json, &written, output::print_conflict_write)?;
            Ok(exit::OK)
        }
        Command::Run {
            ref listen,
            max_lag,
        } => crate::run::run(&cli, listen.as_deref(), max_lag).await,
        Command::Completions { shell } => {
            use clap::CommandFactory;
            let mut command = Cli::command();
            clap_complete::generate(shell, &mut command, "hetsync", &mut std::io::stdout());
            Ok(exit::OK)
        }
        Command::Status {
            json,
            check,
            max_lag,
        } => {
            let status = crate::setup::status(&cli.config, &cli.plugin_dirs).await?;
            emit(json, &status, output::print_status)?;
            if !check {
                return Ok(exit::OK);
            }
            Ok(exit_for(&unhealthy(&status, max_lag), exit::FAILED))
        }
        Command::Verify { json } => {
            let engine = open_engine(&cli.config, &cli.plugin_dirs).await?;
            let report = engine.verify().await?;
            emit(json, &report, output::print_verify)?;
            let differs = report
                .tables
                .iter()
                .flat_map(|t| &t.nodes)
                .any(|n| n.differences > 0);
            // Spokes not compared fail the check unless some differ.
            let unreachable = exit_for(&report.unreachable, exit::FAILED);
            Ok(if differs {
                exit::DIFFERENT
            } else {
                unreachable
            })
        }
    }
}

/// Refuses to remove capture while a spoke has changes not yet synced:
/// after uninstall they are neither captured nor compared as changes.
/// The state store the config names (commands that read only it).
async fn state_store(config: &std::path::Path) -> Result<hetsync_adapter_sqlite::SqliteStateStore> {
    let config = hetsync_config::load(config)?;
    Ok(hetsync_adapter_sqlite::SqliteStateStore::open(&config.state_path).await?)
}

async fn refuse_to_discard(engine: &hetsync_core::engine::Engine) -> Result<()> {
    let status = engine.status().await?;
    let pending: Vec<String> = status
        .nodes
        .iter()
        .filter_map(|n| {
            n.pending_upload
                .filter(|&p| p > 0)
                .map(|p| format!("spoke '{}' has {p} change(s) to send", n.name))
        })
        .collect();
    if pending.is_empty() {
        return Ok(());
    }
    anyhow::bail!(
        "uninstall would discard changes not yet synced ({}): run `hetsync sync` first, \
         or `hetsync uninstall --force` to discard them",
        pending.join(", ")
    )
}

/// Names each problem on stderr; `failing` when there is one, else OK.
fn exit_for(problems: &[String], failing: u8) -> u8 {
    for problem in problems {
        eprintln!("hetsync: {problem}");
    }
    if problems.is_empty() {
        exit::OK
    } else {
        failing
    }
}

/// What `status --check` reports: nodes that cannot be read, spokes whose
/// last round failed or that never synced, and (with `max_lag`) spokes
/// whose last successful round is older than that.
fn unhealthy(
    status: &hetsync_core::report::StatusReport,
    max_lag: Option<std::time::Duration>,
) -> Vec<String> {
    let mut out = Vec::new();
    for n in &status.nodes {
        if let Some(e) = &n.error {
            out.push(format!("node '{}': {e}", n.name));
        }
        if n.role != "spoke" {
            continue;
        }
        if let Some(f) = &n.last_failure {
            out.push(format!(
                "spoke '{}': its last round failed at {}: {}",
                n.name,
                f.finished_at,
                f.error.as_deref().unwrap_or("")
            ));
        }
        let Some(success) = &n.last_success else {
            out.push(format!("spoke '{}' never synced", n.name));
            continue;
        };
        let Some(max_lag) = max_lag else { continue };
        let lag = chrono::DateTime::parse_from_rfc3339(&success.finished_at)
            .ok()
            .and_then(|t| {
                (chrono::Utc::now() - t.with_timezone(&chrono::Utc))
                    .to_std()
                    .ok()
            });
        if lag.is_none_or(|lag| lag > max_lag) {
            out.push(format!(
                "spoke '{}': last successful round at {}, more than {:?} ago",
                n.name, success.finished_at, max_lag
            ));
        }
    }
    out
}

/// Prints, as one JSON list, the report of each spoke that succeeded and
/// `{"spoke": …, "error": …}` for each that failed.
/// `sync --dry-run`: each spoke's next round planned, nothing written.
async fn preview(engine: &Engine, spokes: &[String], json: bool) -> Result<u8> {
    let mut previews = Vec::new();
    let mut failed = Vec::new();
    for spoke in spokes {
        match engine.preview(spoke).await {
            Ok(preview) => previews.push(preview),
            Err(e @ hetsync_core::Error::Deployment(_)) => return Err(e.into()),
            Err(e) => failed.push((spoke.clone(), e)),
        }
    }
    if json {
        print_json_per_spoke(&previews, &failed)?;
    } else {
        output::print_previews(&previews);
    }
    for (spoke, e) in &failed {
        eprintln!("hetsync: cannot plan the round of {spoke}: {e}");
    }
    Ok(if failed.is_empty() {
        exit::OK
    } else {
        exit::FAILED
    })
}

fn print_json_per_spoke<T: serde::Serialize>(
    done: &[T],
    failed: &[(String, hetsync_core::Error)],
) -> Result<()> {
    let mut out = done
        .iter()
        .map(serde_json::to_value)
        .collect::<Result<Vec<_>, _>>()?;
    out.extend(
        failed
            .iter()
            .map(|(spoke, e)| serde_json::json!({ "spoke": spoke, "error": e.to_string() })),
    );
    crate::say!("{}", serde_json::to_string_pretty(&out)?);
    Ok(())
}

/// Prints `value` as pretty JSON, or for people with `human`.
fn emit<T: serde::Serialize>(json: bool, value: &T, human: impl Fn(&T)) -> Result<()> {
    if json {
        crate::say!("{}", serde_json::to_string_pretty(value)?);
    } else {
        human(value);
    }
    Ok(())
}
