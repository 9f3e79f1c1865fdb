//! PostgreSQL's capture by logical decoding: the SQL around a replication
//! slot that decodes the write-ahead log with `pgoutput`.
//!
//! - **Objects.** One name per database and schema ([`LOGICAL_NAME`]) for
//!   the publication of the synced tables, the slot (slots and origins
//!   belong to the whole server, so the name carries a hash of both) and
//!   the replication origin the engine's writes are marked with. The synced
//!   tables get `REPLICA IDENTITY FULL`, so an update's old row is in the
//!   log and the changed fields can be told.
//! - **Order.** The publication exists before the slot (a slot decoding a
//!   change made before its publication existed fails for ever), both
//!   before install's transaction, which adds the tables to the
//!   publication.
//! - **Draining.** Before a read, and inside an apply before its guard, the
//!   adapter peeks the slot through a cursor (peeking consumes nothing),
//!   turns the decoded changes into tracking rows in a temporary table and
//!   inserts them in commit order, recording the end of the last
//!   transaction taken ([`DRAINED_LSN`]) in the same transaction. The slot
//!   is advanced to the recorded position by the next drain, so a crash
//!   between the two loses nothing and takes nothing twice.
//! - **Loop prevention.** The engine's connection is marked with the
//!   replication origin; the changes of its transactions are decoded with
//!   that origin and passed over.

use super::postgres::Postgres;
use super::{ColumnSql, Dialect, META, TRACKING};
use crate::schema::SyncTable;

/// The name of a node's publication, slot and replication origin, as a SQL
/// expression: `hetsync_` and a hash of the database and schema (slot
/// names take lower-case letters, digits and underscores).
pub const LOGICAL_NAME: &str =
    "('hetsync_' || left(md5(current_database() || '.' || current_schema()), 20))";

/// How far a read of a node capturing by decoding is final: only hetsync's
/// own transactions write its tracking table (drains, and the engine's
/// writes at a hub), so only those still running hold a read back, never
/// the application's: the oldest running transaction of a `hetsync`
/// session, else the end of the snapshot.
pub const LOGICAL_HORIZON: &str =
    "(SELECT coalesce(min(x), pg_snapshot_xmax(pg_current_snapshot()))::text::bigint \
     FROM pg_snapshot_xip(pg_current_snapshot()) x \
     WHERE x::text::xid IN (SELECT backend_xid FROM pg_stat_activity \
                            WHERE application_name = 'hetsync' AND backend_xid IS NOT NULL))";

/// The meta row holding the end of the last transaction drained into the
/// tracking table (a `pg_lsn` as text).
pub const DRAINED_LSN: &str = "logical_lsn";

/// The cursor a drain reads the slot through.
pub const CURSOR: &str = "_hetsync_decoded";

/// The temporary table decoded changes wait in until they are inserted
/// into the tracking table.
pub const DRAINED: &str = "_hetsync_drained";

/// A `DO` block with the node's name in `n` (and `t`, a record, to loop with).
fn do_block(body: &str) -> String {
    format!("DO $hetsync$ DECLARE t record; n text := {LOGICAL_NAME}; BEGIN {body} END $hetsync$")
}

impl Postgres {
    /// `('PUBLISHED', table)` per table of the publication, for install's
    /// list of objects to drop. The publication itself stays while the
    /// slot lives: a slot decoding a change made while its publication was
    /// missing fails for ever (even inside install's transaction).
    pub(super) fn published_objects_sql(&self) -> String {
        format!(
            "SELECT 'PUBLISHED', tablename::text FROM pg_publication_tables \
             WHERE pubname = {LOGICAL_NAME} AND schemaname = current_schema()"
        )
    }

    /// Takes a table out of the publication, its replica identity back to
    /// the default.
    pub(super) fn unpublish_sql(&self, table: &str) -> String {
        do_block(&format!(
            "EXECUTE format('ALTER PUBLICATION %I DROP TABLE %I', n, {t}); \
             EXECUTE format('ALTER TABLE %I REPLICA IDENTITY DEFAULT', {t});",
            t = self.literal(table)
        ))
    }

    /// Drops the publication, setting its tables' replica identity back
    /// to the default first.
    pub(super) fn drop_publication_sql(&self) -> String {
        do_block(
            "FOR t IN SELECT tablename FROM pg_publication_tables \
               WHERE pubname = n AND schemaname = current_schema() LOOP \
               EXECUTE format('ALTER TABLE %I REPLICA IDENTITY DEFAULT', t.tablename); \
             END LOOP; \
             EXECUTE format('DROP PUBLICATION IF EXISTS %I', n);",
        )
    }

    /// Publishes one table with its whole old row in the log.
    pub(super) fn publish_sql(&self, table: &str) -> String {
        do_block(&format!(
            "IF NOT EXISTS (SELECT 1 FROM pg_publication WHERE pubname = n) THEN \
               EXECUTE format('CREATE PUBLICATION %I WITH (publish = ''insert, update, delete'')', n); \
             END IF; \
             EXECUTE format('ALTER TABLE %I REPLICA IDENTITY FULL', {t}); \
             EXECUTE format('ALTER PUBLICATION %I ADD TABLE %I', n, {t});",
            t = self.literal(table)
        ))
    }

    /// Logical capture's objects with their definitions: the slot, the
    /// publication with its tables, and each table's replica identity.
    pub(super) fn logical_definitions_sql(&self) -> String {
        format!(
            "SELECT 'replication slot ' || slot_name, plugin || ' on ' || database \
             FROM pg_replication_slots WHERE slot_name = {LOGICAL_NAME} \
             UNION ALL \
             SELECT 'publication ' || p.pubname, \
                    concat_ws(' ', p.pubinsert, p.pubupdate, p.pubdelete, \
                              (SELECT string_agg(quote_ident(tablename), ', ' ORDER BY tablename) \
                               FROM pg_publication_tables t \
                               WHERE t.pubname = p.pubname AND t.schemaname = current_schema())) \
             FROM pg_publication p WHERE p.pubname = {LOGICAL_NAME} \
             UNION ALL \
             SELECT 'replica identity of ' || c.relname, c.relreplident::text \
             FROM pg_publication_tables t \
             JOIN pg_namespace s ON s.nspname = t.schemaname \
             JOIN pg_class c ON c.relnamespace = s.oid AND c.relname = t.tablename \
             WHERE t.pubname = {LOGICAL_NAME} AND t.schemaname = current_schema()"
        )
    }

    /// Marks the session's transactions with the node's replication origin
    /// (once per session): their changes are decoded as the engine's.
    pub(super) fn origin_setup_sql(&self) -> String {
        do_block(
            "IF NOT pg_replication_origin_session_is_setup() THEN \
               PERFORM pg_replication_origin_session_setup(n); \
             END IF;",
        )
    }

    /// Lifts the session's replication origin (after an apply's commit:
    /// one session at a time may hold an origin).
    pub(super) fn origin_reset_sql(&self) -> String {
        "SELECT pg_replication_origin_session_reset() WHERE pg_replication_origin_session_is_setup()"
            .into()
    }

    /// The server's `wal_level` (logical decoding needs `logical`).
    pub fn wal_level_sql(&self) -> &'static str {
        "SELECT current_setting('wal_level')"
    }

    /// What install makes before its transaction, each in its own: the
    /// replication origin, the publication (empty until install adds the
    /// tables) and then the slot, each only where missing. A slot whose
    /// publication went is dropped first: it can decode nothing any more
    /// (what it held is lost, and the round that found the publication
    /// missing said so).
    pub fn prepare_logical_sql(&self) -> Vec<String> {
        vec![
            format!(
                "SELECT pg_replication_origin_create(n) FROM (SELECT {LOGICAL_NAME} AS n) x \
                 WHERE NOT EXISTS (SELECT 1 FROM pg_replication_origin WHERE roname = x.n)"
            ),
            do_block(
                "IF NOT EXISTS (SELECT 1 FROM pg_publication WHERE pubname = n) THEN \
                   PERFORM pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = n; \
                   EXECUTE format('CREATE PUBLICATION %I WITH (publish = ''insert, update, delete'')', n); \
                 END IF;",
            ),
            format!(
                "SELECT pg_create_logical_replication_slot(n, 'pgoutput') FROM (SELECT {LOGICAL_NAME} AS n) x \
                 WHERE NOT EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = x.n)"
            ),
        ]
    }

    /// Removes logical capture's objects where they exist: the publication
    /// (the tables' replica identity back to the default), the slot and
    /// the origin (this session's mark lifted first). Where none exists
    /// (a node capturing by triggers) it needs no privilege.
    pub fn release_logical_sql(&self) -> Vec<String> {
        vec![
            self.drop_publication_sql(),
            format!(
                "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots \
                 WHERE slot_name = {LOGICAL_NAME}"
            ),
            // The origin functions are the superuser's unless granted: called
            // only where there is an origin to drop.
            do_block(
                "IF EXISTS (SELECT 1 FROM pg_replication_origin WHERE roname = n) THEN \
                   IF pg_replication_origin_session_is_setup() THEN \
                     PERFORM pg_replication_origin_session_reset(); \
                   END IF; \
                   PERFORM pg_replication_origin_drop(n); \
                 END IF;",
            ),
        ]
    }

    /// The slot's name and how far it is confirmed (no row: no slot).
    pub fn slot_state_sql(&self) -> String {
        format!(
            "SELECT slot_name::text, confirmed_flush_lsn::text FROM pg_replication_slots \
             WHERE slot_name = {LOGICAL_NAME}"
        )
    }

    /// Moves the slot on to the position in `$1` where it is behind it.
    pub fn advance_slot_sql(&self) -> String {
        format!(
            "SELECT pg_replication_slot_advance(slot_name, $1::text::pg_lsn) FROM pg_replication_slots \
             WHERE slot_name = {LOGICAL_NAME} AND confirmed_flush_lsn < $1::text::pg_lsn"
        )
    }

    /// How far the log is written to disk: a drain decodes up to there.
    pub fn flush_lsn_sql(&self) -> &'static str {
        "SELECT pg_current_wal_flush_lsn()::text"
    }

    /// Opens [`CURSOR`] over the slot's changes up to the log position
    /// `upto` (as [`Self::flush_lsn_sql`] read it, `X/Y`), peeked in
    /// `pgoutput`'s binary messages (protocol 1) of the node's publication.
    /// Every transaction whose commit starts before `upto` is in it, so a
    /// drain may record `upto` as drained even when this database wrote
    /// nothing: the slot then moves on with the log, and later peeks do not
    /// decode an old large transaction again.
    pub fn peek_cursor_sql(&self, upto: &str) -> String {
        format!(
            "DECLARE {CURSOR} NO SCROLL CURSOR FOR SELECT data FROM \
             pg_logical_slot_peek_binary_changes({LOGICAL_NAME}, {}::pg_lsn, NULL, \
             'proto_version', '1', 'publication_names', {LOGICAL_NAME})",
            self.literal(upto)
        )
    }

    /// Reads the next `n` messages of [`CURSOR`].
    pub fn fetch_cursor_sql(&self, n: usize) -> String {
        format!("FETCH {n} FROM {CURSOR}")
    }

    /// Closes [`CURSOR`].
    pub fn close_cursor_sql(&self) -> String {
        format!("CLOSE {CURSOR}")
    }

    /// Makes [`DRAINED`] (empty) for this transaction: one decoded change
    /// per row, its code as a JSON array of the code columns' texts.
    pub fn drained_table_sql(&self) -> Vec<String> {
        let t = self.ident(DRAINED);
        vec![
            format!(
                "CREATE TEMPORARY TABLE IF NOT EXISTS {t} (ord bigint NOT NULL, table_name text NOT NULL, \
                 code jsonb NOT NULL, changed_at timestamptz NOT NULL, deleted boolean NOT NULL, \
                 fields jsonb) ON COMMIT DELETE ROWS"
            ),
            format!("TRUNCATE pg_temp.{t}"),
        ]
    }

    /// `COPY` of decoded changes into [`DRAINED`].
    pub fn drained_copy_sql(&self) -> String {
        format!(
            "COPY pg_temp.{} (ord, table_name, code, changed_at, deleted, fields) FROM STDIN",
            self.ident(DRAINED)
        )
    }

    /// Inserts the decoded changes into the tracking table in their order:
    /// each code's texts cast back to its columns' types, so the code is
    /// the one the triggers would have built. `tables` are the synced
    /// tables with their columns; `None` when there are none.
    pub fn drained_insert_sql(&self, tables: &[(&SyncTable, Vec<ColumnSql>)]) -> Option<String> {
        if tables.is_empty() {
            return None;
        }
        let cases: Vec<String> = tables
            .iter()
            .map(|(table, columns)| {
                let parts: Vec<String> = table
                    .code
                    .iter()
                    .enumerate()
                    .map(|(i, &c)| format!("(d.code->>{i})::{}", columns[c].sql_type))
                    .collect();
                format!(
                    "WHEN {} THEN jsonb_build_array({})",
                    self.literal(&table.name),
                    parts.join(", ")
                )
            })
            .collect();
        Some(format!(
            "INSERT INTO {} (table_name, code, changed_at, deleted, user_name, fields) \
             SELECT d.table_name, CASE d.table_name {} END, d.changed_at, d.deleted, NULL, d.fields \
             FROM pg_temp.{} d ORDER BY d.ord",
            self.ident(TRACKING),
            cases.join(" "),
            self.ident(DRAINED)
        ))
    }

    /// Reads [`DRAINED_LSN`].
    pub fn drained_lsn_sql(&self) -> String {
        format!(
            "SELECT value FROM {} WHERE name = '{DRAINED_LSN}'",
            self.ident(META)
        )
    }
}
