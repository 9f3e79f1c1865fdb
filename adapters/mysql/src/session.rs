//! The MariaDB/MySQL driver under the core's steps: statements on the node's
//! main connection (the text protocol where nothing is bound: some
//! statements, such as `CREATE TRIGGER`, cannot be prepared), values bound
//! and decoded by MySQL type.

use crate::barrier::{Barrier, BARRIER_WAIT_SECS};
use crate::connection::MysqlNode;
use crate::dictionary::Kind;
use crate::values::{bind_value, decode_row, select_list};
use async_trait::async_trait;
use hetsync_core::adapter::IntegrationLock;
use hetsync_core::change::{RowOp, Watermark};
use hetsync_core::dialect::mysql::Mysql;
use hetsync_core::dialect::{ColumnSql, Dialect, TxKind};
use hetsync_core::schema::SyncTable;
use hetsync_core::steps::{self, Driver, SelectSql, Session};
use hetsync_core::value::Value;
use hetsync_core::{Error, Result};
use sqlx::mysql::{MySqlConnection, MySqlRow};
use sqlx::{Executor, Row, TypeInfo, ValueRef};
use std::sync::atomic::AtomicBool;
use tokio::sync::MutexGuard;

/// The MariaDB/MySQL dialect every node speaks.
pub(crate) static DIALECT: Mysql = Mysql;

/// The integration lock's name: per database, within MySQL's 64 characters.
const INTEGRATION_LOCK: &str = "CONCAT('hetsync integration ', MD5(DATABASE()))";

/// The install lock's name.
const INSTALL_LOCK: &str = "CONCAT('hetsync install ', MD5(DATABASE()))";

/// One operation's hold on a node's main connection.
pub struct MysqlSession<'a> {
    node: &'a MysqlNode,
    conn: MutexGuard<'a, MySqlConnection>,
}

/// Decodes a row of hetsync's own tables by column type.
fn decode_meta(row: &MySqlRow) -> std::result::Result<Vec<Value>, sqlx::Error> {
    (0..row.len())
        .map(|i| {
            let raw = row.try_get_raw(i)?;
            if raw.is_null() {
                return Ok(Value::Null);
            }
            let type_info = raw.type_info();
            let type_name = type_info.name();
            Ok(if type_name == "BOOLEAN" {
                Value::Bool(row.try_get(i)?)
            } else if type_name.contains("INT") {
                Value::Int(row.try_get_unchecked(i)?)
            } else {
                Value::Text(crate::values::text(row, i)?)
            })
        })
        .collect()
}

#[async_trait]
impl Session for MysqlSession<'_> {
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
        let done = if params.is_empty() {
            self.conn.execute(sql).await
        } else {
            params
                .iter()
                .fold(sqlx::query(sql), bind_value)
                .execute(&mut *self.conn)
                .await
        };
        Ok(done.map_err(self.node.err(context))?.rows_affected())
    }

    async fn query(
        &mut self,
        sql: &str,
        params: &[Value],
        context: &str,
    ) -> Result<Vec<Vec<Value>>> {
        let rows = if params.is_empty() {
            self.conn.fetch_all(sql).await
        } else {
            params
                .iter()
                .fold(sqlx::query(sql), bind_value)
                .fetch_all(&mut *self.conn)
                .await
        }
        .map_err(self.node.err(context))?;
        rows.iter()
            .map(decode_meta)
            .collect::<std::result::Result<_, _>>()
            .map_err(self.node.err(context))
    }

    async fn select_rows(
        &mut self,
        table: &SyncTable,
        sql: SelectSql<'_>,
        params: &[Value],
    ) -> Result<Vec<Vec<Value>>> {
        let columns = self.node.sync_columns(&mut self.conn, table).await?;
        let sql = sql(&select_list(&columns));
        let rows = params
            .iter()
            .fold(sqlx::query(&sql), bind_value)
            .fetch_all(&mut *self.conn)
            .await
            .map_err(self.node.err(&format!("reading table '{}'", table.name)))?;
        rows.iter()
            .map(|r| decode_row(r, &columns))
            .collect::<std::result::Result<_, _>>()
            .map_err(self.node.err(&format!("decoding rows of '{}'", table.name)))
    }

    async fn columns(&mut self, table: &SyncTable) -> Result<Vec<ColumnSql>> {
        let columns = self.node.sync_columns(&mut self.conn, table).await?;
        Ok(columns
            .into_iter()
            .map(|c| ColumnSql {
                text: c.kind == Kind::Text,
                name: c.name,
                sql_type: c.sql_type,
            })
            .collect())
    }

    async fn begin_read(&mut self, since: Watermark) -> Result<Watermark> {
        let upto = match self.node.barrier(&mut self.conn).await? {
            // Below `since` only when the tracking table went back (the
            // core then re-reads it whole).
            Barrier::Final(last) => last,
            Barrier::Busy => {
                tracing::warn!(
                    node = %self.node.name,
                    "a transaction that changed synced tables has been open for more than \
                     {BARRIER_WAIT_SECS} s; its changes and later ones are read once it ends"
                );
                since.pos
            }
        };
        // The snapshot is taken after the barrier, so every change up to
        // `upto` is in it.
        steps::begin(self, TxKind::ReadSnapshot).await?;
        Ok(Watermark::at(upto))
    }

    async fn position(&mut self) -> Result<Watermark> {
        match self.node.barrier(&mut self.conn).await? {
            Barrier::Final(last) => Ok(Watermark::at(last)),
            Barrier::Busy => Err(Error::Transient {
                node: self.node.name.clone(),
                context: "waiting for open transactions".into(),
                message: format!(
                    "a transaction that changed synced tables has been open for more than \
                     {BARRIER_WAIT_SECS} s; the full sync starts once it ends"
                ),
            }),
        }
    }

    async fn committed_position(&mut self) -> Result<Watermark> {
        // Every committed tracking row is visible to a fresh read: no
        // barrier is needed.
        Ok(Watermark::at(
            self.node.last_sequence(&mut self.conn).await?,
        ))
    }

    async fn lock_install(&mut self) -> Result<()> {
        // DDL commits implicitly here: install is idempotent instead of
        // atomic, and one installer at a time holds a named lock.
        let got = self
            .query(
                &format!("SELECT GET_LOCK({INSTALL_LOCK}, 60)"),
                &[],
                "locking install",
            )
            .await?;
        if got.first().and_then(|r| r.first()) == Some(&Value::Int(1)) {
            Ok(())
        } else {
            Err(Error::Transient {
                node: self.node.name.clone(),
                context: "locking install".into(),
                message: "another hetsync install is running on this database".into(),
            })
        }
    }

    async fn insert_fresh(&mut self, table: &SyncTable, ops: &[RowOp]) -> Result<Option<u64>> {
        // The look-up refuses a row already there (the batch is then
        // retried as an ordinary one); one committed between the look-up
        // and the insert fails it on the unique key, not overwritten.
        steps::apply::insert_fresh_by_inserts(self, table, ops)
            .await
            .map(Some)
    }

    async fn unlock_install(&mut self) {
        let _ = self
            .execute(
                &format!("DO RELEASE_LOCK({INSTALL_LOCK})"),
                &[],
                "unlocking install",
            )
            .await;
    }
}

/// A named lock held by a dedicated connection; closing the connection (or
/// the process dying) releases it.
struct NamedLock {
    _held_by: std::sync::Mutex<MySqlConnection>,
}

#[async_trait]
impl Driver for MysqlNode {
    type Session<'a> = MysqlSession<'a>;

    fn name(&self) -> &str {
        &self.name
    }

    fn dialect(&self) -> &'static dyn Dialect {
        &DIALECT
    }

    async fn session(&self) -> Result<MysqlSession<'_>> {
        Ok(MysqlSession {
            node: self,
            conn: self.conn.lock().await,
        })
    }

    async fn lock_integration(&self) -> Result<IntegrationLock> {
        let mut conn = self.extra_connection().await?;
        let got: Option<i64> =
            sqlx::query_scalar(&format!("SELECT GET_LOCK({INTEGRATION_LOCK}, 31536000)"))
                .fetch_one(&mut conn)
                .await
                .map_err(self.err("taking the integration lock"))?;
        if got != Some(1) {
            return Err(Error::Database {
                node: self.name.clone(),
                context: "taking the integration lock".into(),
                message: "the lock was not granted".into(),
            });
        }
        Ok(IntegrationLock(Box::new(NamedLock {
            _held_by: std::sync::Mutex::new(conn),
        })))
    }

    fn forget_columns(&self) {
        self.columns.clear();
    }
}
