//! Generic SQL, for a database hetsync knows nothing of but its driver
//! (the ODBC adapter's `generic` profile): no triggers, procedures, upsert,
//! JSON functions or catalog views. Changes are captured by snapshot
//! difference ([`super::snapshot`]); rows are written by plain
//! parameterised statements; the catalog is asked through the driver
//! ([`crate::steps::CatalogQuestion`]); transactions are the driver's
//! (autocommit off), so no `BEGIN` is sent. The tracking table's `seq` is
//! handed out by a one-row counter ([`SEQ`]) instead of an identity column,
//! whose spelling differs everywhere.
//!
//! What it still assumes: `LIMIT`/`OFFSET`, `CREATE TABLE … AS SELECT`,
//! `DROP TABLE IF EXISTS`, row-value comparison `(a, b) > (?, ?)`,
//! `SELECT` without `FROM`, `EXCEPT`, and the identifier quote of the
//! database ([`ANSI`], or [`MYSQL`] with MySQL's own quotes and comparison).

use super::{
    ColumnSql, Dialect, IdentLimit, SilenceScope, TxKind, INSTALLED, META, PEERS, TRACKING,
};
use crate::adapter::{BulkCopyKind, Capabilities};
use crate::schema::SyncTable;

/// The default type rules towards a database known only by its driver:
/// standard SQL type names (see `hetsync_core::mapping::rules`).
pub const DEFAULT_TYPE_RULES: &str = include_str!("generic_types.toml");

/// The one-row table whose `n` is the last tracking `seq` handed out.
pub const SEQ: &str = "_hetsync_seq";

/// Generic SQL, quoting identifiers and comparing values as the database
/// does.
#[derive(Debug)]
pub struct Generic {
    /// The golden file's name.
    name: &'static str,
    quote: char,
    distinct: Distinct,
}

/// How a database says "these two values differ, NULLs alike".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Distinct {
    /// `EXISTS (SELECT a EXCEPT SELECT b)`: standard SQL (`EXCEPT` compares
    /// NULLs as equal), each operand written once so that a placeholder
    /// binds one parameter. Text compares as the database's collation says.
    Except,
    /// `NOT (CAST(a AS BINARY) <=> CAST(b AS BINARY))`: MySQL's NULL-safe
    /// equality over the bytes, so a change of case is a change whatever the
    /// collation. MariaDB 10.11's `EXCEPT` over a long text or blob fails
    /// ("Got error 127 \"Table file is corrupted\"" on its temporary table).
    MysqlBinary,
}

/// Generic SQL with standard `"` quotes.
pub const ANSI: Generic = Generic {
    name: "generic",
    quote: '"',
    distinct: Distinct::Except,
};

/// Generic SQL for MySQL and MariaDB: `` ` `` quotes (whatever the
/// `sql_mode`), values compared byte for byte with `<=>`.
pub const MYSQL: Generic = Generic {
    name: "generic-mysql",
    quote: '`',
    distinct: Distinct::MysqlBinary,
};

impl Generic {
    /// Reads the last tracking `seq` handed out: the end of the tracking
    /// table (only the engine writes it, one transaction at a time).
    pub fn position_sql(&self) -> String {
        format!("SELECT n FROM {}", self.ident(SEQ))
    }
}

/// The capabilities of a database known only by its driver.
pub const CAPABILITIES: Capabilities = Capabilities {
    procedures: false,
    statement_triggers: false,
    merge: false,
    bulk_copy: BulkCopyKind::PreparedStatements,
};

impl Dialect for Generic {
    fn name(&self) -> &'static str {
        self.name
    }

    fn capabilities(&self) -> Capabilities {
        CAPABILITIES
    }

    /// MySQL's 64 characters, the shortest limit of the databases one may
    /// meet here that is not a legacy one.
    fn ident_limit(&self) -> IdentLimit {
        IdentLimit::Chars(64)
    }

    fn quote_char(&self) -> char {
        self.quote
    }

    fn placeholder(&self, _n: usize) -> String {
        "?".into()
    }

    /// The SQLite limit of old, which every driver takes.
    fn max_params(&self) -> usize {
        999
    }

    /// Some databases commit DDL implicitly: install is idempotent instead.
    fn transactional_ddl(&self) -> bool {
        false
    }

    /// Transactions are the driver's: the adapter turns autocommit off.
    fn begin_sql(&self, _kind: TxKind) -> Vec<String> {
        Vec::new()
    }

    fn meta_tables(&self) -> Vec<String> {
        vec![
            format!(
                "CREATE TABLE IF NOT EXISTS {} (\n    seq BIGINT NOT NULL PRIMARY KEY,\n    table_name VARCHAR(200) NOT NULL,\n    code VARCHAR(500) NOT NULL,\n    changed_at BIGINT NOT NULL,\n    deleted SMALLINT NOT NULL DEFAULT 0,\n    user_name VARCHAR(400),\n    fields TEXT,\n    origin VARCHAR(255))",
                self.ident(TRACKING)
            ),
            format!(
                "CREATE INDEX IF NOT EXISTS {} ON {}(table_name, code)",
                self.ident("_hetsync_tracking_by_code"),
                self.ident(TRACKING)
            ),
            format!(
                "CREATE TABLE IF NOT EXISTS {} (n BIGINT NOT NULL)",
                self.ident(SEQ)
            ),
            format!(
                "INSERT INTO {seq} (n) SELECT k.m FROM (SELECT COALESCE(MAX(seq), 0) AS m FROM {}) k \
                 WHERE NOT EXISTS (SELECT 1 FROM {seq})",
                self.ident(TRACKING),
                seq = self.ident(SEQ)
            ),
            format!(
                "CREATE TABLE IF NOT EXISTS {} (\n    peer VARCHAR(255) NOT NULL PRIMARY KEY,\n    watermark BIGINT NOT NULL,\n    within_seq BIGINT NOT NULL DEFAULT 0,\n    updated_at VARCHAR(40) NOT NULL)",
                self.ident(PEERS)
            ),
            format!(
                "CREATE TABLE IF NOT EXISTS {} (\n    table_name VARCHAR(200) NOT NULL PRIMARY KEY,\n    installed_at VARCHAR(40) NOT NULL)",
                self.ident(INSTALLED)
            ),
            format!(
                "CREATE TABLE IF NOT EXISTS {} (\n    name VARCHAR(64) NOT NULL PRIMARY KEY,\n    value TEXT NOT NULL)",
                self.ident(META)
            ),
        ]
    }

    fn meta_table_names(&self) -> Vec<&'static str> {
        vec![INSTALLED, PEERS, META, super::CONFLICTS, SEQ, TRACKING]
    }

    fn table_exists_sql(&self) -> Option<String> {
        None
    }

    fn column_exists_sql(&self) -> Option<String> {
        None
    }

    /// No upsert: the row of the key is deleted, then inserted.
    fn keyed_write_sql(&self, table: &str, key: &str, columns: &[(&str, String)]) -> Vec<String> {
        super::delete_then_insert(self, table, key, columns)
    }

    fn now(&self) -> &'static str {
        "CURRENT_TIMESTAMP"
    }

    fn capture_objects_sql(&self) -> Option<String> {
        None
    }

    fn capture_definitions_sql(&self) -> Option<String> {
        None
    }

    fn capture_sql(&self, table: &SyncTable, _columns: &[ColumnSql]) -> Vec<String> {
        super::snapshot::create_sql(self, table)
    }

    fn snapshot_capture(&self) -> bool {
        true
    }

    fn capture_triggers(&self, _table: &str) -> Vec<String> {
        Vec::new()
    }

    fn resume_capture_sql(&self, _table: &SyncTable, _columns: &[ColumnSql]) -> Vec<String> {
        Vec::new()
    }

    /// Microseconds since 1970 in UTC, written by the engine.
    fn change_time(&self) -> String {
        "changed_at".into()
    }

    /// Reserves the `seq`s of `rows` tracking rows: the insert numbers its
    /// rows back from the counter.
    fn tracking_reserve_sql(&self, rows: usize) -> Option<String> {
        Some(format!(
            "UPDATE {seq} SET n = n + {rows}",
            seq = self.ident(SEQ)
        ))
    }

    /// One `SELECT` per row over the counter, numbered back from it.
    fn tracking_insert_sql(&self, rows: usize) -> String {
        let width = super::TRACKING_INSERT_WIDTH;
        let selects: Vec<String> = (0..rows)
            .map(|r| {
                let params: Vec<String> = (1..=width)
                    .map(|k| self.ordered_placeholder(r * width + k))
                    .collect();
                format!(
                    "SELECT q.n - {}, {} FROM {} q",
                    rows - 1 - r,
                    params.join(", "),
                    self.ident(SEQ)
                )
            })
            .collect();
        format!(
            "INSERT INTO {}(seq, {}) {}",
            self.ident(TRACKING),
            super::TRACKING_INSERT_COLUMNS,
            selects.join(" UNION ALL ")
        )
    }

    /// Capture has no triggers to silence.
    fn silence_sql(&self) -> Option<String> {
        None
    }

    fn unsilence_sql(&self) -> Option<String> {
        None
    }

    fn silence_scope(&self) -> SilenceScope {
        SilenceScope::Transaction
    }

    /// Write transactions are serializable (the adapter sets the isolation):
    /// what a transaction read stays as it was until it ends.
    fn row_lock_clause(&self) -> Option<&'static str> {
        None
    }

    /// `a` and `b` differ, NULLs alike, each written once so that a
    /// placeholder binds one parameter ([`Distinct`]).
    fn differs(&self, a: &str, b: &str) -> String {
        match self.distinct {
            Distinct::Except => format!("EXISTS (SELECT {a} EXCEPT SELECT {b})"),
            Distinct::MysqlBinary => format!("NOT (CAST({a} AS BINARY) <=> CAST({b} AS BINARY))"),
        }
    }

    /// Codes of more than one part as `(k1 = ? AND k2 = ?) OR …`: row
    /// values in an `IN` list are not everywhere.
    fn codes_in(&self, table: &SyncTable, keys: &[String], n: usize) -> String {
        super::codes_matched_part_by_part(self, table, keys, n)
    }
}
