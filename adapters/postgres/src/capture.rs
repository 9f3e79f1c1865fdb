//! Capture on PostgreSQL: install/uninstall, reading changes by transaction id.

use crate::connection::PostgresNode;
use crate::ddl;
use async_trait::async_trait;
use hetsync_core::adapter::Capture;
use hetsync_core::change::{group_events, ChangeSet, TrackingRow, TrackingTuple, Watermark};
use hetsync_core::schema::SyncTable;
use hetsync_core::sql::{quote_ident, quote_literal};
use hetsync_core::{Error, Result};
use sqlx::PgConnection;

/// The oldest transaction still running: every change of an older
/// transaction is committed or rolled back, so reading up to it is final.
const XMIN: &str = "pg_snapshot_xmin(pg_current_snapshot())::text::bigint";

impl PostgresNode {
    pub(crate) async fn installed_on(&self, conn: &mut PgConnection) -> Result<bool> {
        let found: Option<String> = sqlx::query_scalar("SELECT to_regclass(quote_ident($1))::text")
            .bind(ddl::TRACKING)
            .fetch_one(&mut *conn)
            .await
            .map_err(self.err("looking for the tracking table"))?;
        Ok(found.is_some())
    }

    async fn require_installed(&self, conn: &mut PgConnection) -> Result<()> {
        if self.installed_on(conn).await? {
            Ok(())
        } else {
            Err(Error::Deployment(format!(
                "node '{}' has no hetsync tracking table: run `hetsync install` first",
                self.name
            )))
        }
    }

    pub(crate) async fn exec(
        &self,
        conn: &mut PgConnection,
        sql: &str,
        context: &str,
    ) -> Result<()> {
        sqlx::query(sql)
            .execute(&mut *conn)
            .await
            .map_err(self.err(context))?;
        Ok(())
    }

    async fn installed_tables(&self, conn: &mut PgConnection) -> Result<Vec<String>> {
        sqlx::query_scalar(&format!(
            "SELECT table_name FROM {}",
            quote_ident(ddl::INSTALLED)
        ))
        .fetch_all(&mut *conn)
        .await
        .map_err(self.err("listing installed tables"))
    }

    /// Drops a table's triggers and functions (the table may be gone).
    async fn drop_capture(&self, conn: &mut PgConnection, table: &str) -> Result<()> {
        let exists: Option<String> =
            sqlx::query_scalar("SELECT to_regclass(quote_ident($1))::text")
                .bind(table)
                .fetch_one(&mut *conn)
                .await
                .map_err(self.err("looking up a table"))?;
        if exists.is_some() {
            for op in ddl::OPERATIONS {
                let sql = format!(
                    "DROP TRIGGER IF EXISTS {} ON {}",
                    quote_ident(&ddl::trigger_name(op)),
                    quote_ident(table)
                );
                self.exec(conn, &sql, &format!("dropping triggers of '{table}'"))
                    .await?;
            }
        }
        for f in [
            format!("{}()", quote_ident(&ddl::capture_function(table))),
            format!("{}(\"char\")", quote_ident(&ddl::apply_function(table))),
        ] {
            self.exec(
                conn,
                &format!("DROP FUNCTION IF EXISTS {f}"),
                &format!("dropping functions of '{table}'"),
            )
            .await?;
        }
        Ok(())
    }
}

#[async_trait]
impl Capture for PostgresNode {
    async fn install(&self, tables: &[SyncTable]) -> Result<()> {
        self.columns.clear();
        let mut conn = self.conn.lock().await;
        let mut tx = self.begin(&mut conn, "BEGIN").await?;
        // One installer at a time per database.
        self.exec(
            &mut tx,
            "SELECT pg_advisory_xact_lock(hashtext('hetsync install'))",
            "locking install",
        )
        .await?;
        for sql in ddl::META_TABLES {
            self.exec(&mut tx, sql, "creating the hetsync tables")
                .await?;
        }
        for old in self.installed_tables(&mut tx).await? {
            self.drop_capture(&mut tx, &old).await?;
        }
        self.exec(
            &mut tx,
            &format!("DELETE FROM {}", quote_ident(ddl::INSTALLED)),
            "resetting the installed list",
        )
        .await?;
        for table in tables {
            let context = format!("installing capture on '{}'", table.name);
            self.sync_columns(&mut tx, table).await?;
            self.exec(&mut tx, &ddl::capture_function_sql(table), &context)
                .await?;
            self.exec(&mut tx, &ddl::apply_function_sql(table), &context)
                .await?;
            for sql in ddl::triggers(table) {
                self.exec(&mut tx, &sql, &context).await?;
            }
            let record = format!(
                "INSERT INTO {}(table_name) VALUES ({})",
                quote_ident(ddl::INSTALLED),
                quote_literal(&table.name)
            );
            self.exec(&mut tx, &record, &context).await?;
        }
        tx.commit().await.map_err(self.err("committing install"))?;
        Ok(())
    }

    async fn uninstall(&self) -> Result<()> {
        self.columns.clear();
        let mut conn = self.conn.lock().await;
        if !self.installed_on(&mut conn).await? {
            return Ok(());
        }
        let mut tx = self.begin(&mut conn, "BEGIN").await?;
        for table in self.installed_tables(&mut tx).await? {
            self.drop_capture(&mut tx, &table).await?;
        }
        for meta in [ddl::INSTALLED, ddl::PEERS, ddl::TRACKING] {
            self.exec(
                &mut tx,
                &format!("DROP TABLE IF EXISTS {}", quote_ident(meta)),
                "dropping hetsync tables",
            )
            .await?;
        }
        tx.commit()
            .await
            .map_err(self.err("committing uninstall"))?;
        Ok(())
    }

    async fn is_installed(&self) -> Result<bool> {
        let mut conn = self.conn.lock().await;
        self.installed_on(&mut conn).await
    }

    async fn read_changes(
        &self,
        tables: &[SyncTable],
        since: Watermark,
        exclude_origin: Option<&str>,
    ) -> Result<ChangeSet> {
        let mut conn = self.conn.lock().await;
        self.require_installed(&mut conn).await?;
        // One snapshot for the events and the rows.
        let mut tx = self
            .begin(&mut conn, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            .await?;
        let upto: i64 = sqlx::query_scalar(&format!("SELECT {XMIN}"))
            .fetch_one(&mut *tx)
            .await
            .map_err(self.err("reading the snapshot"))?;
        let rows: Vec<TrackingTuple> =
            sqlx::query_as(&format!(
                "SELECT seq, table_name, code::text, (extract(epoch FROM changed_at) * 1000000)::bigint, deleted, fields::text, origin, user_name \
                 FROM {} WHERE xid >= $1::text::xid8 AND xid < $2::text::xid8 \
                 AND ($3::text IS NULL OR origin IS NULL OR origin <> $3) ORDER BY seq",
                quote_ident(ddl::TRACKING)
            ))
            .bind(since.0.to_string())
            .bind(upto.to_string())
            .bind(exclude_origin)
            .fetch_all(&mut *tx)
            .await
            .map_err(self.err("reading the tracking table"))?;
        let rows = rows.into_iter().map(TrackingRow::from).collect();
        let mut changes = group_events(tables, rows, &self.name)?;
        for table in tables {
            let Some(tc) = changes.get_mut(&table.name) else {
                continue;
            };
            let rows = self.fetch_on(&mut tx, table, &tc.changed_codes()).await?;
            tc.add_rows(table, rows, &self.name)?;
        }
        tx.commit()
            .await
            .map_err(self.err("ending the read transaction"))?;
        Ok(ChangeSet {
            upto: Watermark(upto),
            tables: changes,
        })
    }

    async fn position(&self) -> Result<Watermark> {
        let mut conn = self.conn.lock().await;
        let xmin: i64 = sqlx::query_scalar(&format!("SELECT {XMIN}"))
            .fetch_one(&mut *conn)
            .await
            .map_err(self.err("reading the snapshot"))?;
        Ok(Watermark(xmin))
    }

    async fn count_events(&self, since: Watermark, exclude_origin: Option<&str>) -> Result<u64> {
        let mut conn = self.conn.lock().await;
        let n: i64 = sqlx::query_scalar(&format!(
            "SELECT count(*) FROM {} WHERE xid >= $1::text::xid8 AND ($2::text IS NULL OR origin IS NULL OR origin <> $2)",
            quote_ident(ddl::TRACKING)
        ))
        .bind(since.0.to_string())
        .bind(exclude_origin)
        .fetch_one(&mut *conn)
        .await
        .map_err(self.err("counting tracking rows"))?;
        Ok(n as u64)
    }

    async fn peer_watermark(&self, peer: &str) -> Result<Option<Watermark>> {
        let mut conn = self.conn.lock().await;
        self.require_installed(&mut conn).await?;
        let mark: Option<i64> = sqlx::query_scalar(&format!(
            "SELECT watermark FROM {} WHERE peer = $1",
            quote_ident(ddl::PEERS)
        ))
        .bind(peer)
        .fetch_optional(&mut *conn)
        .await
        .map_err(self.err("reading peer watermarks"))?;
        Ok(mark.map(Watermark))
    }
}
