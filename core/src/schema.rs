//! What is synced: table definitions from the config and table shapes
//! harvested from the databases.

use crate::code::CombinedCode;
use crate::value::Value;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How a table's changes merge: per row or per field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SyncForm {
    /// Whole-row last-writer-wins.
    Table,
    /// Field-level merge: edits to different columns of one row both survive.
    Field,
}

/// Who wins when both sides changed the same row (form `table`) or field
/// (form `field`). The rules are in [`crate::plan::precedence`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConflictPolicy {
    /// The latest change time wins; ties go to the hub, then to the spoke
    /// whose name sorts first (byte order). See [`crate::change::Stamp`].
    #[default]
    Latest,
    /// The hub's side wins, whatever the times: its own edits and what it
    /// took from other spokes beat the spoke's edit (paper 001's
    /// master-wins).
    Hub,
    /// The change made on the node of higher priority wins; equal
    /// priorities fall back to [`ConflictPolicy::Latest`]. The map holds
    /// each node's `priority` (a node it does not name has 0).
    Priority(BTreeMap<String, i64>),
    /// The change made by the database user of higher level wins; equal
    /// levels fall back to [`ConflictPolicy::Latest`].
    UserLevel(UserLevels),
    /// Someone decides: meanwhile the hub's side stands (as with
    /// [`ConflictPolicy::Hub`], so every copy stays equal), and the conflict
    /// waits in the log for `hetsync conflicts resolve`.
    Manual,
}

/// The levels of [`ConflictPolicy::UserLevel`]: the `[users]` map, and
/// who counts as the user of a change whose stamp names none.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserLevels {
    /// Database user → level (a user it does not name has 0).
    pub levels: BTreeMap<String, i64>,
    /// Node → its `default_user`: the user of the changes made there whose
    /// database recorded none (SQLite), or that hetsync wrote itself.
    pub default_users: BTreeMap<String, String>,
}

impl UserLevels {
    /// The user a change counts as: the one its stamp recorded, else the
    /// default user of the node it was made on.
    pub fn user_of<'a>(&'a self, stamp: &'a crate::change::Stamp) -> Option<&'a str> {
        stamp
            .user
            .as_deref()
            .or_else(|| self.default_users.get(&stamp.origin).map(String::as_str))
    }

    /// The level of a change's user ([`UserLevels::user_of`]); 0 for none.
    pub fn level(&self, stamp: &crate::change::Stamp) -> i64 {
        self.user_of(stamp)
            .and_then(|u| self.levels.get(u))
            .copied()
            .unwrap_or(0)
    }
}

/// One synced table as the deployment configures it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableDef {
    /// Table name, identical on every node.
    pub name: String,
    /// The columns that make up the combined code, in order.
    pub code: Vec<String>,
    /// Sync form.
    pub form: SyncForm,
    /// Conflict policy.
    pub conflict: ConflictPolicy,
    /// Whether two-way sync through a lossy column mapping is allowed.
    #[serde(default)]
    pub allow_lossy: bool,
    /// What to do with a value that does not fit its target column.
    #[serde(default)]
    pub on_unfit: crate::mapping::convert::UnfitPolicy,
}

impl TableDef {
    /// A definition with the defaults: field form, latest wins, no lossy
    /// mappings, unfit values are errors.
    pub fn new(name: impl Into<String>, code: &[&str]) -> TableDef {
        TableDef {
            name: name.into(),
            code: code.iter().map(|c| c.to_string()).collect(),
            form: SyncForm::Field,
            conflict: ConflictPolicy::Latest,
            allow_lossy: false,
            on_unfit: Default::default(),
        }
    }
}

/// One column as a database describes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColumnShape {
    /// Column name.
    pub name: String,
    /// The native type as the database spells it.
    pub native_type: String,
    /// Its canonical type; `None` when it has no canonical equivalent
    /// (such a column syncs only to the same native type).
    pub canonical: Option<crate::types::CanonicalType>,
    /// Whether NULL is allowed.
    pub nullable: bool,
    /// The default expression as the database prints it, if any.
    #[serde(default)]
    pub default: Option<String>,
}

/// A table as a database describes it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableShape {
    /// Table name.
    pub name: String,
    /// Columns in database order.
    pub columns: Vec<ColumnShape>,
    /// The primary key's columns in key order (empty without one).
    #[serde(default)]
    pub primary_key: Vec<String>,
    /// Unique keys other than the primary key, each in key order.
    #[serde(default)]
    pub unique_keys: Vec<Vec<String>>,
    /// Foreign keys.
    #[serde(default)]
    pub foreign_keys: Vec<ForeignKey>,
}

/// A foreign key of a table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForeignKey {
    /// The referencing columns, in key order.
    pub columns: Vec<String>,
    /// The referenced table.
    pub table: String,
    /// The referenced columns, in key order (empty: the referenced primary key).
    pub references: Vec<String>,
}

impl ForeignKey {
    /// Groups rows of `(key id, referenced table, column, referenced column)`,
    /// ordered by key id and position, into foreign keys.
    pub fn group<K: PartialEq>(rows: Vec<(K, String, String, Option<String>)>) -> Vec<ForeignKey> {
        let mut keys: Vec<(K, ForeignKey)> = Vec::new();
        for (id, table, column, referenced) in rows {
            if keys.last().is_none_or(|(last, _)| *last != id) {
                keys.push((
                    id,
                    ForeignKey {
                        columns: Vec::new(),
                        table,
                        references: Vec::new(),
                    },
                ));
            }
            let key = &mut keys.last_mut().expect("pushed above").1;
            key.columns.push(column);
            key.references.extend(referenced);
        }
        keys.into_iter().map(|(_, k)| k).collect()
    }
}

/// Groups rows of `(key id, column)`, ordered by key id and position, into keys.
pub fn group_keys<K: PartialEq>(rows: Vec<(K, String)>) -> Vec<Vec<String>> {
    let mut keys: Vec<(K, Vec<String>)> = Vec::new();
    for (id, column) in rows {
        match keys.last_mut() {
            Some((last, columns)) if *last == id => columns.push(column),
            _ => keys.push((id, vec![column])),
        }
    }
    keys.into_iter().map(|(_, k)| k).collect()
}

/// Tables whose names start with this belong to hetsync (tracking,
/// bookkeeping) and are never listed as user tables.
pub const META_TABLE_PREFIX: &str = "_hetsync_";

/// Leaves hetsync's own tables out of a database's table list.
pub fn user_tables(names: Vec<String>) -> Vec<String> {
    names
        .into_iter()
        .filter(|n| !n.starts_with(META_TABLE_PREFIX))
        .collect()
}

/// A table resolved for syncing: the configured definition plus the column
/// list every node shares. Rows cross as value vectors in `columns` order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncTable {
    /// Table name.
    pub name: String,
    /// All synced columns, in a fixed order.
    pub columns: Vec<String>,
    /// Positions in `columns` of the combined-code columns, in code order.
    pub code: Vec<usize>,
    /// Sync form.
    pub form: SyncForm,
    /// Conflict policy.
    pub conflict: ConflictPolicy,
}

impl SyncTable {
    /// Resolves a definition against the shape harvested from the hub.
    pub fn resolve(def: &TableDef, shape: &TableShape) -> crate::Result<Self> {
        let columns: Vec<String> = shape.columns.iter().map(|c| c.name.clone()).collect();
        let code = def
            .code
            .iter()
            .map(|c| {
                columns
                    .iter()
                    .position(|x| x == c)
                    .ok_or_else(|| crate::Error::Schema {
                        table: def.name.clone(),
                        message: format!("combined-code column '{c}' does not exist"),
                    })
            })
            .collect::<crate::Result<Vec<_>>>()?;
        if code.is_empty() {
            return Err(crate::Error::Schema {
                table: def.name.clone(),
                message: "the combined code needs at least one column".into(),
            });
        }
        Ok(SyncTable {
            name: def.name.clone(),
            columns,
            code,
            form: def.form,
            conflict: def.conflict.clone(),
        })
    }

    /// Finds a table of a batch for `node` by name.
    pub fn find<'t>(
        tables: &'t [SyncTable],
        name: &str,
        node: &str,
    ) -> crate::Result<&'t SyncTable> {
        tables.iter().find(|t| t.name == name).ok_or_else(|| {
            crate::Error::Deployment(format!(
                "batch for node '{node}' names unknown table '{name}'"
            ))
        })
    }

    /// Position of a column by name.
    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c == name)
    }

    /// Whether the column at `index` is part of the combined code.
    pub fn is_code_column(&self, index: usize) -> bool {
        self.code.contains(&index)
    }

    /// The combined code of a row read from `node`.
    pub fn code_of(&self, row: &[Value], node: &str) -> crate::Result<CombinedCode> {
        CombinedCode::from_row(row, &self.code).map_err(|e| crate::Error::Data {
            table: self.name.clone(),
            code: "?".into(),
            message: format!(
                "on node '{node}': {e} (code columns: {}); give the row a code or delete it",
                self.code_columns().collect::<Vec<_>>().join(", ")
            ),
        })
    }

    /// The combined code of the row `op` writes or deletes (an upsert's
    /// values read from `node`).
    pub fn code_of_op(&self, op: &crate::change::RowOp, node: &str) -> crate::Result<CombinedCode> {
        match op {
            crate::change::RowOp::Upsert { values, .. } => self.code_of(values, node),
            crate::change::RowOp::Delete { code } => Ok(code.clone()),
        }
    }

    /// Keys rows read from `node` by their combined code into `into`. Two
    /// rows with one code (the code is not unique there: its unique key was
    /// dropped) are refused, naming node, table and code: one of them would
    /// be lost.
    pub fn key_rows(
        &self,
        rows: Vec<Vec<Value>>,
        node: &str,
        into: &mut std::collections::HashMap<CombinedCode, Vec<Value>>,
    ) -> crate::Result<()> {
        for row in rows {
            let code = self.code_of(&row, node)?;
            if into.contains_key(&code) {
                return Err(self.duplicate_code(&code, node));
            }
            into.insert(code, row);
        }
        Ok(())
    }

    /// The error for two rows with one combined code on `node`.
    pub fn duplicate_code(&self, code: &CombinedCode, node: &str) -> crate::Error {
        crate::Error::Data {
            table: self.name.clone(),
            code: code.to_string(),
            message: format!(
                "node '{node}' has more than one row with this code; the combined code \
                 ({}) must be unique on every node (give it a unique key there, then \
                 `hetsync install` checks it)",
                self.code_columns().collect::<Vec<_>>().join(", ")
            ),
        }
    }

    /// Picks this table's columns, in its column order, out of a node's
    /// description of the table; a missing column is a schema error.
    pub fn pick_columns<C: Clone>(
        &self,
        node: &str,
        described: &[C],
        name_of: impl Fn(&C) -> &str,
    ) -> crate::Result<Vec<C>> {
        self.columns
            .iter()
            .map(|name| {
                described
                    .iter()
                    .find(|c| name_of(c) == name)
                    .cloned()
                    .ok_or_else(|| crate::Error::Schema {
                        table: self.name.clone(),
                        message: format!("column '{name}' does not exist on node '{node}'"),
                    })
            })
            .collect()
    }

    /// Names of the combined-code columns, in code order.
    pub fn code_columns(&self) -> impl Iterator<Item = &str> {
        self.code.iter().map(|&i| self.columns[i].as_str())
    }
}
