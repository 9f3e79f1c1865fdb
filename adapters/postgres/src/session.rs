//! The PostgreSQL driver under the core's steps: statements on the node's
//! main connection, values bound and decoded by PostgreSQL type, and the
//! database's own powers (COPY, array lookups) behind the steps that use them.

use crate::connection::PostgresNode;
use crate::values::{
    bind_arrays, decode_row, key_arrays, select_list, unnest_expr, KeyArray, Query,
};
use async_trait::async_trait;
use hetsync_core::adapter::{ChangeSign, IntegrationLock};
use hetsync_core::change::{RowOp, TrackingEntry, Watermark};
use hetsync_core::code::CombinedCode;
use hetsync_core::dialect::pg_logical::LOGICAL_HORIZON;
use hetsync_core::dialect::postgres::{
    Postgres, COMMITTED_POSITION, INSTALL_LOCK, INTEGRATION_LOCK, TRIGGERS, XMIN,
};
use hetsync_core::dialect::{ColumnSql, Dialect, TxKind};
use hetsync_core::error::DbCode;
use hetsync_core::schema::SyncTable;
use hetsync_core::steps::{self, Driver, SelectSql, Session};
use hetsync_core::value::Value;
use hetsync_core::{Error, Result};
use sqlx::postgres::PgRow;
use sqlx::{Executor, PgConnection, Row, TypeInfo, ValueRef};
use std::sync::atomic::AtomicBool;
use tokio::sync::MutexGuard;

/// The PostgreSQL dialect's quoting and names, the same whatever a node
/// captures with.
pub(crate) static DIALECT: &Postgres = &TRIGGERS;

/// Codes per lookup query (array parameters, so no parameter limit applies).
const CODES_PER_QUERY: usize = 10_000;

/// One operation's hold on a node's main connection.
pub struct PostgresSession<'a> {
    pub(crate) node: &'a PostgresNode,
    pub(crate) conn: MutexGuard<'a, PgConnection>,
}

impl PostgresNode {
    /// Wraps a driver error with this node's name, what was being done and
    /// its class (by SQLSTATE).
    pub(crate) fn err(&self, context: &str) -> impl Fn(sqlx::Error) -> Error + '_ {
        let context = context.to_string();
        move |e| {
            let state = e
                .as_database_error()
                .and_then(|d| d.code())
                .map(|c| c.into_owned());
            Error::from_db(
                &self.name,
                context.clone(),
                state.as_deref().map(DbCode::SqlState),
                e,
            )
        }
    }
}

/// Binds one value.
fn bind<'q>(q: Query<'q>, value: &Value) -> Query<'q> {
    match value {
        Value::Null => q.bind(None::<String>),
        Value::Bool(b) => q.bind(*b),
        Value::Int(i) => q.bind(*i),
        Value::Float(f) => q.bind(*f),
        Value::Text(s) => q.bind(s.clone()),
        Value::Bytes(b) => q.bind(b.clone()),
    }
}

/// Decodes a row of hetsync's own tables by column type.
fn decode_meta(row: &PgRow) -> std::result::Result<Vec<Value>, sqlx::Error> {
    (0..row.len())
        .map(|i| {
            let raw = row.try_get_raw(i)?;
            if raw.is_null() {
                return Ok(Value::Null);
            }
            let type_info = raw.type_info();
            let type_name = type_info.name();
            Ok(match type_name {
                "INT2" => Value::Int(row.try_get::<i16, _>(i)?.into()),
                "INT4" => Value::Int(row.try_get::<i32, _>(i)?.into()),
                "INT8" => Value::Int(row.try_get(i)?),
                "BOOL" => Value::Bool(row.try_get(i)?),
                "FLOAT8" => Value::Float(row.try_get(i)?),
                "BYTEA" => Value::Bytes(row.try_get(i)?),
                _ => Value::Text(row.try_get(i)?),
            })
        })
        .collect()
}

#[async_trait]
impl Session for PostgresSession<'_> {
    fn node(&self) -> &str {
        &self.node.name
    }

    fn dialect(&self) -> &'static dyn Dialect {
        self.node.dialect
    }

    fn open_transaction(&self) -> &AtomicBool {
        &self.node.open_tx
    }

    async fn execute(&mut self, sql: &str, params: &[Value], context: &str) -> Result<u64> {
        let done = if params.is_empty() {
            // The simple protocol: nothing to prepare for DDL and settings.
            self.conn.execute(sql).await
        } else {
            params
                .iter()
                .fold(sqlx::query(sql), bind)
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
        let rows = params
            .iter()
            .fold(sqlx::query(sql), bind)
            .fetch_all(&mut *self.conn)
            .await
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
            .fold(sqlx::query(&sql), bind)
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
        Ok(columns.iter().map(|c| c.sql()).collect())
    }

    async fn begin_read(&mut self, _since: Watermark) -> Result<Watermark> {
        // Every change of a transaction older than the snapshot's xmin is
        // committed or rolled back: reading up to it is final.
        steps::begin(self, TxKind::ReadSnapshot).await?;
        self.xmin().await
    }

    async fn position(&mut self) -> Result<Watermark> {
        self.xmin().await
    }

    async fn committed_position(&mut self) -> Result<Watermark> {
        // Every transaction that committed is below the snapshot's xmax.
        let xmax: i64 = sqlx::query_scalar(COMMITTED_POSITION)
            .fetch_one(&mut *self.conn)
            .await
            .map_err(self.node.err("reading the snapshot"))?;
        Ok(Watermark::at(xmax))
    }

    async fn lock_install(&mut self) -> Result<()> {
        // One installer at a time per database, until the install commits.
        self.execute(INSTALL_LOCK, &[], "locking install")
            .await
            .map(|_| ())
    }

    async fn prepare_capture(&mut self) -> Result<()> {
        match self.node.dialect.logical {
            true => self.prepare_logical().await,
            false => Ok(()),
        }
    }

    async fn catch_up(&mut self, tables: &[SyncTable]) -> Result<()> {
        self.drain(tables).await
    }

    async fn undrained_events(&mut self) -> Result<u64> {
        self.count_undrained().await
    }

    async fn release_capture(&mut self, uninstall: bool) -> Result<()> {
        match uninstall || !self.node.dialect.logical {
            true => self.release_logical().await,
            false => Ok(()),
        }
    }

    async fn fetch(
        &mut self,
        table: &SyncTable,
        codes: &[CombinedCode],
    ) -> Result<Vec<Vec<Value>>> {
        let columns = self.node.sync_columns(&mut self.conn, table).await?;
        let mut out = Vec::with_capacity(codes.len());
        for chunk in codes.chunks(CODES_PER_QUERY) {
            let arrays = code_arrays(table, chunk)?;
            let sql = format!(
                "SELECT {} FROM {} WHERE ({}) IN (SELECT * FROM {})",
                select_list(&columns),
                DIALECT.ident(&table.name),
                hetsync_core::sql::ident_list(table.code_columns()),
                unnest_expr(&arrays, 1)
            );
            let rows = bind_arrays(sqlx::query(&sql), arrays)
                .fetch_all(&mut *self.conn)
                .await
                .map_err(self.node.err(&format!("reading table '{}'", table.name)))?;
            for row in &rows {
                out.push(
                    decode_row(row, &columns)
                        .map_err(self.node.err(&format!("decoding rows of '{}'", table.name)))?,
                );
            }
        }
        Ok(out)
    }

    async fn lock_rows(&mut self, table: &SyncTable, codes: &[CombinedCode]) -> Result<()> {
        let keys = hetsync_core::sql::ident_list(table.code_columns());
        for chunk in codes.chunks(CODES_PER_QUERY) {
            let arrays = code_arrays(table, chunk)?;
            // Locked as the sort emits them: in code order.
            let sql = format!(
                "SELECT {keys} FROM {} WHERE ({keys}) IN (SELECT * FROM {}) ORDER BY {keys} FOR UPDATE",
                DIALECT.ident(&table.name),
                unnest_expr(&arrays, 1)
            );
            bind_arrays(sqlx::query(&sql), arrays)
                .fetch_all(&mut *self.conn)
                .await
                .map_err(self.node.err(&format!("locking rows of '{}'", table.name)))?;
        }
        Ok(())
    }

    async fn stage(&mut self, table: &SyncTable, ops: &[RowOp]) -> Result<()> {
        self.copy_staging(table, ops).await
    }

    async fn insert_fresh(&mut self, table: &SyncTable, ops: &[RowOp]) -> Result<Option<u64>> {
        self.copy_fresh(table, ops).await.map(Some)
    }

    async fn write_tracking(&mut self, entries: &[TrackingEntry]) -> Result<()> {
        self.copy_tracking(entries).await
    }
}

/// The codes as one array per code column, for `unnest`.
fn code_arrays(table: &SyncTable, codes: &[CombinedCode]) -> Result<Vec<KeyArray>> {
    key_arrays(codes, table.code.len()).ok_or_else(|| Error::Schema {
        table: table.name.clone(),
        message: "a combined-code column holds both integers and text".into(),
    })
}

impl PostgresSession<'_> {
    /// How far a read is final: the oldest transaction still running, or
    /// with capture by decoding the oldest of hetsync's own.
    async fn xmin(&mut self) -> Result<Watermark> {
        let horizon = match self.node.dialect.logical {
            false => XMIN,
            true => LOGICAL_HORIZON,
        };
        let xmin: i64 = sqlx::query_scalar(&format!("SELECT {horizon}"))
            .fetch_one(&mut *self.conn)
            .await
            .map_err(self.node.err("reading the snapshot"))?;
        Ok(Watermark::at(xmin))
    }
}

/// A session-level advisory lock held by a dedicated connection; closing the
/// connection (or the process dying) releases it.
struct AdvisoryLock {
    _held_by: std::sync::Mutex<PgConnection>,
}

#[async_trait]
impl Driver for PostgresNode {
    type Session<'a> = PostgresSession<'a>;

    fn adapter(&self) -> &str {
        "postgres"
    }

    fn name(&self) -> &str {
        &self.name
    }

    fn dialect(&self) -> &'static dyn Dialect {
        self.dialect
    }

    async fn session(&self) -> Result<PostgresSession<'_>> {
        Ok(PostgresSession {
            node: self,
            conn: self.conn.lock().await,
        })
    }

    async fn lock_integration(&self) -> Result<IntegrationLock> {
        let mut conn = self.extra_connection().await?;
        sqlx::query(INTEGRATION_LOCK)
            .execute(&mut conn)
            .await
            .map_err(self.err("taking the integration lock"))?;
        Ok(IntegrationLock(Box::new(AdvisoryLock {
            _held_by: std::sync::Mutex::new(conn),
        })))
    }

    fn forget_columns(&self) {
        self.columns.clear();
    }

    async fn await_changes(&self, timeout: std::time::Duration) -> Result<ChangeSign> {
        // Logical decoding runs no trigger that could notify.
        if self.dialect.logical {
            return Ok(ChangeSign::Unsupported);
        }
        let mut listener = self.listener.lock().await;
        let Some(listening) = listener.as_mut() else {
            // Changes before it listened are not known: one round tells.
            *listener = Some(self.listen().await?);
            return Ok(ChangeSign::Changed);
        };
        match tokio::time::timeout(timeout, listening.try_recv()).await {
            Err(_) => Ok(ChangeSign::Quiet),
            // A notification, or the connection was lost (it reconnects
            // on the next call, and what was notified meanwhile is lost).
            Ok(Ok(_)) => Ok(ChangeSign::Changed),
            Ok(Err(e)) => {
                *listener = None;
                Err(self.err("listening for captured changes")(e))
            }
        }
    }
}
