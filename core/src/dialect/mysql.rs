//! MariaDB and MySQL: lean row triggers (the only kind there is), a session
//! variable that silences them, per-table apply procedures over temporary
//! staging tables. DDL commits implicitly, so install is idempotent rather
//! than atomic.

use super::digest::{spelled_row_text, DigestColumn, DigestSql, Spelled, SpellsValues};
use super::{
    ColumnSql, Dialect, IdentLimit, SilenceScope, TxKind, INSTALLED, META, PEERS, PHASE_DELETE,
    TRACKING,
};
use crate::adapter::{BulkCopyKind, Capabilities};
use crate::schema::SyncTable;
use crate::types::CanonicalType;
use crate::value::Value;

/// The MariaDB/MySQL dialect.
pub struct Mysql;

/// The capabilities of MariaDB and MySQL.
pub const CAPABILITIES: Capabilities = Capabilities {
    procedures: true,
    statement_triggers: false,
    merge: false,
    bulk_copy: BulkCopyKind::StagingTable,
};

/// Table options of the bookkeeping tables: text compares byte-exact.
const TABLE_OPTIONS: &str = "ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin";

/// Operations that get a trigger, with the letter in the trigger's name.
const OPERATIONS: [(&str, &str); 3] = [("INSERT", "i"), ("UPDATE", "u"), ("DELETE", "d")];

impl Mysql {
    /// The apply procedure of a table.
    pub fn apply_procedure(&self, table: &str) -> String {
        self.object_name("_hetsync_apply_", table)
    }

    /// `a` and `b` hold the same value, byte for byte: character columns are
    /// compared as binary, so a change of case or trailing spaces is a change
    /// whatever the collation says.
    fn same(&self, column: &ColumnSql, a: &str, b: &str) -> String {
        if column.text {
            format!("CAST({a} AS BINARY) <=> CAST({b} AS BINARY)")
        } else {
            format!("{a} <=> {b}")
        }
    }

    /// The tracking row of one change: `(table, code, time, user, deleted, fields)`.
    /// The user is the login name the client gave (`USER()` without its
    /// `@host`): `CURRENT_USER()` in a trigger is the trigger's definer.
    fn tracking_values(
        &self,
        table: &SyncTable,
        alias: &str,
        deleted: bool,
        fields: &str,
    ) -> String {
        format!(
            "({}, {}, UTC_TIMESTAMP(6), SUBSTRING_INDEX(USER(), '@', 1), {}, {fields})",
            self.literal(&table.name),
            self.code_json(table, alias),
            u8::from(deleted)
        )
    }

    /// The three row triggers of a table. Each is one `IF` around one `INSERT`:
    /// row triggers cost per row, so they do as little as they can.
    fn triggers(&self, table: &SyncTable, columns: &[ColumnSql]) -> Vec<String> {
        let t = self.ident(&table.name);
        let insert_into = format!(
            "INSERT INTO {} (table_name, code, changed_at, user_name, deleted, fields) VALUES",
            self.ident(TRACKING)
        );
        let same_column = |i: usize| {
            let c = self.ident(&table.columns[i]);
            self.same(&columns[i], &format!("NEW.{c}"), &format!("OLD.{c}"))
        };
        let same_code = super::same_code(table, same_column);
        let moved = format!(
            "{insert_into} {}, {}",
            self.tracking_values(table, "OLD", true, "NULL"),
            self.tracking_values(table, "NEW", false, "NULL")
        );
        let non_code: Vec<usize> = (0..table.columns.len())
            .filter(|&i| !table.is_code_column(i))
            .collect();
        let update_body = if non_code.is_empty() {
            format!("IF NOT ({same_code}) THEN {moved}; END IF;")
        } else {
            let names = non_code
                .iter()
                .map(|&i| {
                    let json = serde_json::to_string(&table.columns[i]).expect("strings serialize");
                    format!("IF({}, NULL, {})", same_column(i), self.literal(&json))
                })
                .collect::<Vec<_>>()
                .join(", ");
            // The changed fields are computed once, into a session variable: a
            // row trigger pays for every expression it evaluates.
            format!(
                "IF {same_code} THEN \
                   IF (@hetsync_fields := CONCAT_WS(',', {names})) <> '' THEN {insert_into} {}; END IF; \
                 ELSE {moved}; END IF;",
                self.tracking_values(table, "NEW", false, "CONCAT('[', @hetsync_fields, ']')")
            )
        };
        OPERATIONS
            .iter()
            .map(|(event, letter)| {
                let body = match *event {
                    "INSERT" => format!(
                        "{insert_into} {};",
                        self.tracking_values(table, "NEW", false, "NULL")
                    ),
                    "DELETE" => format!(
                        "{insert_into} {};",
                        self.tracking_values(table, "OLD", true, "NULL")
                    ),
                    _ => update_body.clone(),
                };
                format!(
                    "CREATE TRIGGER {} AFTER {event} ON {t} FOR EACH ROW \
                     IF @hetsync_apply IS NULL THEN {body} END IF",
                    self.ident(&self.trigger_name(&table.name, letter))
                )
            })
            .collect()
    }

    /// The per-table apply procedure: phase `D`
    /// deletes, phase `U` updates the changed fields of existing rows and
    /// inserts missing rows, each one set-based statement over the staging table.
    fn apply_procedure_sql(&self, table: &SyncTable, columns: &[ColumnSql]) -> String {
        let t = self.ident(&table.name);
        let s = self.ident(&self.staging_table(&table.name));
        let parts = super::apply_parts(
            self,
            table,
            |c, i| format!("t.{c} = IF(s.m{i}, s.c{i}, t.{c})"),
            |c, i| {
                let same = self.same(&columns[i], &format!("t.{c}"), &format!("s.c{i}"));
                format!("(s.m{i} AND NOT ({same}))")
            },
        );
        let key_match = &parts.key_match;
        let update = match &parts.sets {
            None => String::new(),
            Some(sets) => format!(
                "UPDATE {s} AS s STRAIGHT_JOIN {t} AS t ON {key_match} SET {sets} \
                 WHERE s.op = 'U' AND ({}); SET n_upd = ROW_COUNT();",
                parts.differs
            ),
        };
        let staged = &parts.staged;
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
            self.ident(&self.apply_procedure(&table.name)),
            cols = self.column_list(table),
        )
    }
}

/// Whether an index on a column of this type needs a prefix length.
fn needs_prefix(sql_type: &str) -> bool {
    let t = sql_type.to_ascii_lowercase();
    t.contains("text") || t.contains("blob") || t.starts_with("json")
}

impl Dialect for Mysql {
    fn name(&self) -> &'static str {
        "mysql"
    }

    fn capabilities(&self) -> Capabilities {
        CAPABILITIES
    }

    fn ident_limit(&self) -> IdentLimit {
        IdentLimit::Chars(64)
    }

    fn quote_char(&self) -> char {
        '`'
    }

    /// Quotes a string literal for a session without `NO_BACKSLASH_ESCAPES`
    /// (hetsync's sessions, hence its triggers and procedures, never have it).
    fn literal(&self, text: &str) -> String {
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

    fn placeholder(&self, _n: usize) -> String {
        "?".into()
    }

    fn max_params(&self) -> usize {
        65_535
    }

    fn digest(&self) -> Option<&'static dyn DigestSql> {
        Some(&MysqlDigest)
    }

    fn as_text(&self, expr: &str) -> String {
        format!("CAST({expr} AS CHAR)")
    }

    fn transactional_ddl(&self) -> bool {
        false
    }

    fn begin_sql(&self, kind: TxKind) -> Vec<String> {
        match kind {
            // Row locks, not gap locks: a batch locks only the rows it writes.
            TxKind::Write => vec![
                "SET TRANSACTION ISOLATION LEVEL READ COMMITTED".into(),
                "BEGIN".into(),
            ],
            TxKind::ReadSnapshot => {
                vec!["START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY".into()]
            }
        }
    }

    fn table_options(&self) -> &'static str {
        TABLE_OPTIONS
    }

    fn meta_tables(&self) -> Vec<String> {
        vec![
            format!(
                "CREATE TABLE IF NOT EXISTS {} (\n    seq BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,\n    table_name VARCHAR(64) NOT NULL,\n    code TEXT NOT NULL,\n    changed_at DATETIME(6) NOT NULL,\n    deleted TINYINT(1) NOT NULL DEFAULT 0,\n    user_name VARCHAR(400),\n    fields TEXT,\n    origin VARCHAR(255)\n) {TABLE_OPTIONS}",
                self.ident(TRACKING)
            ),
            format!(
                "CREATE TABLE IF NOT EXISTS {} (\n    peer VARCHAR(255) NOT NULL PRIMARY KEY,\n    watermark BIGINT NOT NULL,\n    within_seq BIGINT NOT NULL DEFAULT 0,\n    updated_at DATETIME(6) NOT NULL\n) {TABLE_OPTIONS}",
                self.ident(PEERS)
            ),
            format!(
                "CREATE TABLE IF NOT EXISTS {} (\n    table_name VARCHAR(64) NOT NULL PRIMARY KEY,\n    installed_at DATETIME(6) NOT NULL\n) {TABLE_OPTIONS}",
                self.ident(INSTALLED)
            ),
            format!(
                "CREATE TABLE IF NOT EXISTS {} (\n    name VARCHAR(64) NOT NULL PRIMARY KEY,\n    value TEXT NOT NULL\n) {TABLE_OPTIONS}",
                self.ident(META)
            ),
        ]
    }

    fn table_exists_sql(&self) -> Option<String> {
        Some(
            "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = ?"
            .into()
        )
    }

    fn column_exists_sql(&self) -> Option<String> {
        Some(
            "SELECT COUNT(*) FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = ? AND column_name = ?"
            .into()
        )
    }

    fn meta_sql(&self) -> String {
        format!(
            "SELECT CAST(name AS CHAR), CAST(value AS CHAR) FROM {}",
            self.ident(META)
        )
    }

    fn upsert_tail(&self, _key: &str, set: &[&str]) -> String {
        let set: Vec<String> = set.iter().map(|c| format!("{c} = VALUES({c})")).collect();
        format!("ON DUPLICATE KEY UPDATE {}", set.join(", "))
    }

    fn now(&self) -> &'static str {
        "UTC_TIMESTAMP(6)"
    }

    fn capture_objects_sql(&self) -> Option<String> {
        Some(
            "SELECT 'TRIGGER', CAST(trigger_name AS CHAR) FROM information_schema.triggers \
         WHERE trigger_schema = DATABASE() AND trigger_name LIKE '\\\\_hetsync\\\\_%' \
         UNION ALL \
         SELECT 'PROCEDURE', CAST(routine_name AS CHAR) FROM information_schema.routines \
         WHERE routine_schema = DATABASE() AND routine_type = 'PROCEDURE' AND routine_name LIKE '\\\\_hetsync\\\\_%'"
            .into()
        )
    }

    fn capture_definitions_sql(&self) -> Option<String> {
        Some(
            "SELECT CAST(CONCAT('trigger ', trigger_name, ' on ', event_object_table) AS CHAR), \
                CAST(CONCAT(action_timing, ' ', event_manipulation, ' ', action_statement) AS CHAR) \
         FROM information_schema.triggers \
         WHERE trigger_schema = DATABASE() AND trigger_name LIKE '\\\\_hetsync\\\\_%' \
         UNION ALL \
         SELECT CAST(CONCAT('procedure ', routine_name) AS CHAR), CAST(routine_definition AS CHAR) \
         FROM information_schema.routines \
         WHERE routine_schema = DATABASE() AND routine_type = 'PROCEDURE' AND routine_name LIKE '\\\\_hetsync\\\\_%'"
            .into()
        )
    }

    fn capture_sql(&self, table: &SyncTable, columns: &[ColumnSql]) -> Vec<String> {
        let mut out = vec![self.apply_procedure_sql(table, columns)];
        out.extend(self.triggers(table, columns));
        out
    }

    fn capture_triggers(&self, table: &str) -> Vec<String> {
        OPERATIONS
            .iter()
            .map(|(_, letter)| self.trigger_name(table, letter))
            .collect()
    }

    fn resume_capture_sql(&self, table: &SyncTable, columns: &[ColumnSql]) -> Vec<String> {
        let mut out = self.suspend_capture_sql(table).unwrap_or_default();
        out.extend(self.triggers(table, columns));
        out
    }

    /// A copy with the table's own keys (`LIKE`), so the comparison at the
    /// end probes an index on the code whatever its column types.
    fn bulk_snapshot_sql(&self, table: &SyncTable) -> Vec<String> {
        let snapshot = self.ident(&self.bulk_snapshot(&table.name));
        let t = self.ident(&table.name);
        vec![
            format!("DROP TABLE IF EXISTS {snapshot}"),
            format!("CREATE TABLE {snapshot} LIKE {t}"),
            format!("INSERT INTO {snapshot} SELECT * FROM {t}"),
        ]
    }

    fn change_time(&self) -> String {
        "CAST(TIMESTAMPDIFF(MICROSECOND, '1970-01-01 00:00:00', changed_at) AS SIGNED)".into()
    }

    fn silence_sql(&self) -> Option<String> {
        Some("SET @hetsync_apply = 1".into())
    }

    fn unsilence_sql(&self) -> Option<String> {
        Some("SET @hetsync_apply = NULL".into())
    }

    fn silence_scope(&self) -> SilenceScope {
        SilenceScope::Session
    }

    fn stamp_expr(&self, param: &str) -> String {
        format!("TIMESTAMPADD(MICROSECOND, {param}, '1970-01-01 00:00:00')")
    }

    fn staging_sql(&self, table: &SyncTable, columns: &[ColumnSql]) -> Option<String> {
        let mut defs =
            super::staging_columns(columns, " NULL", "BOOL NOT NULL", "CHAR(1) NOT NULL");
        let key: Vec<String> = table
            .code
            .iter()
            .map(|&i| {
                if needs_prefix(&columns[i].sql_type) {
                    format!("c{i}(255)")
                } else {
                    format!("c{i}")
                }
            })
            .collect();
        defs.push(format!("KEY (op, {})", key.join(", ")));
        Some(format!(
            "CREATE TEMPORARY TABLE IF NOT EXISTS {} ({})",
            self.ident(&self.staging_table(&table.name)),
            defs.join(", ")
        ))
    }

    fn clear_staging_sql(&self, table: &SyncTable) -> Option<String> {
        Some(format!(
            "DELETE FROM {}",
            self.ident(&self.staging_table(&table.name))
        ))
    }

    fn apply_call_sql(&self, table: &SyncTable, phase: &str) -> Vec<String> {
        let phase = if phase == PHASE_DELETE { "'D'" } else { "'U'" };
        vec![
            format!(
                "CALL {}({phase}, @hetsync_ins, @hetsync_upd, @hetsync_del)",
                self.ident(&self.apply_procedure(&table.name))
            ),
            "SELECT CAST(@hetsync_ins AS SIGNED), CAST(@hetsync_upd AS SIGNED), CAST(@hetsync_del AS SIGNED)"
                .into(),
        ]
    }

    fn differs(&self, a: &str, b: &str) -> String {
        format!("NOT (CAST({a} AS BINARY) <=> CAST({b} AS BINARY))")
    }

    /// `(k1, k2, k3) > (a, b, c)` spelled out, which every optimizer turns
    /// into an index range.
    fn scan_sql(&self, table: &SyncTable, select: &str, after: bool) -> String {
        super::spelled_scan_sql(self, table, select, after)
    }

    fn scan_params(&self, after: Option<&crate::code::CombinedCode>, limit: usize) -> Vec<Value> {
        super::spelled_scan_params(after, limit)
    }
}

/// The digest in MariaDB's SQL: every text converted to utf8mb4 and taken
/// as bytes, so that no collation is mixed and MD5 sees UTF-8. A double has
/// no exact text here: tables with one are streamed.
struct MysqlDigest;

impl SpellsValues for MysqlDigest {
    fn value(&self, c: &str, t: &CanonicalType) -> Option<Spelled> {
        use CanonicalType as C;
        use Spelled::{Plain, Text};
        Some(match t {
            C::Int8 | C::Int16 | C::Int32 | C::Int64 => Plain('i', format!("CAST({c} AS CHAR)")),
            C::Bool => Plain(
                'b',
                format!("CASE WHEN {c} THEN '1' WHEN NOT {c} THEN '0' END"),
            ),
            C::Char { .. } | C::Varchar { .. } | C::Text { .. } => {
                Text(format!("CAST(CONVERT({c} USING utf8mb4) AS BINARY)"))
            }
            C::Binary { .. } | C::Varbinary { .. } | C::Blob => {
                Plain('x', format!("LOWER(HEX({c}))"))
            }
            C::Date => Text(format!("DATE_FORMAT({c}, '%Y-%m-%d')")),
            _ => return None,
        })
    }

    fn byte_length(&self, text: &str) -> String {
        format!("LENGTH({text})")
    }

    fn concat(&self, parts: &[String]) -> String {
        format!("CONCAT({})", parts.join(", "))
    }
}

impl DigestSql for MysqlDigest {
    fn row_text(&self, columns: &[DigestColumn<'_>]) -> Option<String> {
        spelled_row_text(self, columns)
    }

    fn md5_hex(&self, text: &str) -> String {
        format!("MD5({text})")
    }

    fn hex_prefix(&self, hex: &str, digits: u32) -> String {
        format!("CAST(CONV(SUBSTR({hex}, 1, {digits}), 16, 10) AS SIGNED)")
    }

    fn sum_text(&self, expr: &str) -> String {
        format!("CAST(SUM({expr}) AS CHAR)")
    }
}
