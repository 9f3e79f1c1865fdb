//! Resolving a synced table on every node: the hub's names and types are the
//! *logical* table the engine works with; each spoke's table is matched to it
//! by `MappingFile.xml` (or by identical names), column by column, with the
//! conversion each direction needs and what that conversion can lose.

use super::convert::UnfitPolicy;
use super::file::{MappingFile, Position, TableMapping};
use super::loss::{classify, Fidelity, Loss};
use crate::schema::{ColumnShape, SyncTable, TableDef, TableShape};
use crate::types::CanonicalType;
use crate::{Error, Result};
use serde::Serialize;

/// How values of one column cross in one direction.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "conversion", rename_all = "snake_case")]
pub enum Conversion {
    /// Unchanged: both sides already read and write the same values.
    Pass,
    /// Through [`super::convert::convert`].
    Convert {
        /// Canonical type of the source column.
        from: CanonicalType,
        /// Canonical type of the target column.
        to: CanonicalType,
    },
}

/// One column of a node and the hub column it holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ColumnMap {
    /// The hub's name.
    pub logical: String,
    /// This node's name.
    pub local: String,
    /// The hub column's native type.
    pub logical_native: String,
    /// This node's native type.
    pub local_native: String,
    /// The canonical type of this node's column, when it has one: the
    /// kinds of value it may hold ([`super::convert::holds`]).
    pub local_canonical: Option<CanonicalType>,
    /// Node → hub.
    pub inbound: Conversion,
    /// Hub → node.
    pub outbound: Conversion,
    /// What node → hub can lose.
    pub fidelity_in: Fidelity,
    /// What hub → node can lose.
    pub fidelity_out: Fidelity,
}

/// One synced table on one node.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TableMap {
    /// The table as the engine sees it (hub names).
    pub logical: SyncTable,
    /// The same table with this node's names, in the same column order.
    pub local: SyncTable,
    /// Per column, in the same order.
    pub columns: Vec<ColumnMap>,
    /// What to do with a value that does not fit.
    pub policy: UnfitPolicy,
}

impl TableMap {
    /// Whether rows cross unchanged and names are the same.
    pub fn is_identity(&self) -> bool {
        self.logical.name == self.local.name
            && self.columns.iter().all(|c| {
                c.logical == c.local
                    && c.inbound == Conversion::Pass
                    && c.outbound == Conversion::Pass
            })
    }
}

/// Every synced table on one node.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NodeMap {
    /// The node.
    pub node: String,
    /// Its tables, in configured order.
    pub tables: Vec<TableMap>,
}

/// A column whose mapping can lose values in some direction.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LossyColumn {
    /// The hub's table name.
    pub table: String,
    /// The spoke.
    pub node: String,
    /// The hub's column name.
    pub column: String,
    /// The spoke's column name.
    pub local: String,
    /// `"to hub"` or `"to node"`.
    pub direction: &'static str,
    /// `from → to` in native types.
    pub types: String,
    /// What is lost.
    pub losses: Vec<Loss>,
    /// Whether the table's config allows it.
    pub allowed: bool,
}

impl std::fmt::Display for LossyColumn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let losses: Vec<String> = self.losses.iter().map(Loss::to_string).collect();
        write!(
            f,
            "column '{}' ('{}' on node '{}'), {} {}: loses {}",
            self.column,
            self.local,
            self.node,
            self.direction,
            self.types,
            losses.join(", ")
        )
    }
}

/// A table resolved on the hub and on every spoke.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ResolvedTable {
    /// The logical table.
    pub table: SyncTable,
    /// The hub's map (same names; values brought to canonical form).
    pub hub: TableMap,
    /// One map per spoke, in the order given.
    pub spokes: Vec<TableMap>,
    /// Lossy mappings, allowed or not.
    pub lossy: Vec<LossyColumn>,
}

impl ResolvedTable {
    /// The lossy mappings the table's config does not allow, as one error.
    pub fn refusal(&self) -> Option<Error> {
        let refused: Vec<String> = self
            .lossy
            .iter()
            .filter(|l| !l.allowed)
            .map(|l| format!("  {l}"))
            .collect();
        (!refused.is_empty()).then(|| Error::Schema {
            table: self.table.name.clone(),
            message: format!(
                "two-way sync through lossy mappings is refused:\n{}\nset allow_lossy = true on this [[table]] to sync it anyway \
                 (a value that does not fit is then an error, or cut with on_unfit = \"truncate\"), or change a column type",
                refused.join("\n")
            ),
        })
    }
}

/// What a spoke has for a table: its name, its entry in the mapping file and
/// its shape (`None` when the table does not exist there).
pub struct SpokeTable<'a> {
    /// The node.
    pub node: &'a str,
    /// The table's entry in the mapping file.
    pub entry: Option<&'a TableMapping>,
    /// The spoke's table.
    pub shape: Option<&'a TableShape>,
}

/// The spoke's name for a hub table: the mapping file's, else the same.
pub fn local_name<'a>(def: &'a TableDef, entry: Option<&'a TableMapping>) -> &'a str {
    entry.map_or(def.name.as_str(), |e| e.slave.as_str())
}

/// The hub's columns matched to a spoke's by the mapping entry (or by name).
pub struct Pairing<'s> {
    /// Hub column and the spoke column holding it.
    pub pairs: Vec<(&'s ColumnShape, &'s ColumnShape)>,
    /// Spoke names of hub columns the spoke lacks.
    pub missing: Vec<String>,
    /// Spoke columns no hub column maps to and no entry leaves out.
    pub extra: Vec<String>,
}

/// Matches hub columns to a spoke table's columns.
pub fn pair_columns<'s>(
    hub_columns: &[&'s ColumnShape],
    shape: &'s TableShape,
    entry: Option<&TableMapping>,
) -> Pairing<'s> {
    let fields = entry.map(|e| e.fields.as_slice()).unwrap_or_default();
    let local_of = |logical: &str| -> String {
        fields
            .iter()
            .find(|f| f.main == logical && !f.deleted)
            .map_or_else(|| logical.to_string(), |f| f.slave.clone())
    };
    let mut pairing = Pairing {
        pairs: Vec::new(),
        missing: Vec::new(),
        extra: Vec::new(),
    };
    for hub_col in hub_columns {
        let local = local_of(&hub_col.name);
        match shape.columns.iter().find(|c| c.name == local) {
            Some(theirs) => pairing.pairs.push((hub_col, theirs)),
            None => pairing.missing.push(local),
        }
    }
    pairing.extra = shape
        .columns
        .iter()
        .filter(|c| {
            !pairing.pairs.iter().any(|(_, p)| p.name == c.name)
                && !fields.iter().any(|f| f.deleted && f.slave == c.name)
        })
        .map(|c| c.name.clone())
        .collect();
    pairing
}

/// Resolves one configured table on the hub and the spokes.
pub fn resolve_table(
    def: &TableDef,
    hub_shape: &TableShape,
    spokes: &[SpokeTable<'_>],
    file: Option<&MappingFile>,
) -> Result<ResolvedTable> {
    let at = |p: Position, message: String| match file {
        Some(f) => f.error_at(p, message),
        None => Error::Schema {
            table: def.name.clone(),
            message,
        },
    };
    // Fields deleted in any entry are not synced anywhere.
    let mut excluded: Vec<&str> = Vec::new();
    for spoke in spokes {
        for field in spoke.entry.iter().flat_map(|e| &e.fields) {
            if !field.main.is_empty() && hub_shape.columns.iter().all(|c| c.name != field.main) {
                return Err(at(
                    field.at,
                    format!(
                        "table '{}' has no column '{}' on the hub",
                        def.name, field.main
                    ),
                ));
            }
            if field.deleted && !field.main.is_empty() {
                if def.code.contains(&field.main) {
                    return Err(at(
                        field.at,
                        format!("column '{}' of table '{}' is part of the combined code and cannot be left out", field.main, def.name),
                    ));
                }
                excluded.push(&field.main);
            }
        }
    }
    let hub_columns: Vec<&ColumnShape> = hub_shape
        .columns
        .iter()
        .filter(|c| !excluded.contains(&c.name.as_str()))
        .collect();
    let logical_shape = TableShape {
        columns: hub_columns.iter().map(|c| (*c).clone()).collect(),
        ..hub_shape.clone()
    };
    let table = SyncTable::resolve(def, &logical_shape)?;

    let hub = TableMap {
        logical: table.clone(),
        local: table.clone(),
        columns: hub_columns
            .iter()
            .map(|c| {
                let pass = match def.code.contains(&c.name) {
                    true => Conversion::Pass,
                    false => canonical_form(&c.canonical),
                };
                ColumnMap {
                    logical: c.name.clone(),
                    local: c.name.clone(),
                    logical_native: c.native_type.clone(),
                    local_native: c.native_type.clone(),
                    local_canonical: c.canonical.clone(),
                    inbound: pass.clone(),
                    outbound: Conversion::Pass,
                    fidelity_in: Fidelity::Exact,
                    fidelity_out: Fidelity::Exact,
                }
            })
            .collect(),
        policy: def.on_unfit,
    };

    let mut resolved = ResolvedTable {
        table: table.clone(),
        hub,
        spokes: Vec::new(),
        lossy: Vec::new(),
    };
    for spoke in spokes {
        let map = resolve_spoke(def, &table, &hub_columns, spoke, &at, &mut resolved.lossy)?;
        resolved.spokes.push(map);
    }
    Ok(resolved)
}

fn resolve_spoke(
    def: &TableDef,
    table: &SyncTable,
    hub_columns: &[&ColumnShape],
    spoke: &SpokeTable<'_>,
    at: &impl Fn(Position, String) -> Error,
    lossy: &mut Vec<LossyColumn>,
) -> Result<TableMap> {
    let name = local_name(def, spoke.entry);
    let entry_at = spoke.entry.map(|e| e.at).unwrap_or_default();
    let shape = spoke.shape.ok_or_else(|| {
        let message = format!("does not exist on node '{}'", spoke.node);
        match spoke.entry {
            Some(_) => at(
                entry_at,
                format!("table '{name}' (for hub table '{}') {message}", def.name),
            ),
            None => Error::Schema {
                table: def.name.clone(),
                message,
            },
        }
    })?;
    let fields = spoke.entry.map(|e| e.fields.as_slice()).unwrap_or_default();
    for field in fields.iter().filter(|f| !f.deleted || f.main.is_empty()) {
        if shape.columns.iter().all(|c| c.name != field.slave) {
            return Err(at(
                field.at,
                format!(
                    "table '{name}' on node '{}' has no column '{}'",
                    spoke.node, field.slave
                ),
            ));
        }
    }
    let pairing = pair_columns(hub_columns, shape, spoke.entry);
    let mut columns: Vec<ColumnMap> = Vec::with_capacity(pairing.pairs.len());
    for (hub_col, theirs) in &pairing.pairs {
        if columns.iter().any(|c| c.local == theirs.name) {
            return Err(at(
                entry_at,
                format!(
                    "column '{}' on node '{}' is mapped to two hub columns",
                    theirs.name, spoke.node
                ),
            ));
        }
        warn_if_stale(def, spoke, hub_col, theirs);
        let is_code = def.code.contains(&hub_col.name);
        columns.push(column_map(
            def, spoke.node, hub_col, theirs, is_code, at, entry_at,
        )?);
    }
    let Pairing { missing, extra, .. } = pairing;
    if !missing.is_empty() || !extra.is_empty() {
        return Err(Error::Schema {
            table: def.name.clone(),
            message: format!(
                "columns differ between the hub and node '{}': missing there [{}], only there [{}]; \
                 map or leave them out in MappingFile.xml (hetsync discover --write-mapping writes one)",
                spoke.node,
                missing.join(", "),
                extra.join(", ")
            ),
        });
    }
    for c in &columns {
        for (direction, fidelity, types) in [
            (
                "to hub",
                &c.fidelity_in,
                format!("{} → {}", c.local_native, c.logical_native),
            ),
            (
                "to node",
                &c.fidelity_out,
                format!("{} → {}", c.logical_native, c.local_native),
            ),
        ] {
            if let Fidelity::Lossy(losses) = fidelity {
                lossy.push(LossyColumn {
                    table: def.name.clone(),
                    node: spoke.node.to_string(),
                    column: c.logical.clone(),
                    local: c.local.clone(),
                    direction,
                    types,
                    losses: losses.clone(),
                    allowed: def.allow_lossy,
                });
            }
        }
    }
    let local = SyncTable {
        name: name.to_string(),
        columns: columns.iter().map(|c| c.local.clone()).collect(),
        ..table.clone()
    };
    Ok(TableMap {
        logical: table.clone(),
        local,
        columns,
        policy: def.on_unfit,
    })
}

fn column_map(
    def: &TableDef,
    node: &str,
    hub: &ColumnShape,
    spoke: &ColumnShape,
    is_code: bool,
    at: &impl Fn(Position, String) -> Error,
    entry_at: Position,
) -> Result<ColumnMap> {
    let describe = |c: &ColumnShape| match &c.canonical {
        Some(t) => format!("{} ({t})", c.native_type),
        None => format!("{} (no canonical type)", c.native_type),
    };
    let no_way = || {
        at(
            entry_at,
            format!(
                "table '{}': column '{}' is {} on the hub and '{}' is {} on node '{node}'; no conversion exists between them",
                def.name,
                hub.name,
                describe(hub),
                spoke.name,
                describe(spoke)
            ),
        )
    };
    let (inbound, fidelity_in) = conversion(spoke, hub).ok_or_else(no_way)?;
    let (outbound, fidelity_out) = conversion(hub, spoke).ok_or_else(no_way)?;
    let mut map = ColumnMap {
        logical: hub.name.clone(),
        local: spoke.name.clone(),
        logical_native: hub.native_type.clone(),
        local_native: spoke.native_type.clone(),
        local_canonical: spoke.canonical.clone(),
        inbound,
        outbound,
        fidelity_in,
        fidelity_out,
    };
    if is_code {
        if !code_compatible(&hub.canonical, &spoke.canonical) {
            return Err(at(
                entry_at,
                format!(
                    "table '{}': combined-code column '{}' is {} on the hub and '{}' is {} on node '{node}'; \
                     code columns must be integers on both or text on both",
                    def.name,
                    hub.name,
                    describe(hub),
                    spoke.name,
                    describe(spoke)
                ),
            ));
        }
        // Codes identify rows on every node: they cross as they are.
        map.inbound = Conversion::Pass;
        map.outbound = Conversion::Pass;
    }
    Ok(map)
}

/// The mapping file records the types `discover` saw (or proposed); the
/// databases decide. A recorded type that differs is logged at info level:
/// after a rename it is expected, otherwise the file may be stale.
fn warn_if_stale(def: &TableDef, spoke: &SpokeTable<'_>, hub: &ColumnShape, theirs: &ColumnShape) {
    let same = |a: &str, b: &str| {
        a.split_whitespace().eq(b.split_whitespace()) || a.eq_ignore_ascii_case(b)
    };
    let Some(field) = spoke
        .entry
        .and_then(|e| e.fields.iter().find(|f| f.main == hub.name && !f.deleted))
    else {
        return;
    };
    for (recorded, actual, side) in [
        (&field.main_type, &hub.native_type, "hub"),
        (&field.slave_type, &theirs.native_type, spoke.node),
    ] {
        if !recorded.is_empty() && !same(recorded, actual) {
            tracing::info!(
                table = %def.name,
                column = %hub.name,
                line = field.at.line,
                "MappingFile.xml records type {recorded} on {side}, the database says {actual}; the database's type is used (rerun discover to refresh the file)"
            );
        }
    }
}

/// Whether a type's values need bringing to one canonical form even between
/// columns of the same type (databases print them differently).
fn needs_normalizing(t: &CanonicalType) -> bool {
    use CanonicalType as C;
    !matches!(
        t,
        C::Int8
            | C::Int16
            | C::Int32
            | C::Int64
            | C::Float64
            | C::Varchar { .. }
            | C::Text { .. }
            | C::Varbinary { .. }
            | C::Blob
            | C::Interval
    )
}

/// The conversion that brings a column's values to canonical form.
fn canonical_form(t: &Option<CanonicalType>) -> Conversion {
    match t {
        Some(t) if needs_normalizing(t) => Conversion::Convert {
            from: t.clone(),
            to: t.clone(),
        },
        _ => Conversion::Pass,
    }
}

const ANY_TEXT: CanonicalType = CanonicalType::Text { unicode: true };

fn is_text(t: &CanonicalType) -> bool {
    matches!(
        t,
        CanonicalType::Char { .. } | CanonicalType::Varchar { .. } | CanonicalType::Text { .. }
    )
}

/// How values of `from` reach `to`, and what that loses; `None` when they cannot.
pub fn conversion(from: &ColumnShape, to: &ColumnShape) -> Option<(Conversion, Fidelity)> {
    match (&from.canonical, &to.canonical) {
        (Some(a), Some(b)) if a == b => Some((canonical_form(&Some(a.clone())), Fidelity::Exact)),
        (Some(a), Some(b)) => Some((
            Conversion::Convert {
                from: a.clone(),
                to: b.clone(),
            },
            classify(a, b),
        )),
        (None, None) if from.native_type.eq_ignore_ascii_case(&to.native_type) => {
            Some((Conversion::Pass, Fidelity::Exact))
        }
        // A type without a canonical equivalent is read as text.
        (None, Some(b)) if is_text(b) => Some((
            Conversion::Convert {
                from: ANY_TEXT,
                to: b.clone(),
            },
            Fidelity::Lossy(vec![Loss::Kind]),
        )),
        (Some(a), None) if is_text(a) => Some((
            Conversion::Convert {
                from: a.clone(),
                to: ANY_TEXT,
            },
            Fidelity::Lossy(vec![Loss::Kind]),
        )),
        _ => None,
    }
}

fn code_compatible(a: &Option<CanonicalType>, b: &Option<CanonicalType>) -> bool {
    use CanonicalType as C;
    let int = |t: &CanonicalType| matches!(t, C::Int8 | C::Int16 | C::Int32 | C::Int64);
    let text = |t: &CanonicalType| matches!(t, C::Varchar { .. } | C::Text { .. });
    match (a, b) {
        (Some(a), Some(b)) => a == b || (int(a) && int(b)) || (text(a) && text(b)),
        (None, None) => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests;
