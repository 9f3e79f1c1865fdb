//! SQL Server (T-SQL), paper 001's own database, for the SQL Server adapter
//! (issue 14). Names are quoted `[…]` with `]` doubled, and every string
//! literal is `N'…'`, so that the Chinese table names survive whatever the
//! database's code page; parameters are tiberius' `@P1`, `@P2`, ….
//!
//! - **Capture**: one `AFTER INSERT, UPDATE, DELETE` trigger per table,
//!   statement-level over `inserted` and `deleted` like PostgreSQL's
//!   transition tables: one `FULL JOIN` on the code finds codes that left
//!   (deletes, and the old side of a key change), codes that arrived, and
//!   per column whether it changed, byte for byte (`VARBINARY` casts, so a
//!   case change under a `_CI_` collation is a change); a no-op update
//!   records nothing. The user is `ORIGINAL_LOGIN()`.
//! - **Loop prevention**: the engine's session sets
//!   `SESSION_CONTEXT(N'hetsync.apply')`, read-only for the rest of the
//!   session, and the triggers skip while it is set, so the engine may
//!   share the application's login.
//! - **The watermark**: each tracking row carries a `rowversion`; a round
//!   reads only below `MIN_ACTIVE_ROWVERSION()` ([`POSITION`]), under which
//!   every row is committed or rolled back, as PostgreSQL's reads stop at
//!   the oldest running transaction. A position is the next `rowversion` to
//!   read (as a `BIGINT`), so a bounded read that stops at a row resumes
//!   right after it.
//! - **Apply**: batches are bulk-loaded into a session's `#` staging table,
//!   then one set-based procedure per table, `_hetsync_apply_<table>`,
//!   deletes (phase `D`), then updates the changed fields of existing rows
//!   and inserts the missing ones (phase `U`): paper 001's procedures for
//!   delete, key-changing update (a delete and an insert here), update and
//!   insert. Every transaction runs with `XACT_ABORT ON`.
//!
//! No SQL Server runs where hetsync is built: this SQL is checked by its
//! golden file (`core/tests/golden/mssql.sql`), whose statements are parsed
//! by `sqlparser`'s T-SQL dialect where it knows them.

use super::{
    ColumnSql, Dialect, IdentLimit, SilenceScope, TxKind, CONFLICTS, INSTALLED, META, PEERS,
    PHASE_DELETE, PREFIX, TRACKING,
};
use crate::adapter::{BulkCopyKind, Capabilities};
use crate::schema::SyncTable;
use crate::value::Value;

/// The SQL Server dialect.
#[derive(Debug)]
pub struct Mssql;

/// The session-context key that silences capture.
pub const APPLY_KEY: &str = "hetsync.apply";

/// How far a read is final: every row below the oldest `rowversion` an
/// open transaction holds is committed or rolled back.
pub const POSITION: &str = "SELECT CAST(MIN_ACTIVE_ROWVERSION() AS BIGINT)";

/// A position past every committed row: one past the database's last
/// `rowversion` ([`crate::adapter::Capture::committed_position`]).
pub const COMMITTED_POSITION: &str = "SELECT CAST(@@DBTS AS BIGINT) + 1";

/// Whether the database allows snapshot isolation, which a round's read
/// needs (`ALTER DATABASE … SET ALLOW_SNAPSHOT_ISOLATION ON`): 1 when it
/// does.
pub const SNAPSHOT_ALLOWED: &str =
    "SELECT CASE snapshot_isolation_state WHEN 1 THEN 1 ELSE 0 END FROM sys.databases WHERE name = DB_NAME()";

/// Takes the integration lock: an application lock owned by the session,
/// released when the connection closes; the answer is 0 or more when taken.
pub const INTEGRATION_LOCK: &str = "DECLARE @r INT; \
     EXEC @r = sys.sp_getapplock @Resource = N'hetsync integration', @LockMode = 'Exclusive', \
     @LockOwner = 'Session', @LockTimeout = -1; SELECT @r";

/// One installer at a time per database, until the install commits.
pub const INSTALL_LOCK: &str = "DECLARE @r INT; \
     EXEC @r = sys.sp_getapplock @Resource = N'hetsync install', @LockMode = 'Exclusive', \
     @LockOwner = 'Transaction', @LockTimeout = 60000; SELECT @r";

/// The capabilities of SQL Server: statement triggers, procedures, bulk
/// load into staging tables.
pub const CAPABILITIES: Capabilities = Capabilities {
    procedures: true,
    statement_triggers: true,
    merge: true,
    bulk_copy: BulkCopyKind::StagingTable,
};

/// The longest name of a `#` temporary table.
const TEMP_NAME_LIMIT: IdentLimit = IdentLimit::Chars(116);

/// Integer types whose code parts capture writes as JSON numbers.
const INTEGER_TYPES: &str = "'tinyint', 'smallint', 'int', 'bigint'";

impl Mssql {
    /// The capture trigger of a table.
    pub fn capture_trigger(&self, table: &str) -> String {
        self.object_name("_hetsync_capture_", table)
    }

    /// The apply procedure of a table.
    pub fn apply_procedure(&self, table: &str) -> String {
        self.object_name("_hetsync_apply_", table)
    }

    /// An object's name as `OBJECT_ID` reads it: quoted, as a literal.
    fn object_literal(&self, name: &str) -> String {
        self.literal(&self.ident(name))
    }

    /// `IF <hetsync's table> does not exist, <create it>`.
    fn create_table(&self, name: &str, columns: &str) -> String {
        format!(
            "IF OBJECT_ID({}, N'U') IS NULL CREATE TABLE {} (\n    {columns})",
            self.object_literal(name),
            self.ident(name)
        )
    }

    /// One code part as capture writes it into the code's JSON array: an
    /// integer as a number, anything else as a string. The trigger knows
    /// no types, so the value's own type decides.
    fn code_part(&self, expr: &str) -> String {
        format!(
            "CASE WHEN SQL_VARIANT_PROPERTY(CAST({expr} AS sql_variant), 'BaseType') IN ({INTEGER_TYPES}) \
             THEN CAST({expr} AS NVARCHAR(20)) \
             ELSE N'\"' + STRING_ESCAPE(CAST({expr} AS NVARCHAR(4000)), 'json') + N'\"' END"
        )
    }

    /// The changed fields of a row in the trigger's join, as a JSON array
    /// of names; NULL when none changed.
    fn changed_fields(&self, table: &SyncTable) -> String {
        let names: Vec<String> = (0..table.columns.len())
            .filter(|&i| !table.is_code_column(i))
            .map(|i| {
                let c = self.ident(&table.columns[i]);
                let name = serde_json::to_string(&table.columns[i]).expect("a name is JSON");
                format!(
                    "ISNULL(CASE WHEN {} THEN {} END, N'')",
                    self.differs(&format!("o.{c}"), &format!("n.{c}")),
                    self.literal(&format!(",{name}"))
                )
            })
            .collect();
        if names.is_empty() {
            return "CAST(NULL AS NVARCHAR(MAX))".into();
        }
        // STUFF drops the first comma, and makes NULL of an empty list.
        format!(
            "N'[' + STUFF({}, 1, 1, N'') + N']'",
            names.join("\n                 + ")
        )
    }

    /// The capture trigger: one set-based insert per statement.
    fn trigger_sql(&self, table: &SyncTable) -> String {
        let first = self.ident(&table.columns[table.code[0]]);
        let same_code = super::same_code(table, |i| {
            let c = self.ident(&table.columns[i]);
            format!("CAST(o.{c} AS VARBINARY(MAX)) = CAST(n.{c} AS VARBINARY(MAX))")
        });
        format!(
            "CREATE OR ALTER TRIGGER {trigger} ON {t} AFTER INSERT, UPDATE, DELETE AS\n\
             BEGIN\n  \
               SET NOCOUNT ON;\n  \
               IF SESSION_CONTEXT({key}) IS NOT NULL RETURN;\n  \
               INSERT INTO {tracking}(table_name, code, deleted, fields)\n  \
               SELECT {name}, x.code, x.deleted, CASE WHEN x.moved = 1 THEN NULL ELSE x.f END\n  \
               FROM (SELECT CASE WHEN n.{first} IS NULL THEN {old_code} ELSE {new_code} END AS code,\n          \
                            CASE WHEN n.{first} IS NULL THEN 1 ELSE 0 END AS deleted,\n          \
                            CASE WHEN o.{first} IS NULL OR n.{first} IS NULL THEN 1 ELSE 0 END AS moved,\n          \
                            {fields} AS f\n        \
                     FROM deleted AS o FULL JOIN inserted AS n ON {same_code}) AS x\n  \
               WHERE x.moved = 1 OR x.f IS NOT NULL;\n\
             END",
            trigger = self.ident(&self.capture_trigger(&table.name)),
            t = self.ident(&table.name),
            key = self.literal(APPLY_KEY),
            tracking = self.ident(TRACKING),
            name = self.literal(&table.name),
            old_code = self.code_json(table, "o"),
            new_code = self.code_json(table, "n"),
            fields = self.changed_fields(table),
        )
    }

    /// The apply procedure of a table over its staging table: phase `D`
    /// deletes, phase `U` updates the changed fields of existing rows and
    /// inserts the missing ones; selects `(inserted, updated, deleted)`.
    fn procedure_sql(&self, table: &SyncTable) -> String {
        let t = self.ident(&table.name);
        let s = self.ident(&self.staging_table(&table.name));
        let parts = super::apply_parts(
            self,
            table,
            |c, i| format!("{c} = CASE WHEN s.m{i} = 1 THEN s.c{i} ELSE t.{c} END"),
            |c, i| {
                format!(
                    "(s.m{i} = 1 AND {})",
                    self.differs(&format!("t.{c}"), &format!("s.c{i}"))
                )
            },
        );
        let key_match = &parts.key_match;
        let update = match &parts.sets {
            None => String::new(),
            Some(sets) => format!(
                "UPDATE t SET {sets} FROM {t} AS t JOIN {s} AS s ON {key_match} \
                 WHERE s.op = 'U' AND ({});\n    SET @upd = @@ROWCOUNT;\n    ",
                parts.differs
            ),
        };
        format!(
            "CREATE OR ALTER PROCEDURE {proc} (@phase CHAR(1)) AS\n\
             BEGIN\n  \
               SET NOCOUNT ON;\n  \
               SET XACT_ABORT ON;\n  \
               DECLARE @ins BIGINT = 0, @upd BIGINT = 0, @del BIGINT = 0;\n  \
               IF @phase = 'D'\n  \
               BEGIN\n    \
                 DELETE t FROM {t} AS t JOIN {s} AS s ON {key_match} WHERE s.op = 'D';\n    \
                 SET @del = @@ROWCOUNT;\n  \
               END\n  \
               ELSE\n  \
               BEGIN\n    \
                 {update}INSERT INTO {t} ({cols}) SELECT {staged} FROM {s} AS s \
                 WHERE s.op = 'U' AND NOT EXISTS (SELECT 1 FROM {t} AS t WHERE {key_match});\n    \
                 SET @ins = @@ROWCOUNT;\n  \
               END;\n  \
               SELECT @ins, @upd, @del;\n\
             END",
            proc = self.ident(&self.apply_procedure(&table.name)),
            cols = self.column_list(table),
            staged = parts.staged,
        )
    }

    /// Enables or disables a table's capture trigger.
    fn toggle_trigger(&self, table: &SyncTable, action: &str) -> String {
        format!(
            "ALTER TABLE {} {action} TRIGGER {}",
            self.ident(&table.name),
            self.ident(&self.capture_trigger(&table.name))
        )
    }

    /// `o` is one of hetsync's triggers or procedures (sys.objects) in
    /// the current schema.
    fn own_object(&self) -> String {
        format!(
            "o.type IN ('TR', 'P') AND o.schema_id = SCHEMA_ID() AND LEFT(o.name, {}) = {}",
            PREFIX.chars().count(),
            self.literal(PREFIX)
        )
    }

    /// A position parameter as the `rowversion` it names.
    fn rowversion(&self, n: usize) -> String {
        format!("CAST({} AS BINARY(8))", self.placeholder(n))
    }
}

impl Dialect for Mssql {
    fn name(&self) -> &'static str {
        "mssql"
    }

    fn capabilities(&self) -> Capabilities {
        CAPABILITIES
    }

    fn ident_limit(&self) -> IdentLimit {
        IdentLimit::Chars(128)
    }

    /// `[name]`, with `]` doubled.
    fn ident(&self, name: &str) -> String {
        format!("[{}]", name.replace(']', "]]"))
    }

    /// `N'text'`, with `'` doubled: a Unicode literal.
    fn literal(&self, text: &str) -> String {
        format!("N'{}'", text.replace('\'', "''"))
    }

    fn placeholder(&self, n: usize) -> String {
        format!("@P{n}")
    }

    /// A request carries at most 2,100 parameters.
    fn max_params(&self) -> usize {
        2_000
    }

    fn limit(&self, count: &str, offset: usize) -> String {
        format!("OFFSET {offset} ROWS FETCH NEXT {count} ROWS ONLY")
    }

    fn transactional_ddl(&self) -> bool {
        true
    }

    /// A round reads one snapshot (the database must allow snapshot
    /// isolation, [`SNAPSHOT_ALLOWED`]); a writer aborts the whole
    /// transaction on any error.
    fn begin_sql(&self, kind: TxKind) -> Vec<String> {
        let level = match kind {
            TxKind::Write => "READ COMMITTED",
            TxKind::ReadSnapshot => "SNAPSHOT",
        };
        vec![
            "SET XACT_ABORT ON".into(),
            format!("SET TRANSACTION ISOLATION LEVEL {level}"),
            "BEGIN TRANSACTION".into(),
        ]
    }

    fn commit_sql(&self) -> &'static str {
        "COMMIT TRANSACTION"
    }

    /// `XACT_ABORT` may have rolled the transaction back already.
    fn rollback_sql(&self) -> &'static str {
        "IF @@TRANCOUNT > 0 ROLLBACK TRANSACTION"
    }

    fn meta_tables(&self) -> Vec<String> {
        let index = "_hetsync_tracking_by_position";
        vec![
            self.create_table(
                TRACKING,
                "seq BIGINT IDENTITY(1, 1) NOT NULL PRIMARY KEY,\n    \
                 rv ROWVERSION NOT NULL,\n    \
                 table_name NVARCHAR(256) NOT NULL,\n    \
                 code NVARCHAR(4000) NOT NULL,\n    \
                 changed_at DATETIME2(6) NOT NULL DEFAULT SYSUTCDATETIME(),\n    \
                 deleted BIT NOT NULL DEFAULT 0,\n    \
                 user_name NVARCHAR(256) NULL DEFAULT ORIGINAL_LOGIN(),\n    \
                 fields NVARCHAR(MAX) NULL,\n    \
                 origin NVARCHAR(255) NULL",
            ),
            format!(
                "IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE object_id = OBJECT_ID({}) AND name = {}) \
                 CREATE INDEX {} ON {}(rv)",
                self.object_literal(TRACKING),
                self.literal(index),
                self.ident(index),
                self.ident(TRACKING)
            ),
            self.create_table(
                PEERS,
                "peer NVARCHAR(255) NOT NULL PRIMARY KEY,\n    \
                 watermark BIGINT NOT NULL,\n    \
                 within_seq BIGINT NOT NULL DEFAULT 0,\n    \
                 updated_at DATETIME2(6) NOT NULL DEFAULT SYSUTCDATETIME()",
            ),
            self.create_table(
                INSTALLED,
                "table_name NVARCHAR(256) NOT NULL PRIMARY KEY,\n    \
                 installed_at DATETIME2(6) NOT NULL DEFAULT SYSUTCDATETIME()",
            ),
            self.create_table(
                META,
                "name NVARCHAR(64) NOT NULL PRIMARY KEY,\n    value NVARCHAR(MAX) NOT NULL",
            ),
        ]
    }

    fn conflict_table_sql(&self) -> String {
        self.create_table(
            CONFLICTS,
            "uid NVARCHAR(200) NOT NULL PRIMARY KEY,\n    body NVARCHAR(MAX) NOT NULL",
        )
    }

    fn table_exists_sql(&self) -> Option<String> {
        Some(format!(
            "SELECT COUNT(*) FROM sys.tables WHERE name = {} AND schema_id = SCHEMA_ID()",
            self.placeholder(1)
        ))
    }

    fn column_exists_sql(&self) -> Option<String> {
        Some(format!(
            "SELECT COUNT(*) FROM sys.columns AS c JOIN sys.tables AS t ON t.object_id = c.object_id \
             WHERE t.name = {} AND t.schema_id = SCHEMA_ID() AND c.name = {}",
            self.placeholder(1),
            self.placeholder(2)
        ))
    }

    /// T-SQL adds a column without `COLUMN`.
    fn added_columns(&self) -> Vec<(&'static str, &'static str, String)> {
        vec![(
            PEERS,
            "within_seq",
            format!(
                "ALTER TABLE {} ADD within_seq BIGINT NOT NULL DEFAULT 0",
                self.ident(PEERS)
            ),
        )]
    }

    /// The key's row is deleted, then inserted.
    fn keyed_write_sql(&self, table: &str, key: &str, columns: &[(&str, String)]) -> Vec<String> {
        super::delete_then_insert(self, table, key, columns)
    }

    fn now(&self) -> &'static str {
        "SYSUTCDATETIME()"
    }

    fn capture_objects_sql(&self) -> Option<String> {
        Some(format!(
            "SELECT CASE o.type WHEN 'TR' THEN 'TRIGGER' ELSE 'PROCEDURE' END, o.name \
             FROM sys.objects AS o WHERE {} ORDER BY 2",
            self.own_object()
        ))
    }

    /// A disabled trigger is an altered one.
    fn capture_definitions_sql(&self) -> Option<String> {
        Some(format!(
            "SELECT CASE o.type WHEN 'TR' THEN N'trigger ' + o.name + N' on ' + OBJECT_NAME(o.parent_object_id) \
             ELSE N'procedure ' + o.name END, \
             m.definition + CASE WHEN tr.is_disabled = 1 THEN N' DISABLED' ELSE N'' END \
             FROM sys.objects AS o JOIN sys.sql_modules AS m ON m.object_id = o.object_id \
             LEFT JOIN sys.triggers AS tr ON tr.object_id = o.object_id WHERE {} ORDER BY 1",
            self.own_object()
        ))
    }

    fn capture_sql(&self, table: &SyncTable, _columns: &[ColumnSql]) -> Vec<String> {
        vec![self.trigger_sql(table), self.procedure_sql(table)]
    }

    /// `N'[' + part + N',' + part + N']'` over the code columns of `alias`
    /// ([`Mssql::code_part`]).
    fn code_json(&self, table: &SyncTable, alias: &str) -> String {
        let parts: Vec<String> = self
            .code_list(table, alias)
            .iter()
            .map(|c| self.code_part(c))
            .collect();
        format!("N'[' + {} + N']'", parts.join(" + N',' + "))
    }

    fn capture_triggers(&self, table: &str) -> Vec<String> {
        vec![self.capture_trigger(table)]
    }

    /// The trigger is disabled, not dropped.
    fn suspend_capture_sql(&self, table: &SyncTable) -> Option<Vec<String>> {
        Some(vec![self.toggle_trigger(table, "DISABLE")])
    }

    fn resume_capture_sql(&self, table: &SyncTable, _columns: &[ColumnSql]) -> Vec<String> {
        vec![self.toggle_trigger(table, "ENABLE")]
    }

    fn copy_table_sql(&self, copy: &str, columns: &str, from: &str) -> String {
        format!("SELECT {columns} INTO {copy} FROM {from}")
    }

    // A position is the next `rowversion` to read: "after" takes it,
    // "up to" (the horizon below which all is final) does not.
    fn after_position(&self, n: usize) -> String {
        format!("rv >= {}", self.rowversion(n))
    }

    fn upto_position(&self, n: usize) -> String {
        format!("rv < {}", self.rowversion(n))
    }

    fn position_order(&self) -> &'static str {
        "rv"
    }

    fn position_value(&self) -> String {
        "CAST(rv AS BIGINT) + 1".into()
    }

    fn upto_includes(&self) -> bool {
        false
    }

    /// As text in the form of [`super::text_stamp`] (style 121).
    fn change_time(&self) -> String {
        "CONVERT(NVARCHAR(27), changed_at, 121)".into()
    }

    fn stamp_value(&self, micros: i64) -> Option<Value> {
        super::text_stamp(micros)
    }

    fn stamp_expr(&self, param: &str) -> String {
        format!("CAST({param} AS DATETIME2(6))")
    }

    /// Set once per session, read-only from then on.
    fn silence_sql(&self) -> Option<String> {
        let key = self.literal(APPLY_KEY);
        Some(format!(
            "IF SESSION_CONTEXT({key}) IS NULL \
             EXEC sys.sp_set_session_context @key = {key}, @value = 1, @read_only = 1"
        ))
    }

    fn unsilence_sql(&self) -> Option<String> {
        None
    }

    fn silence_scope(&self) -> SilenceScope {
        SilenceScope::Session
    }

    /// An exclusive table lock until the transaction ends: SQL Server has
    /// no lock that keeps writers out and lets locking readers in while its
    /// holder writes (readers under snapshot isolation are not held).
    fn lock_table_sql(&self, table: &str) -> Option<String> {
        Some(format!(
            "SELECT TOP (1) 1 FROM {} WITH (TABLOCKX, HOLDLOCK)",
            self.ident(table)
        ))
    }

    fn row_lock_clause(&self) -> Option<&'static str> {
        Some("WITH (UPDLOCK, HOLDLOCK, ROWLOCK)")
    }

    /// The lock is a table hint, after the table's alias.
    fn lock_rows_sql(&self, table: &SyncTable, n: usize) -> Option<String> {
        let keys = self.code_list(table, "t").join(", ");
        Some(format!(
            "SELECT {keys} FROM {} AS t {} WHERE {} ORDER BY {keys}",
            self.ident(&table.name),
            self.row_lock_clause()?,
            self.codes_in(table, &self.code_list(table, "t"), n)
        ))
    }

    /// `N'D'` is a delete-phase run, anything else the upsert phase.
    fn staging_sql(&self, table: &SyncTable, columns: &[ColumnSql]) -> Option<String> {
        let defs = super::staging_columns(columns, "", "BIT", "CHAR(1) NOT NULL");
        let name = self.staging_table(&table.name);
        Some(format!(
            "IF OBJECT_ID({}) IS NULL CREATE TABLE {} ({})",
            self.literal(&format!("tempdb..{}", self.ident(&name))),
            self.ident(&name),
            defs.join(", ")
        ))
    }

    fn clear_staging_sql(&self, table: &SyncTable) -> Option<String> {
        Some(format!(
            "TRUNCATE TABLE {}",
            self.ident(&self.staging_table(&table.name))
        ))
    }

    /// A session's `#` table, visible to the procedures it calls.
    fn staging_table(&self, table: &str) -> String {
        super::names::fit("#_hetsync_stage_", table, TEMP_NAME_LIMIT)
    }

    fn apply_call_sql(&self, table: &SyncTable, phase: &str) -> Vec<String> {
        let phase = if phase == PHASE_DELETE { "D" } else { "U" };
        vec![format!(
            "EXEC {} @phase = '{phase}'",
            self.ident(&self.apply_procedure(&table.name))
        )]
    }

    /// NULL-safe and byte for byte: two values differ when their bytes do.
    fn differs(&self, a: &str, b: &str) -> String {
        format!(
            "EXISTS (SELECT CAST({a} AS VARBINARY(MAX)) EXCEPT SELECT CAST({b} AS VARBINARY(MAX)))"
        )
    }

    /// Without row values, a code of several parts is matched part by part.
    fn codes_in(&self, table: &SyncTable, keys: &[String], n: usize) -> String {
        super::codes_matched_part_by_part(self, table, keys, n)
    }

    /// Row values compare with `=` only: `(k1, k2) > (a, b)` spelled out.
    fn scan_sql(&self, table: &SyncTable, select: &str, after: bool) -> String {
        super::spelled_scan_sql(self, table, select, after)
    }

    fn scan_params(&self, after: Option<&crate::code::CombinedCode>, limit: usize) -> Vec<Value> {
        super::spelled_scan_params(after, limit)
    }
}
