//! What is synced: table definitions from the config and table shapes
//! harvested from the databases.

use crate::code::CombinedCode;
use crate::value::Value;
use serde::{Deserialize, Serialize};

/// How a table's changes merge (paper 001 §2.3.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SyncForm {
    /// Whole-row last-writer-wins.
    Table,
    /// Field-level merge: edits to different columns of one row both survive.
    Field,
}

/// Who wins when both sides changed the same row (form `table`) or field (form `field`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConflictPolicy {
    /// The latest change time wins; ties go to the hub, then to the spoke
    /// whose name sorts first (byte order). See [`crate::change::Stamp`].
    Latest,
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
}

/// A table as a database describes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableShape {
    /// Table name.
    pub name: String,
    /// Columns in database order.
    pub columns: Vec<ColumnShape>,
    /// The primary key's columns in key order (empty without one).
    #[serde(default)]
    pub primary_key: Vec<String>,
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
            conflict: def.conflict,
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
            message: format!("on node '{node}': {e}"),
        })
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
