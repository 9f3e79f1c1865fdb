//! Test harness: real SQLite files in a temp dir, a `hetsync.toml`, an engine
//! built exactly as the binary builds it, and "application" connections that
//! edit the files without hetsync.

#![allow(dead_code)]

use hetsync::commands::open_engine;
use hetsync_core::engine::Engine;
use hetsync_core::value::Value;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection, Row, SqliteConnection};
use std::path::{Path, PathBuf};

/// A deployment of SQLite files in a temp dir.
pub struct Deploy {
    pub dir: tempfile::TempDir,
    pub spokes: Vec<String>,
    pub tables: Vec<(String, String)>,
}

/// One table: DDL and its `[[table]]` config block.
pub struct TableSpec {
    pub name: &'static str,
    pub ddl: &'static str,
    pub config: &'static str,
}

/// A field-form table `t_field` and a table-form table `t_row`, code `k`.
pub const BASIC: &[TableSpec] = &[
    TableSpec {
        name: "t_field",
        ddl: r#"CREATE TABLE "t_field" ("k" INTEGER PRIMARY KEY, "a" TEXT, "b" INTEGER, "c" REAL)"#,
        config: "[[table]]\nname = \"t_field\"\ncode = [\"k\"]\nform = \"field\"\n",
    },
    TableSpec {
        name: "t_row",
        ddl: r#"CREATE TABLE "t_row" ("k" INTEGER PRIMARY KEY, "a" TEXT, "b" INTEGER, "c" REAL)"#,
        config: "[[table]]\nname = \"t_row\"\ncode = [\"k\"]\nform = \"table\"\n",
    },
];

impl Deploy {
    /// Creates `hub.db` and one file per spoke with the tables, writes the config.
    pub async fn new(spokes: &[&str], tables: &[TableSpec]) -> Deploy {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut config = String::new();
        for (name, role) in
            std::iter::once(("hub", "hub")).chain(spokes.iter().map(|s| (*s, "spoke")))
        {
            let mut conn = connect(&dir.path().join(format!("{name}.db")), true).await;
            for t in tables {
                sqlx::query(t.ddl)
                    .execute(&mut conn)
                    .await
                    .expect("create table");
            }
            config.push_str(&format!("[[node]]\nname = \"{name}\"\nadapter = \"sqlite\"\nurl = \"{name}.db\"\nrole = \"{role}\"\n\n"));
        }
        for t in tables {
            config.push_str(t.config);
            config.push('\n');
        }
        std::fs::write(dir.path().join("hetsync.toml"), config).expect("write config");
        Deploy {
            dir,
            spokes: spokes.iter().map(|s| s.to_string()).collect(),
            tables: tables
                .iter()
                .map(|t| (t.name.to_string(), t.ddl.to_string()))
                .collect(),
        }
    }

    pub fn config(&self) -> PathBuf {
        self.dir.path().join("hetsync.toml")
    }

    pub fn db(&self, node: &str) -> PathBuf {
        self.dir.path().join(format!("{node}.db"))
    }

    /// An engine as the binary builds it (state store, config).
    pub async fn engine(&self) -> Engine {
        open_engine(&self.config()).await.expect("open engine")
    }

    /// Installs and runs the first (full) round of every spoke.
    pub async fn installed(&self) -> Engine {
        let engine = self.engine().await;
        engine.install().await.expect("install");
        engine.sync_all().await.expect("first sync");
        engine
    }

    /// An application edit on a node, through its own connection.
    pub async fn exec(&self, node: &str, sql: &str) -> u64 {
        let mut conn = connect(&self.db(node), false).await;
        let n = sqlx::query(sql)
            .execute(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("{node}: {sql}: {e}"))
            .rows_affected();
        conn.close().await.expect("close");
        n
    }

    /// All rows of a table on a node, ordered by the first column.
    pub async fn rows(&self, node: &str, table: &str) -> Vec<Vec<Value>> {
        let mut conn = connect(&self.db(node), false).await;
        let rows = sqlx::query(&format!(
            "SELECT * FROM {} ORDER BY 1, 2",
            hetsync_core::sql::quote_ident(table)
        ))
        .fetch_all(&mut conn)
        .await
        .expect("select");
        rows.iter()
            .map(|r| (0..r.len()).map(|i| decode(r, i)).collect())
            .collect()
    }

    /// One scalar from a node.
    pub async fn scalar_i64(&self, node: &str, sql: &str) -> i64 {
        let mut conn = connect(&self.db(node), false).await;
        sqlx::query_scalar(sql)
            .fetch_one(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("{node}: {sql}: {e}"))
    }

    /// Number of tracking rows on a node.
    pub async fn tracking_rows(&self, node: &str) -> i64 {
        self.scalar_i64(node, "SELECT count(*) FROM _hetsync_tracking")
            .await
    }

    /// Asserts every node holds exactly the hub's rows in every table.
    pub async fn assert_converged(&self) {
        for (table, _) in &self.tables {
            let hub = self.rows("hub", table).await;
            for s in &self.spokes {
                assert_eq!(
                    self.rows(s, table).await,
                    hub,
                    "table {table}: {s} differs from the hub"
                );
            }
        }
    }

    /// Runs rounds for every spoke `passes` times.
    pub async fn sync_passes(&self, engine: &Engine, passes: usize) -> u64 {
        let mut moved = 0;
        for _ in 0..passes {
            for r in engine.sync_all().await.expect("sync") {
                moved += r.rows_moved();
            }
        }
        moved
    }
}

pub async fn connect(path: &Path, create: bool) -> SqliteConnection {
    SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(create)
        .busy_timeout(std::time::Duration::from_secs(30))
        .connect()
        .await
        .unwrap_or_else(|e| panic!("open {}: {e}", path.display()))
}

fn decode(row: &sqlx::sqlite::SqliteRow, i: usize) -> Value {
    use sqlx::{TypeInfo, ValueRef};
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

/// Sleeps long enough that the next edit gets a later millisecond change time.
pub async fn tick() {
    tokio::time::sleep(std::time::Duration::from_millis(3)).await;
}
