//! SQLite as a [`TestDatabase`]: one file per node in the test's directory.

use crate::database::{TestConnection, TestDatabase};
use async_trait::async_trait;
use hetsync_core::value::Value;
use sqlx::sqlite::{SqliteConnectOptions, SqliteRow};
use sqlx::{ConnectOptions, Row, SqliteConnection, TypeInfo, ValueRef};
use std::path::Path;

/// SQLite files: needs no server.
pub struct SqliteFiles;

/// Opens a SQLite file (creating it if `create`), waiting up to 30 s for
/// other writers.
pub async fn open(path: &Path, create: bool) -> SqliteConnection {
    SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(create)
        .busy_timeout(std::time::Duration::from_secs(30))
        .connect()
        .await
        .unwrap_or_else(|e| panic!("open {}: {e}", path.display()))
}

#[async_trait]
impl TestDatabase for SqliteFiles {
    fn adapter(&self) -> &str {
        "sqlite"
    }

    async fn create(&self, dir: &Path, node: &str) -> String {
        let file = format!("{node}.db");
        drop(open(&dir.join(&file), true).await);
        file
    }

    async fn connect(&self, dir: &Path, url: &str) -> Box<dyn TestConnection> {
        Box::new(open(&dir.join(url), false).await)
    }

    fn local_events_query(&self, after: i64) -> String {
        format!(
            "SELECT seq, changed_at, deleted, fields FROM _hetsync_tracking \
             WHERE seq > {after} AND origin IS NULL ORDER BY seq"
        )
    }

    fn shift_local_events_sql(&self, after: i64, millis: i64) -> String {
        format!(
            "UPDATE _hetsync_tracking SET changed_at = strftime('%Y-%m-%dT%H:%M:%fZ', changed_at, '{:+.3} seconds') \
             WHERE seq > {after} AND origin IS NULL",
            millis as f64 / 1000.0
        )
    }
}

/// SQLite files whose nodes capture by snapshot difference
/// (`capture = "snapshot"`): no triggers.
pub struct SqliteSnapshots;

#[async_trait]
impl TestDatabase for SqliteSnapshots {
    fn adapter(&self) -> &str {
        SqliteFiles.adapter()
    }

    fn node_options(&self) -> &str {
        "capture = \"snapshot\"\n"
    }

    fn captures_by_snapshot(&self) -> bool {
        true
    }

    async fn create(&self, dir: &Path, node: &str) -> String {
        SqliteFiles.create(dir, node).await
    }

    async fn connect(&self, dir: &Path, url: &str) -> Box<dyn TestConnection> {
        SqliteFiles.connect(dir, url).await
    }

    fn local_events_query(&self, after: i64) -> String {
        SqliteFiles.local_events_query(after)
    }

    fn shift_local_events_sql(&self, after: i64, millis: i64) -> String {
        SqliteFiles.shift_local_events_sql(after, millis)
    }
}

#[async_trait]
impl TestConnection for SqliteConnection {
    async fn execute(&mut self, sql: &str) -> Result<u64, String> {
        sqlx::query(sql)
            .execute(self)
            .await
            .map(|r| r.rows_affected())
            .map_err(|e| e.to_string())
    }

    async fn query(&mut self, sql: &str) -> Result<Vec<Vec<Value>>, String> {
        crate::database::decoded(sqlx::query(sql).fetch_all(self).await, value)
    }
}

fn value(row: &SqliteRow, i: usize) -> Value {
    let raw = row.try_get_raw(i).expect("raw");
    if raw.is_null() {
        return Value::Null;
    }
    match raw.type_info().name() {
        "INTEGER" => Value::Int(row.get(i)),
        "REAL" => Value::Float(row.get(i)),
        "BLOB" => Value::Bytes(row.get(i)),
        _ => Value::Text(row.get(i)),
    }
}
