//! SQLite: row triggers with a `WHEN` guard, a flag table that silences
//! them inside the engine's own transactions, and row statements instead of
//! apply procedures (SQLite has none).

use super::digest::{DigestColumn, DigestSql};
use super::snapshot::{SNAPSHOT_INDEX_PREFIX, SNAPSHOT_PREFIX};
use super::{
    ColumnSql, Dialect, IdentLimit, SilenceScope, TxKind, CONFLICTS, INSTALLED, META, PEERS,
    PHASE_DELETE, TRACKING,
};
use crate::adapter::{BulkCopyKind, Capabilities};
use crate::schema::SyncTable;
use crate::types::CanonicalType;
use crate::value::Value;

/// Non-empty only inside the engine's own write transactions.
pub const APPLY_FLAG: &str = "_hetsync_apply";

/// The SQLite dialect, with the node's way of capturing changes.
pub struct Sqlite {
    /// Capture by snapshot difference ([`super::snapshot`]) instead of
    /// row triggers.
    pub snapshot: bool,
}

/// SQLite capturing by row triggers.
pub const TRIGGERS: Sqlite = Sqlite { snapshot: false };

/// SQLite capturing by snapshot difference.
pub const SNAPSHOT: Sqlite = Sqlite { snapshot: true };

/// The change time as every SQLite since 3.0 writes it: UTC, milliseconds.
const NOW: &str = "strftime('%Y-%m-%dT%H:%M:%fZ','now')";

/// The capabilities of SQLite.
pub const CAPABILITIES: Capabilities = Capabilities {
    procedures: false,
    statement_triggers: false,
    merge: false,
    bulk_copy: BulkCopyKind::PreparedStatements,
};

impl Sqlite {
    fn tracking_insert(
        &self,
        table: &SyncTable,
        code: &str,
        deleted: bool,
        fields: &str,
    ) -> String {
        format!(
            "INSERT INTO {}(table_name, code, changed_at, deleted, fields) SELECT {}, {code}, {NOW}, {}, {fields}",
            self.ident(TRACKING),
            self.literal(&table.name),
            deleted as i32,
        )
    }
}

/// The condition on `sqlite_master.name` that picks the snapshot tables
/// and their indexes.
fn snapshot_tables() -> String {
    let prefixes = [SNAPSHOT_PREFIX, SNAPSHOT_INDEX_PREFIX];
    let picks: Vec<String> = prefixes
        .iter()
        .map(|p| format!("substr(name, 1, {}) = '{p}'", p.len()))
        .collect();
    format!("({})", picks.join(" OR "))
}

/// The temporary table an apply phase keeps the count of its update in:
/// `changes()` tells only the last statement's.
const APPLY_COUNTS: &str = "_hetsync_apply_counts";

impl Dialect for Sqlite {
    fn name(&self) -> &'static str {
        match self.snapshot {
            false => "sqlite",
            true => "sqlite-snapshot",
        }
    }

    /// SQLite has no procedures, but a batch is applied set-based all the
    /// same: staged into a temporary table by multi-row `INSERT`s, then a
    /// few statements per phase ([`Dialect::apply_call_sql`]).
    fn staged_apply(&self) -> bool {
        true
    }

    fn staging_sql(&self, table: &SyncTable, columns: &[ColumnSql]) -> Option<String> {
        let defs = super::staging_columns(columns, "", "INTEGER NOT NULL", "TEXT NOT NULL");
        Some(format!(
            "CREATE TEMP TABLE IF NOT EXISTS {} ({}); \
             CREATE TEMP TABLE IF NOT EXISTS {} (n INTEGER)",
            self.ident(&self.staging_table(&table.name)),
            defs.join(", "),
            self.ident(APPLY_COUNTS)
        ))
    }

    fn clear_staging_sql(&self, table: &SyncTable) -> Option<String> {
        Some(format!(
            "DELETE FROM {}",
            self.ident(&self.staging_table(&table.name))
        ))
    }

    /// Phase `D` deletes the staged codes; phase `U` updates the masked
    /// fields of existing rows where a value differs (byte for byte), then
    /// inserts the missing rows; each one statement over the staging table,
    /// the last selecting `(inserted, updated, deleted)`.
    fn apply_call_sql(&self, table: &SyncTable, phase: &str) -> Vec<String> {
        let t = self.ident(&table.name);
        let s = self.ident(&self.staging_table(&table.name));
        let counts = self.ident(APPLY_COUNTS);
        if phase == PHASE_DELETE {
            let staged: Vec<String> = table.code.iter().map(|i| format!("s.c{i}")).collect();
            return vec![
                format!(
                    "DELETE FROM {t} AS t WHERE ({}) IN (SELECT {} FROM {s} AS s WHERE s.op = 'D')",
                    self.code_list(table, "t").join(", "),
                    staged.join(", ")
                ),
                "SELECT 0, 0, changes()".into(),
            ];
        }
        let parts = super::apply_parts(
            self,
            table,
            |c, i| format!("{c} = CASE WHEN s.m{i} THEN s.c{i} ELSE t.{c} END"),
            |c, i| {
                format!(
                    "(s.m{i} AND {})",
                    self.differs(&format!("t.{c}"), &format!("s.c{i}"))
                )
            },
        );
        let key_match = &parts.key_match;
        let mut script = vec![format!("DELETE FROM {counts}")];
        match &parts.sets {
            Some(sets) => script.extend([
                format!(
                    "UPDATE {t} AS t SET {sets} FROM {s} AS s \
                     WHERE s.op = 'U' AND {key_match} AND ({})",
                    parts.differs
                ),
                format!("INSERT INTO {counts} SELECT changes()"),
            ]),
            None => script.push(format!("INSERT INTO {counts} VALUES (0)")),
        }
        script.extend([
            format!(
                "INSERT INTO {t} ({}) SELECT {} FROM {s} AS s \
                 WHERE s.op = 'U' AND NOT EXISTS (SELECT 1 FROM {t} AS t WHERE {key_match})",
                self.column_list(table),
                parts.staged
            ),
            format!("SELECT changes(), (SELECT n FROM {counts}), 0"),
        ]);
        script
    }

    fn capabilities(&self) -> Capabilities {
        CAPABILITIES
    }

    fn ident_limit(&self) -> IdentLimit {
        IdentLimit::None
    }

    fn digest(&self) -> Option<&'static dyn DigestSql> {
        Some(&SqliteDigest)
    }

    fn placeholder(&self, n: usize) -> String {
        format!("?{n}")
    }

    /// An anonymous `?`: sqlx finds each numbered parameter's index by
    /// name, and SQLite answers by a linear search, so binding `?NNN`
    /// costs time quadratic in a statement's parameters.
    fn ordered_placeholder(&self, _n: usize) -> String {
        "?".into()
    }

    fn max_params(&self) -> usize {
        // SQLite's limit. The bulk statements bind anonymous `?`s
        // ([`Dialect::ordered_placeholder`]); with numbered ones a full
        // sync of 200,000 rows took 193 s at this limit and 10 s at 999
        // (bench group `sqlite`), with `?` 3.4 s.
        32_766
    }

    fn transactional_ddl(&self) -> bool {
        true
    }

    fn begin_sql(&self, kind: TxKind) -> Vec<String> {
        // A writer takes the write lock before it reads anything.
        match kind {
            TxKind::Write => vec!["BEGIN IMMEDIATE".into()],
            TxKind::ReadSnapshot => vec!["BEGIN".into()],
        }
    }

    fn meta_tables(&self) -> Vec<String> {
        vec![
            format!(
                "CREATE TABLE IF NOT EXISTS {} (\n    seq INTEGER PRIMARY KEY AUTOINCREMENT,\n    table_name TEXT NOT NULL,\n    code TEXT NOT NULL,\n    changed_at TEXT NOT NULL,\n    deleted INTEGER NOT NULL DEFAULT 0,\n    user_name TEXT,\n    fields TEXT,\n    origin TEXT)",
                self.ident(TRACKING)
            ),
            format!(
                "CREATE INDEX IF NOT EXISTS {} ON {}(table_name, code)",
                self.ident("_hetsync_tracking_by_code"),
                self.ident(TRACKING)
            ),
            format!("CREATE TABLE IF NOT EXISTS {} (origin TEXT NOT NULL)", self.ident(APPLY_FLAG)),
            format!(
                "CREATE TABLE IF NOT EXISTS {} (\n    peer TEXT PRIMARY KEY,\n    watermark INTEGER NOT NULL,\n    within_seq INTEGER NOT NULL DEFAULT 0,\n    updated_at TEXT NOT NULL)",
                self.ident(PEERS)
            ),
            format!(
                "CREATE TABLE IF NOT EXISTS {} (\n    table_name TEXT PRIMARY KEY,\n    installed_at TEXT NOT NULL)",
                self.ident(INSTALLED)
            ),
            format!(
                "CREATE TABLE IF NOT EXISTS {} (\n    name TEXT PRIMARY KEY,\n    value TEXT NOT NULL)",
                self.ident(META)
            ),
        ]
    }

    fn meta_table_names(&self) -> Vec<&'static str> {
        vec![INSTALLED, PEERS, META, CONFLICTS, APPLY_FLAG, TRACKING]
    }

    fn table_exists_sql(&self) -> Option<String> {
        Some("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1".into())
    }

    fn column_exists_sql(&self) -> Option<String> {
        Some("SELECT count(*) FROM pragma_table_info(?1) WHERE name = ?2".into())
    }

    fn now(&self) -> &'static str {
        NOW
    }

    // Triggers, and the snapshot tables of capture by snapshot difference
    // (whichever way the node captures: install switches between them).
    fn capture_objects_sql(&self) -> Option<String> {
        Some(format!(
            "SELECT upper(type), name FROM sqlite_master WHERE (type = 'trigger' AND \
             substr(name, 1, 9) = '_hetsync_') OR (type = 'table' AND {}) ORDER BY name",
            snapshot_tables()
        ))
    }

    fn capture_definitions_sql(&self) -> Option<String> {
        Some(format!(
            "SELECT type || ' ' || name || ' on ' || tbl_name, sql FROM sqlite_master \
             WHERE (type = 'trigger' AND substr(name, 1, 9) = '_hetsync_') OR \
             (type IN ('table', 'index') AND {}) ORDER BY 1",
            snapshot_tables()
        ))
    }

    fn snapshot_capture(&self) -> bool {
        self.snapshot
    }

    fn capture_sql(&self, table: &SyncTable, _columns: &[ColumnSql]) -> Vec<String> {
        if self.snapshot {
            return super::snapshot::create_sql(self, table);
        }
        let t = self.ident(&table.name);
        let quiet = format!("WHEN NOT EXISTS (SELECT 1 FROM {})", self.ident(APPLY_FLAG));
        let (old, new) = (self.code_json(table, "OLD"), self.code_json(table, "NEW"));
        let insert = format!(
            "CREATE TRIGGER {} AFTER INSERT ON {t} {quiet} BEGIN {}; END",
            self.ident(&self.trigger_name(&table.name, "insert")),
            self.tracking_insert(table, &new, false, "NULL"),
        );
        let delete = format!(
            "CREATE TRIGGER {} AFTER DELETE ON {t} {quiet} BEGIN {}; END",
            self.ident(&self.trigger_name(&table.name, "delete")),
            self.tracking_insert(table, &old, true, "NULL"),
        );
        // A changed combined code is the old row leaving and a new row arriving.
        let key_changed = format!("WHERE {old} IS NOT {new}");
        let mut body = vec![
            format!(
                "{} {key_changed}",
                self.tracking_insert(table, &old, true, "NULL")
            ),
            format!(
                "{} {key_changed}",
                self.tracking_insert(table, &new, false, "NULL")
            ),
        ];
        let changed: Vec<String> = (0..table.columns.len())
            .filter(|&i| !table.is_code_column(i))
            .map(|i| {
                let c = self.ident(&table.columns[i]);
                format!(
                    "SELECT {} AS f WHERE OLD.{c} IS NOT NEW.{c} COLLATE BINARY",
                    self.literal(&table.columns[i])
                )
            })
            .collect();
        if !changed.is_empty() {
            // A no-op update (every value unchanged) records nothing.
            body.push(format!(
                "{} FROM ({}) WHERE {old} IS {new} HAVING count(*) > 0",
                self.tracking_insert(table, &new, false, "json_group_array(f)"),
                changed.join(" UNION ALL ")
            ));
        }
        let update = format!(
            "CREATE TRIGGER {} AFTER UPDATE ON {t} {quiet} BEGIN {}; END",
            self.ident(&self.trigger_name(&table.name, "update")),
            body.join("; ")
        );
        vec![insert, update, delete]
    }

    fn json_array_function(&self) -> &'static str {
        "json_array"
    }

    fn capture_triggers(&self, table: &str) -> Vec<String> {
        ["insert", "update", "delete"]
            .map(|op| self.trigger_name(table, op))
            .into()
    }

    fn resume_capture_sql(&self, table: &SyncTable, columns: &[ColumnSql]) -> Vec<String> {
        if self.snapshot {
            return Vec::new();
        }
        let mut out = self.suspend_capture_sql(table).unwrap_or_default();
        out.extend(self.capture_sql(table, columns));
        out
    }

    fn change_time(&self) -> String {
        "changed_at".into()
    }

    fn silence_sql(&self) -> Option<String> {
        Some(format!(
            "INSERT INTO {}(origin) VALUES ('hetsync')",
            self.ident(APPLY_FLAG)
        ))
    }

    fn unsilence_sql(&self) -> Option<String> {
        Some(format!("DELETE FROM {}", self.ident(APPLY_FLAG)))
    }

    fn silence_scope(&self) -> SilenceScope {
        SilenceScope::Transaction
    }

    fn row_lock_clause(&self) -> Option<&'static str> {
        // A write transaction begins IMMEDIATE: no other writer until it ends.
        None
    }

    fn stamp_value(&self, micros: i64) -> Option<Value> {
        chrono::DateTime::from_timestamp_micros(micros)
            .map(|t| Value::Text(t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)))
    }

    fn differs(&self, a: &str, b: &str) -> String {
        format!("{a} IS NOT {b} COLLATE BINARY")
    }

    fn tuple_list(&self, tuples: &[String]) -> String {
        format!("(VALUES {})", tuples.join(", "))
    }
}

/// The digest in SQLite's SQL, with the functions the SQLite adapter
/// registers on its connections (`hetsync_md5`, `hetsync_hex_int`). A
/// REAL has no exact text here, nor a date that may be stored in any
/// format: tables with one are streamed.
struct SqliteDigest;

/// Columns per call of `hetsync_row_text`: SQLite's default limit of a
/// function's arguments is 127, one of which is the kind letters.
const ROW_TEXT_COLUMNS: usize = 100;

impl DigestSql for SqliteDigest {
    /// `hetsync_row_text(kinds, c1, …)`, the adapter's SQL function that
    /// writes the text as [`crate::digest::push_value`] does, given a kind
    /// letter per column: `i` integer, `b` boolean, `t` text, `x` bytes.
    /// A wide row is written by several calls (SQLite limits a function's
    /// arguments), their texts concatenated.
    fn row_text(&self, columns: &[DigestColumn<'_>]) -> Option<String> {
        use CanonicalType as C;
        let calls = columns
            .chunks(ROW_TEXT_COLUMNS)
            .map(|chunk| {
                let mut kinds = String::new();
                for (_, t) in chunk {
                    kinds.push(match t {
                        C::Int8 | C::Int16 | C::Int32 | C::Int64 => 'i',
                        C::Bool => 'b',
                        C::Char { .. } | C::Varchar { .. } | C::Text { .. } => 't',
                        C::Binary { .. } | C::Varbinary { .. } | C::Blob => 'x',
                        _ => return None,
                    });
                }
                let args: Vec<&str> = chunk.iter().map(|(c, _)| c.as_str()).collect();
                Some(format!("hetsync_row_text('{kinds}', {})", args.join(", ")))
            })
            .collect::<Option<Vec<String>>>()?;
        Some(calls.join(" || "))
    }

    fn md5_hex(&self, text: &str) -> String {
        format!("hetsync_md5({text})")
    }

    fn hex_prefix(&self, hex: &str, digits: u32) -> String {
        format!("hetsync_hex_int({hex}, {digits})")
    }

    fn sum_text(&self, expr: &str) -> String {
        format!("CAST(sum({expr}) AS TEXT)")
    }
}
