//! `hetsync discover`: harvests every node's data dictionary, compares each
//! configured table across nodes, and writes `MappingFile.xml`.

use super::file::{FieldMapping, MappingFile, NodeMapping, TableMapping};
use super::loss::Fidelity;
use super::resolve::{conversion, local_name, pair_columns};
use super::rules::{RuleSource, TypeRules};
use crate::adapter::Node;
use crate::schema::{ColumnShape, TableDef, TableShape};
use crate::Result;
use serde::{Deserialize, Serialize};

/// One node's data dictionary.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dictionary {
    /// The node.
    pub node: String,
    /// Its adapter (database kind).
    pub adapter: String,
    /// Every user table.
    pub tables: Vec<TableShape>,
}

impl Dictionary {
    /// A table by name.
    pub fn table(&self, name: &str) -> Option<&TableShape> {
        self.tables.iter().find(|t| t.name == name)
    }
}

/// Reads a node's whole dictionary.
pub async fn harvest(node: &dyn Node) -> Result<Dictionary> {
    let mut tables = Vec::new();
    for name in node.list_tables().await? {
        if let Some(shape) = node.describe(&name).await? {
            tables.push(shape);
        }
    }
    Ok(Dictionary {
        node: node.name().to_string(),
        adapter: node.adapter().to_string(),
        tables,
    })
}

/// How one configured table looks on every node.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TableComparison {
    /// The hub's table name.
    pub table: String,
    /// The combined code.
    pub code: Vec<String>,
    /// Whether the hub has it.
    pub on_hub: bool,
    /// The hub's primary key.
    pub hub_primary_key: Vec<String>,
    /// Code columns the hub's table does not have (when it has the table).
    pub missing_code: Vec<String>,
    /// One entry per spoke.
    pub spokes: Vec<SpokeComparison>,
}

/// One configured table on one spoke.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SpokeComparison {
    /// The spoke.
    pub node: String,
    /// Its name for the table.
    pub local_table: String,
    /// Whether the name comes from the mapping file.
    pub mapped: bool,
    /// Whether the table exists there.
    pub exists: bool,
    /// Hub columns it lacks (in its names).
    pub missing_columns: Vec<String>,
    /// Its columns no hub column maps to.
    pub extra_columns: Vec<String>,
    /// Matched columns whose names or types differ.
    pub differences: Vec<ColumnDifference>,
    /// Its primary key in hub names, when it differs from the hub's.
    pub primary_key: Option<Vec<String>>,
}

/// A matched column pair that is not identical.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ColumnDifference {
    /// The hub column.
    pub column: String,
    /// The spoke column.
    pub local: String,
    /// The hub's native type.
    pub hub_type: String,
    /// The spoke's native type.
    pub local_type: String,
    /// Hub → spoke; `None` when no conversion exists.
    pub to_node: Option<Fidelity>,
    /// Spoke → hub; `None` when no conversion exists.
    pub to_hub: Option<Fidelity>,
}

/// Compares every configured table on the hub with every spoke.
pub fn compare(
    defs: &[TableDef],
    hub: &Dictionary,
    spokes: &[Dictionary],
    file: Option<&MappingFile>,
) -> Vec<TableComparison> {
    defs.iter()
        .map(|def| {
            let hub_shape = hub.table(&def.name);
            let hub_columns: Vec<&ColumnShape> = hub_shape
                .map(|s| s.columns.iter().collect())
                .unwrap_or_default();
            let spokes = spokes
                .iter()
                .map(|d| {
                    let entry = file
                        .and_then(|f| f.node(&d.node))
                        .and_then(|n| n.table(&def.name));
                    let name = local_name(def, entry);
                    let mut c = SpokeComparison {
                        node: d.node.clone(),
                        local_table: name.to_string(),
                        mapped: entry.is_some(),
                        exists: false,
                        missing_columns: Vec::new(),
                        extra_columns: Vec::new(),
                        differences: Vec::new(),
                        primary_key: None,
                    };
                    let Some(shape) = d.table(name) else {
                        return c;
                    };
                    c.exists = true;
                    let pairing = pair_columns(&hub_columns, shape, entry);
                    c.missing_columns = pairing.missing;
                    c.extra_columns = pairing.extra;
                    for (h, s) in &pairing.pairs {
                        let to_node = conversion(h, s).map(|(_, f)| f);
                        if h.name != s.name || to_node != Some(Fidelity::Exact) {
                            c.differences.push(ColumnDifference {
                                column: h.name.clone(),
                                local: s.name.clone(),
                                hub_type: h.native_type.clone(),
                                local_type: s.native_type.clone(),
                                to_node,
                                to_hub: conversion(s, h).map(|(_, f)| f),
                            });
                        }
                    }
                    let key_in_hub_names: Vec<String> = shape
                        .primary_key
                        .iter()
                        .map(|k| {
                            pairing
                                .pairs
                                .iter()
                                .find(|(_, s)| s.name == *k)
                                .map_or_else(|| k.clone(), |(h, _)| h.name.clone())
                        })
                        .collect();
                    if hub_shape.is_some_and(|h| h.primary_key != key_in_hub_names) {
                        c.primary_key = Some(key_in_hub_names);
                    }
                    c
                })
                .collect();
            TableComparison {
                table: def.name.clone(),
                code: def.code.clone(),
                on_hub: hub_shape.is_some(),
                hub_primary_key: hub_shape.map(|s| s.primary_key.clone()).unwrap_or_default(),
                missing_code: hub_shape
                    .map(|h| {
                        def.code
                            .iter()
                            .filter(|c| !h.columns.iter().any(|col| &col.name == *c))
                            .cloned()
                            .collect()
                    })
                    .unwrap_or_default(),
                spokes,
            }
        })
        .collect()
}

/// Tables of a node that no configured table maps to (under the mapping
/// file's names, if any).
pub fn unmatched_tables<'d>(
    defs: &[TableDef],
    dictionary: &'d Dictionary,
    file: Option<&MappingFile>,
) -> Vec<&'d TableShape> {
    let node = file.and_then(|f| f.node(&dictionary.node));
    dictionary
        .tables
        .iter()
        .filter(|t| {
            !defs
                .iter()
                .any(|d| local_name(d, node.and_then(|n| n.table(&d.name))) == t.name)
        })
        .collect()
}

/// What a generated mapping needs to know about a spoke.
pub struct SpokeDictionary<'a> {
    /// Its dictionary.
    pub dictionary: &'a Dictionary,
    /// The default type rules towards it: its own, else its adapter's
    /// ([`crate::adapter::Node::default_type_rules`]).
    pub defaults: &'a TypeRules,
}

/// Writes a mapping file with identity names: every spoke maps each hub
/// table and field to the same name. A field's slave type is the spoke's
/// own when the column exists there, else the type the rules propose.
pub fn generate_mapping(
    defs: &[TableDef],
    hub: &Dictionary,
    spokes: &[SpokeDictionary<'_>],
    rules: &TypeRules,
    now: &str,
) -> MappingFile {
    let nodes = spokes
        .iter()
        .map(|s| {
            let d = s.dictionary;
            let tables = defs
                .iter()
                .filter_map(|def| hub.table(&def.name).map(|h| (def, h)))
                .map(|(def, h)| {
                    let theirs = d.table(&def.name);
                    let fields = h
                        .columns
                        .iter()
                        .map(|c| {
                            let local =
                                theirs.and_then(|t| t.columns.iter().find(|x| x.name == c.name));
                            let slave_type = match local {
                                Some(l) => l.native_type.clone(),
                                None => rules
                                    .target_type(
                                        s.defaults,
                                        &d.adapter,
                                        &RuleSource {
                                            adapter: &hub.adapter,
                                            table: &def.name,
                                            column: &c.name,
                                            native: &c.native_type,
                                            canonical: c.canonical.as_ref(),
                                        },
                                    )
                                    .unwrap_or_default(),
                            };
                            FieldMapping {
                                main: c.name.clone(),
                                slave: c.name.clone(),
                                main_type: c.native_type.clone(),
                                slave_type,
                                main_constraints: constraints(h, c),
                                slave_constraints: match (theirs, local) {
                                    (Some(t), Some(l)) => constraints(t, l),
                                    _ => String::new(),
                                },
                                add_time: now.to_string(),
                                deleted: false,
                                at: Default::default(),
                            }
                        })
                        .collect();
                    TableMapping {
                        main: def.name.clone(),
                        slave: def.name.clone(),
                        add_time: now.to_string(),
                        deleted: false,
                        fields,
                        at: Default::default(),
                    }
                })
                .collect();
            NodeMapping {
                id: d.node.clone(),
                database_type: d.adapter.clone(),
                tables,
                at: Default::default(),
            }
        })
        .collect();
    MappingFile {
        version: "1".into(),
        nodes,
        path: Default::default(),
    }
}

/// A column's constraints in SQL words: `NOT NULL, PRIMARY KEY, UNIQUE, DEFAULT …, REFERENCES t(c)`.
pub fn constraints(table: &TableShape, column: &ColumnShape) -> String {
    let mut out = Vec::new();
    if !column.nullable {
        out.push("NOT NULL".to_string());
    }
    if table.primary_key.contains(&column.name) {
        out.push("PRIMARY KEY".into());
    }
    if table.unique_keys.iter().any(|k| k.contains(&column.name)) {
        out.push("UNIQUE".into());
    }
    if let Some(d) = &column.default {
        out.push(format!("DEFAULT {d}"));
    }
    for fk in table
        .foreign_keys
        .iter()
        .filter(|k| k.columns.contains(&column.name))
    {
        let position = fk
            .columns
            .iter()
            .position(|c| *c == column.name)
            .unwrap_or(0);
        match fk.references.get(position) {
            Some(r) => out.push(format!("REFERENCES {}({r})", fk.table)),
            None => out.push(format!("REFERENCES {}", fk.table)),
        }
    }
    out.join(", ")
}
