//! The SQLite driver under the core's steps: statements on the node's one
//! connection, values bound and decoded by storage class.

use crate::connection::SqliteNode;
use crate::direct::{Direct, DirectError};
use crate::lock::FileLock;
use async_trait::async_trait;
use hetsync_core::adapter::IntegrationLock;
use hetsync_core::change::RowOp;
use hetsync_core::change::Watermark;
use hetsync_core::dialect::sqlite::Sqlite;
use hetsync_core::dialect::{ColumnSql, Dialect, TxKind};
use hetsync_core::error::DbCode;
use hetsync_core::schema::SyncTable;
use hetsync_core::steps::{self, Driver, SelectSql, Session};
use hetsync_core::value::Value;
use hetsync_core::{Error, Result};
use sqlx::SqliteConnection;
use std::sync::atomic::AtomicBool;
use tokio::sync::MutexGuard;

/// The SQLite dialect every node speaks.
static DIALECT: Sqlite = Sqlite;

/// One operation's hold on a node's connection.
pub struct SqliteSession<'a> {
    node: &'a SqliteNode,
    /// Declared before `conn`: dropped (its statements finalized) while the
    /// connection is still held.
    direct: Direct,
    conn: MutexGuard<'a, SqliteConnection>,
}

/// Declared types whose affinity cannot identify a row (a combined code
/// must compare exactly): REAL affinity and BLOB.
fn unusable_code_type(declared: &str) -> bool {
    let t = declared.to_ascii_uppercase();
    !t.contains("INT")
        && !t.contains("CHAR")
        && !t.contains("CLOB")
        && !t.contains("TEXT")
        && (t.contains("REAL") || t.contains("FLOA") || t.contains("DOUB") || t.contains("BLOB"))
}

/// Declared types with TEXT affinity.
fn text_affinity(declared: &str) -> bool {
    let t = declared.to_ascii_uppercase();
    !t.contains("INT") && (t.contains("CHAR") || t.contains("CLOB") || t.contains("TEXT"))
}

impl SqliteNode {
    /// Wraps a driver error with this node's name, what was being done and
    /// its class (a busy or locked database is transient).
    pub(crate) fn err(&self, context: &str) -> impl Fn(sqlx::Error) -> Error + '_ {
        let context = context.to_string();
        move |e| {
            let code = e
                .as_database_error()
                .and_then(|d| d.code())
                .and_then(|c| c.parse::<i64>().ok());
            Error::from_db(&self.name, context.clone(), code.map(DbCode::Sqlite), e)
        }
    }

    /// [`SqliteNode::err`] for a statement run directly on the handle.
    pub(crate) fn direct_err(&self, context: &str) -> impl Fn(DirectError) -> Error + '_ {
        let context = context.to_string();
        move |e| Error::from_db(&self.name, context.clone(), e.code().map(DbCode::Sqlite), e)
    }
}

#[async_trait]
impl Session for SqliteSession<'_> {
    fn node(&self) -> &str {
        &self.node.name
    }

    fn dialect(&self) -> &'static dyn Dialect {
        &DIALECT
    }

    fn open_transaction(&self) -> &AtomicBool {
        &self.node.open_tx
    }

    async fn execute(&mut self, sql: &str, params: &[Value], context: &str) -> Result<u64> {
        if params.is_empty() {
            // Scripts, DDL and transaction control: sqlx runs a string of
            // several statements.
            let done = sqlx::query(sql)
                .execute(&mut *self.conn)
                .await
                .map_err(self.node.err(context))?;
            return Ok(done.rows_affected());
        }
        self.direct
            .execute(&mut self.conn, sql, params)
            .await
            .map_err(self.node.direct_err(context))
    }

    async fn query(
        &mut self,
        sql: &str,
        params: &[Value],
        context: &str,
    ) -> Result<Vec<Vec<Value>>> {
        self.direct
            .query(&mut self.conn, sql, params, None)
            .await
            .map_err(self.node.direct_err(context))
    }

    async fn select_rows(
        &mut self,
        table: &SyncTable,
        sql: SelectSql<'_>,
        params: &[Value],
    ) -> Result<Vec<Vec<Value>>> {
        let sql = sql(&DIALECT.column_list(table));
        self.direct
            .query(&mut self.conn, &sql, params, Some(table.columns.len()))
            .await
            .map_err(
                self.node
                    .direct_err(&format!("reading table '{}'", table.name)),
            )
    }

    async fn insert_fresh(&mut self, table: &SyncTable, ops: &[RowOp]) -> Result<Option<u64>> {
        // A write transaction begins IMMEDIATE: no other writer until it
        // ends, so what the look-up finds stays true for the insert.
        steps::apply::insert_fresh_by_inserts(self, table, ops)
            .await
            .map(Some)
    }

    async fn columns(&mut self, table: &SyncTable) -> Result<Vec<ColumnSql>> {
        let described: Vec<(String, String)> =
            sqlx::query_as("SELECT name, type FROM pragma_table_info(?1)")
                .bind(&table.name)
                .fetch_all(&mut *self.conn)
                .await
                .map_err(self.node.err(&format!("describing table '{}'", table.name)))?;
        if described.is_empty() {
            return Err(Error::Schema {
                table: table.name.clone(),
                message: format!("the table does not exist on node '{}'", self.node.name),
            });
        }
        let columns = table.pick_columns(&self.node.name, &described, |(name, _)| name)?;
        for &i in &table.code {
            let declared = &columns[i].1;
            if unusable_code_type(declared) {
                return Err(Error::Schema {
                    table: table.name.clone(),
                    message: format!(
                        "combined-code column '{}' on node '{}' is declared {declared}; codes must be integers or text",
                        table.columns[i], self.node.name
                    ),
                });
            }
        }
        Ok(columns
            .into_iter()
            .map(|(name, sql_type)| ColumnSql {
                text: text_affinity(&sql_type),
                name,
                sql_type,
            })
            .collect())
    }

    async fn begin_read(&mut self, _since: Watermark) -> Result<Watermark> {
        // Writers are serialized: every tracking row up to the sequence read
        // inside the snapshot is committed.
        steps::begin(self, TxKind::ReadSnapshot).await?;
        self.sequence().await
    }

    async fn position(&mut self) -> Result<Watermark> {
        steps::install::require_installed(self).await?;
        self.sequence().await
    }
}

impl SqliteSession<'_> {
    async fn sequence(&mut self) -> Result<Watermark> {
        let seq: Option<i64> =
            sqlx::query_scalar("SELECT seq FROM sqlite_sequence WHERE name = ?1")
                .bind(hetsync_core::dialect::TRACKING)
                .fetch_optional(&mut *self.conn)
                .await
                .map_err(self.node.err("reading the tracking position"))?;
        Ok(Watermark(seq.unwrap_or(0)))
    }
}

#[async_trait]
impl Driver for SqliteNode {
    type Session<'a> = SqliteSession<'a>;

    fn name(&self) -> &str {
        &self.name
    }

    fn dialect(&self) -> &'static dyn Dialect {
        &DIALECT
    }

    async fn session(&self) -> Result<SqliteSession<'_>> {
        Ok(SqliteSession {
            node: self,
            direct: Direct::default(),
            conn: self.conn.lock().await,
        })
    }

    async fn lock_integration(&self) -> Result<IntegrationLock> {
        FileLock::acquire(&self.name, &self.path).await
    }
}
