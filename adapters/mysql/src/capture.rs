//! Capture on MariaDB/MySQL: install/uninstall, the commit barrier, reading
//! changes by tracking sequence.

use crate::connection::{code, error_number, MysqlNode};
use crate::ddl::{self, ident, literal};
use async_trait::async_trait;
use hetsync_core::adapter::Capture;
use hetsync_core::change::{group_events, ChangeSet, TrackingRow, TrackingTuple, Watermark};
use hetsync_core::schema::SyncTable;
use hetsync_core::{Error, Result};
use sqlx::mysql::MySqlConnection;
use sqlx::Executor;

/// How long the commit barrier waits for open transactions (seconds). While
/// it waits, new writes to synced tables wait behind it, so it stays short.
const BARRIER_WAIT_SECS: u32 = 2;

/// The result of the commit barrier.
enum Barrier {
    /// Every tracking row up to this sequence is committed (or rolled back for good).
    Final(i64),
    /// A transaction stayed open longer than the barrier waits.
    Busy,
}

impl MysqlNode {
    pub(crate) async fn installed_on(&self, conn: &mut MySqlConnection) -> Result<bool> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = ?",
        )
        .bind(ddl::TRACKING)
        .fetch_one(&mut *conn)
        .await
        .map_err(self.err("looking for the tracking table"))?;
        Ok(n > 0)
    }

    async fn require_installed(&self, conn: &mut MySqlConnection) -> Result<()> {
        if self.installed_on(conn).await? {
            Ok(())
        } else {
            Err(Error::Deployment(format!(
                "node '{}' has no hetsync tracking table: run `hetsync install` first",
                self.name
            )))
        }
    }

    /// Drops every trigger and procedure hetsync made in this database,
    /// found by name (a failed install may have left some unrecorded).
    async fn drop_capture(&self, conn: &mut MySqlConnection) -> Result<()> {
        let ours = "\\_hetsync\\_%";
        let triggers: Vec<String> = sqlx::query_scalar(
            "SELECT CAST(trigger_name AS CHAR) FROM information_schema.triggers \
             WHERE trigger_schema = DATABASE() AND trigger_name LIKE ?",
        )
        .bind(ours)
        .fetch_all(&mut *conn)
        .await
        .map_err(self.err("listing hetsync triggers"))?;
        for name in triggers {
            let sql = format!("DROP TRIGGER IF EXISTS {}", ident(&name));
            self.exec(conn, &sql, &format!("dropping trigger '{name}'"))
                .await?;
        }
        let procedures: Vec<String> = sqlx::query_scalar(
            "SELECT CAST(routine_name AS CHAR) FROM information_schema.routines \
             WHERE routine_schema = DATABASE() AND routine_type = 'PROCEDURE' AND routine_name LIKE ?",
        )
        .bind(ours)
        .fetch_all(&mut *conn)
        .await
        .map_err(self.err("listing hetsync procedures"))?;
        for name in procedures {
            let sql = format!("DROP PROCEDURE IF EXISTS {}", ident(&name));
            self.exec(conn, &sql, &format!("dropping procedure '{name}'"))
                .await?;
        }
        Ok(())
    }

    /// Waits until no transaction that wrote tracking rows is still open, then
    /// reads the last sequence. `LOCK TABLES … READ` cannot be granted while
    /// any transaction holds the table's write metadata lock, which every
    /// writer keeps until it ends; a writer that starts later gets a greater
    /// sequence, since auto-increment values only grow.
    async fn barrier(&self, conn: &mut MySqlConnection) -> Result<Barrier> {
        self.exec(
            conn,
            &format!("SET SESSION lock_wait_timeout = {BARRIER_WAIT_SECS}"),
            "preparing the commit barrier",
        )
        .await?;
        let locked = conn
            .execute(format!("LOCK TABLES {} READ", ident(ddl::TRACKING)).as_str())
            .await;
        let result = match locked {
            Err(e) if error_number(&e) == Some(code::LOCK_WAIT_TIMEOUT) => Ok(Barrier::Busy),
            Err(e) => Err(self.err("waiting for open transactions")(e)),
            Ok(_) => {
                let last = sqlx::query_scalar::<_, i64>(&format!(
                    "SELECT CAST(COALESCE(MAX(seq), 0) AS SIGNED) FROM {}",
                    ident(ddl::TRACKING)
                ))
                .fetch_one(&mut *conn)
                .await
                .map_err(self.err("reading the last tracking sequence"));
                self.exec(conn, "UNLOCK TABLES", "ending the commit barrier")
                    .await?;
                last.map(Barrier::Final)
            }
        };
        self.exec(
            conn,
            "SET SESSION lock_wait_timeout = DEFAULT",
            "ending the commit barrier",
        )
        .await?;
        result
    }

    fn busy_warning(&self) {
        tracing::warn!(
            node = %self.name,
            "a transaction that changed synced tables has been open for more than {BARRIER_WAIT_SECS} s; \
             its changes and later ones are read once it ends"
        );
    }
}

#[async_trait]
impl Capture for MysqlNode {
    async fn install(&self, tables: &[SyncTable]) -> Result<()> {
        self.columns.clear();
        let mut conn = self.conn.lock().await;
        // DDL commits implicitly in MySQL: install is made idempotent instead
        // of atomic, and one installer at a time holds a named lock.
        let got: Option<i64> =
            sqlx::query_scalar("SELECT GET_LOCK(CONCAT('hetsync install ', DATABASE()), 60)")
                .fetch_one(&mut *conn)
                .await
                .map_err(self.err("locking install"))?;
        if got != Some(1) {
            return Err(Error::Deployment(format!(
                "node '{}': another hetsync install is running on this database",
                self.name
            )));
        }
        let result = self.install_locked(&mut conn, tables).await;
        let _ = sqlx::query("SELECT RELEASE_LOCK(CONCAT('hetsync install ', DATABASE()))")
            .execute(&mut *conn)
            .await;
        result
    }

    async fn uninstall(&self) -> Result<()> {
        self.columns.clear();
        let mut conn = self.conn.lock().await;
        if !self.installed_on(&mut conn).await? {
            return Ok(());
        }
        self.drop_capture(&mut conn).await?;
        for meta in [ddl::INSTALLED, ddl::PEERS, ddl::TRACKING] {
            self.exec(
                &mut conn,
                &format!("DROP TABLE IF EXISTS {}", ident(meta)),
                "dropping hetsync tables",
            )
            .await?;
        }
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
        let upto = match self.barrier(&mut conn).await? {
            Barrier::Final(last) => last.max(since.0),
            Barrier::Busy => {
                self.busy_warning();
                since.0
            }
        };
        // One snapshot for the events and the rows, taken after the barrier
        // so that every change up to `upto` is in it.
        self.exec(
            &mut conn,
            "START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY",
            "starting the read transaction",
        )
        .await?;
        let result = self
            .read_in_snapshot(&mut conn, tables, since, upto, exclude_origin)
            .await;
        let ended = self
            .exec(&mut conn, "COMMIT", "ending the read transaction")
            .await;
        let changes = result?;
        ended?;
        Ok(ChangeSet {
            upto: Watermark(upto),
            tables: changes,
        })
    }

    async fn position(&self) -> Result<Watermark> {
        let mut conn = self.conn.lock().await;
        match self.barrier(&mut conn).await? {
            Barrier::Final(last) => Ok(Watermark(last)),
            Barrier::Busy => Err(Error::Deployment(format!(
                "node '{}': a transaction that changed synced tables has been open for more than \
                 {BARRIER_WAIT_SECS} s; the full sync starts once it ends",
                self.name
            ))),
        }
    }

    async fn count_events(&self, since: Watermark, exclude_origin: Option<&str>) -> Result<u64> {
        let mut conn = self.conn.lock().await;
        let n: i64 = sqlx::query_scalar(&format!(
            "SELECT COUNT(*) FROM {} WHERE seq > ? AND (? IS NULL OR origin IS NULL OR origin <> ?)",
            ident(ddl::TRACKING)
        ))
        .bind(since.0)
        .bind(exclude_origin)
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
            "SELECT watermark FROM {} WHERE peer = ?",
            ident(ddl::PEERS)
        ))
        .bind(peer)
        .fetch_optional(&mut *conn)
        .await
        .map_err(self.err("reading peer watermarks"))?;
        Ok(mark.map(Watermark))
    }
}

impl MysqlNode {
    async fn install_locked(&self, conn: &mut MySqlConnection, tables: &[SyncTable]) -> Result<()> {
        for sql in ddl::META_TABLES {
            self.exec(conn, sql, "creating the hetsync tables").await?;
        }
        self.drop_capture(conn).await?;
        self.exec(
            conn,
            &format!("DELETE FROM {}", ident(ddl::INSTALLED)),
            "resetting the installed list",
        )
        .await?;
        for table in tables {
            let context = format!("installing capture on '{}'", table.name);
            let columns = self.sync_columns(conn, table).await?;
            self.exec(conn, &ddl::apply_procedure_sql(table, &columns), &context)
                .await?;
            for sql in ddl::triggers(table, &columns) {
                self.exec(conn, &sql, &context).await?;
            }
            let record = format!(
                "INSERT INTO {}(table_name, installed_at) VALUES ({}, UTC_TIMESTAMP(6))",
                ident(ddl::INSTALLED),
                literal(&table.name)
            );
            self.exec(conn, &record, &context).await?;
        }
        Ok(())
    }

    async fn read_in_snapshot(
        &self,
        conn: &mut MySqlConnection,
        tables: &[SyncTable],
        since: Watermark,
        upto: i64,
        exclude_origin: Option<&str>,
    ) -> Result<std::collections::HashMap<String, hetsync_core::change::TableChanges>> {
        let rows: Vec<TrackingTuple> = sqlx::query_as(&format!(
            "SELECT seq, CAST(table_name AS CHAR), CAST(code AS CHAR), \
                    CAST(TIMESTAMPDIFF(MICROSECOND, '1970-01-01 00:00:00', changed_at) AS SIGNED), \
                    deleted, CAST(fields AS CHAR), CAST(origin AS CHAR), CAST(user_name AS CHAR) \
             FROM {} WHERE seq > ? AND seq <= ? \
             AND (? IS NULL OR origin IS NULL OR origin <> ?) ORDER BY seq",
            ident(ddl::TRACKING)
        ))
        .bind(since.0)
        .bind(upto)
        .bind(exclude_origin)
        .bind(exclude_origin)
        .fetch_all(&mut *conn)
        .await
        .map_err(self.err("reading the tracking table"))?;
        let rows = rows.into_iter().map(TrackingRow::from).collect();
        let mut changes = group_events(tables, rows, &self.name)?;
        for table in tables {
            let Some(tc) = changes.get_mut(&table.name) else {
                continue;
            };
            let rows = self.fetch_on(conn, table, &tc.changed_codes()).await?;
            tc.add_rows(table, rows, &self.name)?;
        }
        Ok(changes)
    }
}
