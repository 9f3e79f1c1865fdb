//! Apply on MariaDB/MySQL: one READ COMMITTED transaction per batch with
//! capture silenced by the session variable `@hetsync_apply`; rows go by
//! multi-row `INSERT` into staging tables and the per-table procedures made
//! at install apply them set-based. The guard is checked after the rows are
//! written: the written rows are locked by then, so an application edit to
//! one of them has either committed (and the guard sees it) or waits for us.

use crate::connection::{code, error_number, MysqlNode};
use crate::ddl::{self, ident};
use crate::values::{bind_part, bind_value, decode_row, placeholders, select_list, MAX_PARAMS};
use async_trait::async_trait;
use hetsync_core::adapter::{Apply, IntegrationLock};
use hetsync_core::change::{ApplyBatch, ApplyOutcome, RowOp, Watermark};
use hetsync_core::code::CombinedCode;
use hetsync_core::schema::SyncTable;
use hetsync_core::value::Value;
use hetsync_core::{Error, Result};
use sqlx::mysql::MySqlConnection;
use sqlx::Executor;

/// Codes per lookup query.
const CODES_PER_QUERY: usize = 5_000;
/// Rows per staging `INSERT` (fewer when the placeholder limit demands).
const ROWS_PER_INSERT: usize = 2_000;

impl MysqlNode {
    pub(crate) async fn fetch_on(
        &self,
        conn: &mut MySqlConnection,
        table: &SyncTable,
        codes: &[CombinedCode],
    ) -> Result<Vec<Vec<Value>>> {
        if codes.is_empty() {
            return Ok(Vec::new());
        }
        let columns = self.sync_columns(conn, table).await?;
        let arity = table.code.len();
        let keys = table
            .code_columns()
            .map(|c| format!("t.{}", ident(c)))
            .collect::<Vec<_>>()
            .join(", ");
        let mut out = Vec::with_capacity(codes.len());
        for chunk in codes.chunks(CODES_PER_QUERY.min(MAX_PARAMS / arity)) {
            let tuples = vec![placeholders(arity); chunk.len()].join(", ");
            let sql = format!(
                "SELECT {} FROM {} AS t WHERE ({keys}) IN ({tuples})",
                select_list(&columns),
                ident(&table.name),
            );
            let mut q = sqlx::query(&sql);
            for code in chunk {
                for part in &code.0 {
                    q = bind_part(q, part);
                }
            }
            let rows = q
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

    /// Refuses the batch when a row it touches was edited after `guard`.
    async fn check_guard(
        &self,
        conn: &mut MySqlConnection,
        guard: Watermark,
        batch: &ApplyBatch,
        tables: &[SyncTable],
    ) -> Result<()> {
        let edited: Vec<(String, String)> = sqlx::query_as(&format!(
            "SELECT CAST(table_name AS CHAR), CAST(code AS CHAR) FROM {} WHERE seq > ? AND origin IS NULL",
            ident(ddl::TRACKING)
        ))
        .bind(guard.0)
        .fetch_all(&mut *conn)
        .await
        .map_err(self.err("checking for concurrent edits"))?;
        batch.check_guard(tables, &self.name, edited)
    }

    /// Fills a table's staging table with its operations.
    async fn stage(&self, conn: &mut MySqlConnection, t: &SyncTable, ops: &[RowOp]) -> Result<()> {
        let context = format!("staging rows of '{}'", t.name);
        let stage = ident(&ddl::staging_table(&t.name));
        self.exec(conn, &format!("DELETE FROM {stage}"), &context)
            .await?;
        let n = t.columns.len();
        let per_row = 2 * n + 1;
        let names: Vec<String> = (0..n)
            .map(|i| format!("c{i}"))
            .chain((0..n).map(|i| format!("m{i}")))
            .chain(std::iter::once("op".to_string()))
            .collect();
        for chunk in ops.chunks(ROWS_PER_INSERT.min(MAX_PARAMS / per_row)) {
            let sql = format!(
                "INSERT INTO {stage} ({}) VALUES {}",
                names.join(", "),
                vec![placeholders(per_row); chunk.len()].join(", ")
            );
            let mut q = sqlx::query(&sql);
            for op in chunk {
                match op {
                    RowOp::Upsert { values, fields } => {
                        if values.len() != n {
                            return Err(Error::Deployment(format!(
                                "row for '{}' has {} values, the table has {n} columns",
                                t.name,
                                values.len()
                            )));
                        }
                        for v in values {
                            q = bind_value(q, v);
                        }
                        let mut mask = vec![fields.is_none(); n];
                        for &i in fields.iter().flatten() {
                            mask[i] = true;
                        }
                        for m in mask {
                            q = q.bind(m);
                        }
                        q = q.bind("U");
                    }
                    RowOp::Delete { code } => {
                        let mut values = vec![Value::Null; n];
                        for (&i, v) in t.code.iter().zip(code.to_values()) {
                            values[i] = v;
                        }
                        for v in &values {
                            q = bind_value(q, v);
                        }
                        for _ in 0..n {
                            q = q.bind(false);
                        }
                        q = q.bind("D");
                    }
                }
            }
            q.execute(&mut *conn).await.map_err(self.err(&context))?;
        }
        Ok(())
    }

    /// Runs one phase of a table's apply procedure; driver errors come back
    /// raw so the caller can tell a race with the application from a fault.
    async fn run_apply(
        &self,
        conn: &mut MySqlConnection,
        table: &str,
        phase: &str,
        out: &mut ApplyOutcome,
    ) -> std::result::Result<(), sqlx::Error> {
        let call = format!(
            "CALL {}('{phase}', @hetsync_ins, @hetsync_upd, @hetsync_del)",
            ident(&ddl::apply_procedure(table))
        );
        conn.execute(call.as_str()).await?;
        let (ins, upd, del): (i64, i64, i64) = sqlx::query_as(
            "SELECT CAST(@hetsync_ins AS SIGNED), CAST(@hetsync_upd AS SIGNED), CAST(@hetsync_del AS SIGNED)",
        )
        .fetch_one(&mut *conn)
        .await?;
        out.inserted += ins as u64;
        out.updated += upd as u64;
        out.deleted += del as u64;
        Ok(())
    }

    /// Turns an error of an apply procedure into the error to report.
    async fn apply_failed(
        &self,
        conn: &mut MySqlConnection,
        table: &str,
        e: sqlx::Error,
        tables: &[SyncTable],
        batch: &ApplyBatch,
    ) -> Error {
        match error_number(&e) {
            // The whole transaction is gone; the round retries.
            Some(code::DEADLOCK) => Error::ConcurrentEdit {
                node: self.name.clone(),
                detail: format!("deadlock with another transaction while writing '{table}'"),
            },
            // An application inserted the same code meanwhile: that is an
            // edit the guard reports; any other duplicate is a real error.
            Some(code::DUPLICATE_KEY) => match batch.guard {
                Some(guard) => match self.check_guard(conn, guard, batch, tables).await {
                    Err(edit @ Error::ConcurrentEdit { .. }) => edit,
                    _ => self.err(&format!("applying rows to '{table}'"))(e),
                },
                None => self.err(&format!("applying rows to '{table}'"))(e),
            },
            _ => self.err(&format!("applying rows to '{table}'"))(e),
        }
    }

    async fn write_tracking(&self, conn: &mut MySqlConnection, batch: &ApplyBatch) -> Result<()> {
        for chunk in batch.tracking.chunks(ROWS_PER_INSERT) {
            let row = "(?, ?, TIMESTAMPADD(MICROSECOND, ?, '1970-01-01 00:00:00'), ?, ?, ?)";
            let sql = format!(
                "INSERT INTO {} (table_name, code, changed_at, deleted, fields, origin) VALUES {}",
                ident(ddl::TRACKING),
                vec![row; chunk.len()].join(", ")
            );
            let mut q = sqlx::query(&sql);
            for e in chunk {
                q = q
                    .bind(e.table.clone())
                    .bind(e.code.to_json())
                    .bind(e.stamp.time)
                    .bind(e.deleted)
                    .bind(
                        e.fields
                            .as_ref()
                            .map(|f| serde_json::to_string(f).expect("strings serialize")),
                    )
                    .bind(e.stamp.origin.clone());
            }
            q.execute(&mut *conn)
                .await
                .map_err(self.err("writing tracking rows"))?;
        }
        Ok(())
    }

    /// Everything of a batch inside the open transaction.
    async fn apply_in(
        &self,
        conn: &mut MySqlConnection,
        tables: &[SyncTable],
        batch: &ApplyBatch,
        busy: &[(&SyncTable, &[RowOp])],
    ) -> Result<ApplyOutcome> {
        let mut out = ApplyOutcome::default();
        for (table, ops) in busy {
            self.stage(conn, table, ops).await?;
        }
        // Deletes child-first (reverse table order), then upserts parent-first.
        let phases = busy
            .iter()
            .rev()
            .map(|(t, _)| (t, "D"))
            .chain(busy.iter().map(|(t, _)| (t, "U")));
        for (table, phase) in phases {
            if let Err(e) = self.run_apply(conn, &table.name, phase, &mut out).await {
                return Err(self.apply_failed(conn, &table.name, e, tables, batch).await);
            }
        }
        if let Some(guard) = batch.guard {
            self.check_guard(conn, guard, batch, tables).await?;
        }
        self.write_tracking(conn, batch).await?;
        if let Some(mark) = &batch.peer {
            sqlx::query(&format!(
                "INSERT INTO {} (peer, watermark, updated_at) VALUES (?, ?, UTC_TIMESTAMP(6)) \
                 ON DUPLICATE KEY UPDATE watermark = VALUES(watermark), updated_at = VALUES(updated_at)",
                ident(ddl::PEERS)
            ))
            .bind(&mark.peer)
            .bind(mark.watermark.0)
            .execute(&mut *conn)
            .await
            .map_err(self.err("recording the peer watermark"))?;
        }
        Ok(out)
    }

    /// Staging tables, the transaction and capture silencing around [`Self::apply_in`].
    async fn apply_batch(
        &self,
        conn: &mut MySqlConnection,
        tables: &[SyncTable],
        batch: &ApplyBatch,
    ) -> Result<ApplyOutcome> {
        let mut busy = Vec::new();
        for (name, ops) in batch.ops.iter().filter(|(_, ops)| !ops.is_empty()) {
            let table = SyncTable::find(tables, name, &self.name)?;
            let cols = self.sync_columns(conn, table).await?;
            self.exec(
                conn,
                &ddl::staging_sql(table, &cols),
                &format!("creating the staging table of '{name}'"),
            )
            .await?;
            busy.push((table, ops.as_slice()));
        }
        self.exec(
            conn,
            "SET TRANSACTION ISOLATION LEVEL READ COMMITTED",
            "starting the batch",
        )
        .await?;
        self.exec(conn, "BEGIN", "starting the batch").await?;
        match self.apply_in(conn, tables, batch, &busy).await {
            Ok(out) => {
                self.exec(conn, "COMMIT", "committing the batch").await?;
                Ok(out)
            }
            Err(e) => {
                // All or nothing: the error is what matters, not the rollback's.
                let _ = conn.execute("ROLLBACK").await;
                Err(e)
            }
        }
    }
}

/// A named lock held by a dedicated connection; closing the connection (or
/// the process dying) releases it.
struct NamedLock {
    _held_by: std::sync::Mutex<MySqlConnection>,
}

/// The integration lock's name: per database, within MySQL's 64 characters.
const INTEGRATION_LOCK: &str = "CONCAT('hetsync integration ', MD5(DATABASE()))";

#[async_trait]
impl Apply for MysqlNode {
    async fn apply(&self, tables: &[SyncTable], batch: &ApplyBatch) -> Result<ApplyOutcome> {
        let mut conn = self.conn.lock().await;
        self.exec(&mut conn, "SET @hetsync_apply = 1", "silencing capture")
            .await?;
        let result = self.apply_batch(&mut conn, tables, batch).await;
        let unsilenced = self
            .exec(&mut conn, "SET @hetsync_apply = NULL", "ending the batch")
            .await;
        let out = result?;
        unsilenced?;
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
        let keys: Vec<String> = table
            .code_columns()
            .map(|c| format!("t.{}", ident(c)))
            .collect();
        // (k1, k2, k3) > (a, b, c) spelled out, which every optimizer turns
        // into an index range.
        let filter = match after {
            Some(_) => {
                let terms: Vec<String> = (0..keys.len())
                    .map(|i| {
                        let mut term: Vec<String> =
                            keys[..i].iter().map(|k| format!("{k} = ?")).collect();
                        term.push(format!("{} > ?", keys[i]));
                        format!("({})", term.join(" AND "))
                    })
                    .collect();
                format!("WHERE {}", terms.join(" OR "))
            }
            None => String::new(),
        };
        let sql = format!(
            "SELECT {} FROM {} AS t {filter} ORDER BY {} LIMIT ?",
            select_list(&columns),
            ident(&table.name),
            keys.join(", ")
        );
        let mut q = sqlx::query(&sql);
        if let Some(code) = after {
            for i in 0..code.0.len() {
                for part in &code.0[..=i] {
                    q = bind_part(q, part);
                }
            }
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
        let n: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {}", ident(&table.name)))
            .fetch_one(&mut *conn)
            .await
            .map_err(self.err(&format!("counting rows of '{}'", table.name)))?;
        Ok(n as u64)
    }

    async fn lock_integration(&self) -> Result<IntegrationLock> {
        let mut conn = self.extra_connection().await?;
        let got: Option<i64> =
            sqlx::query_scalar(&format!("SELECT GET_LOCK({INTEGRATION_LOCK}, 31536000)"))
                .fetch_one(&mut conn)
                .await
                .map_err(self.err("taking the integration lock"))?;
        if got != Some(1) {
            return Err(Error::Deployment(format!(
                "node '{}': the integration lock was not granted",
                self.name
            )));
        }
        Ok(IntegrationLock(Box::new(NamedLock {
            _held_by: std::sync::Mutex::new(conn),
        })))
    }
}
