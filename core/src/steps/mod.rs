//! The order of install, reading and apply, written once. An adapter
//! supplies a [`Driver`] (its connected node) whose [`Session`] runs SQL
//! text from the node's [`Dialect`] on one connection and decodes what comes
//! back; everything in between — which statement runs when, inside which
//! transaction, what is checked and what is recorded — lives here:
//!
//! - [`install`]: lock, ensure the bookkeeping tables and their layout
//!   version, drop every capture object hetsync made, create capture per
//!   table, record it;
//! - [`integrity`]: install records a digest of each capture object, and a
//!   round checks them before it reads a node;
//! - [`read`]: begin a snapshot at a final position, read tracking rows,
//!   fetch the changed rows;
//! - [`apply`]: silence capture, lock, stage, deletes child-first, upserts
//!   parent-first, guard, tracking rows, peer watermark, commit.
//!
//! Every [`Driver`] is a [`crate::adapter::Node`] through the blanket
//! implementations in [`node`].

pub mod apply;
pub mod bulk;
pub mod conflicts;
pub mod digest;
pub mod install;
mod integrity;
mod node;
mod purge;
pub mod read;
pub mod snapshot;

use crate::adapter::IntegrationLock;
use crate::change::{RowOp, TrackingEntry, Watermark};
use crate::code::CombinedCode;
use crate::dialect::{ColumnSql, Dialect, TxKind};
use crate::schema::SyncTable;
use crate::value::Value;
use crate::{Error, Result};
use async_trait::async_trait;
use std::sync::atomic::{AtomicBool, Ordering};

/// Builds a statement from the adapter's select list of a table (columns in
/// [`SyncTable::columns`] order, over table alias `t`).
pub type SelectSql<'a> = &'a (dyn Fn(&str) -> String + Send + Sync);

/// A question about the database's catalog that install and the
/// integrity check ask ([`Session::catalog`]); the answer has the rows
/// the dialect's SQL for it selects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CatalogQuestion<'a> {
    /// How many tables have this name: one row, a count
    /// ([`Dialect::table_exists_sql`]).
    TableCount(&'a str),
    /// How many columns of table `.0` are named `.1`: one row, a count
    /// ([`Dialect::column_exists_sql`]).
    ColumnCount(&'a str, &'a str),
    /// hetsync's capture objects, `(kind, name)` rows
    /// ([`Dialect::capture_objects_sql`]).
    CaptureObjects,
    /// hetsync's capture objects with their definitions, `(object,
    /// definition)` rows ([`Dialect::capture_definitions_sql`]).
    CaptureDefinitions,
}

impl CatalogQuestion<'_> {
    /// The dialect's SQL for the question with its parameters, `None`
    /// where the dialect leaves the catalog to the adapter.
    pub fn sql(&self, d: &dyn Dialect) -> Option<(String, Vec<Value>)> {
        let text = |t: &str| Value::Text(t.to_string());
        match *self {
            CatalogQuestion::TableCount(table) => Some((d.table_exists_sql()?, vec![text(table)])),
            CatalogQuestion::ColumnCount(table, column) => {
                Some((d.column_exists_sql()?, vec![text(table), text(column)]))
            }
            CatalogQuestion::CaptureObjects => Some((d.capture_objects_sql()?, Vec::new())),
            CatalogQuestion::CaptureDefinitions => Some((d.capture_definitions_sql()?, Vec::new())),
        }
    }
}

/// One connection of a node, driven by the core. The required methods are
/// driver work; the provided ones are shared implementations an adapter
/// replaces only where its database has a faster way (COPY, for one).
#[async_trait]
pub trait Session: Send {
    /// The node's name, for errors.
    fn node(&self) -> &str;

    /// The SQL family of the node.
    fn dialect(&self) -> &'static dyn Dialect;

    /// Set while a transaction begun by the core is open on the connection:
    /// a call cancelled inside one leaves it set, and the next begin rolls
    /// the abandoned transaction back first.
    fn open_transaction(&self) -> &AtomicBool;

    /// Runs a statement; returns the number of rows it changed. Errors name
    /// the node and `context`, and are classified (transient or not).
    async fn execute(&mut self, sql: &str, params: &[Value], context: &str) -> Result<u64>;

    /// Runs a query of hetsync's own tables and returns its rows: integers,
    /// booleans and text, decoded by their database type.
    async fn query(
        &mut self,
        sql: &str,
        params: &[Value],
        context: &str,
    ) -> Result<Vec<Vec<Value>>>;

    /// Runs a query of a synced table: `sql` gets the adapter's select list
    /// of the table's columns, and the rows come back decoded per column type.
    async fn select_rows(
        &mut self,
        table: &SyncTable,
        sql: SelectSql<'_>,
        params: &[Value],
    ) -> Result<Vec<Vec<Value>>>;

    /// Starts a transaction: the dialect's [`Dialect::begin_sql`] by
    /// default. Called through [`begin`], which marks it open.
    async fn begin_transaction(&mut self, kind: TxKind) -> Result<()> {
        begin_by_sql(self, kind).await
    }

    /// Ends the open transaction, committing it or rolling it back: the
    /// dialect's statement by default. Called through [`commit`] and
    /// [`rollback`].
    async fn end_transaction(&mut self, commit: bool, context: &str) -> Result<()> {
        end_by_sql(self, commit, context).await
    }

    /// Answers a question about the database's catalog: by the dialect's
    /// SQL by default ([`catalog_by_sql`]); an adapter whose dialect has
    /// none asks its driver.
    async fn catalog(
        &mut self,
        question: CatalogQuestion<'_>,
        context: &str,
    ) -> Result<Vec<Vec<Value>>> {
        catalog_by_sql(self, question, context).await
    }

    /// The synced columns of a table as templates need them; a missing table
    /// or column, or a column unusable in a combined code, is an error.
    async fn columns(&mut self, table: &SyncTable) -> Result<Vec<ColumnSql>>;

    /// Starts the read snapshot of a round and returns the position it is
    /// final up to (at least `since`): every change up to it is in the snapshot.
    async fn begin_read(&mut self, since: Watermark) -> Result<Watermark>;

    /// The current end of the tracking table.
    async fn position(&mut self) -> Result<Watermark>;

    /// A position past every change committed so far
    /// ([`crate::adapter::Capture::committed_position`]); the final one by
    /// default.
    async fn committed_position(&mut self) -> Result<Watermark> {
        self.position().await
    }

    /// Takes the per-database installer lock (inside the install transaction
    /// where DDL is transactional).
    async fn lock_install(&mut self) -> Result<()> {
        Ok(())
    }

    /// Releases what [`Session::lock_install`] took, if it outlives the transaction.
    async fn unlock_install(&mut self) {}

    /// Readies capture outside any transaction, before install's: what
    /// cannot be made inside one (PostgreSQL's logical replication slot).
    /// Nothing by default.
    async fn prepare_capture(&mut self) -> Result<()> {
        Ok(())
    }

    /// Brings the tracking table up to date where capture does not write it
    /// as the changes commit (logical decoding, snapshot difference): before
    /// a round reads the node, before apply reads the local edits after the
    /// guard (and, for snapshots, before it writes), and inside install
    /// before capture changes. Runs in the caller's transaction when one is
    /// open, else in one of its own. By default, the snapshot comparison
    /// where the dialect captures by snapshot difference, else nothing.
    async fn catch_up(&mut self, _tables: &[SyncTable]) -> Result<()> {
        match self.dialect().snapshot_capture() {
            true => snapshot::catch_up(self).await,
            false => Ok(()),
        }
    }

    /// How many row changes capture has decoded but not yet taken into the
    /// tracking table ([`Session::catch_up`]): local edits a count of
    /// pending events includes. By default, the edits since the snapshots
    /// where the dialect captures by snapshot difference, else 0.
    async fn undrained_events(&mut self) -> Result<u64> {
        match self.dialect().snapshot_capture() {
            true => snapshot::pending(self).await,
            false => Ok(0),
        }
    }

    /// Removes what [`Session::prepare_capture`] made once capture no longer
    /// needs it (after uninstall, or an install of another kind of
    /// capture), outside any transaction. Nothing by default.
    async fn release_capture(&mut self, _uninstall: bool) -> Result<()> {
        Ok(())
    }

    /// Current rows of the given codes.
    async fn fetch(
        &mut self,
        table: &SyncTable,
        codes: &[CombinedCode],
    ) -> Result<Vec<Vec<Value>>> {
        read::fetch_by_code_lists(self, table, codes).await
    }

    /// Locks the existing rows of `codes` (sorted) until the transaction
    /// ends, in code order; nothing where the dialect has no row locks.
    async fn lock_rows(&mut self, table: &SyncTable, codes: &[CombinedCode]) -> Result<()> {
        read::lock_by_code_lists(self, table, codes).await
    }

    /// Fills a table's staging table with its operations.
    async fn stage(&mut self, table: &SyncTable, ops: &[RowOp]) -> Result<()> {
        apply::stage_by_inserts(self, table, ops).await
    }

    /// Writes the rows of a fresh batch straight into the table, `None` when
    /// the adapter has no faster way than the usual apply.
    async fn insert_fresh(&mut self, _table: &SyncTable, _ops: &[RowOp]) -> Result<Option<u64>> {
        Ok(None)
    }

    /// Writes the tracking rows of integrated changes.
    async fn write_tracking(&mut self, entries: &[TrackingEntry]) -> Result<()> {
        apply::insert_tracking(self, entries).await
    }
}

/// A connected node whose install, reading and apply the core drives.
#[async_trait]
pub trait Driver: Send + Sync {
    /// One connection's session, borrowed from the node.
    type Session<'a>: Session
    where
        Self: 'a;

    /// The adapter's name: the dialect's unless the adapter says otherwise
    /// (an ODBC profile speaking PostgreSQL's SQL has its own).
    fn adapter(&self) -> &str {
        self.dialect().name()
    }

    /// The node's name.
    fn name(&self) -> &str;

    /// The SQL family.
    fn dialect(&self) -> &'static dyn Dialect;

    /// [`crate::adapter::Node::default_type_rules`]: the adapter's by
    /// default.
    fn default_type_rules(&self) -> Option<&'static str> {
        None
    }

    /// Locks the node's connection for one operation.
    async fn session(&self) -> Result<Self::Session<'_>>;

    /// Takes the integration lock (the hub integrates one spoke at a time).
    async fn lock_integration(&self) -> Result<IntegrationLock>;

    /// Forgets cached column descriptions (install and uninstall change them).
    fn forget_columns(&self) {}

    /// [`crate::adapter::Apply::backup_file`]: nothing by default.
    async fn backup_file(&self, _suffix: &str, _keep: usize) -> Result<Option<std::path::PathBuf>> {
        Ok(None)
    }

    /// [`crate::adapter::Capture::await_changes`]: unsupported by default.
    async fn await_changes(
        &self,
        _timeout: std::time::Duration,
    ) -> Result<crate::adapter::ChangeSign> {
        Ok(crate::adapter::ChangeSign::Unsupported)
    }
}

/// Rolls back a transaction that a cancelled call left open on the
/// session's connection, so the next statement does not run inside it.
pub async fn recover<S: Session + ?Sized>(s: &mut S) {
    if s.open_transaction().load(Ordering::SeqCst) {
        tracing::debug!(node = %s.node(), "rolling back a transaction a cancelled call left open");
        rollback(s).await;
    }
}

/// Begins a transaction (the session was recovered when it was made).
pub async fn begin<S: Session + ?Sized>(s: &mut S, kind: TxKind) -> Result<()> {
    s.open_transaction().store(true, Ordering::SeqCst);
    s.begin_transaction(kind).await
}

/// Commits the open transaction.
pub async fn commit<S: Session + ?Sized>(s: &mut S, context: &str) -> Result<()> {
    s.end_transaction(true, context).await?;
    s.open_transaction().store(false, Ordering::SeqCst);
    Ok(())
}

/// Rolls the open transaction back. What failed matters, not the rollback.
pub async fn rollback<S: Session + ?Sized>(s: &mut S) {
    // A rollback that fails has nothing left to end (SQLite says "no
    // transaction is active") or no connection left to end it on.
    let _ = s.end_transaction(false, "rolling back").await;
    s.open_transaction().store(false, Ordering::SeqCst);
}

/// Starts a transaction by the dialect's [`Dialect::begin_sql`] (the
/// default [`Session::begin_transaction`]).
pub async fn begin_by_sql<S: Session + ?Sized>(s: &mut S, kind: TxKind) -> Result<()> {
    for sql in s.dialect().begin_sql(kind) {
        s.execute(&sql, &[], "starting a transaction").await?;
    }
    Ok(())
}

/// Ends a transaction by the dialect's `COMMIT` or `ROLLBACK` (the
/// default [`Session::end_transaction`]).
pub async fn end_by_sql<S: Session + ?Sized>(s: &mut S, commit: bool, context: &str) -> Result<()> {
    let d = s.dialect();
    let sql = if commit {
        d.commit_sql()
    } else {
        d.rollback_sql()
    };
    s.execute(sql, &[], context).await.map(|_| ())
}

/// Answers a catalog question by the dialect's SQL (the default
/// [`Session::catalog`]); an error where the dialect has none.
pub async fn catalog_by_sql<S: Session + ?Sized>(
    s: &mut S,
    question: CatalogQuestion<'_>,
    context: &str,
) -> Result<Vec<Vec<Value>>> {
    let Some((sql, params)) = question.sql(s.dialect()) else {
        return Err(Error::Setup(format!(
            "node '{}': the {} dialect has no SQL for {question:?}, and the adapter does not \
             answer it from the driver's catalog",
            s.node(),
            s.dialect().name()
        )));
    };
    s.query(&sql, &params, context).await
}

/// Runs the statements of a keyed write
/// ([`Dialect::keyed_write_sql`]): each but the last binds the key (the
/// first parameter) alone.
pub async fn write_keyed<S: Session + ?Sized>(
    s: &mut S,
    statements: &[String],
    params: &[Value],
    context: &str,
) -> Result<()> {
    let Some((last, before)) = statements.split_last() else {
        return Ok(());
    };
    for sql in before {
        s.execute(sql, &params[..1], context).await?;
    }
    s.execute(last, params, context).await.map(|_| ())
}

/// Locks tables against writers until the transaction ends, where the
/// dialect needs that ([`Dialect::lock_table_sql`]).
pub(crate) async fn lock_tables<S: Session + ?Sized>(
    s: &mut S,
    tables: &[&SyncTable],
) -> Result<()> {
    let d = s.dialect();
    for table in tables {
        if let Some(sql) = d.lock_table_sql(&table.name) {
            s.execute(&sql, &[], &format!("locking '{}'", table.name))
                .await?;
        }
    }
    Ok(())
}

/// Runs a script whose last statement is a query: the others are executed first.
pub(crate) async fn query_script<S: Session + ?Sized>(
    s: &mut S,
    script: &[String],
    params: &[Value],
    context: &str,
) -> Result<Vec<Vec<Value>>> {
    let Some((last, before)) = script.split_last() else {
        return Ok(Vec::new());
    };
    for sql in before {
        s.execute(sql, &[], context).await?;
    }
    s.query(last, params, context).await
}

/// Reads an integer a query of hetsync's tables (or a catalog) returned.
pub fn int_of(node: &str, value: &Value, what: &str) -> Result<i64> {
    match value {
        Value::Int(i) => Ok(*i),
        Value::Bool(b) => Ok(*b as i64),
        Value::Text(t) => t.parse().map_err(|_| bad_value(node, what, value)),
        _ => Err(bad_value(node, what, value)),
    }
}

/// Takes optional text out of a value a query of hetsync's tables (or a
/// catalog) returned.
pub fn into_text(node: &str, value: Value, what: &str) -> Result<Option<String>> {
    match value {
        Value::Null => Ok(None),
        Value::Text(t) => Ok(Some(t)),
        Value::Bytes(b) => String::from_utf8(b)
            .map(Some)
            .map_err(|e| bad_value(node, what, &Value::Bytes(e.into_bytes()))),
        other => Err(bad_value(node, what, &other)),
    }
}

fn bad_value(node: &str, what: &str, value: &Value) -> Error {
    Error::Database {
        node: node.to_string(),
        context: format!("reading {what}"),
        message: format!("unexpected value {value}"),
    }
}

/// The first value of the first row, if any.
pub(crate) fn first(rows: &[Vec<Value>]) -> Option<&Value> {
    rows.first().and_then(|r| r.first())
}

/// The first value of the first row of a query of hetsync's tables, as an
/// integer (an adapter's position queries).
pub fn first_int(node: &str, rows: &[Vec<Value>], what: &str) -> Result<i64> {
    int_of(node, first(rows).unwrap_or(&Value::Null), what)
}
