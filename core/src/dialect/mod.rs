//! The SQL dialect layer: every statement hetsync sends, as text, with no
//! database driver in sight. An adapter owns the driver (connect, execute,
//! bulk load, decode); the [`Dialect`] owns the SQL; the order in which the
//! statements run is written once in [`crate::steps`].
//!
//! Most statements are shared templates written once here in terms of a
//! dialect's quoting, placeholders and a few expressions; a dialect overrides
//! only what its database spells differently. Kingbase reuses
//! [`postgres::Postgres`]; Dameng's ([`dameng::Dameng`]) is Oracle-like.
//! Golden files under `core/tests/golden/` show
//! exactly what `install` creates on each database.

pub mod dameng;
pub mod digest;
pub mod generic;
pub mod mssql;
pub mod mssql_types;
pub mod mysql;
pub mod mysql_types;
mod names;
pub mod pg_catalog;
pub mod pg_logical;
pub mod postgres;
pub mod snapshot;
pub mod sqlite;
pub mod sqlite_types;

pub use names::IdentLimit;

use crate::adapter::Capabilities;
use crate::schema::SyncTable;
use crate::value::Value;
use crate::Result;

/// The layout version of hetsync's own tables, recorded in [`META`] at
/// install. A later layout migrates from the recorded one (install creates
/// what is missing); a database whose recorded version is newer than this
/// build's is refused, one whose version is older must run install again.
/// Version 2 added [`CONFLICTS`]; version 3 added [`PEERS`]' `within_seq`
/// ([`crate::change::Watermark::within`]).
pub const SCHEMA_VERSION: i64 = 3;

/// The tracking table: one row per captured change.
pub const TRACKING: &str = "_hetsync_tracking";
/// Peer watermarks integrated into this database.
pub const PEERS: &str = "_hetsync_peer";
/// The tables whose capture install created.
pub const INSTALLED: &str = "_hetsync_installed";
/// Named settings of the installation, `schema_version` among them.
pub const META: &str = "_hetsync_meta";
/// Conflicts decided here, recorded with the commit that made them final,
/// until the engine has copied them to its conflict log.
pub const CONFLICTS: &str = "_hetsync_conflict";
/// The prefix of every object hetsync creates.
pub const PREFIX: &str = "_hetsync_";
/// The columns of a tracking row the engine writes (an integrated change),
/// in the order of [`Dialect::tracking_insert_sql`]'s parameters.
pub const TRACKING_INSERT_COLUMNS: &str =
    "table_name, code, changed_at, deleted, fields, origin, user_name";
/// Parameters per row of [`Dialect::tracking_insert_sql`].
pub const TRACKING_INSERT_WIDTH: usize = 7;

/// How a transaction starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TxKind {
    /// A write transaction (apply, install).
    Write,
    /// A read-only transaction over one consistent snapshot.
    ReadSnapshot,
}

/// How long the flag that silences capture lasts once set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SilenceScope {
    /// It ends with the transaction (commit or rollback).
    Transaction,
    /// It lasts for the session until cleared, even after a rollback.
    Session,
}

/// What a template needs to know of one synced column.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ColumnSql {
    /// Column name.
    pub name: String,
    /// The native type as the database spells it in DDL (`numeric(12,4)`).
    pub sql_type: String,
    /// A character column: compared byte for byte, whatever its collation.
    pub text: bool,
}

/// The delete phase of an apply procedure.
pub const PHASE_DELETE: &str = "D";
/// The upsert phase of an apply procedure.
pub const PHASE_UPSERT: &str = "U";

/// One SQL family. Methods without a default are what differs between the
/// families; the defaults are the shared templates.
pub trait Dialect: Send + Sync {
    /// The family's name (`sqlite`, `postgres`, `mysql`), used by golden files.
    fn name(&self) -> &'static str;

    /// What the database can do: these choose the apply strategy.
    fn capabilities(&self) -> Capabilities;

    /// How long names may be.
    fn ident_limit(&self) -> IdentLimit;

    /// The identifier quote character.
    fn quote_char(&self) -> char {
        '"'
    }

    /// Quotes an identifier, doubling the quote character inside it.
    fn ident(&self, name: &str) -> String {
        crate::sql::quote_ident_with(name, self.quote_char())
    }

    /// Quotes a string literal for DDL, where parameters cannot be bound.
    fn literal(&self, text: &str) -> String {
        crate::sql::quote_literal(text)
    }

    /// The `n`-th (1-based) parameter placeholder.
    fn placeholder(&self, n: usize) -> String;

    /// The `n`-th placeholder of a statement whose parameters each appear
    /// once, in order: the bulk statements (staging and tracking inserts,
    /// rows by codes). Defaults to [`Dialect::placeholder`].
    fn ordered_placeholder(&self, n: usize) -> String {
        self.placeholder(n)
    }

    /// How many parameters one statement may bind.
    fn max_params(&self) -> usize;

    /// What follows an `ORDER BY` to keep `count` rows (a number or a
    /// placeholder) after skipping `offset`: `LIMIT … OFFSET …` by default.
    fn limit(&self, count: &str, offset: usize) -> String {
        match offset {
            0 => format!("LIMIT {count}"),
            offset => format!("LIMIT {count} OFFSET {offset}"),
        }
    }

    /// The name of an object made for `table`, fitted to [`Dialect::ident_limit`]
    /// with a hash of the table name when it is too long.
    fn object_name(&self, prefix: &str, table: &str) -> String {
        names::fit(prefix, table, self.ident_limit())
    }

    /// A column read as text.
    fn as_text(&self, expr: &str) -> String {
        expr.to_string()
    }

    /// DDL runs inside transactions (a failed install leaves nothing behind).
    fn transactional_ddl(&self) -> bool;

    /// Statements that start a transaction.
    fn begin_sql(&self, kind: TxKind) -> Vec<String>;

    /// The statement that commits.
    fn commit_sql(&self) -> &'static str {
        "COMMIT"
    }

    /// The statement that rolls back.
    fn rollback_sql(&self) -> &'static str {
        "ROLLBACK"
    }

    // ---- hetsync's own tables --------------------------------------------

    /// `CREATE TABLE IF NOT EXISTS` statements of the bookkeeping tables:
    /// [`TRACKING`], [`PEERS`], [`INSTALLED`] and [`META`], with their
    /// indexes (and the drop of an index an older layout made instead).
    fn meta_tables(&self) -> Vec<String>;

    /// Names of the bookkeeping tables, dropped by uninstall (the tracking
    /// table last).
    fn meta_table_names(&self) -> Vec<&'static str> {
        vec![INSTALLED, PEERS, META, CONFLICTS, TRACKING]
    }

    /// Options after a `CREATE TABLE` of hetsync's own (engine, character set).
    fn table_options(&self) -> &'static str {
        ""
    }

    /// The table of conflicts decided here and not yet copied to the
    /// engine's log: a unique id and the conflict as JSON.
    fn conflict_table_sql(&self) -> String {
        let options = match self.table_options() {
            "" => String::new(),
            options => format!(" {options}"),
        };
        format!(
            "CREATE TABLE IF NOT EXISTS {} (\n    uid VARCHAR(200) NOT NULL PRIMARY KEY,\n    body TEXT NOT NULL){options}",
            self.ident(CONFLICTS)
        )
    }

    /// Records `rows` conflicts: per row the parameters uid and body.
    fn conflict_insert_sql(&self, rows: usize) -> String {
        let tuples: Vec<String> = (0..rows)
            .map(|r| {
                format!(
                    "({}, {})",
                    self.ordered_placeholder(2 * r + 1),
                    self.ordered_placeholder(2 * r + 2)
                )
            })
            .collect();
        format!(
            "INSERT INTO {}(uid, body) VALUES {}",
            self.ident(CONFLICTS),
            tuples.join(", ")
        )
    }

    /// Reads the recorded conflicts as `(uid, body)`, in uid order.
    fn conflicts_pending_sql(&self) -> String {
        format!(
            "SELECT uid, body FROM {} ORDER BY uid",
            self.ident(CONFLICTS)
        )
    }

    /// Forgets the recorded conflicts with the `n` uids given.
    fn conflict_forget_sql(&self, n: usize) -> String {
        let uids: Vec<String> = (1..=n).map(|p| self.ordered_placeholder(p)).collect();
        format!(
            "DELETE FROM {} WHERE uid IN ({})",
            self.ident(CONFLICTS),
            uids.join(", ")
        )
    }

    /// Counts tables named `$1` (0 or 1); `None` where the adapter asks
    /// the driver's catalog instead ([`crate::steps::CatalogQuestion`]).
    fn table_exists_sql(&self) -> Option<String>;

    /// Counts the columns named `$2` of table `$1` (0 or 1): install adds
    /// to its tables what an older layout lacks. `None` as for
    /// [`Dialect::table_exists_sql`].
    fn column_exists_sql(&self) -> Option<String>;

    /// The columns a later layout added to hetsync's tables, as `(table,
    /// column, ALTER TABLE statement)`: install runs the statement where the
    /// column is missing.
    fn added_columns(&self) -> Vec<(&'static str, &'static str, String)> {
        vec![(
            PEERS,
            "within_seq",
            format!(
                "ALTER TABLE {} ADD COLUMN within_seq BIGINT NOT NULL DEFAULT 0",
                self.ident(PEERS)
            ),
        )]
    }

    /// Reads every setting of [`META`] as `(name, value)` (a handful of rows).
    fn meta_sql(&self) -> String {
        format!("SELECT name, value FROM {}", self.ident(META))
    }

    /// Writes a setting of [`META`]: name `$1`, value `$2`
    /// ([`Dialect::keyed_write_sql`]).
    fn meta_set_sql(&self) -> Vec<String> {
        self.keyed_write_sql(META, "name", &[("value", self.placeholder(2))])
    }

    /// Writes the row of key `$1` in `table`, with `columns` set to their
    /// value expressions (parameters from `$2` on): the statements, in
    /// order, each but the last binding the key `$1` alone. One upsert by
    /// default.
    fn keyed_write_sql(&self, table: &str, key: &str, columns: &[(&str, String)]) -> Vec<String> {
        let (names, values): (Vec<&str>, Vec<&str>) =
            columns.iter().map(|(c, v)| (*c, v.as_str())).unzip();
        vec![format!(
            "{} {}({key}, {}) VALUES ({}, {}) {}",
            self.upsert_keyword(),
            self.ident(table),
            names.join(", "),
            self.placeholder(1),
            values.join(", "),
            self.upsert_tail(key, &names)
        )]
    }

    /// `INSERT` or the dialect's upsert variant of it.
    fn upsert_keyword(&self) -> &'static str {
        "INSERT INTO"
    }

    /// The clause after `VALUES (…)` that turns an insert into an upsert on `key`.
    fn upsert_tail(&self, key: &str, set: &[&str]) -> String {
        let set: Vec<String> = set.iter().map(|c| format!("{c} = excluded.{c}")).collect();
        format!("ON CONFLICT ({key}) DO UPDATE SET {}", set.join(", "))
    }

    /// Records a table as installed (`$1`).
    fn record_installed_sql(&self) -> String {
        format!(
            "INSERT INTO {}(table_name, installed_at) VALUES ({}, {})",
            self.ident(INSTALLED),
            self.placeholder(1),
            self.now()
        )
    }

    /// The current time as the database writes it into bookkeeping tables.
    fn now(&self) -> &'static str;

    /// Lists hetsync's capture objects as `(kind, name)` rows, whatever made
    /// them (a failed install may have left some unrecorded). `None` as
    /// for [`Dialect::table_exists_sql`].
    fn capture_objects_sql(&self) -> Option<String>;

    /// Lists hetsync's capture objects with their definitions, as
    /// `(object, definition)` rows (`object` says what and where: "trigger
    /// … on …"): what install made and each round checks is still there,
    /// unaltered and enabled. `None` as for [`Dialect::table_exists_sql`].
    fn capture_definitions_sql(&self) -> Option<String>;

    /// Drops one object listed by [`Dialect::capture_objects_sql`].
    fn drop_object_sql(&self, kind: &str, name: &str) -> String {
        format!("DROP {kind} IF EXISTS {}", self.ident(name))
    }

    // ---- capture ------------------------------------------------------------

    /// The statements that install capture (triggers, and the functions or
    /// procedures they and the apply call) on one table.
    fn capture_sql(&self, table: &SyncTable, columns: &[ColumnSql]) -> Vec<String>;

    /// Whether changes are captured by snapshot difference
    /// ([`crate::steps::snapshot`]) instead of triggers or the log: each
    /// catch-up compares the tables with the copies it last took.
    fn snapshot_capture(&self) -> bool {
        false
    }

    /// The function that makes a JSON array of its arguments: SQL:2016's
    /// `JSON_ARRAY` by default.
    fn json_array_function(&self) -> &'static str {
        "JSON_ARRAY"
    }

    /// The code of the row over `alias` as the JSON array capture writes
    /// into the tracking table.
    fn code_json(&self, table: &SyncTable, alias: &str) -> String {
        format!(
            "{}({})",
            self.json_array_function(),
            self.code_list(table, alias).join(", ")
        )
    }

    // ---- bulk mode ------------------------------------------------------------

    /// The name of the trigger of operation `op` (a word or letter of the
    /// dialect's choosing) on a table.
    fn trigger_name(&self, table: &str, op: &str) -> String {
        self.object_name(&format!("_hetsync_{op}_"), table)
    }

    /// The names of the triggers capture puts on a table.
    fn capture_triggers(&self, table: &str) -> Vec<String>;

    /// The statements that suspend capture on a table for a bulk load
    /// (`hetsync bulk begin`): its triggers are dropped. `None` where
    /// capture costs writers nothing (logical decoding, snapshot difference).
    fn suspend_capture_sql(&self, table: &SyncTable) -> Option<Vec<String>> {
        // Capture by snapshot difference costs writers nothing.
        (!self.snapshot_capture()).then(|| {
            self.capture_triggers(&table.name)
                .iter()
                .map(|name| format!("DROP TRIGGER IF EXISTS {}", self.ident(name)))
                .collect()
        })
    }

    /// The statements that give a table its capture back after a bulk load,
    /// whether or not [`Dialect::suspend_capture_sql`] ran to the end.
    fn resume_capture_sql(&self, table: &SyncTable, columns: &[ColumnSql]) -> Vec<String>;

    /// The table that keeps a table's rows as they were when its bulk load
    /// began.
    fn bulk_snapshot(&self, table: &str) -> String {
        self.object_name("_hetsync_bulk_", table)
    }

    /// Copies a table's synced columns into its [`Dialect::bulk_snapshot`]
    /// (replacing one a failed bulk mode left), with an index on the code.
    fn bulk_snapshot_sql(&self, table: &SyncTable) -> Vec<String> {
        snapshot::table_copy_sql(
            self,
            table,
            &self.bulk_snapshot(&table.name),
            &self.object_name("_hetsync_bulkcode_", &table.name),
        )
    }

    /// The two set-based tracking inserts that record a bulk load: the rows
    /// that are new or differ from the snapshot (whole-row changes), and
    /// the snapshot's rows whose code is gone (deletes; a code whose case
    /// or bytes changed is both). Parameters, in order: the table's name,
    /// the change time ([`Dialect::stamp_value`]), deleted, and the user
    /// (or NULL).
    fn bulk_changes_sql(&self, table: &SyncTable) -> [String; 2] {
        let t = self.ident(&table.name);
        let snapshot = self.ident(&self.bulk_snapshot(&table.name));
        let head = |alias: &str| {
            format!(
                "INSERT INTO {}({TRACKING_INSERT_COLUMNS}) SELECT {}, {}, {}, {}, NULL, NULL, {}",
                self.ident(TRACKING),
                self.ordered_placeholder(1),
                self.code_json(table, alias),
                self.stamp_expr(&self.ordered_placeholder(2)),
                self.ordered_placeholder(3),
                self.ordered_placeholder(4)
            )
        };
        let key_match = self.code_join(table, "t", "s");
        [
            format!(
                "{} FROM {t} AS t LEFT JOIN {snapshot} AS s ON {key_match} \
                 WHERE {} AND ({} IS NULL OR {})",
                head("t"),
                snapshot::coded(self, table, "t"),
                self.code_list(table, "s")[0],
                snapshot::differ(self, table, &mut (0..table.columns.len()))
            ),
            format!(
                "{} FROM {snapshot} AS s WHERE {} AND NOT EXISTS \
                 (SELECT 1 FROM {t} AS t WHERE {key_match} AND NOT ({}))",
                head("s"),
                snapshot::coded(self, table, "s"),
                snapshot::differ(self, table, &mut table.code.iter().copied())
            ),
        ]
    }

    /// Creates table `copy` (quoted) holding `columns` of every row of
    /// table `from` (quoted): `CREATE TABLE … AS SELECT` by default.
    fn copy_table_sql(&self, copy: &str, columns: &str, from: &str) -> String {
        format!("CREATE TABLE {copy} AS SELECT {columns} FROM {from}")
    }

    /// Drops a table's [`Dialect::bulk_snapshot`].
    fn drop_bulk_snapshot_sql(&self, table: &str) -> String {
        format!(
            "DROP TABLE IF EXISTS {}",
            self.ident(&self.bulk_snapshot(table))
        )
    }

    /// A position as the parameters of [`Dialect::after_position`] and
    /// [`Dialect::upto_position`]: its `pos`, and where positions are
    /// transactions also its `within`.
    fn position_params(&self, w: crate::change::Watermark) -> Vec<Value> {
        vec![Value::Int(w.pos)]
    }

    /// How many parameters a position takes ([`Dialect::position_params`]).
    fn position_width(&self) -> usize {
        self.position_params(crate::change::Watermark::default())
            .len()
    }

    /// The position condition "after the position in `$n`…" on the
    /// tracking table ([`Dialect::position_width`] parameters from `$n`).
    fn after_position(&self, n: usize) -> String {
        format!("seq > {}", self.placeholder(n))
    }

    /// The position condition "up to the position in `$n`…" on the
    /// tracking table ([`Dialect::position_width`] parameters from `$n`).
    fn upto_position(&self, n: usize) -> String {
        format!("seq <= {}", self.placeholder(n))
    }

    /// The tracking columns whose order is position order.
    fn position_order(&self) -> &'static str {
        "seq"
    }

    /// An event's position as [`Dialect::position_width`] bigint columns,
    /// read back by [`crate::change::Watermark`]'s `pos` (and `within`).
    fn position_value(&self) -> String {
        self.position_order().to_string()
    }

    /// Whether "up to `p`" ([`Dialect::upto_position`]) takes the events at
    /// `p` (a sequence) or leaves them out (a transaction-id horizon).
    fn upto_includes(&self) -> bool {
        true
    }

    /// The change time in UTC microseconds (or text the core parses).
    fn change_time(&self) -> String;

    /// The columns of a tracking row as the core reads it:
    /// `(seq, table, code, time, deleted, fields, origin, user)`.
    fn tracking_columns(&self) -> String {
        format!(
            "seq, {}, {}, {}, deleted, {}, {}, {}",
            self.as_text("table_name"),
            self.as_text("code"),
            self.change_time(),
            self.as_text("fields"),
            self.as_text("origin"),
            self.as_text("user_name"),
        )
    }

    /// Reads the tracking rows after the first position up to the second in
    /// tracking order ([`Dialect::tracking_columns`]); with `exclude`, rows
    /// integrated from the origin after them are left out.
    fn tracking_sql(&self, exclude: bool) -> String {
        let w = self.position_width();
        format!(
            "SELECT {} FROM {} WHERE {} AND {}{} ORDER BY seq",
            self.tracking_columns(),
            self.ident(TRACKING),
            self.after_position(1),
            self.upto_position(1 + w),
            self.exclude_origin(exclude, 1 + 2 * w)
        )
    }

    /// Reads the tracking rows after the first position up to the second in
    /// position order, as many as the last parameter says at most: each
    /// one's [`Dialect::tracking_columns`], then its position
    /// ([`Dialect::position_value`]); with `exclude`, rows integrated from
    /// the origin after the positions are left out.
    fn bounded_tracking_sql(&self, exclude: bool) -> String {
        let w = self.position_width();
        let conditions = format!(
            "{} AND {}{}",
            self.after_position(1),
            self.upto_position(1 + w),
            self.exclude_origin(exclude, 1 + 2 * w)
        );
        positioned_page(self, &conditions, 1 + 2 * w + usize::from(exclude))
    }

    /// ` AND (origin IS NULL OR origin <> $n)` when `exclude`.
    fn exclude_origin(&self, exclude: bool, n: usize) -> String {
        if exclude {
            format!(" AND (origin IS NULL OR origin <> {})", self.placeholder(n))
        } else {
            String::new()
        }
    }

    /// Counts the tracking rows after the position in `$1`… (leaving out
    /// the origin after it with `exclude`).
    fn count_events_sql(&self, exclude: bool) -> String {
        format!(
            "SELECT count(*) FROM {} WHERE {}{}",
            self.ident(TRACKING),
            self.after_position(1),
            self.exclude_origin(exclude, 1 + self.position_width())
        )
    }

    /// Reads the watermark of peer `$1` as `(pos, within)`.
    fn peer_sql(&self) -> String {
        format!(
            "SELECT watermark, within_seq FROM {} WHERE peer = {}",
            self.ident(PEERS),
            self.placeholder(1)
        )
    }

    /// Records the watermark `($2, $3)` (`pos`, `within`) of peer `$1`
    /// ([`Dialect::keyed_write_sql`]).
    fn record_peer_sql(&self) -> Vec<String> {
        self.keyed_write_sql(
            PEERS,
            "peer",
            &[
                ("watermark", self.placeholder(2)),
                ("within_seq", self.placeholder(3)),
                ("updated_at", self.now().to_string()),
            ],
        )
    }

    /// Statements that make the reads in position order that follow
    /// ([`Dialect::bounded_tracking_sql`], [`Dialect::guard_sql`]) walk the
    /// position index, whatever the planner's statistics say; undone by
    /// [`Dialect::position_scan_reset_sql`].
    fn position_scan_sql(&self) -> Vec<String> {
        Vec::new()
    }

    /// Undoes [`Dialect::position_scan_sql`] for the rest of the transaction.
    fn position_scan_reset_sql(&self) -> Vec<String> {
        Vec::new()
    }

    /// The guard's read: in position order, the edits after the position in
    /// `$1`… made here and, with `integrated`, also those integrated from
    /// nodes other than the one in the next parameter (a bounded round reads
    /// up to a position with other spokes' changes after it), as many as the
    /// last parameter says at most: [`Dialect::tracking_columns`], then each
    /// one's position ([`Dialect::position_value`]), where the next page
    /// starts.
    fn guard_sql(&self, integrated: bool) -> String {
        let n = 1 + self.position_width();
        let origin = if integrated {
            format!("(origin IS NULL OR origin <> {})", self.placeholder(n))
        } else {
            "origin IS NULL".to_string()
        };
        let conditions = format!("{} AND {origin}", self.after_position(1));
        positioned_page(self, &conditions, n + usize::from(integrated))
    }

    /// The clause that locks the rows a select reads until the transaction
    /// ends; `None` where a write transaction already keeps every other
    /// writer out.
    fn row_lock_clause(&self) -> Option<&'static str> {
        Some("FOR UPDATE")
    }

    /// Locks the existing rows of `n` given codes, in code order (so that
    /// two appliers never wait on each other in a cycle); `None` where
    /// [`Dialect::row_lock_clause`] is. Parameters as for
    /// [`Dialect::rows_by_codes_sql`].
    fn lock_rows_sql(&self, table: &SyncTable, n: usize) -> Option<String> {
        let clause = self.row_lock_clause()?;
        let keys = self.code_list(table, "t").join(", ");
        Some(format!(
            "{} ORDER BY {keys} {clause}",
            self.rows_by_codes_sql(table, &keys, n)
        ))
    }

    /// Deletes the tracking row at position `$1`: a newer incoming change
    /// superseded all of its edit.
    fn tracking_forget_sql(&self) -> String {
        format!(
            "DELETE FROM {} WHERE seq = {}",
            self.ident(TRACKING),
            self.placeholder(1)
        )
    }

    /// The purge's condition on a tracking row: integrated by every peer
    /// (at or before the position in `$n`…, [`Dialect::upto_position`]),
    /// and made before the time in the next parameter
    /// ([`Dialect::stamp_value`]).
    fn purgeable(&self, n: usize) -> String {
        format!(
            "{} AND {} < {}",
            self.upto_position(n),
            self.change_time(),
            self.placeholder(n + self.position_width())
        )
    }

    /// The first and the newest `seq` of the tracking table (both read off
    /// its key).
    fn tracking_bounds_sql(&self) -> String {
        format!("SELECT min(seq), max(seq) FROM {}", self.ident(TRACKING))
    }

    /// The `seq` of the tracking row `rows` rows on from `seq` `$1` (none
    /// when fewer are left): where one purge batch ends.
    fn tracking_step_sql(&self, rows: usize) -> String {
        format!(
            "SELECT seq FROM {} WHERE seq >= {} ORDER BY seq {}",
            self.ident(TRACKING),
            self.placeholder(1),
            self.limit("1", rows)
        )
    }

    /// Deletes the tracking rows [`Dialect::purgeable`] (parameters from
    /// `$3`) with `seq` from `$1` up to below `$2`: one batch of a purge.
    fn purge_batch_sql(&self) -> String {
        format!(
            "DELETE FROM {} WHERE seq >= {} AND seq < {} AND {}",
            self.ident(TRACKING),
            self.placeholder(1),
            self.placeholder(2),
            self.purgeable(3)
        )
    }

    /// Sets the changed fields (JSON text `$1`) of the tracking row at
    /// position `$2`: a newer incoming change superseded the others.
    fn tracking_fields_sql(&self) -> String {
        format!(
            "UPDATE {} SET fields = {} WHERE seq = {}",
            self.ident(TRACKING),
            self.json_param(&self.placeholder(1)),
            self.placeholder(2)
        )
    }

    /// A parameter holding JSON text, as the tracking table's `fields`
    /// column takes it.
    fn json_param(&self, param: &str) -> String {
        param.to_string()
    }

    // ---- apply --------------------------------------------------------------

    /// The statement that silences capture for the engine's own writes,
    /// `None` where nothing captures them (capture by snapshot difference
    /// takes them into the snapshots).
    fn silence_sql(&self) -> Option<String>;

    /// The statement that lifts the silence, `None` when it ends by itself.
    fn unsilence_sql(&self) -> Option<String>;

    /// The statement that lifts the silence once the apply's transaction
    /// has ended (committed or rolled back), where the silence must last
    /// until the commit itself: PostgreSQL's replication origin marks the
    /// commit record. `None` by default.
    fn end_silence_sql(&self) -> Option<String> {
        None
    }

    /// How long the silence lasts.
    fn silence_scope(&self) -> SilenceScope;

    /// Locks a table against concurrent writers for the rest of the
    /// transaction, where the database needs that for the guard to be exact.
    fn lock_table_sql(&self, _table: &str) -> Option<String> {
        None
    }

    /// Counts a table's rows.
    fn count_rows_sql(&self, table: &SyncTable) -> String {
        format!("SELECT count(*) FROM {}", self.ident(&table.name))
    }

    /// Up to five combined codes that more than one row of a table holds,
    /// each with its count (rows without a code left out).
    fn duplicate_codes_sql(&self, table: &SyncTable) -> String {
        let keys = self.code_list(table, "t").join(", ");
        format!(
            "SELECT {keys}, count(*) FROM {} AS t WHERE {} GROUP BY {keys} HAVING count(*) > 1 ORDER BY {keys} {}",
            self.ident(&table.name),
            snapshot::coded(self, table, "t"),
            self.limit("5", 0)
        )
    }

    /// Counts a table's rows without a code: a NULL in a code column.
    fn uncoded_rows_sql(&self, table: &SyncTable) -> String {
        let nulls: Vec<String> = table
            .code_columns()
            .map(|c| format!("{} IS NULL", self.ident(c)))
            .collect();
        format!(
            "SELECT count(*) FROM {} WHERE {}",
            self.ident(&table.name),
            nulls.join(" OR ")
        )
    }

    /// A statement that reserves the positions of `rows` tracking rows
    /// about to be inserted ([`Dialect::tracking_insert_sql`]), where the
    /// tracking table numbers no rows itself; `None` by default.
    fn tracking_reserve_sql(&self, _rows: usize) -> Option<String> {
        None
    }

    /// The tracking insert of `rows` integrated changes: per row the
    /// [`TRACKING_INSERT_WIDTH`] parameters table, code (JSON), time
    /// ([`Dialect::stamp_value`]), deleted, fields (JSON or NULL), origin
    /// and user (or NULL: never the session's own user).
    fn tracking_insert_sql(&self, rows: usize) -> String {
        let tuples: Vec<String> = (0..rows)
            .map(|r| {
                let p = |k: usize| self.ordered_placeholder(r * TRACKING_INSERT_WIDTH + k);
                format!(
                    "({}, {}, {}, {}, {}, {}, {})",
                    p(1),
                    p(2),
                    self.stamp_expr(&p(3)),
                    p(4),
                    p(5),
                    p(6),
                    p(7)
                )
            })
            .collect();
        format!(
            "INSERT INTO {}({TRACKING_INSERT_COLUMNS}) VALUES {}",
            self.ident(TRACKING),
            tuples.join(", ")
        )
    }

    /// The parameter that carries a change time of `micros` µs.
    fn stamp_value(&self, micros: i64) -> Option<Value> {
        Some(Value::Int(micros))
    }

    /// The expression that turns that parameter into a stored time.
    fn stamp_expr(&self, param: &str) -> String {
        param.to_string()
    }

    /// Whether batches are applied set-based from staging tables
    /// ([`Dialect::staging_sql`], [`Dialect::apply_call_sql`]), not row by
    /// row: where the database has procedures, unless the dialect says so.
    fn staged_apply(&self) -> bool {
        self.capabilities().procedures
    }

    /// The staging table of a table (per session), `None` where rows are
    /// applied by statements one by one.
    fn staging_sql(&self, _table: &SyncTable, _columns: &[ColumnSql]) -> Option<String> {
        None
    }

    /// Empties a staging table before it is filled.
    fn clear_staging_sql(&self, _table: &SyncTable) -> Option<String> {
        None
    }

    /// The name of a table's staging table.
    fn staging_table(&self, table: &str) -> String {
        self.object_name("_hetsync_stage_", table)
    }

    /// The statements that run one phase ([`PHASE_DELETE`] or
    /// [`PHASE_UPSERT`]) of a table's apply procedure; the last one selects
    /// `(inserted, updated, deleted)`.
    fn apply_call_sql(&self, _table: &SyncTable, _phase: &str) -> Vec<String> {
        Vec::new()
    }

    // ---- row statements (databases without procedures) ---------------------

    /// Updates `fields` of a row only where a value really changes.
    /// Parameters: the field values, the code, then the field values again
    /// (each placeholder once, for dialects whose parameters are positional).
    fn row_update_sql(&self, table: &SyncTable, fields: &[usize]) -> String {
        let sets: Vec<String> = fields
            .iter()
            .enumerate()
            .map(|(p, &i)| {
                format!(
                    "{} = {}",
                    self.ident(&table.columns[i]),
                    self.placeholder(p + 1)
                )
            })
            .collect();
        let differs: Vec<String> = fields
            .iter()
            .enumerate()
            .map(|(p, &i)| {
                let again = fields.len() + table.code.len() + p + 1;
                self.differs(&self.ident(&table.columns[i]), &self.placeholder(again))
            })
            .collect();
        format!(
            "UPDATE {} SET {} WHERE {} AND ({})",
            self.ident(&table.name),
            sets.join(", "),
            self.code_match(table, fields.len() + 1),
            differs.join(" OR ")
        )
    }

    /// `a` and `b` differ, NULLs and case included.
    fn differs(&self, a: &str, b: &str) -> String {
        format!("{a} IS DISTINCT FROM {b}")
    }

    /// Inserts a whole row unless its code exists. Parameters: every column, then the code.
    fn row_insert_missing_sql(&self, table: &SyncTable) -> String {
        let n = table.columns.len();
        let values: Vec<String> = (1..=n).map(|p| self.placeholder(p)).collect();
        format!(
            "INSERT INTO {t} ({}) SELECT {}{} WHERE NOT EXISTS (SELECT 1 FROM {t} WHERE {})",
            self.column_list(table),
            values.join(", "),
            self.values_from(),
            self.code_match(table, n + 1),
            t = self.ident(&table.name),
        )
    }

    /// What follows a `SELECT` of values alone: nothing where a `SELECT`
    /// needs no `FROM`.
    fn values_from(&self) -> &'static str {
        ""
    }

    /// Deletes a row by code (parameters: the code).
    fn row_delete_sql(&self, table: &SyncTable) -> String {
        format!(
            "DELETE FROM {} WHERE {}",
            self.ident(&table.name),
            self.code_match(table, 1)
        )
    }

    // ---- reading rows ---------------------------------------------------------

    /// `"k1" = $first AND "k2" = $first+1`: matches a code.
    fn code_match(&self, table: &SyncTable, first: usize) -> String {
        table
            .code_columns()
            .enumerate()
            .map(|(p, c)| format!("{} = {}", self.ident(c), self.placeholder(first + p)))
            .collect::<Vec<_>>()
            .join(" AND ")
    }

    /// Every synced column, quoted, in table order.
    fn column_list(&self, table: &SyncTable) -> String {
        table
            .columns
            .iter()
            .map(|c| self.ident(c))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// `a."k1" = b."k1" AND …`: rows of aliases `a` and `b` with one code
    /// (as the database compares values).
    fn code_join(&self, table: &SyncTable, a: &str, b: &str) -> String {
        table
            .code_columns()
            .map(|c| format!("{a}.{q} = {b}.{q}", q = self.ident(c)))
            .collect::<Vec<_>>()
            .join(" AND ")
    }

    /// The code columns, quoted, in code order, prefixed with `alias.`.
    fn code_list(&self, table: &SyncTable, alias: &str) -> Vec<String> {
        table
            .code_columns()
            .map(|c| format!("{alias}.{}", self.ident(c)))
            .collect()
    }

    /// Selects `select` (a select list over alias `t`) of the rows with
    /// `n` given codes. Parameters: the codes' parts, code after code.
    fn rows_by_codes_sql(&self, table: &SyncTable, select: &str, n: usize) -> String {
        format!(
            "SELECT {select} FROM {} AS t WHERE {}",
            self.ident(&table.name),
            self.codes_in(table, &self.code_list(table, "t"), n)
        )
    }

    /// `keys IN (…)` with `n` given codes (`keys`: the code columns as the
    /// statement names them). Parameters: the codes' parts, code after code.
    fn codes_in(&self, table: &SyncTable, keys: &[String], n: usize) -> String {
        let arity = table.code.len();
        let mut p = 0;
        let mut next = || {
            p += 1;
            self.ordered_placeholder(p)
        };
        let tuples: Vec<String> = (0..n)
            .map(|_| {
                let parts: Vec<String> = (0..arity).map(|_| next()).collect();
                if arity == 1 {
                    parts[0].clone()
                } else {
                    format!("({})", parts.join(", "))
                }
            })
            .collect();
        let (lhs, rhs) = if arity == 1 {
            (keys[0].clone(), format!("({})", tuples.join(", ")))
        } else {
            (format!("({})", keys.join(", ")), self.tuple_list(&tuples))
        };
        format!("{lhs} IN {rhs}")
    }

    /// A parenthesised list of row values usable after `IN`.
    fn tuple_list(&self, tuples: &[String]) -> String {
        format!("({})", tuples.join(", "))
    }

    /// Selects `select` of up to `$last` rows in code order, after the code
    /// given by the first parameters when `after`. The parameters are
    /// [`Dialect::scan_params`].
    fn scan_sql(&self, table: &SyncTable, select: &str, after: bool) -> String {
        let filter = match after {
            true => format!("WHERE {} ", self.after_code(table)),
            false => String::new(),
        };
        format!(
            "SELECT {select} FROM {} AS t {filter}{}",
            self.ident(&table.name),
            self.code_page(table, after)
        )
    }

    /// `(t."k1", …) > ($1, …)`: rows of alias `t` whose code sorts after the
    /// code in the first parameters ([`Dialect::scan_params`]).
    fn after_code(&self, table: &SyncTable) -> String {
        let keys = self.code_list(table, "t").join(", ");
        let params: Vec<String> = (1..=table.code.len())
            .map(|p| self.placeholder(p))
            .collect();
        format!("({keys}) > ({})", params.join(", "))
    }

    /// `ORDER BY` the code of alias `t` and [`Dialect::limit`] the parameter after the
    /// code when `after` ([`Dialect::scan_params`]).
    fn code_page(&self, table: &SyncTable, after: bool) -> String {
        let keys = self.code_list(table, "t").join(", ");
        let limit = match after {
            true => table.code.len() + 1,
            false => 1,
        };
        format!(
            "ORDER BY {keys} {}",
            self.limit(&self.placeholder(limit), 0)
        )
    }

    /// How the database computes the convergence digest itself
    /// ([`digest`]); `None`: its rows are streamed and hashed by the engine.
    fn digest(&self) -> Option<&'static dyn digest::DigestSql> {
        None
    }

    /// The parameters of [`Dialect::scan_sql`].
    fn scan_params(&self, after: Option<&crate::code::CombinedCode>, limit: usize) -> Vec<Value> {
        let mut params = after.map(|c| c.to_values()).unwrap_or_default();
        params.push(Value::Int(limit as i64));
        params
    }
}

/// The columns of a staging table: `c<i>` per table column (its own type,
/// then `value_suffix`), `m<i>` "write this column" (`mask_type`), and `op`
/// (`op_type`: [`PHASE_UPSERT`] or [`PHASE_DELETE`]).
pub(crate) fn staging_columns(
    columns: &[ColumnSql],
    value_suffix: &str,
    mask_type: &str,
    op_type: &str,
) -> Vec<String> {
    let mut defs: Vec<String> = columns
        .iter()
        .enumerate()
        .map(|(i, c)| format!("c{i} {}{value_suffix}", c.sql_type))
        .collect();
    defs.extend((0..columns.len()).map(|i| format!("m{i} {mask_type}")));
    defs.push(format!("op {op_type}"));
    defs
}

/// The pieces every apply procedure is built from, over staging alias `s`
/// (columns `c<i>`, masks `m<i>`, `op`) and table alias `t`.
pub(crate) struct ApplyParts {
    /// `t."k1" = s.c0 AND …`: a staged row's table row.
    pub key_match: String,
    /// The assignments of the non-code columns, `None` when every column is
    /// in the code (nothing to update).
    pub sets: Option<String>,
    /// "some masked column differs", for the update's `WHERE`.
    pub differs: String,
    /// `s.c0, s.c1, …`: a staged row in table column order.
    pub staged: String,
}

/// Builds [`ApplyParts`]: `set(column, i)` assigns staged column `i` to the
/// quoted `column` when its mask is set; `differs(column, i)` is true when
/// the mask is set and the value differs.
pub(crate) fn apply_parts(
    d: &dyn Dialect,
    table: &SyncTable,
    set: impl Fn(&str, usize) -> String,
    differs: impl Fn(&str, usize) -> String,
) -> ApplyParts {
    let key_match = table
        .code
        .iter()
        .map(|&i| format!("t.{} = s.c{i}", d.ident(&table.columns[i])))
        .collect::<Vec<_>>()
        .join(" AND ");
    let non_code: Vec<usize> = (0..table.columns.len())
        .filter(|&i| !table.is_code_column(i))
        .collect();
    let each = |f: &dyn Fn(&str, usize) -> String, sep: &str| {
        non_code
            .iter()
            .map(|&i| f(&d.ident(&table.columns[i]), i))
            .collect::<Vec<_>>()
            .join(sep)
    };
    ApplyParts {
        sets: (!non_code.is_empty()).then(|| each(&set, ", ")),
        differs: each(&differs, " OR "),
        key_match,
        staged: (0..table.columns.len())
            .map(|i| format!("s.c{i}"))
            .collect::<Vec<_>>()
            .join(", "),
    }
}

/// A row trigger's "the code did not change": `same(i)` of each code
/// column `i`, joined by `AND`.
pub(crate) fn same_code(table: &SyncTable, same: impl Fn(usize) -> String) -> String {
    table
        .code
        .iter()
        .map(|&i| same(i))
        .collect::<Vec<_>>()
        .join(" AND ")
}

/// [`Dialect::keyed_write_sql`] for databases without an upsert that binds
/// each positional parameter once: the key's row is deleted, then inserted.
pub(crate) fn delete_then_insert<D: Dialect + ?Sized>(
    d: &D,
    table: &str,
    key: &str,
    columns: &[(&str, String)],
) -> Vec<String> {
    let (names, values): (Vec<&str>, Vec<&str>) =
        columns.iter().map(|(c, v)| (*c, v.as_str())).unzip();
    vec![
        format!(
            "DELETE FROM {} WHERE {key} = {}",
            d.ident(table),
            d.placeholder(1)
        ),
        format!(
            "INSERT INTO {}({key}, {}) VALUES ({}, {})",
            d.ident(table),
            names.join(", "),
            d.placeholder(1),
            values.join(", ")
        ),
    ]
}

/// [`Dialect::codes_in`] for databases without row values in an `IN`
/// list: `k IN (?, ?)` for a one-part code, else
/// `((k1 = ? AND k2 = ?) OR (k1 = ? AND k2 = ?))`, parameters code by code.
pub(crate) fn codes_matched_part_by_part<D: Dialect + ?Sized>(
    d: &D,
    table: &SyncTable,
    keys: &[String],
    n: usize,
) -> String {
    let mut p = 0;
    let mut next = || {
        p += 1;
        d.ordered_placeholder(p)
    };
    if table.code.len() == 1 {
        let list: Vec<String> = (0..n).map(|_| next()).collect();
        return format!("{} IN ({})", keys[0], list.join(", "));
    }
    let codes: Vec<String> = (0..n)
        .map(|_| {
            let parts: Vec<String> = keys.iter().map(|k| format!("{k} = {}", next())).collect();
            format!("({})", parts.join(" AND "))
        })
        .collect();
    format!("({})", codes.join(" OR "))
}

/// [`Dialect::scan_sql`] with `(k1, k2) > (a, b)` spelled out as
/// `(k1 > a) OR (k1 = a AND k2 > b)`, which every optimizer turns into an
/// index range, for databases without row-value comparison (or whose
/// optimizer does not use an index for it); parameters by
/// [`spelled_scan_params`].
pub(crate) fn spelled_scan_sql<D: Dialect + ?Sized>(
    d: &D,
    table: &SyncTable,
    select: &str,
    after: bool,
) -> String {
    let keys = d.code_list(table, "t");
    let mut p = 0;
    let mut next = || {
        p += 1;
        d.placeholder(p)
    };
    let filter = if after {
        let terms: Vec<String> = (0..keys.len())
            .map(|i| {
                let mut term: Vec<String> = keys[..i]
                    .iter()
                    .map(|k| format!("{k} = {}", next()))
                    .collect();
                term.push(format!("{} > {}", keys[i], next()));
                format!("({})", term.join(" AND "))
            })
            .collect();
        format!("WHERE {}", terms.join(" OR "))
    } else {
        String::new()
    };
    format!(
        "SELECT {select} FROM {} AS t {filter} ORDER BY {} {}",
        d.ident(&table.name),
        keys.join(", "),
        d.limit(&next(), 0)
    )
}

/// The parameters of [`spelled_scan_sql`]: the code's first part, then its
/// first two, and so on, then the limit.
pub(crate) fn spelled_scan_params(
    after: Option<&crate::code::CombinedCode>,
    limit: usize,
) -> Vec<Value> {
    let mut params = Vec::new();
    if let Some(code) = after {
        let parts = code.to_values();
        for i in 0..parts.len() {
            params.extend(parts[..=i].iter().cloned());
        }
    }
    params.push(Value::Int(limit as i64));
    params
}

/// A change time of `micros` µs as text, `YYYY-MM-DD HH:MM:SS.ffffff`
/// (UTC), which sorts as it reads and which [`crate::change::parse_micros`]
/// reads back: for databases whose change times are read as text.
pub(crate) fn text_stamp(micros: i64) -> Option<Value> {
    chrono::DateTime::from_timestamp_micros(micros)
        .map(|t| Value::Text(t.format("%Y-%m-%d %H:%M:%S%.6f").to_string()))
}

/// One page of tracking rows meeting `conditions`, in position order, as
/// many as parameter `limit` says at most: each one's
/// [`Dialect::tracking_columns`], then its position
/// ([`Dialect::position_value`]), where the next page starts.
fn positioned_page<D: Dialect + ?Sized>(d: &D, conditions: &str, limit: usize) -> String {
    format!(
        "SELECT {}, {} FROM {} WHERE {conditions} ORDER BY {} {}",
        d.tracking_columns(),
        d.position_value(),
        d.ident(TRACKING),
        d.position_order(),
        d.limit(&d.placeholder(limit), 0)
    )
}

/// Refuses hetsync tables older than this build's layout: install must run
/// again to bring them up to date (it creates what is missing).
pub fn require_current_schema(node: &str, recorded: Option<&str>) -> Result<()> {
    let version = recorded.and_then(|r| r.parse::<i64>().ok()).unwrap_or(1);
    if version < SCHEMA_VERSION {
        return Err(crate::Error::Setup(format!(
            "node '{node}': its hetsync tables have layout version {version}, this hetsync needs \
             {SCHEMA_VERSION}: run `hetsync install` to bring them up to date"
        )));
    }
    check_schema_version(node, recorded)
}

/// Checks a recorded schema version against this build's.
pub fn check_schema_version(node: &str, recorded: Option<&str>) -> Result<()> {
    let Some(recorded) = recorded else {
        return Ok(());
    };
    match recorded.parse::<i64>() {
        Ok(v) if v <= SCHEMA_VERSION => Ok(()),
        Ok(v) => Err(crate::Error::Setup(format!(
            "node '{node}': its hetsync tables have layout version {v}, this hetsync knows only up to \
             {SCHEMA_VERSION}: upgrade hetsync"
        ))),
        Err(_) => Err(crate::Error::Setup(format!(
            "node '{node}': unreadable layout version {recorded:?} in {META}"
        ))),
    }
}

#[cfg(test)]
mod tests;
