//! The SQLite driver under the core's steps: statements on the node's one
//! connection, values bound and decoded by storage class.

use crate::connection::SqliteNode;
use crate::direct::{Direct, DirectError};
use crate::lock::FileLock;
use async_trait::async_trait;
use hetsync_core::adapter::{ChangeSign, IntegrationLock};
use hetsync_core::change::RowOp;
use hetsync_core::change::Watermark;
use hetsync_core::dialect::{ColumnSql, Dialect, TxKind};
use hetsync_core::error::DbCode;
use hetsync_core::schema::SyncTable;
use hetsync_core::steps::{self, Driver, SelectSql, Session};
use hetsync_core::value::Value;
use hetsync_core::{Error, Result};
use sqlx::SqliteConnection;
use std::sync::atomic::AtomicBool;
use tokio::sync::MutexGuard;

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
        self.node.dialect
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
        let sql = sql(&self.node.dialect.column_list(table));
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
        Ok(Watermark::at(seq.unwrap_or(0)))
    }
}

#[async_trait]
impl Driver for SqliteNode {
    type Session<'a> = SqliteSession<'a>;

    fn adapter(&self) -> &str {
        "sqlite"
    }

    fn name(&self) -> &str {
        &self.name
    }

    fn dialect(&self) -> &'static dyn Dialect {
        self.dialect
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

    async fn backup_file(&self, suffix: &str, keep: usize) -> Result<Option<std::path::PathBuf>> {
        self.backup_to_file(suffix, keep).await.map(Some)
    }

    async fn await_changes(&self, timeout: std::time::Duration) -> Result<ChangeSign> {
        self.await_commit(timeout).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hetsync_core::schema::{ConflictPolicy, SyncForm};
    use sqlx::ConnectOptions;
    use std::time::Duration;

    /// A node on a new file holding `ddl`.
    async fn node(dir: &std::path::Path, ddl: &str) -> SqliteNode {
        let path = dir.join("n.db");
        let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(&path)
            .create_if_missing(true)
            .connect()
            .await
            .expect("create");
        sqlx::query(ddl).execute(&mut conn).await.expect("ddl");
        drop(conn);
        SqliteNode::open("n", &path, Duration::from_secs(1))
            .await
            .expect("open")
    }

    fn table() -> SyncTable {
        SyncTable {
            name: "t".into(),
            columns: vec!["id".into(), "v".into()],
            code: vec![0],
            form: SyncForm::Field,
            conflict: ConflictPolicy::Latest,
        }
    }

    fn upsert(id: i64, v: &str) -> RowOp {
        RowOp::Upsert {
            values: vec![Value::Int(id), Value::Text(v.into())],
            fields: None,
        }
    }

    async fn rows(s: &mut SqliteSession<'_>) -> Vec<Vec<Value>> {
        s.query("SELECT id, v FROM t ORDER BY id, v", &[], "reading")
            .await
            .expect("read")
    }

    /// No constraint keeps the code unique here: only the look-up keeps a
    /// fresh batch from adding a second row with a code already there.
    #[tokio::test]
    async fn a_fresh_batch_with_a_code_already_there_fails_whole() {
        let dir = tempfile::tempdir().unwrap();
        let node = node(dir.path(), "CREATE TABLE t (id INTEGER, v TEXT)").await;
        let mut s = node.session().await.unwrap();
        let written = s
            .insert_fresh(&table(), &[upsert(1, "a"), upsert(2, "名")])
            .await;
        assert_eq!(written.unwrap(), Some(2));
        let refused = s
            .insert_fresh(&table(), &[upsert(3, "c"), upsert(2, "x")])
            .await
            .expect_err("code 2 is there");
        assert!(matches!(refused, Error::ConcurrentEdit { .. }), "{refused}");
        let deletes = [RowOp::Delete {
            code: table().code_of(&[Value::Int(1), Value::Null], "n").unwrap(),
        }];
        let refused = s
            .insert_fresh(&table(), &deletes)
            .await
            .expect_err("a delete");
        assert!(
            refused.to_string().contains("a fresh batch holds a delete"),
            "{refused}"
        );
        let want = vec![
            vec![Value::Int(1), Value::Text("a".into())],
            vec![Value::Int(2), Value::Text("名".into())],
        ];
        assert_eq!(
            rows(&mut s).await,
            want,
            "nothing of the refused batches written"
        );
    }

    /// Statements run on the handle keep SQLite's error classes.
    #[tokio::test]
    async fn a_refused_write_on_the_handle_is_a_constraint_error() {
        let dir = tempfile::tempdir().unwrap();
        let node = node(
            dir.path(),
            "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)",
        )
        .await;
        let mut s = node.session().await.unwrap();
        let insert = "INSERT INTO t VALUES (?, ?)";
        let row = [Value::Int(1), Value::Text("a".into())];
        assert_eq!(s.execute(insert, &row, "inserting").await.unwrap(), 1);
        let refused = s
            .execute(insert, &row, "inserting")
            .await
            .expect_err("duplicate key");
        assert!(matches!(refused, Error::Constraint { .. }), "{refused}");
        assert!(
            refused.to_string().contains("UNIQUE constraint failed"),
            "{refused}"
        );
        let bad = s
            .query("SELECT * FROM missing", &[], "reading")
            .await
            .expect_err("no table");
        assert!(bad.to_string().contains("no such table"), "{bad}");
    }
}
