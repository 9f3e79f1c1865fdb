//! The databases tests run nodes on, behind one trait: a test asks a
//! [`TestDatabase`] for a fresh database per node and edits it through a
//! [`TestConnection`] as an application would, without knowing which
//! database it is. A vendor adds a database by implementing the two traits
//! and naming a [`DatabaseKind`]; nothing here lists the databases.

use async_trait::async_trait;
use hetsync_core::value::Value;
use std::fmt;
use std::path::Path;
use std::sync::Arc;

/// A running database system that hosts nodes: a directory of SQLite files,
/// a throwaway server.
#[async_trait]
pub trait TestDatabase: Send + Sync {
    /// The adapter a node on this database names in `hetsync.toml`.
    fn adapter(&self) -> &str;

    /// The `[node.options]` lines of a node on this database (empty: none).
    fn node_options(&self) -> &str {
        ""
    }

    /// The adapter plugin a deployment loads for nodes on this database
    /// (`plugins/<name>`), when hetsync does not have it built in.
    fn plugin(&self) -> Option<&str> {
        None
    }

    /// Creates a new, empty database for node `node` (files go under `dir`)
    /// and returns its URL as `hetsync.toml` writes it.
    async fn create(&self, dir: &Path, node: &str) -> String;

    /// Opens an application connection to a database [`create`](Self::create)
    /// made. Identifiers quote with `"` on every database.
    async fn connect(&self, dir: &Path, url: &str) -> Box<dyn TestConnection>;

    /// Whether nodes on this database capture by snapshot difference: an
    /// edit is recorded when a catch-up compares, not as it commits.
    fn captures_by_snapshot(&self) -> bool {
        false
    }

    /// A derived table `s` with one column `i` holding 1 to `n`.
    fn series(&self, n: u64) -> String {
        format!(
            "(WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {n}) SELECT i FROM n) AS s"
        )
    }

    /// A query of the local edits captured after tracking sequence `after`,
    /// in sequence order, with four columns: the sequence number, the change
    /// time (microseconds since the Unix epoch, or the text SQLite stores),
    /// whether the row was deleted, and the changed fields as JSON text.
    fn local_events_query(&self, after: i64) -> String;

    /// A statement that moves the change time of the local edits captured
    /// after tracking sequence `after` by `millis`: as if the node's clock
    /// were that far off when it made them (tests of clock skew).
    fn shift_local_events_sql(&self, after: i64, millis: i64) -> String;

    /// Kills the database's server processes with SIGKILL, as a crash
    /// would; `false` when it has none (SQLite files).
    fn kill_server(&self) -> bool {
        false
    }

    /// Starts a server [`kill_server`](Self::kill_server) killed again, on
    /// the same port and data.
    fn restart_server(&self) {}
}

/// An application's connection: it runs SQL and reads rows back as values,
/// each decoded by its column type.
#[async_trait]
pub trait TestConnection: Send {
    /// Runs one statement; returns the rows it changed.
    async fn execute(&mut self, sql: &str) -> Result<u64, String>;

    /// Runs a query; returns its rows.
    async fn query(&mut self, sql: &str) -> Result<Vec<Vec<Value>>, String>;
}

/// A kind of database, by name, with how to start one for a test.
#[derive(Clone, Copy)]
pub struct DatabaseKind {
    /// A short name for messages; kinds are told apart by it.
    pub name: &'static str,
    /// The SQL family, for tests that spell SQL per database (two kinds
    /// of one database capturing differently share it).
    pub family: &'static str,
    /// Starts a database system of this kind (stopped when the last
    /// reference is dropped).
    pub start: fn() -> Arc<dyn TestDatabase>,
}

impl PartialEq for DatabaseKind {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Eq for DatabaseKind {}

impl fmt::Debug for DatabaseKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)
    }
}

/// SQLite files in the test's directory.
pub const SQLITE: DatabaseKind = DatabaseKind {
    name: "sqlite",
    family: "sqlite",
    start: || Arc::new(crate::sqlite::SqliteFiles),
};

/// SQLite files whose nodes capture by snapshot difference, without triggers.
pub const SQLITE_SNAPSHOT: DatabaseKind = DatabaseKind {
    name: "sqlite-snapshot",
    family: "sqlite",
    start: || Arc::new(crate::sqlite::SqliteSnapshots),
};

/// A throwaway PostgreSQL server.
pub const POSTGRES: DatabaseKind = DatabaseKind {
    name: "postgres",
    family: "postgres",
    start: || Arc::new(crate::pg::PgServer::start()),
};

/// A throwaway PostgreSQL server whose nodes capture by logical decoding.
pub const POSTGRES_LOGICAL: DatabaseKind = DatabaseKind {
    name: "postgres-logical",
    family: "postgres",
    start: || Arc::new(crate::pg::PgServer::start_logical()),
};

/// A throwaway PostgreSQL server reached through psqlODBC by the ODBC
/// adapter's `kingbase` profile (the live stand-in for KingbaseES).
pub const KINGBASE_ODBC: DatabaseKind = DatabaseKind {
    name: "kingbase-odbc",
    family: "postgres",
    start: || Arc::new(crate::odbc::KingbaseOverPsqlodbc::start()),
};

/// SQLite files reached through the SQLite ODBC driver by the ODBC
/// adapter's `generic` profile: capture by snapshot difference, the
/// catalog through the driver.
pub const SQLITE_ODBC: DatabaseKind = DatabaseKind {
    name: "sqlite-odbc",
    family: "sqlite",
    start: || Arc::new(crate::odbc::SqliteOverOdbc::start()),
};

/// A throwaway MariaDB server reached through MariaDB Connector/ODBC by
/// the ODBC adapter's `generic` profile.
pub const MARIADB_ODBC: DatabaseKind = DatabaseKind {
    name: "mariadb-odbc",
    family: "mysql",
    start: || Arc::new(crate::odbc::MariadbOverOdbc::start()),
};

/// A throwaway MariaDB server.
pub const MYSQL: DatabaseKind = DatabaseKind {
    name: "mysql",
    family: "mysql",
    start: || Arc::new(crate::mysql::MysqlServer::start()),
};

/// The node options of a node on `db` ([`TestDatabase::node_options`]),
/// as a node's spec holds them.
pub fn node_options(
    db: &dyn TestDatabase,
) -> std::collections::BTreeMap<String, serde_json::Value> {
    let options: std::collections::BTreeMap<String, toml::Value> =
        toml::from_str(db.node_options()).expect("node options are TOML");
    options
        .into_iter()
        .map(|(k, v)| (k, serde_json::to_value(v).expect("a TOML value is JSON")))
        .collect()
}

/// Runs one statement on a connection, panicking with the database's error
/// and the SQL when it fails.
pub async fn must_execute(conn: &mut dyn TestConnection, sql: &str) -> u64 {
    conn.execute(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// Runs a query on a connection, panicking with the database's error and the
/// SQL when it fails.
pub async fn must_query(conn: &mut dyn TestConnection, sql: &str) -> Vec<Vec<Value>> {
    conn.query(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// A database name for node `node` that no other deployment of this test
/// process uses on the same server.
pub fn fresh_name(node: &str) -> String {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static SERIAL: AtomicUsize = AtomicUsize::new(0);
    format!("{node}_{}", SERIAL.fetch_add(1, Ordering::SeqCst))
}

/// Rows a query returned as values, each decoded by `value` (per database).
pub(crate) fn decoded<R: sqlx::Row>(
    result: Result<Vec<R>, sqlx::Error>,
    value: fn(&R, usize) -> Value,
) -> Result<Vec<Vec<Value>>, String> {
    let rows = result.map_err(|e| e.to_string())?;
    Ok(rows
        .iter()
        .map(|r| (0..r.len()).map(|i| value(r, i)).collect())
        .collect())
}
