//! Heterogeneity: how a table's columns on one node correspond to
//! the hub's, what crossing each mapping can lose, and the value conversion
//! that carries rows across.

pub mod convert;
pub mod file;
pub mod loss;
pub mod node;
pub mod resolve;

use crate::adapter::Node;
use crate::schema::TableDef;
use crate::{Error, Result};
use file::MappingFile;
use resolve::{local_name, resolve_table, ResolvedTable, SpokeTable};

/// Describes every configured table on the hub and on every spoke (under the
/// spoke's name for it) and resolves the mappings. Lossy mappings are listed,
/// not refused: see [`ResolvedTable::refusal`]. `unreachable` names the
/// spokes that could not be connected: the mapping file may name them, and
/// their tables are resolved when they are back.
pub async fn resolve_deployment(
    defs: &[TableDef],
    hub: &dyn Node,
    spokes: &[Box<dyn Node>],
    unreachable: &[&str],
    file: Option<&MappingFile>,
) -> Result<Vec<ResolvedTable>> {
    if let Some(f) = file {
        let names: Vec<&str> = spokes
            .iter()
            .map(|s| s.name())
            .chain(unreachable.iter().copied())
            .collect();
        check_entries(f, defs, hub, &names)?;
    }
    let mut resolved = Vec::with_capacity(defs.len());
    for def in defs {
        let hub_shape = hub
            .describe(&def.name)
            .await?
            .ok_or_else(|| Error::Schema {
                table: def.name.clone(),
                message: format!("does not exist on the hub '{}'", hub.name()),
            })?;
        let mut shapes = Vec::with_capacity(spokes.len());
        let mut entries = Vec::with_capacity(spokes.len());
        for spoke in spokes {
            let entry = file
                .and_then(|f| f.node(spoke.name()))
                .and_then(|n| n.table(&def.name))
                .filter(|t| !t.deleted);
            shapes.push(spoke.describe(local_name(def, entry)).await?);
            entries.push(entry);
        }
        let spoke_tables: Vec<SpokeTable<'_>> = spokes
            .iter()
            .zip(&shapes)
            .zip(&entries)
            .map(|((node, shape), entry)| SpokeTable {
                node: node.name(),
                entry: *entry,
                shape: shape.as_ref(),
            })
            .collect();
        resolved.push(resolve_table(def, &hub_shape, &spoke_tables, file)?);
    }
    Ok(resolved)
}

/// Every entry must name a spoke and a configured table.
fn check_entries(
    file: &MappingFile,
    defs: &[TableDef],
    hub: &dyn Node,
    spokes: &[&str],
) -> Result<()> {
    for node in &file.nodes {
        if node.id == hub.name() {
            return Err(file.error_at(
                node.at,
                format!(
                    "node '{}' is the hub; the hub's names are the main names and need no entry",
                    node.id
                ),
            ));
        }
        if !spokes.contains(&node.id.as_str()) {
            return Err(file.error_at(
                node.at,
                format!(
                    "no spoke named '{}' (spokes: {})",
                    node.id,
                    spokes.join(", ")
                ),
            ));
        }
        for table in &node.tables {
            if table.deleted {
                return Err(file.error_at(
                    table.at,
                    format!(
                        "table '{}' is marked deleted, but a table is synced to every spoke; \
                         remove it from hetsync.toml to stop syncing it",
                        table.main
                    ),
                ));
            }
            if !defs.iter().any(|d| d.name == table.main) {
                return Err(file.error_at(
                    table.at,
                    format!("table '{}' is not a [[table]] in hetsync.toml", table.main),
                ));
            }
        }
    }
    Ok(())
}
pub mod discover;
pub mod rules;
