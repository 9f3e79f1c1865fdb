//! The SQL hetsync installs in a MariaDB/MySQL database.

use crate::dictionary::{Column, Kind};
use hetsync_core::schema::SyncTable;
use hetsync_core::sql::quote_ident_with;

/// The tracking table (paper 001 Table 1).
pub(crate) const TRACKING: &str = "_hetsync_tracking";
/// Peer watermarks integrated into this database.
pub(crate) const PEERS: &str = "_hetsync_peer";
/// Tables whose triggers install created.
pub(crate) const INSTALLED: &str = "_hetsync_installed";

/// Bookkeeping tables, created once. Text columns compare byte-exact.
pub(crate) const META_TABLES: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS `_hetsync_tracking` (
        seq BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
        table_name VARCHAR(64) NOT NULL,
        code TEXT NOT NULL,
        changed_at DATETIME(6) NOT NULL,
        deleted TINYINT(1) NOT NULL DEFAULT 0,
        user_name VARCHAR(400),
        fields TEXT,
        origin VARCHAR(255)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin",
    "CREATE TABLE IF NOT EXISTS `_hetsync_peer` (
        peer VARCHAR(255) NOT NULL PRIMARY KEY,
        watermark BIGINT NOT NULL,
        updated_at DATETIME(6) NOT NULL
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin",
    "CREATE TABLE IF NOT EXISTS `_hetsync_installed` (
        table_name VARCHAR(64) NOT NULL PRIMARY KEY,
        installed_at DATETIME(6) NOT NULL
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin",
];

/// Quotes an identifier with backticks.
pub(crate) fn ident(name: &str) -> String {
    quote_ident_with(name, '`')
}

/// Quotes a string literal for a session without `NO_BACKSLASH_ESCAPES`
/// (hetsync's sessions, hence its triggers and procedures, never have it).
pub(crate) fn literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('\'');
    for c in text.chars() {
        match c {
            '\'' => out.push_str("''"),
            '\\' => out.push_str("\\\\"),
            '\0' => out.push_str("\\0"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// MySQL names hold at most 64 characters: long ones get a hash suffix.
pub(crate) fn object_name(prefix: &str, table: &str) -> String {
    let full = format!("{prefix}{table}");
    if full.chars().count() <= 64 {
        return full;
    }
    let hash = table.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
    });
    let keep = 64 - 17 - prefix.chars().count();
    let head: String = table.chars().take(keep).collect();
    format!("{prefix}{head}_{hash:016x}")
}

/// Operations that get a trigger, with the letter in the trigger's name.
pub(crate) const OPERATIONS: [(&str, &str); 3] =
    [("INSERT", "i"), ("UPDATE", "u"), ("DELETE", "d")];

/// Name of a table's trigger for one operation (trigger names are per schema).
pub(crate) fn trigger_name(letter: &str, table: &str) -> String {
    object_name(&format!("_hetsync_{letter}_"), table)
}

/// The apply procedure of a table.
pub(crate) fn apply_procedure(table: &str) -> String {
    object_name("_hetsync_apply_", table)
}

/// The staging table of a table (temporary, per session).
pub(crate) fn staging_table(table: &str) -> String {
    object_name("_hetsync_stage_", table)
}

/// `a` and `b` hold the same value, byte for byte: character columns are
/// compared as binary, so a change of case or trailing spaces is a change
/// whatever the collation says.
fn same(kind: Kind, a: &str, b: &str) -> String {
    match kind {
        Kind::Text => format!("CAST({a} AS BINARY) <=> CAST({b} AS BINARY)"),
        _ => format!("{a} <=> {b}"),
    }
}

fn code_json(table: &SyncTable, alias: &str) -> String {
    let parts: Vec<String> = table
        .code_columns()
        .map(|c| format!("{alias}.{}", ident(c)))
        .collect();
    format!("JSON_ARRAY({})", parts.join(", "))
}

/// The tracking row of one change: `(table, code, time, user, deleted, fields)`.
fn tracking_values(table: &SyncTable, alias: &str, deleted: bool, fields: &str) -> String {
    format!(
        "({}, {}, UTC_TIMESTAMP(6), USER(), {}, {fields})",
        literal(&table.name),
        code_json(table, alias),
        u8::from(deleted)
    )
}

/// The three row triggers of a table. Each is one `IF` around one `INSERT`:
/// MySQL row triggers cost per row, so they do as little as they can.
pub(crate) fn triggers(table: &SyncTable, columns: &[Column]) -> Vec<String> {
    let t = ident(&table.name);
    let insert_into = format!(
        "INSERT INTO {} (table_name, code, changed_at, user_name, deleted, fields) VALUES",
        ident(TRACKING)
    );
    let same_code = table
        .code
        .iter()
        .map(|&i| {
            let c = ident(&table.columns[i]);
            same(columns[i].kind, &format!("NEW.{c}"), &format!("OLD.{c}"))
        })
        .collect::<Vec<_>>()
        .join(" AND ");
    let moved = format!(
        "{insert_into} {}, {}",
        tracking_values(table, "OLD", true, "NULL"),
        tracking_values(table, "NEW", false, "NULL")
    );
    let non_code: Vec<usize> = (0..table.columns.len())
        .filter(|&i| !table.is_code_column(i))
        .collect();
    let update_body = if non_code.is_empty() {
        format!("IF NOT ({same_code}) THEN {moved}; END IF;")
    } else {
        let same_field = |i: usize| {
            let c = ident(&table.columns[i]);
            same(columns[i].kind, &format!("NEW.{c}"), &format!("OLD.{c}"))
        };
        let names = non_code
            .iter()
            .map(|&i| {
                let json = serde_json::to_string(&table.columns[i]).expect("strings serialize");
                format!("IF({}, NULL, {})", same_field(i), literal(&json))
            })
            .collect::<Vec<_>>()
            .join(", ");
        // The changed fields are computed once, into a session variable: a
        // row trigger pays for every expression it evaluates.
        format!(
            "IF {same_code} THEN \
               IF (@hetsync_fields := CONCAT_WS(',', {names})) <> '' THEN {insert_into} {}; END IF; \
             ELSE {moved}; END IF;",
            tracking_values(table, "NEW", false, "CONCAT('[', @hetsync_fields, ']')")
        )
    };
    OPERATIONS
        .iter()
        .map(|(event, letter)| {
            let body = match *event {
                "INSERT" => format!(
                    "{insert_into} {};",
                    tracking_values(table, "NEW", false, "NULL")
                ),
                "DELETE" => format!(
                    "{insert_into} {};",
                    tracking_values(table, "OLD", true, "NULL")
                ),
                _ => update_body.clone(),
            };
            format!(
                "CREATE TRIGGER {} AFTER {event} ON {t} FOR EACH ROW \
                 IF @hetsync_apply IS NULL THEN {body} END IF",
                ident(&trigger_name(letter, &table.name))
            )
        })
        .collect()
}

/// Whether an index on this column needs a prefix length.
fn needs_prefix(column: &Column) -> bool {
    let t = column.sql_type.to_ascii_lowercase();
    t.contains("text") || t.contains("blob") || t.starts_with("json")
}

/// Staging columns: `c<i>` per table column, `m<i>` "write this column",
/// `op` (`U` upsert, `D` delete), indexed by the combined code.
pub(crate) fn staging_sql(table: &SyncTable, columns: &[Column]) -> String {
    let mut defs: Vec<String> = columns
        .iter()
        .enumerate()
        .map(|(i, c)| format!("c{i} {} NULL", c.sql_type))
        .collect();
    defs.extend((0..columns.len()).map(|i| format!("m{i} BOOL NOT NULL")));
    defs.push("op CHAR(1) NOT NULL".into());
    let key: Vec<String> = table
        .code
        .iter()
        .map(|&i| {
            if needs_prefix(&columns[i]) {
                format!("c{i}(255)")
            } else {
                format!("c{i}")
            }
        })
        .collect();
    defs.push(format!("KEY (op, {})", key.join(", ")));
    format!(
        "CREATE TEMPORARY TABLE IF NOT EXISTS {} ({})",
        ident(&staging_table(&table.name)),
        defs.join(", ")
    )
}

/// The per-table apply procedure (paper 001 §3.4): phase `D` deletes, phase
/// `U` updates the changed fields of existing rows and inserts missing rows,
/// each one set-based statement over the staging table.
pub(crate) fn apply_procedure_sql(table: &SyncTable, columns: &[Column]) -> String {
    let t = ident(&table.name);
    let s = ident(&staging_table(&table.name));
    let key_match = table
        .code
        .iter()
        .map(|&i| format!("t.{} = s.c{i}", ident(&table.columns[i])))
        .collect::<Vec<_>>()
        .join(" AND ");
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
                    "t.{c} = IF(s.m{i}, s.c{i}, t.{c})",
                    c = ident(&table.columns[i])
                )
            })
            .collect();
        let differs: Vec<String> = non_code
            .iter()
            .map(|&i| {
                let c = format!("t.{}", ident(&table.columns[i]));
                format!(
                    "(s.m{i} AND NOT ({}))",
                    same(columns[i].kind, &c, &format!("s.c{i}"))
                )
            })
            .collect();
        format!(
            "UPDATE {s} AS s STRAIGHT_JOIN {t} AS t ON {key_match} SET {} \
             WHERE s.op = 'U' AND ({}); SET n_upd = ROW_COUNT();",
            sets.join(", "),
            differs.join(" OR ")
        )
    };
    let cols = table
        .columns
        .iter()
        .map(|c| ident(c))
        .collect::<Vec<_>>()
        .join(", ");
    let staged = (0..table.columns.len())
        .map(|i| format!("s.c{i}"))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "CREATE PROCEDURE {}(IN phase CHAR(1), OUT n_ins BIGINT, OUT n_upd BIGINT, OUT n_del BIGINT) \
         MODIFIES SQL DATA \
         BEGIN \
           SET n_ins = 0, n_upd = 0, n_del = 0; \
           IF phase = 'D' THEN \
             DELETE t FROM {s} AS s STRAIGHT_JOIN {t} AS t ON {key_match} WHERE s.op = 'D'; \
             SET n_del = ROW_COUNT(); \
           ELSE \
             {update} \
             INSERT INTO {t} ({cols}) SELECT {staged} FROM {s} AS s \
               WHERE s.op = 'U' AND NOT EXISTS (SELECT 1 FROM {t} AS t WHERE {key_match}); \
             SET n_ins = ROW_COUNT(); \
           END IF; \
         END",
        ident(&apply_procedure(&table.name)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_names_fit_in_64_characters_and_stay_distinct() {
        let a = object_name("_hetsync_u_", &"变电站表".repeat(16));
        let b = object_name("_hetsync_u_", &format!("{}x", "变电站表".repeat(16)));
        assert!(
            a.chars().count() <= 64 && b.chars().count() <= 64,
            "{a} {b}"
        );
        assert_ne!(a, b);
        assert_eq!(object_name("_hetsync_apply_", "t"), "_hetsync_apply_t");
    }

    #[test]
    fn literals_escape_quotes_and_backslashes() {
        assert_eq!(literal(r#"it's \"x\""#), r#"'it''s \\"x\\"'"#);
        assert_eq!(ident("a`b"), "`a``b`");
    }
}
