//! Apply on PostgreSQL: one transaction per batch with capture silenced by a
//! transaction-local setting, the touched tables locked against concurrent
//! writers while the guard is checked, rows sent by COPY into staging tables
//! and applied set-based by the per-table functions made at install time.

use crate::connection::PostgresNode;
use crate::ddl;
use crate::values::{
    bind_arrays, bind_part, copy_line, copy_text, decode_row, key_arrays, select_list, unnest_expr,
};
use async_trait::async_trait;
use hetsync_core::adapter::{Apply, IntegrationLock};
use hetsync_core::change::{ApplyBatch, ApplyOutcome, RowOp, Watermark};
use hetsync_core::code::CombinedCode;
use hetsync_core::schema::SyncTable;
use hetsync_core::sql::{ident_list, quote_ident, quote_literal};
use hetsync_core::value::Value;
use hetsync_core::{Error, Result};
use sqlx::PgConnection;

/// Codes per lookup query (array parameters, so no parameter limit applies).
const CODES_PER_QUERY: usize = 10_000;

impl PostgresNode {
    pub(crate) async fn fetch_on(
        &self,
        conn: &mut PgConnection,
        table: &SyncTable,
        codes: &[CombinedCode],
    ) -> Result<Vec<Vec<Value>>> {
        if codes.is_empty() {
            return Ok(Vec::new());
        }
        let columns = self.sync_columns(conn, table).await?;
        let mut out = Vec::with_capacity(codes.len());
        for chunk in codes.chunks(CODES_PER_QUERY) {
            let arrays = key_arrays(chunk, table.code.len()).ok_or_else(|| Error::Schema {
                table: table.name.clone(),
                message: "a combined-code column holds both integers and text".into(),
            })?;
            let sql = format!(
                "SELECT {} FROM {} WHERE ({}) IN (SELECT * FROM {})",
                select_list(&columns),
                quote_ident(&table.name),
                ident_list(table.code_columns()),
                unnest_expr(&arrays, 1)
            );
            let rows = bind_arrays(sqlx::query(&sql), arrays)
                .fetch_all(&mut *conn)
                .await
                .map_err(self.err(&format!("reading table '{}'", table.name)))?;
            for row in &rows {
                out.push(
                    decode_row(row, &columns)
                        .map_err(self.err(&format!("decoding rows of '{}'", table.name)))?,
                );
            }
        }
        Ok(out)
    }

    async fn check_guard(
        &self,
        conn: &mut PgConnection,
        guard: Watermark,
        batch: &ApplyBatch,
        tables: &[SyncTable],
    ) -> Result<()> {
        // Only the newest tracking rows qualify, but a freshly grown tracking
        // table has no statistics yet and the planner would scan all of it:
        // walk the xid index for this one statement.
        self.exec(
            conn,
            "SET LOCAL enable_seqscan = off",
            "checking for concurrent edits",
        )
        .await?;
        let edited: Vec<(String, String)> = sqlx::query_as(&format!(
            "SELECT table_name, code::text FROM {} WHERE xid >= $1::text::xid8 AND origin IS NULL",
            quote_ident(ddl::TRACKING)
        ))
        .bind(guard.0.to_string())
        .fetch_all(&mut *conn)
        .await
        .map_err(self.err("checking for concurrent edits"))?;
        self.exec(
            conn,
            "RESET enable_seqscan",
            "checking for concurrent edits",
        )
        .await?;
        batch.check_guard(tables, &self.name, edited)
    }

    /// COPYs a table's operations into its staging table.
    async fn stage(&self, conn: &mut PgConnection, t: &SyncTable, ops: &[RowOp]) -> Result<()> {
        let columns = self.sync_columns(conn, t).await?;
        let context = format!("staging rows of '{}'", t.name);
        self.exec(conn, &ddl::staging_sql(t, &columns), &context)
            .await?;
        let n = t.columns.len();
        let mut buf = String::new();
        for op in ops {
            let (values, mask, kind): (Vec<Value>, Vec<bool>, char) = match op {
                RowOp::Upsert { values, fields } => {
                    let mut mask = vec![fields.is_none(); n];
                    for &i in fields.iter().flatten() {
                        mask[i] = true;
                    }
                    (values.clone(), mask, 'U')
                }
                RowOp::Delete { code } => {
                    let mut values = vec![Value::Null; n];
                    for (&i, v) in t.code.iter().zip(code.to_values()) {
                        values[i] = v;
                    }
                    (values, vec![false; n], 'D')
                }
            };
            for v in &values {
                copy_text(&mut buf, v);
                buf.push('\t');
            }
            for m in mask {
                buf.push_str(if m { "t\t" } else { "f\t" });
            }
            buf.push(kind);
            buf.push('\n');
        }
        let sql = format!(
            "COPY {} FROM STDIN",
            quote_ident(&ddl::staging_table(&t.name))
        );
        Self::copy_in(conn, &sql, buf)
            .await
            .map_err(self.err(&context))
    }

    /// COPYs a fresh batch straight into its table: the engine found none of
    /// these codes there, the guard saw no edit since, and the table is
    /// locked against writers, so a duplicate key means hetsync's view of the
    /// table was wrong: the batch fails and the round starts over.
    async fn insert_fresh(
        &self,
        conn: &mut PgConnection,
        t: &SyncTable,
        ops: &[RowOp],
    ) -> Result<u64> {
        let context = format!("inserting rows into '{}'", t.name);
        let mut buf = String::new();
        for op in ops {
            let RowOp::Upsert { values, .. } = op else {
                return Err(Error::Schema {
                    table: t.name.clone(),
                    message: "a fresh batch holds a delete".into(),
                });
            };
            copy_line(&mut buf, values);
        }
        let sql = format!(
            "COPY {} ({}) FROM STDIN",
            quote_ident(&t.name),
            ident_list(t.columns.iter().map(String::as_str))
        );
        match Self::copy_in(conn, &sql, buf).await {
            Ok(()) => Ok(ops.len() as u64),
            Err(e) if is_unique_violation(&e) => Err(Error::ConcurrentEdit {
                node: self.name.clone(),
                detail: format!(
                    "a row arrived in '{}' while the full sync filled it",
                    t.name
                ),
            }),
            Err(e) => Err(self.err(&context)(e)),
        }
    }

    /// Sends one COPY … FROM STDIN with the whole text-format buffer.
    async fn copy_in(conn: &mut PgConnection, sql: &str, buf: String) -> sqlx::Result<()> {
        let mut copy = conn.copy_in_raw(sql).await?;
        copy.send(buf.into_bytes()).await?;
        copy.finish().await.map(|_| ())
    }

    async fn run_apply(
        &self,
        conn: &mut PgConnection,
        table: &str,
        phase: &str,
        out: &mut ApplyOutcome,
    ) -> Result<()> {
        let counts: Vec<i64> = sqlx::query_scalar(&format!(
            "SELECT {}({})",
            quote_ident(&ddl::apply_function(table)),
            quote_literal(phase)
        ))
        .fetch_one(&mut *conn)
        .await
        .map_err(self.err(&format!("applying rows to '{table}'")))?;
        out.inserted += counts[0] as u64;
        out.updated += counts[1] as u64;
        out.deleted += counts[2] as u64;
        Ok(())
    }

    /// Writes the batch's tracking rows by COPY (xid and seq take their defaults).
    async fn write_tracking(&self, conn: &mut PgConnection, batch: &ApplyBatch) -> Result<()> {
        if batch.tracking.is_empty() {
            return Ok(());
        }
        let mut buf = String::new();
        for x in &batch.tracking {
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
            ];
            copy_line(&mut buf, &values);
        }
        let sql = format!(
            "COPY {}(table_name, code, changed_at, deleted, fields, origin) FROM STDIN",
            quote_ident(ddl::TRACKING)
        );
        Self::copy_in(conn, &sql, buf)
            .await
            .map_err(self.err("writing tracking rows"))
    }

    async fn apply_in(
        &self,
        conn: &mut PgConnection,
        tables: &[SyncTable],
        batch: &ApplyBatch,
    ) -> Result<ApplyOutcome> {
        let setting = format!(
            "SELECT set_config({}, 'on', true)",
            quote_literal(ddl::APPLY_SETTING)
        );
        self.exec(conn, &setting, "silencing capture").await?;
        let busy: Vec<&(String, Vec<RowOp>)> = batch
            .ops
            .iter()
            .filter(|(_, ops)| !ops.is_empty())
            .collect();
        // Writers that started before this lock have committed once we hold
        // it, so the guard below sees every edit of the touched tables.
        for (name, _) in &busy {
            let sql = format!(
                "LOCK TABLE {} IN SHARE ROW EXCLUSIVE MODE",
                quote_ident(name)
            );
            self.exec(conn, &sql, &format!("locking '{name}'")).await?;
        }
        if let Some(guard) = batch.guard {
            self.check_guard(conn, guard, batch, tables).await?;
        }
        let mut out = ApplyOutcome::default();
        let started = std::time::Instant::now();
        // A fresh batch goes straight into its tables; any other is staged
        // and applied by the per-table functions.
        let (staged_ms, applied_ms) = if batch.fresh {
            for (name, ops) in &busy {
                let table = SyncTable::find(tables, name, &self.name)?;
                out.inserted += self.insert_fresh(conn, table, ops).await?;
            }
            let ms = started.elapsed().as_millis();
            (ms, ms)
        } else {
            for (name, ops) in &busy {
                self.stage(conn, SyncTable::find(tables, name, &self.name)?, ops)
                    .await?;
            }
            let staged_ms = started.elapsed().as_millis();
            // Deletes child-first (reverse table order), then upserts parent-first.
            for (name, _) in busy.iter().rev() {
                self.run_apply(conn, name, "D", &mut out).await?;
            }
            for (name, _) in &busy {
                self.run_apply(conn, name, "U", &mut out).await?;
            }
            (staged_ms, started.elapsed().as_millis())
        };
        self.write_tracking(conn, batch).await?;
        tracing::debug!(
            node = %self.name,
            staged_ms,
            applied_ms,
            tracked_ms = started.elapsed().as_millis(),
            "batch phases (milliseconds since staging started)"
        );
        self.record_peer(conn, batch).await?;
        Ok(out)
    }

    /// Records the batch's peer watermark, if it carries one.
    async fn record_peer(&self, conn: &mut PgConnection, batch: &ApplyBatch) -> Result<()> {
        if let Some(mark) = &batch.peer {
            sqlx::query(&format!(
                "INSERT INTO {}(peer, watermark) VALUES ($1, $2) \
                 ON CONFLICT (peer) DO UPDATE SET watermark = excluded.watermark, updated_at = now()",
                quote_ident(ddl::PEERS)
            ))
            .bind(&mark.peer)
            .bind(mark.watermark.0)
            .execute(&mut *conn)
            .await
            .map_err(self.err("recording the peer watermark"))?;
        }
        Ok(())
    }
}

/// True for PostgreSQL's unique_violation (SQLSTATE 23505).
fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.code().as_deref() == Some("23505"))
}

/// A session-level advisory lock held by a dedicated connection; closing the
/// connection (or the process dying) releases it.
struct AdvisoryLock {
    _held_by: std::sync::Mutex<PgConnection>,
}

#[async_trait]
impl Apply for PostgresNode {
    async fn apply(&self, tables: &[SyncTable], batch: &ApplyBatch) -> Result<ApplyOutcome> {
        let mut conn = self.conn.lock().await;
        let mut tx = self.begin(&mut conn, "BEGIN").await?;
        // On error the transaction is dropped and rolled back: all or nothing.
        let out = self.apply_in(&mut tx, tables, batch).await?;
        tx.commit()
            .await
            .map_err(self.err("committing the batch"))?;
        Ok(out)
    }

    async fn fetch(&self, table: &SyncTable, codes: &[CombinedCode]) -> Result<Vec<Vec<Value>>> {
        let mut conn = self.conn.lock().await;
        self.fetch_on(&mut conn, table, codes).await
    }

    async fn scan(
        &self,
        table: &SyncTable,
        after: Option<&CombinedCode>,
        limit: usize,
    ) -> Result<Vec<Vec<Value>>> {
        let mut conn = self.conn.lock().await;
        let columns = self.sync_columns(&mut conn, table).await?;
        let keys = ident_list(table.code_columns());
        let arity = table.code.len();
        let filter = match after {
            Some(_) => format!(
                "WHERE ({keys}) > ({})",
                (1..=arity)
                    .map(|i| format!("${i}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            None => String::new(),
        };
        let limit_param = if after.is_some() { arity + 1 } else { 1 };
        let sql = format!(
            "SELECT {} FROM {} {filter} ORDER BY {keys} LIMIT ${limit_param}",
            select_list(&columns),
            quote_ident(&table.name)
        );
        let mut q = sqlx::query(&sql);
        for part in after.map(|c| c.0.as_slice()).unwrap_or_default() {
            q = bind_part(q, part);
        }
        let rows = q
            .bind(limit as i64)
            .fetch_all(&mut *conn)
            .await
            .map_err(self.err(&format!("reading table '{}'", table.name)))?;
        rows.iter()
            .map(|r| decode_row(r, &columns))
            .collect::<std::result::Result<_, _>>()
            .map_err(self.err(&format!("decoding rows of '{}'", table.name)))
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
        let mut conn = self.extra_connection().await?;
        sqlx::query("SELECT pg_advisory_lock(hashtext('hetsync integration'))")
            .execute(&mut conn)
            .await
            .map_err(self.err("taking the integration lock"))?;
        Ok(IntegrationLock(Box::new(AdvisoryLock {
            _held_by: std::sync::Mutex::new(conn),
        })))
    }
}
