//! Dameng (DM8), reached through its ODBC driver (the ODBC adapter's
//! `dameng` profile): Oracle-like SQL. Row triggers (`FOR EACH ROW`, `:NEW`
//! and `:OLD`) write the tracking table, whose `seq` is an identity column;
//! change times are `SYS_EXTRACT_UTC(SYSTIMESTAMP)`; rows are applied by
//! parameterised row statements; the dictionary is `USER_TABLES`,
//! `USER_TAB_COLUMNS` and `USER_OBJECTS`.
//!
//! Two choices the issue left open:
//!
//! - **Loop prevention** is a package variable, `"_hetsync_pkg".apply_on`,
//!   which the engine's session sets in an anonymous block and every trigger
//!   tests first. A package's variables belong to the session (DM8 follows
//!   Oracle here), cost nothing to read in a row trigger and need no
//!   privilege beyond the package's own; `SYS_CONTEXT` would need a context
//!   namespace created by a privileged user, and `CLIENT_INFO` is the
//!   application's to set.
//! - **The watermark** is the tracking `seq` behind a commit barrier, as on
//!   MariaDB ([`Dameng::barrier_sql`]): `LOCK TABLE … IN SHARE MODE` is not
//!   granted while a transaction that inserted tracking rows holds its row
//!   exclusive lock, which it keeps until it ends, and a transaction that
//!   starts later gets a greater `seq`. Transaction ids would do too, but
//!   DM8 shows them only through `V$` views that need the `VTI` privilege.
//!
//! The package also turns a code part into JSON (`part`, overloaded for
//! numbers and text), since a trigger knows no types at run time.
//!
//! No DM8 server runs where hetsync is built: this SQL is checked by its
//! golden file (`core/tests/golden/dameng.sql`), and runs live only where
//! `HETSYNC_DAMENG_ODBC` names a data source.

use super::{
    ColumnSql, Dialect, IdentLimit, SilenceScope, TxKind, INSTALLED, META, PEERS, PREFIX, TRACKING,
};
use crate::adapter::{BulkCopyKind, Capabilities};
use crate::schema::SyncTable;
use crate::value::Value;

/// The DM8 dialect.
#[derive(Debug)]
pub struct Dameng;

/// The default type rules towards DM8 (see `hetsync_core::mapping::rules`):
/// which type a column of another database gets there.
pub const DEFAULT_TYPE_RULES: &str = include_str!("dameng_types.toml");

/// The package holding the silence flag and the JSON of code parts.
pub const PACKAGE: &str = "_hetsync_pkg";

/// The capabilities of DM8 as this dialect uses them: row triggers, rows
/// applied by statements.
pub const CAPABILITIES: Capabilities = Capabilities {
    procedures: false,
    statement_triggers: false,
    merge: true,
    bulk_copy: BulkCopyKind::PreparedStatements,
};

/// Operations that get a trigger, with the letter in the trigger's name.
const OPERATIONS: [(&str, &str); 3] = [("INSERT", "i"), ("UPDATE", "u"), ("DELETE", "d")];

/// How a change time is written and read back as text.
const TIME_FORMAT: &str = "YYYY-MM-DD HH24:MI:SS.FF6";

/// Native types whose values are LOBs: compared by `DBMS_LOB.COMPARE`.
const LOB_TYPES: [&str; 6] = [
    "CLOB",
    "BLOB",
    "TEXT",
    "IMAGE",
    "LONGVARCHAR",
    "LONGVARBINARY",
];

impl Dameng {
    /// The statements of the commit barrier, run in one transaction that
    /// the caller then ends: the lock waits for every open writer of the
    /// tracking table (`NOWAIT`: the caller retries for a bounded time),
    /// the select reads the last `seq`, final once the lock is granted.
    pub fn barrier_sql(&self) -> [String; 2] {
        [
            format!("LOCK TABLE {} IN SHARE MODE NOWAIT", self.ident(TRACKING)),
            self.last_seq_sql(),
        ]
    }

    /// The last `seq` handed out (0 when there is none).
    pub fn last_seq_sql(&self) -> String {
        format!("SELECT COALESCE(MAX(seq), 0) FROM {}", self.ident(TRACKING))
    }

    /// `a` and `b` hold the same value (NULLs alike): `DECODE` compares
    /// NULLs as equal; LOBs, which `DECODE` cannot take, by
    /// `DBMS_LOB.COMPARE`.
    fn same(&self, column: &ColumnSql, a: &str, b: &str) -> String {
        let upper = column.sql_type.to_ascii_uppercase();
        if LOB_TYPES.iter().any(|t| upper.starts_with(t)) {
            format!(
                "(({a} IS NULL AND {b} IS NULL) OR ({a} IS NOT NULL AND {b} IS NOT NULL \
                 AND DBMS_LOB.COMPARE({a}, {b}) = 0))"
            )
        } else {
            format!("DECODE({a}, {b}, 1, 0) = 1")
        }
    }

    /// The package: the silence flag and the JSON of a code part.
    fn package_sql(&self) -> [String; 2] {
        let p = self.ident(PACKAGE);
        [
            format!(
                "CREATE OR REPLACE PACKAGE {p} AS\n  apply_on INT;\n  \
                 FUNCTION part(n NUMBER) RETURN VARCHAR;\n  \
                 FUNCTION part(s VARCHAR) RETURN VARCHAR;\nEND;"
            ),
            format!(
                "CREATE OR REPLACE PACKAGE BODY {p} AS\n  \
                 FUNCTION part(n NUMBER) RETURN VARCHAR IS\n  BEGIN\n    RETURN TO_CHAR(n);\n  END;\n  \
                 FUNCTION part(s VARCHAR) RETURN VARCHAR IS\n  BEGIN\n    \
                 RETURN '\"' || REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(s, '\\', '\\\\'), '\"', '\\\"'), \
                 CHR(10), '\\n'), CHR(13), '\\r'), CHR(9), '\\t') || '\"';\n  END;\nEND;"
            ),
        ]
    }

    /// The tracking insert of one change of a row over `alias` (`:NEW` or
    /// `:OLD`), its changed fields the expression `fields`.
    fn tracking_insert(
        &self,
        table: &SyncTable,
        alias: &str,
        deleted: bool,
        fields: &str,
    ) -> String {
        format!(
            "INSERT INTO {} (table_name, code, changed_at, user_name, deleted, fields) \
             VALUES ({}, {}, {}, SYS_CONTEXT('USERENV', 'SESSION_USER'), {}, {fields});",
            self.ident(TRACKING),
            self.literal(&table.name),
            self.code_json(table, alias),
            self.now(),
            u8::from(deleted)
        )
    }

    /// The three row triggers of a table, each silent while the engine's
    /// session has set the package's flag.
    fn triggers(&self, table: &SyncTable, columns: &[ColumnSql]) -> Vec<String> {
        let t = self.ident(&table.name);
        let same_column = |i: usize| {
            let c = self.ident(&table.columns[i]);
            self.same(&columns[i], &format!(":NEW.{c}"), &format!(":OLD.{c}"))
        };
        let same_code = super::same_code(table, same_column);
        let moved = format!(
            "{} {}",
            self.tracking_insert(table, ":OLD", true, "NULL"),
            self.tracking_insert(table, ":NEW", false, "NULL")
        );
        let field_checks: Vec<String> = (0..table.columns.len())
            .filter(|&i| !table.is_code_column(i))
            .map(|i| {
                let json = serde_json::to_string(&table.columns[i]).expect("strings serialize");
                format!(
                    "IF NOT ({}) THEN f := f || ',' || {}; END IF;",
                    same_column(i),
                    self.literal(&json)
                )
            })
            .collect();
        // The changed fields are gathered into `f` (`,"a","b"`); a row
        // whose code and fields are all the same records nothing.
        let update_body = if field_checks.is_empty() {
            format!("IF NOT ({same_code}) THEN {moved} END IF;")
        } else {
            format!(
                "IF {same_code} THEN f := ''; {} IF LENGTH(f) > 0 THEN {} END IF; ELSE {moved} END IF;",
                field_checks.join(" "),
                self.tracking_insert(table, ":NEW", false, "'[' || SUBSTR(f, 2) || ']'")
            )
        };
        let flag = format!("{}.apply_on", self.ident(PACKAGE));
        OPERATIONS
            .iter()
            .map(|(event, letter)| {
                let (declare, body) = match *event {
                    "INSERT" => ("", self.tracking_insert(table, ":NEW", false, "NULL")),
                    "DELETE" => ("", self.tracking_insert(table, ":OLD", true, "NULL")),
                    _ if field_checks.is_empty() => ("", update_body.clone()),
                    _ => ("DECLARE f VARCHAR(8000); ", update_body.clone()),
                };
                format!(
                    "CREATE OR REPLACE TRIGGER {} AFTER {event} ON {t} FOR EACH ROW\n\
                     {declare}BEGIN IF {flag} IS NULL THEN {body} END IF; END;",
                    self.ident(&self.trigger_name(&table.name, letter))
                )
            })
            .collect()
    }
}

impl Dialect for Dameng {
    fn name(&self) -> &'static str {
        "dameng"
    }

    fn capabilities(&self) -> Capabilities {
        CAPABILITIES
    }

    /// DM8 names take up to 128 bytes.
    fn ident_limit(&self) -> IdentLimit {
        IdentLimit::Bytes(128)
    }

    fn placeholder(&self, _n: usize) -> String {
        "?".into()
    }

    fn max_params(&self) -> usize {
        4000
    }

    /// DDL commits implicitly: install is idempotent instead.
    fn transactional_ddl(&self) -> bool {
        false
    }

    /// Transactions are the driver's (autocommit off); these set the one
    /// that begins: a reader sees one snapshot of every table, a writer
    /// locks the rows it reads (`FOR UPDATE`).
    fn begin_sql(&self, kind: TxKind) -> Vec<String> {
        match kind {
            TxKind::Write => vec!["SET TRANSACTION ISOLATION LEVEL READ COMMITTED".into()],
            TxKind::ReadSnapshot => vec!["SET TRANSACTION READ ONLY".into()],
        }
    }

    fn meta_tables(&self) -> Vec<String> {
        vec![
            format!(
                "CREATE TABLE IF NOT EXISTS {} (\n    seq BIGINT IDENTITY(1, 1) NOT NULL PRIMARY KEY,\n    table_name VARCHAR(512) NOT NULL,\n    code VARCHAR(4000) NOT NULL,\n    changed_at TIMESTAMP(6) NOT NULL,\n    deleted INT DEFAULT 0 NOT NULL,\n    user_name VARCHAR(400),\n    fields TEXT,\n    origin VARCHAR(255))",
                self.ident(TRACKING)
            ),
            format!(
                "CREATE TABLE IF NOT EXISTS {} (\n    peer VARCHAR(255) NOT NULL PRIMARY KEY,\n    watermark BIGINT NOT NULL,\n    within_seq BIGINT DEFAULT 0 NOT NULL,\n    updated_at TIMESTAMP(6) NOT NULL)",
                self.ident(PEERS)
            ),
            format!(
                "CREATE TABLE IF NOT EXISTS {} (\n    table_name VARCHAR(512) NOT NULL PRIMARY KEY,\n    installed_at TIMESTAMP(6) NOT NULL)",
                self.ident(INSTALLED)
            ),
            format!(
                "CREATE TABLE IF NOT EXISTS {} (\n    name VARCHAR(64) NOT NULL PRIMARY KEY,\n    value TEXT NOT NULL)",
                self.ident(META)
            ),
        ]
    }

    fn table_exists_sql(&self) -> Option<String> {
        Some("SELECT COUNT(*) FROM USER_TABLES WHERE TABLE_NAME = ?".into())
    }

    fn column_exists_sql(&self) -> Option<String> {
        Some(
            "SELECT COUNT(*) FROM USER_TAB_COLUMNS WHERE TABLE_NAME = ? AND COLUMN_NAME = ?".into(),
        )
    }

    /// Oracle's `ADD`, without `COLUMN`.
    fn added_columns(&self) -> Vec<(&'static str, &'static str, String)> {
        vec![(
            PEERS,
            "within_seq",
            format!(
                "ALTER TABLE {} ADD within_seq BIGINT DEFAULT 0 NOT NULL",
                self.ident(PEERS)
            ),
        )]
    }

    /// No upsert a positional `?` can serve once: the key's row is deleted,
    /// then inserted ([`super::delete_then_insert`]).
    fn keyed_write_sql(&self, table: &str, key: &str, columns: &[(&str, String)]) -> Vec<String> {
        super::delete_then_insert(self, table, key, columns)
    }

    fn now(&self) -> &'static str {
        "SYS_EXTRACT_UTC(SYSTIMESTAMP)"
    }

    /// Triggers first, then the package they call.
    fn capture_objects_sql(&self) -> Option<String> {
        Some(format!(
            "SELECT OBJECT_TYPE, OBJECT_NAME FROM USER_OBJECTS \
             WHERE OBJECT_TYPE IN ('TRIGGER', 'PACKAGE') AND OBJECT_NAME LIKE '{}' ESCAPE '!' \
             ORDER BY CASE OBJECT_TYPE WHEN 'TRIGGER' THEN 0 ELSE 1 END, OBJECT_NAME",
            like_prefix()
        ))
    }

    fn capture_definitions_sql(&self) -> Option<String> {
        Some(format!(
            "SELECT 'trigger ' || TRIGGER_NAME || ' on ' || TABLE_NAME, \
                    TRIGGER_TYPE || ' ' || TRIGGERING_EVENT || ' ' || STATUS \
             FROM USER_TRIGGERS WHERE TRIGGER_NAME LIKE '{prefix}' ESCAPE '!' \
             UNION ALL \
             SELECT 'package ' || OBJECT_NAME, OBJECT_TYPE || ' ' || STATUS \
             FROM USER_OBJECTS WHERE OBJECT_TYPE IN ('PACKAGE', 'PACKAGE BODY') \
             AND OBJECT_NAME LIKE '{prefix}' ESCAPE '!'",
            prefix = like_prefix()
        ))
    }

    /// Listed objects exist: no `IF EXISTS`.
    fn drop_object_sql(&self, kind: &str, name: &str) -> String {
        format!("DROP {kind} {}", self.ident(name))
    }

    fn capture_sql(&self, table: &SyncTable, columns: &[ColumnSql]) -> Vec<String> {
        let mut out = self.package_sql().to_vec();
        out.extend(self.triggers(table, columns));
        out
    }

    /// `'[' || part(alias."k1") || ',' || … || ']'`: each part as a JSON
    /// number or string by the package's overloads.
    fn code_json(&self, table: &SyncTable, alias: &str) -> String {
        let parts: Vec<String> = self
            .code_list(table, alias)
            .iter()
            .map(|c| format!("{}.part({c})", self.ident(PACKAGE)))
            .collect();
        format!("'[' || {} || ']'", parts.join(" || ',' || "))
    }

    fn capture_triggers(&self, table: &str) -> Vec<String> {
        OPERATIONS
            .iter()
            .map(|(_, letter)| self.trigger_name(table, letter))
            .collect()
    }

    /// The triggers are disabled, not dropped (there is no `DROP TRIGGER IF
    /// EXISTS` to make a second try harmless).
    fn suspend_capture_sql(&self, table: &SyncTable) -> Option<Vec<String>> {
        Some(
            self.capture_triggers(&table.name)
                .iter()
                .map(|name| format!("ALTER TRIGGER {} DISABLE", self.ident(name)))
                .collect(),
        )
    }

    /// `CREATE OR REPLACE` makes them again, enabled, whatever the suspend
    /// left.
    fn resume_capture_sql(&self, table: &SyncTable, columns: &[ColumnSql]) -> Vec<String> {
        self.triggers(table, columns)
    }

    fn change_time(&self) -> String {
        format!("TO_CHAR(changed_at, '{TIME_FORMAT}')")
    }

    /// The time as text in [`TIME_FORMAT`], which sorts as it reads.
    fn stamp_value(&self, micros: i64) -> Option<Value> {
        super::text_stamp(micros)
    }

    fn stamp_expr(&self, param: &str) -> String {
        format!("TO_TIMESTAMP({param}, '{TIME_FORMAT}')")
    }

    fn silence_sql(&self) -> Option<String> {
        Some(format!("BEGIN {}.apply_on := 1; END;", self.ident(PACKAGE)))
    }

    fn unsilence_sql(&self) -> Option<String> {
        Some(format!(
            "BEGIN {}.apply_on := NULL; END;",
            self.ident(PACKAGE)
        ))
    }

    fn silence_scope(&self) -> SilenceScope {
        SilenceScope::Session
    }

    /// A `SELECT` needs a `FROM`, as in Oracle.
    fn values_from(&self) -> &'static str {
        " FROM DUAL"
    }

    /// `DECODE` compares NULLs as equal, each operand written once.
    fn differs(&self, a: &str, b: &str) -> String {
        format!("DECODE({a}, {b}, 0, 1) = 1")
    }

    /// Row values compare with `=` only: `(k1, k2) > (a, b)` spelled out.
    fn scan_sql(&self, table: &SyncTable, select: &str, after: bool) -> String {
        super::spelled_scan_sql(self, table, select, after)
    }

    fn scan_params(&self, after: Option<&crate::code::CombinedCode>, limit: usize) -> Vec<Value> {
        super::spelled_scan_params(after, limit)
    }
}

/// The `LIKE` pattern of hetsync's object names (`!` escapes `_`).
fn like_prefix() -> String {
    format!("{}%", PREFIX.replace('_', "!_"))
}
