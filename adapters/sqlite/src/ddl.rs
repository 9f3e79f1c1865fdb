//! The SQL hetsync installs in a SQLite database and the statements it runs.

use hetsync_core::schema::SyncTable;
use hetsync_core::sql::{ident_list, quote_ident, quote_literal};

/// The tracking table (paper 001 Table 1).
pub(crate) const TRACKING: &str = "_hetsync_tracking";
/// Non-empty only inside the engine's own write transactions.
pub(crate) const APPLY_FLAG: &str = "_hetsync_apply";
/// Peer watermarks integrated into this database.
pub(crate) const PEERS: &str = "_hetsync_peer";
/// Tables whose triggers install created.
pub(crate) const INSTALLED: &str = "_hetsync_installed";

/// Bookkeeping tables, created once.
pub(crate) const META_TABLES: &[&str] = &[
    r#"CREATE TABLE IF NOT EXISTS "_hetsync_tracking" (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        table_name TEXT NOT NULL,
        code TEXT NOT NULL,
        changed_at TEXT NOT NULL,
        deleted INTEGER NOT NULL DEFAULT 0,
        user_name TEXT,
        fields TEXT,
        origin TEXT)"#,
    r#"CREATE INDEX IF NOT EXISTS "_hetsync_tracking_by_code" ON "_hetsync_tracking"(table_name, code)"#,
    r#"CREATE TABLE IF NOT EXISTS "_hetsync_apply" (origin TEXT NOT NULL)"#,
    r#"CREATE TABLE IF NOT EXISTS "_hetsync_peer" (
        peer TEXT PRIMARY KEY,
        watermark INTEGER NOT NULL,
        updated_at TEXT NOT NULL)"#,
    r#"CREATE TABLE IF NOT EXISTS "_hetsync_installed" (
        table_name TEXT PRIMARY KEY,
        installed_at TEXT NOT NULL)"#,
];

/// The change time as every SQLite since 3.0 writes it: UTC, milliseconds.
const NOW: &str = "strftime('%Y-%m-%dT%H:%M:%fZ','now')";

/// Operations that get a trigger.
pub(crate) const OPERATIONS: [&str; 3] = ["insert", "update", "delete"];

/// Name of the trigger for one operation on one table.
pub(crate) fn trigger_name(table: &str, op: &str) -> String {
    format!("_hetsync_{op}_{table}")
}

fn code_expr(table: &SyncTable, row: &str) -> String {
    let parts: Vec<String> = table
        .code_columns()
        .map(|c| format!("{row}.{}", quote_ident(c)))
        .collect();
    format!("json_array({})", parts.join(", "))
}

fn tracking_insert(table: &SyncTable, code: &str, deleted: bool, fields: &str) -> String {
    format!(
        "INSERT INTO {tracking}(table_name, code, changed_at, deleted, fields) SELECT {name}, {code}, {NOW}, {deleted}, {fields}",
        tracking = quote_ident(TRACKING),
        name = quote_literal(&table.name),
        deleted = deleted as i32,
    )
}

/// `CREATE TRIGGER` statements for a table: insert, update, delete.
pub(crate) fn triggers(table: &SyncTable) -> Vec<String> {
    let t = quote_ident(&table.name);
    let quiet = format!(
        "WHEN NOT EXISTS (SELECT 1 FROM {})",
        quote_ident(APPLY_FLAG)
    );
    let (old, new) = (code_expr(table, "OLD"), code_expr(table, "NEW"));
    let insert = format!(
        "CREATE TRIGGER {} AFTER INSERT ON {t} {quiet} BEGIN {}; END",
        quote_ident(&trigger_name(&table.name, "insert")),
        tracking_insert(table, &new, false, "NULL"),
    );
    let delete = format!(
        "CREATE TRIGGER {} AFTER DELETE ON {t} {quiet} BEGIN {}; END",
        quote_ident(&trigger_name(&table.name, "delete")),
        tracking_insert(table, &old, true, "NULL"),
    );
    // A changed combined code is the old row leaving and a new row arriving.
    let key_changed = format!("WHERE {old} IS NOT {new}");
    let mut body = vec![
        format!(
            "{} {key_changed}",
            tracking_insert(table, &old, true, "NULL")
        ),
        format!(
            "{} {key_changed}",
            tracking_insert(table, &new, false, "NULL")
        ),
    ];
    let changed: Vec<String> = (0..table.columns.len())
        .filter(|&i| !table.is_code_column(i))
        .map(|i| {
            let c = quote_ident(&table.columns[i]);
            format!(
                "SELECT {} AS f WHERE OLD.{c} IS NOT NEW.{c} COLLATE BINARY",
                quote_literal(&table.columns[i])
            )
        })
        .collect();
    if !changed.is_empty() {
        // A no-op update (every value unchanged) records nothing.
        body.push(format!(
            "{} FROM ({}) WHERE {old} IS {new} HAVING count(*) > 0",
            tracking_insert(table, &new, false, "json_group_array(f)"),
            changed.join(" UNION ALL ")
        ));
    }
    let update = format!(
        "CREATE TRIGGER {} AFTER UPDATE ON {t} {quiet} BEGIN {}; END",
        quote_ident(&trigger_name(&table.name, "update")),
        body.join("; ")
    );
    vec![insert, update, delete]
}

/// `WHERE` condition matching a code: `"k1" = ? AND "k2" = ?`.
pub(crate) fn code_match(table: &SyncTable) -> String {
    table
        .code_columns()
        .map(|c| format!("{} = ?", quote_ident(c)))
        .collect::<Vec<_>>()
        .join(" AND ")
}

/// `"k1", "k2"`: the code columns, for ORDER BY and row values.
pub(crate) fn code_list(table: &SyncTable) -> String {
    ident_list(table.code_columns())
}

/// `"c1", "c2", ...`: every synced column.
pub(crate) fn column_list(table: &SyncTable) -> String {
    ident_list(table.columns.iter().map(String::as_str))
}

/// Selects the current rows of the codes that have events in a seq range
/// (paper 001's join of the tracking table with the base table), leaving out
/// events of origin `?4` when it is set.
pub(crate) fn changed_rows(table: &SyncTable) -> String {
    let join: Vec<String> = table
        .code_columns()
        .enumerate()
        .map(|(i, c)| format!("b.{} = json_extract(c.code, '$[{i}]')", quote_ident(c)))
        .collect();
    let cols: Vec<String> = table
        .columns
        .iter()
        .map(|c| format!("b.{}", quote_ident(c)))
        .collect();
    format!(
        "SELECT {} FROM (SELECT DISTINCT code FROM {} WHERE table_name = ?1 AND seq > ?2 AND seq <= ?3 \
         AND (?4 IS NULL OR origin IS NULL OR origin <> ?4)) AS c JOIN {} AS b ON {}",
        cols.join(", "),
        quote_ident(TRACKING),
        quote_ident(&table.name),
        join.join(" AND ")
    )
}

/// Selects rows by a list of `n` codes.
pub(crate) fn rows_by_codes(table: &SyncTable, n: usize) -> String {
    let arity = table.code.len();
    let tuple = format!("({})", vec!["?"; arity].join(", "));
    let list = vec![tuple.as_str(); n].join(", ");
    let lhs = if arity == 1 {
        code_list(table)
    } else {
        format!("({})", code_list(table))
    };
    let rhs = if arity == 1 {
        format!("({})", vec!["?"; n].join(", "))
    } else {
        format!("(VALUES {list})")
    };
    format!(
        "SELECT {} FROM {} WHERE {lhs} IN {rhs}",
        column_list(table),
        quote_ident(&table.name)
    )
}

/// Selects the next page of rows in code order.
pub(crate) fn scan(table: &SyncTable, after: bool) -> String {
    let keys = code_list(table);
    let filter = if after {
        format!(
            "WHERE ({keys}) > ({})",
            vec!["?"; table.code.len()].join(", ")
        )
    } else {
        String::new()
    };
    format!(
        "SELECT {} FROM {} {filter} ORDER BY {keys} LIMIT ?",
        column_list(table),
        quote_ident(&table.name)
    )
}

/// Updates the `fields` of a row, only when a value really changes. Parameters:
/// `?1..?n` the field values, then the code.
pub(crate) fn update(table: &SyncTable, fields: &[usize]) -> String {
    let sets: Vec<String> = fields
        .iter()
        .enumerate()
        .map(|(p, &i)| format!("{} = ?{}", quote_ident(&table.columns[i]), p + 1))
        .collect();
    let differs: Vec<String> = fields
        .iter()
        .enumerate()
        .map(|(p, &i)| {
            format!(
                "{} IS NOT ?{} COLLATE BINARY",
                quote_ident(&table.columns[i]),
                p + 1
            )
        })
        .collect();
    let keys: Vec<String> = table
        .code_columns()
        .enumerate()
        .map(|(p, c)| format!("{} = ?{}", quote_ident(c), fields.len() + p + 1))
        .collect();
    format!(
        "UPDATE {} SET {} WHERE {} AND ({})",
        quote_ident(&table.name),
        sets.join(", "),
        keys.join(" AND "),
        differs.join(" OR ")
    )
}

/// Inserts a whole row unless its code exists. Parameters: every column, then the code.
pub(crate) fn insert_missing(table: &SyncTable) -> String {
    let n = table.columns.len();
    let values: Vec<String> = (1..=n).map(|p| format!("?{p}")).collect();
    let keys: Vec<String> = table
        .code_columns()
        .enumerate()
        .map(|(p, c)| format!("{} = ?{}", quote_ident(c), n + p + 1))
        .collect();
    format!(
        "INSERT INTO {t} ({}) SELECT {} WHERE NOT EXISTS (SELECT 1 FROM {t} WHERE {})",
        column_list(table),
        values.join(", "),
        keys.join(" AND "),
        t = quote_ident(&table.name),
    )
}

/// Deletes a row by code.
pub(crate) fn delete(table: &SyncTable) -> String {
    format!(
        "DELETE FROM {} WHERE {}",
        quote_ident(&table.name),
        code_match(table)
    )
}
