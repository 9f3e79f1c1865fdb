//! Capture on SQLite: install/uninstall of the tracking table and triggers,
//! reading changes.

use crate::connection::SqliteNode;
use crate::ddl;
use crate::values::decode_row;
use async_trait::async_trait;
use hetsync_core::adapter::Capture;
use hetsync_core::change::{group_events, parse_micros, ChangeSet, TrackingRow, Watermark};
use hetsync_core::schema::SyncTable;
use hetsync_core::sql::quote_ident;
use hetsync_core::{Error, Result};
use sqlx::{Connection, SqliteConnection};

/// Declared types whose affinity cannot identify a row (paper 001's combined
/// code must be exact): REAL affinity and BLOB.
fn unusable_code_type(declared: &str) -> bool {
    let t = declared.to_ascii_uppercase();
    !t.contains("INT")
        && !t.contains("CHAR")
        && !t.contains("CLOB")
        && !t.contains("TEXT")
        && (t.contains("REAL") || t.contains("FLOA") || t.contains("DOUB") || t.contains("BLOB"))
}

impl SqliteNode {
    async fn position_on(&self, conn: &mut SqliteConnection) -> Result<Watermark> {
        let seq: Option<i64> =
            sqlx::query_scalar("SELECT seq FROM sqlite_sequence WHERE name = ?1")
                .bind(ddl::TRACKING)
                .fetch_optional(&mut *conn)
                .await
                .map_err(self.err("reading the tracking position"))?;
        Ok(Watermark(seq.unwrap_or(0)))
    }

    async fn installed_on(&self, conn: &mut SqliteConnection) -> Result<bool> {
        let n: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1",
        )
        .bind(ddl::TRACKING)
        .fetch_one(&mut *conn)
        .await
        .map_err(self.err("looking for the tracking table"))?;
        Ok(n > 0)
    }

    async fn require_installed(&self, conn: &mut SqliteConnection) -> Result<()> {
        if self.installed_on(conn).await? {
            Ok(())
        } else {
            Err(Error::Deployment(format!(
                "node '{}' ({}) has no hetsync tracking table: run `hetsync install` first",
                self.name,
                self.path.display()
            )))
        }
    }

    async fn check_code_types(&self, conn: &mut SqliteConnection, table: &SyncTable) -> Result<()> {
        for column in table.code_columns() {
            let declared: Option<String> =
                sqlx::query_scalar("SELECT type FROM pragma_table_info(?1) WHERE name = ?2")
                    .bind(&table.name)
                    .bind(column)
                    .fetch_optional(&mut *conn)
                    .await
                    .map_err(self.err("checking combined-code columns"))?;
            if declared.as_deref().is_some_and(unusable_code_type) {
                return Err(Error::Schema {
                    table: table.name.clone(),
                    message: format!(
                        "combined-code column '{column}' on node '{}' is declared {}; codes must be integers or text",
                        self.name,
                        declared.unwrap_or_default()
                    ),
                });
            }
        }
        Ok(())
    }

    async fn installed_tables(&self, conn: &mut SqliteConnection) -> Result<Vec<String>> {
        sqlx::query_scalar(&format!(
            "SELECT table_name FROM {}",
            quote_ident(ddl::INSTALLED)
        ))
        .fetch_all(&mut *conn)
        .await
        .map_err(self.err("listing installed tables"))
    }

    async fn exec(&self, conn: &mut SqliteConnection, sql: &str, context: &str) -> Result<()> {
        sqlx::query(sql)
            .execute(&mut *conn)
            .await
            .map_err(self.err(context))?;
        Ok(())
    }

    async fn drop_triggers(&self, conn: &mut SqliteConnection, table: &str) -> Result<()> {
        for op in ddl::OPERATIONS {
            let sql = format!(
                "DROP TRIGGER IF EXISTS {}",
                quote_ident(&ddl::trigger_name(table, op))
            );
            self.exec(
                conn,
                &sql,
                &format!("dropping the {op} trigger of '{table}'"),
            )
            .await?;
        }
        Ok(())
    }
}

#[async_trait]
impl Capture for SqliteNode {
    async fn install(&self, tables: &[SyncTable]) -> Result<()> {
        let mut conn = self.conn.lock().await;
        for table in tables {
            self.check_code_types(&mut conn, table).await?;
        }
        let mut tx = self.begin_write(&mut conn).await?;
        for sql in ddl::META_TABLES {
            self.exec(&mut tx, sql, "creating the hetsync tables")
                .await?;
        }
        for old in self.installed_tables(&mut tx).await? {
            self.drop_triggers(&mut tx, &old).await?;
        }
        self.exec(
            &mut tx,
            &format!("DELETE FROM {}", quote_ident(ddl::INSTALLED)),
            "resetting the installed list",
        )
        .await?;
        let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        for table in tables {
            for sql in ddl::triggers(table) {
                self.exec(
                    &mut tx,
                    &sql,
                    &format!("creating triggers on '{}'", table.name),
                )
                .await?;
            }
            sqlx::query(&format!(
                "INSERT INTO {}(table_name, installed_at) VALUES (?1, ?2)",
                quote_ident(ddl::INSTALLED)
            ))
            .bind(&table.name)
            .bind(&now)
            .execute(&mut *tx)
            .await
            .map_err(self.err("recording installed tables"))?;
        }
        tx.commit().await.map_err(self.err("committing install"))?;
        Ok(())
    }

    async fn uninstall(&self) -> Result<()> {
        let mut conn = self.conn.lock().await;
        if !self.installed_on(&mut conn).await? {
            return Ok(());
        }
        let mut tx = self.begin_write(&mut conn).await?;
        for table in self.installed_tables(&mut tx).await? {
            self.drop_triggers(&mut tx, &table).await?;
        }
        for meta in [ddl::INSTALLED, ddl::PEERS, ddl::APPLY_FLAG, ddl::TRACKING] {
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
        // One read transaction: the events and the rows come from one snapshot.
        let mut tx = conn
            .begin()
            .await
            .map_err(self.err("starting a read transaction"))?;
        let upto = self.position_on(&mut tx).await?;
        let rows: Vec<(i64, String, String, String, i64, Option<String>, Option<String>, Option<String>)> =
            sqlx::query_as(&format!(
                "SELECT seq, table_name, code, changed_at, deleted, fields, origin, user_name FROM {} \
                 WHERE seq > ?1 AND seq <= ?2 AND (?3 IS NULL OR origin IS NULL OR origin <> ?3) ORDER BY seq",
                quote_ident(ddl::TRACKING)
            ))
            .bind(since.0)
            .bind(upto.0)
            .bind(exclude_origin)
            .fetch_all(&mut *tx)
            .await
            .map_err(self.err("reading the tracking table"))?;
        let rows = rows
            .into_iter()
            .map(|(seq, table, code, changed_at, deleted, fields, origin, user)| {
                let time = parse_micros(&changed_at).ok_or_else(|| Error::Data {
                    table: table.clone(),
                    code: code.clone(),
                    message: format!("tracking row {seq} on node '{}': unreadable change time {changed_at:?}", self.name),
                })?;
                Ok(TrackingRow { seq, table, code, time, deleted: deleted != 0, fields, origin, user })
            })
            .collect::<Result<Vec<_>>>()?;
        let mut changes = group_events(tables, rows, &self.name)?;
        for table in tables {
            let Some(tc) = changes.get_mut(&table.name) else {
                continue;
            };
            let rows = sqlx::query(&ddl::changed_rows(table))
                .bind(&table.name)
                .bind(since.0)
                .bind(upto.0)
                .bind(exclude_origin)
                .fetch_all(&mut *tx)
                .await
                .map_err(self.err(&format!("reading changed rows of '{}'", table.name)))?;
            let values = rows
                .iter()
                .map(|row| decode_row(row, 0, table.columns.len()))
                .collect::<std::result::Result<_, _>>()
                .map_err(self.err(&format!("decoding rows of '{}'", table.name)))?;
            tc.add_rows(table, values, &self.name)?;
        }
        tx.commit()
            .await
            .map_err(self.err("ending the read transaction"))?;
        Ok(ChangeSet {
            upto,
            tables: changes,
        })
    }

    async fn position(&self) -> Result<Watermark> {
        let mut conn = self.conn.lock().await;
        self.require_installed(&mut conn).await?;
        self.position_on(&mut conn).await
    }

    async fn count_events(&self, since: Watermark, exclude_origin: Option<&str>) -> Result<u64> {
        let mut conn = self.conn.lock().await;
        let n: i64 = sqlx::query_scalar(&format!(
            "SELECT count(*) FROM {} WHERE seq > ?1 AND (?2 IS NULL OR origin IS NULL OR origin <> ?2)",
            quote_ident(ddl::TRACKING)
        ))
        .bind(since.0)
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
            "SELECT watermark FROM {} WHERE peer = ?1",
            quote_ident(ddl::PEERS)
        ))
        .bind(peer)
        .fetch_optional(&mut *conn)
        .await
        .map_err(self.err("reading peer watermarks"))?;
        Ok(mark.map(Watermark))
    }
}
