//! COPY, PostgreSQL's bulk protocol, behind three steps: filling a staging
//! table, writing a fresh batch straight into its table, writing tracking rows.

use crate::session::{PostgresSession, DIALECT};
use crate::values::{copy_line, copy_text};
use hetsync_core::change::{RowOp, TrackingEntry};
use hetsync_core::dialect::{Dialect, TRACKING, TRACKING_INSERT_COLUMNS};
use hetsync_core::schema::SyncTable;
use hetsync_core::steps::apply::{fresh_row_arrived, fresh_rows, staging_row};
use hetsync_core::value::Value;
use hetsync_core::{Error, Result};
use sqlx::PgConnection;

/// Sends one COPY … FROM STDIN with the whole text-format buffer.
pub(crate) async fn copy_in(conn: &mut PgConnection, sql: &str, buf: String) -> sqlx::Result<()> {
    let mut copy = conn.copy_in_raw(sql).await?;
    copy.send(buf.into_bytes()).await?;
    copy.finish().await.map(|_| ())
}

/// True for PostgreSQL's unique_violation (SQLSTATE 23505).
fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.code().as_deref() == Some("23505"))
}

impl PostgresSession<'_> {
    /// COPYs a table's operations into its staging table.
    pub(crate) async fn copy_staging(&mut self, t: &SyncTable, ops: &[RowOp]) -> Result<()> {
        let mut buf = String::new();
        for op in ops {
            let (values, mask, kind) = staging_row(t, op, &self.node.name)?;
            for v in &values {
                copy_text(&mut buf, v);
                buf.push('\t');
            }
            for m in mask {
                buf.push_str(if m { "t\t" } else { "f\t" });
            }
            buf.push_str(kind);
            buf.push('\n');
        }
        let sql = format!(
            "COPY {} FROM STDIN",
            DIALECT.ident(&DIALECT.staging_table(&t.name))
        );
        copy_in(&mut self.conn, &sql, buf)
            .await
            .map_err(self.node.err(&format!("staging rows of '{}'", t.name)))
    }

    /// COPYs a fresh batch straight into its table: the engine found none of
    /// these codes there and the table is locked against writers, so a
    /// duplicate key means hetsync's view of the table was wrong: the batch
    /// fails and the round starts over.
    pub(crate) async fn copy_fresh(&mut self, t: &SyncTable, ops: &[RowOp]) -> Result<u64> {
        let mut buf = String::new();
        for values in fresh_rows(&self.node.name, t, ops)? {
            copy_line(&mut buf, values);
        }
        let sql = format!(
            "COPY {} ({}) FROM STDIN",
            DIALECT.ident(&t.name),
            DIALECT.column_list(t)
        );
        match copy_in(&mut self.conn, &sql, buf).await {
            Ok(()) => Ok(ops.len() as u64),
            Err(e) if is_unique_violation(&e) => Err(fresh_row_arrived(&self.node.name, t)),
            Err(e) => Err(self.node.err(&format!("inserting rows into '{}'", t.name))(
                e,
            )),
        }
    }

    /// COPYs tracking rows of integrated changes (xid and seq take their defaults).
    pub(crate) async fn copy_tracking(&mut self, entries: &[TrackingEntry]) -> Result<()> {
        if entries.is_empty() {
            return Ok(());
        }
        let mut buf = String::new();
        for x in entries {
            let time = chrono::DateTime::from_timestamp_micros(x.stamp.time).ok_or_else(|| {
                Error::Data {
                    table: x.table.clone(),
                    code: x.code.to_json(),
                    message: format!("change time {} µs is out of range", x.stamp.time),
                }
            })?;
            let fields = x
                .fields
                .as_ref()
                .map(|f| Value::Text(serde_json::to_string(f).expect("strings serialize")))
                .unwrap_or(Value::Null);
            let values = [
                Value::Text(x.table.clone()),
                Value::Text(x.code.to_json()),
                Value::Text(time.format("%Y-%m-%d %H:%M:%S%.6f+00").to_string()),
                Value::Bool(x.deleted),
                fields,
                Value::Text(x.stamp.origin.clone()),
                x.stamp.user.clone().map_or(Value::Null, Value::Text),
            ];
            copy_line(&mut buf, &values);
        }
        let sql = format!(
            "COPY {}({TRACKING_INSERT_COLUMNS}) FROM STDIN",
            DIALECT.ident(TRACKING)
        );
        copy_in(&mut self.conn, &sql, buf)
            .await
            .map_err(self.node.err("writing tracking rows"))
    }
}
