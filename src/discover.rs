//! `hetsync discover`: harvest every node's data dictionary into the state
//! store, compare the synced tables across nodes, and optionally write
//! `MappingFile.xml` for the operator to edit.

use crate::registry::{self, load_mapping, PluginSources};
use anyhow::{bail, Context, Result};
use hetsync_adapter_sqlite::SqliteStateStore;
use hetsync_core::mapping::discover::{
    compare, generate_mapping, harvest, unmatched_tables, Dictionary, SpokeDictionary,
    TableComparison,
};
use hetsync_core::mapping::rules::TypeRules;
use hetsync_core::schema::TableShape;
use hetsync_core::state::StateStore;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// What `discover` found.
#[derive(Debug, Serialize)]
pub struct DiscoverReport {
    /// Each node: its adapter and how many tables it has.
    pub nodes: Vec<NodeSummary>,
    /// Each synced table compared across nodes.
    pub tables: Vec<TableComparison>,
    /// Per node, tables no synced table maps to.
    pub unmatched: Vec<Unmatched>,
    /// The mapping file written, if asked.
    pub mapping_written: Option<PathBuf>,
}

/// One node's dictionary in brief.
#[derive(Debug, Serialize)]
pub struct NodeSummary {
    /// The node.
    pub node: String,
    /// Its adapter.
    pub adapter: String,
    /// Number of user tables.
    pub tables: usize,
}

/// Tables of a node that are not synced.
#[derive(Debug, Serialize)]
pub struct Unmatched {
    /// The node.
    pub node: String,
    /// The tables.
    pub tables: Vec<String>,
}

/// Options of one run.
pub struct DiscoverOptions<'a> {
    /// The deployment file.
    pub config: &'a Path,
    /// Extra plugin directories.
    pub plugin_dirs: &'a [PathBuf],
    /// Write `MappingFile.xml`.
    pub write_mapping: bool,
    /// Replace an existing mapping file.
    pub force: bool,
}

/// Runs `discover`.
pub async fn run(options: &DiscoverOptions<'_>) -> Result<DiscoverReport> {
    let config = hetsync_config::load(options.config)?;
    let adapters = registry::registry(&PluginSources::new(options.plugin_dirs, Some(&config)))?;
    let target = &config.mapping.path;
    if options.write_mapping && target.exists() && !options.force {
        bail!(
            "{} exists; pass --force to replace it (hand edits in it would be lost)",
            target.display()
        );
    }
    // A mapping file being replaced is not read: it may be the reason for the run.
    let file = if options.write_mapping {
        None
    } else {
        load_mapping(&config)?
    };
    let (hub, spokes) = registry::connect_nodes(&config, &adapters).await?.all()?;
    let state = SqliteStateStore::open(&config.state_path).await?;
    let mut dictionaries: Vec<Dictionary> = Vec::new();
    for node in std::iter::once(&hub).chain(&spokes) {
        let d = harvest(node.as_ref()).await?;
        state.record_dictionary(&d).await?;
        dictionaries.push(d);
    }
    let (hub_dict, spoke_dicts) = dictionaries.split_first().expect("the hub comes first");
    let tables = compare(&config.tables, hub_dict, spoke_dicts, file.as_ref());
    let unmatched = dictionaries
        .iter()
        .map(|d| Unmatched {
            node: d.node.clone(),
            tables: unmatched_tables(&config.tables, d, file.as_ref())
                .into_iter()
                .map(|t| t.name.clone())
                .collect(),
        })
        .filter(|u| !u.tables.is_empty())
        .collect();

    let mut mapping_written = None;
    if options.write_mapping {
        let rules = TypeRules::load_if_exists(&config.base_dir.join("types.toml"))?;
        // A node's own rules (an ODBC node's, by its profile), else its
        // adapter's.
        let defaults: Vec<TypeRules> = spoke_dicts
            .iter()
            .zip(&spokes)
            .map(|(d, node)| {
                let factory = &adapters
                    .find(&d.adapter)
                    .expect("the node connected with this adapter")
                    .factory;
                let (rules, origin) = match node.default_type_rules() {
                    Some(rules) => (rules, format!("node '{}'", d.node)),
                    None => (
                        factory.default_type_rules(),
                        format!("adapter '{}'", d.adapter),
                    ),
                };
                TypeRules::parse(rules, &format!("default type rules of {origin}"))
            })
            .collect::<hetsync_core::Result<_>>()?;
        let spokes: Vec<SpokeDictionary<'_>> = spoke_dicts
            .iter()
            .zip(&defaults)
            .map(|(dictionary, defaults)| SpokeDictionary {
                dictionary,
                defaults,
            })
            .collect();
        let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let mapping = generate_mapping(&config.tables, hub_dict, &spokes, &rules, &now);
        let xml = mapping.to_xml(&comment(&now, &config.tables, spoke_dicts));
        write_atomically(target, &xml)?;
        mapping_written = Some(target.clone());
    }
    Ok(DiscoverReport {
        nodes: dictionaries
            .iter()
            .map(|d| NodeSummary {
                node: d.node.clone(),
                adapter: d.adapter.clone(),
                tables: d.tables.len(),
            })
            .collect(),
        tables,
        unmatched,
        mapping_written,
    })
}

fn write_atomically(path: &Path, text: &str) -> Result<()> {
    let temp = path.with_extension("xml.tmp");
    std::fs::write(&temp, text).with_context(|| format!("writing {}", temp.display()))?;
    std::fs::rename(&temp, path).with_context(|| format!("writing {}", path.display()))
}

/// The instructions on top of a generated mapping file, with the spokes'
/// tables that no synced table maps to yet (the usual candidates for renames).
fn comment(now: &str, defs: &[hetsync_core::schema::TableDef], spokes: &[Dictionary]) -> String {
    let mut out = format!(
        "Written by `hetsync discover --write-mapping` at {now}.\n\
         Each <Node> is a spoke. Each <Table> maps a hub table (mainTable) to the spoke's\n\
         table (slaveTable); each <Field> maps a hub column (mainField) to the spoke's\n\
         column (slaveField). Edit slaveTable and slaveField where the spoke names them\n\
         differently; set isDeleted=\"true\" on a field to leave that column out of the\n\
         sync on every node. Types and constraints record what discover saw; where the\n\
         spoke lacks a column, slaveType is what the type rules propose for it.\n"
    );
    for d in spokes {
        let tables = unmatched_tables(defs, d, None);
        if tables.is_empty() {
            continue;
        }
        out.push_str(&format!(
            "\nTables on '{}' that no synced table maps to:\n",
            d.node
        ));
        for t in tables {
            out.push_str(&format!("  {}\n", describe_table(t)));
        }
    }
    out
}

fn describe_table(t: &TableShape) -> String {
    let columns: Vec<String> = t
        .columns
        .iter()
        .map(|c| format!("{} {}", c.name, c.native_type))
        .collect();
    format!("{} ({})", t.name, columns.join(", "))
}

/// What makes a table unsyncable as `discover` found it: missing on the
/// hub or on a spoke, or a code column missing somewhere.
pub fn problems_of(t: &TableComparison) -> Vec<String> {
    if !t.on_hub {
        return vec![format!("table '{}' is missing on the hub", t.table)];
    }
    let mut out = Vec::new();
    if !t.missing_code.is_empty() {
        out.push(format!(
            "table '{}': code column(s) {} missing on the hub",
            t.table,
            t.missing_code.join(", ")
        ));
    }
    for s in &t.spokes {
        if !s.exists {
            out.push(format!(
                "table '{}' is missing on {}",
                s.local_table, s.node
            ));
            continue;
        }
        let code: Vec<&String> = s
            .missing_columns
            .iter()
            .filter(|c| t.code.contains(c))
            .collect();
        if !code.is_empty() {
            out.push(format!(
                "table '{}' on {}: code column(s) {} missing there",
                s.local_table,
                s.node,
                code.iter()
                    .map(|c| c.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
    }
    out
}
