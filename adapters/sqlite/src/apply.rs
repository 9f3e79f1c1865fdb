//! Apply on SQLite: one `BEGIN IMMEDIATE` transaction per batch, capture
//! suppressed by the `_hetsync_apply` flag row, prepared statements per
//! operation; plus lookups, scans and the integration lock.

use crate::connection::SqliteNode;
use crate::ddl;
use crate::values::{bind_all, decode_row};
use async_trait::async_trait;
use hetsync_core::adapter::{Apply, IntegrationLock};
use hetsync_core::change::{ApplyBatch, ApplyOutcome, RowOp, TrackingEntry, Watermark};
use hetsync_core::code::CombinedCode;
use hetsync_core::schema::SyncTable;
use hetsync_core::sql::quote_ident;
use hetsync_core::value::Value;
use hetsync_core::{Error, Result};
use sqlx::SqliteConnection;
use std::fs::File;
use std::time::Duration;

/// SQLite allows 32766 parameters; stay well below.
const CODES_PER_QUERY: usize = 400;

impl SqliteNode {
    /// Refuses the batch when a row it touches was edited after `guard`.
    async fn check_guard(
        &self,
        conn: &mut SqliteConnection,
        guard: Watermark,
        batch: &ApplyBatch,
        tables: &[SyncTable],
    ) -> Result<()> {
        let edited: Vec<(String, String)> = sqlx::query_as(&format!(
            "SELECT table_name, code FROM {} WHERE seq > ?1 AND origin IS NULL",
            quote_ident(ddl::TRACKING)
        ))
        .bind(guard.0)
        .fetch_all(&mut *conn)
        .await
        .map_err(self.err("checking for concurrent edits"))?;
        batch.check_guard(tables, &self.name, edited)
    }

    async fn apply_op(
        &self,
        conn: &mut SqliteConnection,
        table: &SyncTable,
        op: &RowOp,
        out: &mut ApplyOutcome,
    ) -> Result<()> {
        let ctx = || format!("writing table '{}'", table.name);
        match op {
            RowOp::Delete { code } => {
                let sql = ddl::delete(table);
                let done = bind_all(sqlx::query(&sql), &code.to_values())
                    .execute(&mut *conn)
                    .await
                    .map_err(self.err(&ctx()))?;
                out.deleted += done.rows_affected();
            }
            RowOp::Upsert { values, fields } => {
                if values.len() != table.columns.len() {
                    return Err(Error::Deployment(format!(
                        "row for '{}' has {} values, the table has {} columns",
                        table.name,
                        values.len(),
                        table.columns.len()
                    )));
                }
                let code: Vec<&Value> = table.code.iter().map(|&i| &values[i]).collect();
                let set: Vec<usize> = match fields {
                    Some(f) => f
                        .iter()
                        .copied()
                        .filter(|&i| !table.is_code_column(i))
                        .collect(),
                    None => (0..values.len())
                        .filter(|&i| !table.is_code_column(i))
                        .collect(),
                };
                if !set.is_empty() {
                    let sql = ddl::update(table, &set);
                    let q = bind_all(sqlx::query(&sql), set.iter().map(|&i| &values[i]));
                    let done = bind_all(q, code.iter().copied())
                        .execute(&mut *conn)
                        .await
                        .map_err(self.err(&ctx()))?;
                    if done.rows_affected() > 0 {
                        out.updated += 1;
                        return Ok(());
                    }
                }
                let sql = ddl::insert_missing(table);
                let q = bind_all(sqlx::query(&sql), values);
                let done = bind_all(q, code.iter().copied())
                    .execute(&mut *conn)
                    .await
                    .map_err(self.err(&ctx()))?;
                out.inserted += done.rows_affected();
            }
        }
        Ok(())
    }

    async fn write_tracking(
        &self,
        conn: &mut SqliteConnection,
        entry: &TrackingEntry,
    ) -> Result<()> {
        let fields = entry
            .fields
            .as_ref()
            .map(|f| serde_json::to_string(f).expect("strings serialize"));
        let time = chrono::DateTime::from_timestamp_micros(entry.stamp.time)
            .ok_or_else(|| Error::Data {
                table: entry.table.clone(),
                code: entry.code.to_string(),
                message: format!("change time {} is out of range", entry.stamp.time),
            })?
            .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true);
        sqlx::query(&format!(
            "INSERT INTO {}(table_name, code, changed_at, deleted, fields, origin) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            quote_ident(ddl::TRACKING)
        ))
        .bind(&entry.table)
        .bind(entry.code.to_json())
        .bind(time)
        .bind(entry.deleted as i64)
        .bind(fields)
        .bind(&entry.stamp.origin)
        .execute(&mut *conn)
        .await
        .map_err(self.err("writing tracking rows"))?;
        Ok(())
    }

    async fn apply_in(
        &self,
        conn: &mut SqliteConnection,
        tables: &[SyncTable],
        batch: &ApplyBatch,
    ) -> Result<ApplyOutcome> {
        if let Some(guard) = batch.guard {
            self.check_guard(conn, guard, batch, tables).await?;
        }
        let flag = quote_ident(ddl::APPLY_FLAG);
        sqlx::query(&format!("INSERT INTO {flag}(origin) VALUES ('hetsync')"))
            .execute(&mut *conn)
            .await
            .map_err(self.err("suppressing capture"))?;
        let mut out = ApplyOutcome::default();
        // Deletes child-first (reverse table order), then upserts parent-first.
        for (name, ops) in batch.ops.iter().rev() {
            let table = SyncTable::find(tables, name, &self.name)?;
            for op in ops.iter().filter(|o| matches!(o, RowOp::Delete { .. })) {
                self.apply_op(conn, table, op, &mut out).await?;
            }
        }
        for (name, ops) in &batch.ops {
            let table = SyncTable::find(tables, name, &self.name)?;
            for op in ops.iter().filter(|o| matches!(o, RowOp::Upsert { .. })) {
                self.apply_op(conn, table, op, &mut out).await?;
            }
        }
        for entry in &batch.tracking {
            self.write_tracking(conn, entry).await?;
        }
        if let Some(mark) = &batch.peer {
            sqlx::query(&format!(
                "INSERT INTO {}(peer, watermark, updated_at) VALUES (?1, ?2, ?3) \
                 ON CONFLICT(peer) DO UPDATE SET watermark = excluded.watermark, updated_at = excluded.updated_at",
                quote_ident(ddl::PEERS)
            ))
            .bind(&mark.peer)
            .bind(mark.watermark.0)
            .bind(chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
            .execute(&mut *conn)
            .await
            .map_err(self.err("recording the peer watermark"))?;
        }
        sqlx::query(&format!("DELETE FROM {flag}"))
            .execute(&mut *conn)
            .await
            .map_err(self.err("re-enabling capture"))?;
        Ok(out)
    }

    async fn select_rows(
        &self,
        sql: &str,
        params: &[Value],
        table: &SyncTable,
    ) -> Result<Vec<Vec<Value>>> {
        let mut conn = self.conn.lock().await;
        let rows = bind_all(sqlx::query(sql), params)
            .fetch_all(&mut *conn)
            .await
            .map_err(self.err(&format!("reading table '{}'", table.name)))?;
        rows.iter()
            .map(|r| decode_row(r, 0, table.columns.len()))
            .collect::<std::result::Result<_, _>>()
            .map_err(self.err(&format!("decoding rows of '{}'", table.name)))
    }
}

/// Holds an exclusive `flock`-style lock on `<database>.hetsync-lock`; the
/// operating system releases it when the process dies.
struct FileLock(File);

impl Drop for FileLock {
    fn drop(&mut self) {
        let _ = self.0.unlock();
    }
}

#[async_trait]
impl Apply for SqliteNode {
    async fn apply(&self, tables: &[SyncTable], batch: &ApplyBatch) -> Result<ApplyOutcome> {
        let mut conn = self.conn.lock().await;
        let mut tx = self.begin_write(&mut conn).await?;
        // On error the transaction is dropped and rolled back: all or nothing.
        let out = self.apply_in(&mut tx, tables, batch).await?;
        tx.commit()
            .await
            .map_err(self.err("committing the batch"))?;
        Ok(out)
    }

    async fn fetch(&self, table: &SyncTable, codes: &[CombinedCode]) -> Result<Vec<Vec<Value>>> {
        let mut out = Vec::with_capacity(codes.len());
        for chunk in codes.chunks(CODES_PER_QUERY) {
            let params: Vec<Value> = chunk.iter().flat_map(|c| c.to_values()).collect();
            out.extend(
                self.select_rows(&ddl::rows_by_codes(table, chunk.len()), &params, table)
                    .await?,
            );
        }
        Ok(out)
    }

    async fn scan(
        &self,
        table: &SyncTable,
        after: Option<&CombinedCode>,
        limit: usize,
    ) -> Result<Vec<Vec<Value>>> {
        let mut params = after.map(|c| c.to_values()).unwrap_or_default();
        params.push(Value::Int(limit as i64));
        self.select_rows(&ddl::scan(table, after.is_some()), &params, table)
            .await
    }

    async fn count_rows(&self, table: &SyncTable) -> Result<u64> {
        let mut conn = self.conn.lock().await;
        let n: i64 = sqlx::query_scalar(&format!(
            "SELECT count(*) FROM {}",
            quote_ident(&table.name)
        ))
        .fetch_one(&mut *conn)
        .await
        .map_err(self.err(&format!("counting rows of '{}'", table.name)))?;
        Ok(n as u64)
    }

    async fn lock_integration(&self) -> Result<IntegrationLock> {
        let mut path = self.path.clone().into_os_string();
        path.push(".hetsync-lock");
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| Error::db(&self.name, "opening the integration lock file", e))?;
        // Polled every 100 ms; say so every 10 s.
        let mut polls: u64 = 0;
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(IntegrationLock(Box::new(FileLock(file)))),
                Err(std::fs::TryLockError::WouldBlock) => {
                    if polls.is_multiple_of(100) {
                        tracing::info!(node = %self.name, "waiting for another hetsync to finish integrating");
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    polls += 1;
                }
                Err(std::fs::TryLockError::Error(e)) => {
                    return Err(Error::db(&self.name, "taking the integration lock", e))
                }
            }
        }
    }
}
