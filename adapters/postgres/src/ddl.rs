//! The SQL hetsync installs in a PostgreSQL database.

use crate::dictionary::Column;
use hetsync_core::schema::SyncTable;
use hetsync_core::sql::{ident_list, quote_ident, quote_literal};

/// The tracking table (paper 001 Table 1).
pub(crate) const TRACKING: &str = "_hetsync_tracking";
/// Peer watermarks integrated into this database.
pub(crate) const PEERS: &str = "_hetsync_peer";
/// Tables whose triggers install created.
pub(crate) const INSTALLED: &str = "_hetsync_installed";
/// The transaction-local setting that silences capture.
pub(crate) const APPLY_SETTING: &str = "hetsync.apply";

/// Bookkeeping tables, created once.
pub(crate) const META_TABLES: &[&str] = &[
    r#"CREATE TABLE IF NOT EXISTS "_hetsync_tracking" (
        seq bigserial PRIMARY KEY,
        xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
        table_name text NOT NULL,
        code jsonb NOT NULL,
        changed_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        deleted boolean NOT NULL DEFAULT false,
        user_name text DEFAULT current_user,
        fields jsonb,
        origin text)"#,
    r#"CREATE INDEX IF NOT EXISTS "_hetsync_tracking_by_xid" ON "_hetsync_tracking"(xid)"#,
    r#"CREATE TABLE IF NOT EXISTS "_hetsync_peer" (
        peer text PRIMARY KEY,
        watermark bigint NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now())"#,
    r#"CREATE TABLE IF NOT EXISTS "_hetsync_installed" (
        table_name text PRIMARY KEY,
        installed_at timestamptz NOT NULL DEFAULT now())"#,
];

/// PostgreSQL truncates identifiers to 63 bytes: long names get a hash suffix.
pub(crate) fn object_name(prefix: &str, table: &str) -> String {
    let full = format!("{prefix}{table}");
    if full.len() <= 63 {
        return full;
    }
    let hash = table.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
    });
    let mut cut = 63 - 17 - prefix.len();
    while !table.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{prefix}{}_{hash:016x}", &table[..cut])
}

/// The capture function of a table.
pub(crate) fn capture_function(table: &str) -> String {
    object_name("_hetsync_capture_", table)
}

/// The apply function of a table.
pub(crate) fn apply_function(table: &str) -> String {
    object_name("_hetsync_apply_", table)
}

/// The staging table of a table (temporary, per session).
pub(crate) fn staging_table(table: &str) -> String {
    object_name("_hetsync_stage_", table)
}

/// Operations that get a trigger.
pub(crate) const OPERATIONS: [&str; 3] = ["insert", "update", "delete"];

/// Name of the trigger for one operation.
pub(crate) fn trigger_name(op: &str) -> String {
    format!("_hetsync_{op}")
}

/// Wraps a function body in a dollar quote that does not occur in it.
fn dollar_quote(body: &str) -> String {
    let mut tag = String::from("$hetsync$");
    while body.contains(&tag) {
        tag.insert(tag.len() - 1, '_');
    }
    format!("{tag}{body}{tag}")
}

fn code_expr(table: &SyncTable, alias: &str) -> String {
    let parts: Vec<String> = table
        .code_columns()
        .map(|c| format!("{alias}.{}", quote_ident(c)))
        .collect();
    format!("jsonb_build_array({})", parts.join(", "))
}

fn code_join(table: &SyncTable, a: &str, b: &str) -> String {
    table
        .code_columns()
        .map(|c| format!("{a}.{q} = {b}.{q}", q = quote_ident(c)))
        .collect::<Vec<_>>()
        .join(" AND ")
}

/// The statement-level capture function: one set-based INSERT per statement.
pub(crate) fn capture_function_sql(table: &SyncTable) -> String {
    let tracking = quote_ident(TRACKING);
    let name = quote_literal(&table.name);
    let insert = |code: &str, deleted: bool, fields: &str, from: &str| {
        format!("INSERT INTO {tracking}(table_name, code, deleted, fields) SELECT {name}, {code}, {deleted}, {fields} FROM {from};")
    };
    let changed: Vec<String> = (0..table.columns.len())
        .filter(|&i| !table.is_code_column(i))
        .map(|i| {
            let c = quote_ident(&table.columns[i]);
            format!(
                "CASE WHEN o.{c} IS DISTINCT FROM n.{c} THEN {} END",
                quote_literal(&table.columns[i])
            )
        })
        .collect();
    // One pass over both transition tables: rows only in `old_rows` left
    // (their code changed: a delete), rows only in `new_rows` arrived (an
    // insert), rows in both changed these fields; a no-op update records nothing.
    let first_code = quote_ident(&table.columns[table.code[0]]);
    let fields = if changed.is_empty() {
        "NULL::text[]".to_string()
    } else {
        format!("array_remove(ARRAY[{}], NULL)", changed.join(", "))
    };
    let update = format!(
        "INSERT INTO {tracking}(table_name, code, deleted, fields) \
         SELECT {name}, x.code, x.deleted, CASE WHEN x.moved THEN NULL ELSE to_jsonb(x.f) END \
         FROM (SELECT CASE WHEN n.{first_code} IS NULL THEN {old_code} ELSE {new_code} END AS code, \
                      n.{first_code} IS NULL AS deleted, \
                      o.{first_code} IS NULL OR n.{first_code} IS NULL AS moved, \
                      {fields} AS f \
               FROM old_rows o FULL JOIN new_rows n ON {same_code}) x \
         WHERE x.moved OR cardinality(x.f) > 0;",
        old_code = code_expr(table, "o"),
        new_code = code_expr(table, "n"),
        same_code = code_join(table, "o", "n"),
    );
    let body = format!(
        "BEGIN \
           IF current_setting({setting}, true) = 'on' THEN RETURN NULL; END IF; \
           IF TG_OP = 'INSERT' THEN {ins} \
           ELSIF TG_OP = 'DELETE' THEN {del} \
           ELSE {update} END IF; \
           RETURN NULL; \
         END",
        setting = quote_literal(APPLY_SETTING),
        ins = insert(&code_expr(table, "n"), false, "NULL", "new_rows n"),
        del = insert(&code_expr(table, "o"), true, "NULL", "old_rows o"),
    );
    format!(
        "CREATE OR REPLACE FUNCTION {}() RETURNS trigger LANGUAGE plpgsql AS {}",
        quote_ident(&capture_function(&table.name)),
        dollar_quote(&body)
    )
}

/// `CREATE TRIGGER` statements: statement-level, with transition tables.
pub(crate) fn triggers(table: &SyncTable) -> Vec<String> {
    let t = quote_ident(&table.name);
    let f = quote_ident(&capture_function(&table.name));
    [
        ("insert", "INSERT", "REFERENCING NEW TABLE AS new_rows"),
        ("update", "UPDATE", "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows"),
        ("delete", "DELETE", "REFERENCING OLD TABLE AS old_rows"),
    ]
    .into_iter()
    .map(|(op, event, transition)| {
        format!(
            "CREATE TRIGGER {} AFTER {event} ON {t} {transition} FOR EACH STATEMENT EXECUTE FUNCTION {f}()",
            quote_ident(&trigger_name(op))
        )
    })
    .collect()
}

/// Staging columns: `c<i>` per table column, `m<i>` "write this column", `op`.
pub(crate) fn staging_sql(table: &SyncTable, columns: &[Column]) -> String {
    let mut defs: Vec<String> = columns
        .iter()
        .enumerate()
        .map(|(i, c)| format!("c{i} {}", c.sql_type))
        .collect();
    defs.extend((0..columns.len()).map(|i| format!("m{i} boolean")));
    defs.push("op \"char\" NOT NULL".into());
    format!(
        "CREATE TEMPORARY TABLE IF NOT EXISTS {} ({}) ON COMMIT DELETE ROWS",
        quote_ident(&staging_table(&table.name)),
        defs.join(", ")
    )
}

/// The per-table apply function (paper 001 §3.4): phase `D` deletes, phase
/// `U` updates changed fields of existing rows and inserts missing rows.
/// Returns `[inserted, updated, deleted]`.
pub(crate) fn apply_function_sql(table: &SyncTable) -> String {
    let t = quote_ident(&table.name);
    let s = format!("pg_temp.{}", quote_ident(&staging_table(&table.name)));
    let key_match = |alias: &str| {
        table
            .code
            .iter()
            .map(|&i| format!("{alias}.{} = s.c{i}", quote_ident(&table.columns[i])))
            .collect::<Vec<_>>()
            .join(" AND ")
    };
    let non_code: Vec<usize> = (0..table.columns.len())
        .filter(|&i| !table.is_code_column(i))
        .collect();
    let update = if non_code.is_empty() {
        String::new()
    } else {
        let sets: Vec<String> = non_code
            .iter()
            .map(|&i| {
                format!(
                    "{c} = CASE WHEN s.m{i} THEN s.c{i} ELSE t.{c} END",
                    c = quote_ident(&table.columns[i])
                )
            })
            .collect();
        let differs: Vec<String> = non_code
            .iter()
            .map(|&i| {
                format!(
                    "(s.m{i} AND t.{} IS DISTINCT FROM s.c{i})",
                    quote_ident(&table.columns[i])
                )
            })
            .collect();
        format!(
            "UPDATE {t} t SET {} FROM {s} s WHERE s.op = 'U' AND {} AND ({}); GET DIAGNOSTICS n_upd = ROW_COUNT;",
            sets.join(", "),
            key_match("t"),
            differs.join(" OR ")
        )
    };
    let staged: Vec<String> = (0..table.columns.len())
        .map(|i| format!("s.c{i}"))
        .collect();
    let body = format!(
        "DECLARE n_ins bigint := 0; n_upd bigint := 0; n_del bigint := 0; \
         BEGIN \
           IF phase = 'D' THEN \
             DELETE FROM {t} t USING {s} s WHERE s.op = 'D' AND {del_match}; \
             GET DIAGNOSTICS n_del = ROW_COUNT; \
           ELSE \
             {update} \
             INSERT INTO {t} ({cols}) SELECT {staged} FROM {s} s \
               WHERE s.op = 'U' AND NOT EXISTS (SELECT 1 FROM {t} t WHERE {ins_match}); \
             GET DIAGNOSTICS n_ins = ROW_COUNT; \
           END IF; \
           RETURN ARRAY[n_ins, n_upd, n_del]; \
         END",
        del_match = key_match("t"),
        ins_match = key_match("t"),
        cols = ident_list(table.columns.iter().map(String::as_str)),
        staged = staged.join(", "),
    );
    // Every statement walks the staging rows and probes the base table by
    // its combined-code index. Statistics cannot be trusted here (the staging
    // table has none; a table being filled has stale ones), so the plan is
    // pinned to nested loops while the function runs.
    format!(
        "CREATE OR REPLACE FUNCTION {}(phase \"char\") RETURNS bigint[] LANGUAGE plpgsql \
         SET enable_hashjoin = off SET enable_mergejoin = off AS {}",
        quote_ident(&apply_function(&table.name)),
        dollar_quote(&body)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_names_fit_in_63_bytes_and_stay_distinct() {
        let a = object_name("_hetsync_capture_", &"变电站表".repeat(8));
        let b = object_name("_hetsync_capture_", &format!("{}x", "变电站表".repeat(8)));
        assert!(a.len() <= 63 && b.len() <= 63, "{a} {b}");
        assert_ne!(a, b);
        assert_eq!(object_name("_hetsync_apply_", "t"), "_hetsync_apply_t");
    }

    #[test]
    fn dollar_quotes_avoid_the_body() {
        assert_eq!(dollar_quote("x"), "$hetsync$x$hetsync$");
        assert_eq!(
            dollar_quote("a $hetsync$ b"),
            "$hetsync_$a $hetsync$ b$hetsync_$"
        );
    }
}
