//! Capture by snapshot difference, in SQL every dialect spells from its
//! primitives: a copy of each synced table's synced columns (its snapshot),
//! the rows that differ from it, and the statements that bring it up to
//! date. [`crate::steps::snapshot`] runs them; the database does the
//! comparing, so only the rows that differ are read.

use super::Dialect;
use crate::schema::SyncTable;

/// The prefix of a snapshot table's name.
pub const SNAPSHOT_PREFIX: &str = "_hetsync_snap_";

/// The prefix of the index on a snapshot table's code.
pub const SNAPSHOT_INDEX_PREFIX: &str = "_hetsync_snapcode_";

/// The snapshot table of `table`.
pub fn snapshot_table<D: Dialect + ?Sized>(d: &D, table: &str) -> String {
    d.object_name(SNAPSHOT_PREFIX, table)
}

/// `table` as its snapshot: the same columns and code under the snapshot's
/// name, so the shared templates and the adapter's reads serve it too.
pub fn as_snapshot<D: Dialect + ?Sized>(d: &D, table: &SyncTable) -> SyncTable {
    SyncTable {
        name: snapshot_table(d, &table.name),
        ..table.clone()
    }
}

/// Copies a table's synced columns into `copy` (replacing one left
/// before), with an index named `index` on the code.
pub fn table_copy_sql<D: Dialect + ?Sized>(
    d: &D,
    table: &SyncTable,
    copy: &str,
    index: &str,
) -> Vec<String> {
    let copy = d.ident(copy);
    let code: Vec<String> = table.code_columns().map(|c| d.ident(c)).collect();
    vec![
        format!("DROP TABLE IF EXISTS {copy}"),
        d.copy_table_sql(&copy, &d.column_list(table), &d.ident(&table.name)),
        format!(
            "CREATE INDEX {} ON {copy} ({})",
            d.ident(index),
            code.join(", ")
        ),
    ]
}

/// Takes the snapshot of a table as it is now (install).
pub fn create_sql<D: Dialect + ?Sized>(d: &D, table: &SyncTable) -> Vec<String> {
    let index = d.object_name(SNAPSHOT_INDEX_PREFIX, &table.name);
    table_copy_sql(d, table, &snapshot_table(d, &table.name), &index)
}

/// `a."k1" IS NOT NULL AND …`: a row of alias `alias` that has a code.
pub(super) fn coded<D: Dialect + ?Sized>(d: &D, table: &SyncTable, alias: &str) -> String {
    d.code_list(table, alias)
        .iter()
        .map(|c| format!("{c} IS NOT NULL"))
        .collect::<Vec<_>>()
        .join(" AND ")
}

/// `t."c" <differs> s."c" OR …` over `columns`: rows of aliases `t` and
/// `s` that differ in one of them, byte for byte.
pub(super) fn differ<D: Dialect + ?Sized>(
    d: &D,
    table: &SyncTable,
    columns: &mut dyn Iterator<Item = usize>,
) -> String {
    columns
        .map(|i| {
            let c = d.ident(&table.columns[i]);
            d.differs(&format!("t.{c}"), &format!("s.{c}"))
        })
        .collect::<Vec<_>>()
        .join(" OR ")
}

/// Rows of aliases `t` and `s` with one code whose `columns` hold the same
/// values byte for byte.
fn same<D: Dialect + ?Sized>(
    d: &D,
    table: &SyncTable,
    columns: &mut dyn Iterator<Item = usize>,
) -> String {
    format!(
        "{} AND NOT ({})",
        d.code_join(table, "t", "s"),
        differ(d, table, columns)
    )
}

/// The rows of the table (`select` over alias `t`) that have no identical
/// row in the snapshot: new, or changed since it was taken.
fn changed<D: Dialect + ?Sized>(d: &D, table: &SyncTable, select: &str) -> String {
    format!(
        "SELECT {select} FROM {} AS t WHERE {} AND NOT EXISTS (SELECT 1 FROM {} AS s WHERE {})",
        d.ident(&table.name),
        coded(d, table, "t"),
        d.ident(&snapshot_table(d, &table.name)),
        same(d, table, &mut (0..table.columns.len())),
    )
}

/// The rows of the snapshot (`select` over alias `t`) whose code, byte for
/// byte, the table no longer holds: deleted rows (and the old form of a
/// code whose case or bytes changed).
fn gone<D: Dialect + ?Sized>(d: &D, table: &SyncTable, select: &str) -> String {
    format!(
        "SELECT {select} FROM {} AS t WHERE {} AND NOT EXISTS (SELECT 1 FROM {} AS s WHERE {})",
        d.ident(&snapshot_table(d, &table.name)),
        coded(d, table, "t"),
        d.ident(&table.name),
        same(d, table, &mut table.code.iter().copied()),
    )
}

/// A page in code order of `rows`, after the code in the parameters when
/// `after` ([`Dialect::scan_params`]).
fn page<D: Dialect + ?Sized>(d: &D, table: &SyncTable, rows: String, after: bool) -> String {
    let filter = match after {
        true => format!(" AND {}", d.after_code(table)),
        false => String::new(),
    };
    format!("{rows}{filter} {}", d.code_page(table, after))
}

/// A page of the table's rows that are new or changed since the snapshot
/// was taken (`select` over alias `t`), in code order.
pub fn changed_sql<D: Dialect + ?Sized>(
    d: &D,
    table: &SyncTable,
    select: &str,
    after: bool,
) -> String {
    page(d, table, changed(d, table, select), after)
}

/// A page of the snapshot's rows whose code the table no longer holds
/// (`select` over alias `t`), in code order.
pub fn gone_sql<D: Dialect + ?Sized>(
    d: &D,
    table: &SyncTable,
    select: &str,
    after: bool,
) -> String {
    page(d, table, gone(d, table, select), after)
}

/// Counts what [`changed_sql`] and [`gone_sql`] would read: the table's
/// edits not yet taken into its snapshot.
pub fn pending_sql<D: Dialect + ?Sized>(d: &D, table: &SyncTable) -> String {
    format!(
        "SELECT ({}) + ({})",
        changed(d, table, "count(*)"),
        gone(d, table, "count(*)")
    )
}

/// Deletes the snapshot rows of `n` given codes (as the database compares
/// codes). Parameters: the codes' parts, code after code.
pub fn forget_sql<D: Dialect + ?Sized>(d: &D, table: &SyncTable, n: usize) -> String {
    let keys: Vec<String> = table.code_columns().map(|c| d.ident(c)).collect();
    format!(
        "DELETE FROM {} WHERE {}",
        d.ident(&snapshot_table(d, &table.name)),
        d.codes_in(table, &keys, n)
    )
}

/// Copies the table's rows of `n` given codes into the snapshot.
/// Parameters: the codes' parts, code after code.
pub fn take_sql<D: Dialect + ?Sized>(d: &D, table: &SyncTable, n: usize) -> String {
    let columns = d.column_list(table);
    format!(
        "INSERT INTO {} ({columns}) {}",
        d.ident(&snapshot_table(d, &table.name)),
        d.rows_by_codes_sql(table, &columns, n)
    )
}
