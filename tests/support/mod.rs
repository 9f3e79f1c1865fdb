//! Test harness: real databases (SQLite files, throwaway PostgreSQL and
//! MariaDB servers),
//! a `hetsync.toml`, an engine built exactly as the binary builds it, and
//! "application" connections that edit the databases without hetsync.

#![allow(dead_code)]

pub use hetsync_testkit::mysql;
pub use hetsync_testkit::pg;

use hetsync::setup::open_engine;
use hetsync_core::engine::Engine;
use hetsync_core::sql::quote_ident;
use hetsync_core::value::Value;
use sqlx::mysql::{MySqlConnectOptions, MySqlRow};
use sqlx::postgres::PgRow;
use sqlx::sqlite::{SqliteConnectOptions, SqliteRow};
use sqlx::{
    ConnectOptions, Connection, Executor, MySqlConnection, PgConnection, Row, SqliteConnection,
    TypeInfo, ValueRef,
};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Which database a node runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Sqlite,
    Postgres,
    Mysql,
}

/// Hub and spoke kinds for a deployment.
#[derive(Clone, Copy, Debug)]
pub struct Topology {
    pub hub: Kind,
    pub spokes: &'static [Kind],
}

/// All SQLite.
pub const SQLITE: Topology = Topology {
    hub: Kind::Sqlite,
    spokes: &[Kind::Sqlite],
};

/// The mixed topologies every property test also runs on (spoke kinds repeat
/// cyclically over the spokes a test asks for, so a one-spoke test on the
/// first topology gets a MariaDB spoke).
pub const MIXED: &[Topology] = &[
    Topology {
        hub: Kind::Postgres,
        spokes: &[Kind::Mysql, Kind::Sqlite],
    },
    Topology {
        hub: Kind::Sqlite,
        spokes: &[Kind::Postgres],
    },
    Topology {
        hub: Kind::Mysql,
        spokes: &[Kind::Postgres],
    },
];

impl Topology {
    /// Whether any node runs on `kind`.
    pub fn uses(&self, kind: Kind) -> bool {
        self.hub == kind || self.spokes.contains(&kind)
    }
}

/// The servers a deployment's nodes live on (each optional).
#[derive(Clone, Default)]
pub struct Servers {
    pub pg: Option<Arc<pg::PgServer>>,
    pub mysql: Option<Arc<mysql::MysqlServer>>,
}

impl Servers {
    /// Starts the servers a topology needs.
    pub fn for_topology(topology: Topology) -> Servers {
        Servers {
            pg: topology
                .uses(Kind::Postgres)
                .then(|| Arc::new(pg::PgServer::start())),
            mysql: topology
                .uses(Kind::Mysql)
                .then(|| Arc::new(mysql::MysqlServer::start())),
        }
    }
}

/// SQLite alone, then every mixed topology.
pub fn topologies() -> impl Iterator<Item = Topology> {
    std::iter::once(SQLITE).chain(MIXED.iter().copied())
}

/// Turns `async fn name(topology: Topology)` scenarios into one test each
/// that runs the scenario on every topology.
#[macro_export]
macro_rules! on_every_topology {
    ($($name:ident),* $(,)?) => {
        mod every_topology {
            $(
                #[tokio::test]
                async fn $name() {
                    for topology in super::support::topologies() {
                        super::$name(topology).await;
                    }
                }
            )*
        }
    };
}

/// One table: DDL per database and its `[[table]]` config block. The MariaDB
/// DDL runs with `ANSI_QUOTES`, so it may quote like the others.
pub struct TableSpec {
    pub name: &'static str,
    pub sqlite: &'static str,
    pub postgres: &'static str,
    pub mysql: &'static str,
    pub config: &'static str,
}

/// A field-form table `t_field` and a table-form table `t_row`, code `k`.
pub const BASIC: &[TableSpec] = &[
    TableSpec {
        name: "t_field",
        sqlite: r#"CREATE TABLE "t_field" ("k" INTEGER PRIMARY KEY, "a" TEXT, "b" INTEGER, "c" REAL)"#,
        postgres: r#"CREATE TABLE "t_field" ("k" bigint PRIMARY KEY, "a" text, "b" bigint, "c" double precision)"#,
        mysql: r#"CREATE TABLE "t_field" ("k" bigint PRIMARY KEY, "a" text, "b" bigint, "c" double)"#,
        config: "[[table]]\nname = \"t_field\"\ncode = [\"k\"]\nform = \"field\"\n",
    },
    TableSpec {
        name: "t_row",
        sqlite: r#"CREATE TABLE "t_row" ("k" INTEGER PRIMARY KEY, "a" TEXT, "b" INTEGER, "c" REAL)"#,
        postgres: r#"CREATE TABLE "t_row" ("k" bigint PRIMARY KEY, "a" text, "b" bigint, "c" double precision)"#,
        mysql: r#"CREATE TABLE "t_row" ("k" bigint PRIMARY KEY, "a" text, "b" bigint, "c" double)"#,
        config: "[[table]]\nname = \"t_row\"\ncode = [\"k\"]\nform = \"table\"\n",
    },
];

/// Where a node lives.
#[derive(Clone, Debug)]
pub enum Db {
    Sqlite(PathBuf),
    Postgres(String),
    Mysql(String),
}

/// An open application connection.
pub enum Conn {
    Sqlite(SqliteConnection),
    Postgres(PgConnection),
    Mysql(MySqlConnection),
}

/// A deployment in a temp dir.
pub struct Deploy {
    pub dir: tempfile::TempDir,
    pub spokes: Vec<String>,
    pub tables: Vec<String>,
    pub nodes: Vec<(String, Db)>,
    pub topology: Topology,
    _servers: Servers,
}

impl Deploy {
    /// All nodes on SQLite.
    pub async fn new(spokes: &[&str], tables: &[TableSpec]) -> Deploy {
        Deploy::with(SQLITE, spokes, tables).await
    }

    /// Nodes on the topology's databases, each with the tables; writes the
    /// config. Server nodes get servers of their own.
    pub async fn with(topology: Topology, spokes: &[&str], tables: &[TableSpec]) -> Deploy {
        Deploy::on(topology, Servers::for_topology(topology), spokes, tables).await
    }

    /// Like [`Deploy::with`], with server nodes as new databases on `servers`.
    pub async fn on(
        topology: Topology,
        servers: Servers,
        spokes: &[&str],
        tables: &[TableSpec],
    ) -> Deploy {
        static DEPLOYS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let serial = DEPLOYS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let dir = tempfile::tempdir().expect("temp dir");
        let mut config = String::new();
        let mut nodes = Vec::new();
        let names = std::iter::once(("hub", "hub", topology.hub)).chain(
            spokes
                .iter()
                .enumerate()
                .map(|(i, s)| (*s, "spoke", topology.spokes[i % topology.spokes.len()])),
        );
        for (name, role, kind) in names {
            let (db, adapter, url) = match kind {
                Kind::Sqlite => {
                    let path = dir.path().join(format!("{name}.db"));
                    let mut conn = sqlite_connect(&path, true).await;
                    for t in tables {
                        sqlx::query(t.sqlite)
                            .execute(&mut conn)
                            .await
                            .expect("create table");
                    }
                    (Db::Sqlite(path), "sqlite", format!("{name}.db"))
                }
                Kind::Postgres => {
                    let server = servers
                        .pg
                        .as_ref()
                        .expect("a PostgreSQL server for PostgreSQL nodes");
                    let database = format!("{name}_{serial}");
                    server.create_db(&database).await;
                    let url = server.url(&database);
                    let mut conn = PgConnection::connect(&url).await.expect("connect");
                    for t in tables {
                        sqlx::query(t.postgres)
                            .execute(&mut conn)
                            .await
                            .expect("create table");
                    }
                    (Db::Postgres(url.clone()), "postgres", url)
                }
                Kind::Mysql => {
                    let server = servers
                        .mysql
                        .as_ref()
                        .expect("a MariaDB server for MariaDB nodes");
                    let database = format!("{name}_{serial}");
                    server.create_db(&database).await;
                    let url = server.url(&database);
                    let mut conn = mysql_connect(&url).await;
                    for t in tables {
                        conn.execute(t.mysql).await.expect("create table");
                    }
                    (Db::Mysql(url.clone()), "mysql", url)
                }
            };
            config.push_str(&format!("[[node]]\nname = \"{name}\"\nadapter = \"{adapter}\"\nurl = \"{url}\"\nrole = \"{role}\"\n\n"));
            nodes.push((name.to_string(), db));
        }
        for t in tables {
            config.push_str(t.config);
            config.push('\n');
        }
        std::fs::write(dir.path().join("hetsync.toml"), config).expect("write config");
        Deploy {
            dir,
            spokes: spokes.iter().map(|s| s.to_string()).collect(),
            tables: tables.iter().map(|t| t.name.to_string()).collect(),
            nodes,
            topology,
            _servers: servers,
        }
    }

    pub fn config(&self) -> PathBuf {
        self.dir.path().join("hetsync.toml")
    }

    pub fn node(&self, node: &str) -> &Db {
        &self
            .nodes
            .iter()
            .find(|(n, _)| n == node)
            .unwrap_or_else(|| panic!("no node {node}"))
            .1
    }

    /// What an adapter needs to connect to a node directly (no config).
    pub fn node_spec(&self, node: &str) -> hetsync_core::adapter::NodeSpec {
        let url = match self.node(node) {
            Db::Sqlite(path) => path.display().to_string(),
            Db::Postgres(url) | Db::Mysql(url) => url.clone(),
        };
        hetsync_core::adapter::NodeSpec {
            name: node.to_string(),
            url,
            base_dir: self.dir.path().to_path_buf(),
            options: Default::default(),
        }
    }

    /// The SQLite file of a node (panics for other databases).
    pub fn db(&self, node: &str) -> PathBuf {
        match self.node(node) {
            Db::Sqlite(path) => path.clone(),
            _ => panic!("{node} is not a SQLite node"),
        }
    }

    /// An engine as the binary builds it (state store, config).
    pub async fn engine(&self) -> Engine {
        open_engine(&self.config(), &[]).await.expect("open engine")
    }

    /// Installs and runs the first (full) round of every spoke.
    pub async fn installed(&self) -> Engine {
        let engine = self.engine().await;
        engine.install().await.expect("install");
        engine.sync_all().await.expect("first sync");
        engine
    }

    pub async fn connect(&self, node: &str) -> Conn {
        match self.node(node) {
            Db::Sqlite(path) => Conn::Sqlite(sqlite_connect(path, false).await),
            Db::Postgres(url) => Conn::Postgres(PgConnection::connect(url).await.expect("connect")),
            Db::Mysql(url) => Conn::Mysql(mysql_connect(url).await),
        }
    }

    /// An application edit on a node, through its own connection.
    pub async fn exec(&self, node: &str, sql: &str) -> u64 {
        let fail = |e: sqlx::Error| -> u64 { panic!("{node}: {sql}: {e}") };
        match self.connect(node).await {
            Conn::Sqlite(mut c) => sqlx::query(sql)
                .execute(&mut c)
                .await
                .map(|r| r.rows_affected())
                .unwrap_or_else(fail),
            Conn::Postgres(mut c) => sqlx::query(sql)
                .execute(&mut c)
                .await
                .map(|r| r.rows_affected())
                .unwrap_or_else(fail),
            Conn::Mysql(mut c) => c
                .execute(sql)
                .await
                .map(|r| r.rows_affected())
                .unwrap_or_else(fail),
        }
    }

    /// All rows of a table on a node, ordered by the first two columns.
    pub async fn rows(&self, node: &str, table: &str) -> Vec<Vec<Value>> {
        let sql = format!("SELECT * FROM {} ORDER BY 1, 2", quote_ident(table));
        match self.connect(node).await {
            Conn::Sqlite(mut c) => {
                let rows = sqlx::query(&sql).fetch_all(&mut c).await.expect("select");
                rows.iter()
                    .map(|r| (0..r.len()).map(|i| sqlite_value(r, i)).collect())
                    .collect()
            }
            Conn::Postgres(mut c) => {
                let rows = sqlx::query(&sql).fetch_all(&mut c).await.expect("select");
                rows.iter()
                    .map(|r| (0..r.len()).map(|i| pg_value(r, i)).collect())
                    .collect()
            }
            Conn::Mysql(mut c) => {
                let rows = c.fetch_all(sql.as_str()).await.expect("select");
                rows.iter()
                    .map(|r| (0..r.len()).map(|i| mysql_value(r, i)).collect())
                    .collect()
            }
        }
    }

    /// Inserts rows `i` = 1..=n into `table` on `node`: `SELECT i, {rest}`.
    pub async fn insert_series(&self, node: &str, table: &str, n: u64, rest: &str) {
        let series = match self.node(node) {
            Db::Mysql(_) => format!("(SELECT seq AS i FROM seq_1_to_{n}) AS s"),
            _ => format!(
                "(WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {n}) SELECT i FROM n) AS s"
            ),
        };
        self.exec(
            node,
            &format!(
                "INSERT INTO {} SELECT i, {rest} FROM {series}",
                quote_ident(table)
            ),
        )
        .await;
    }

    /// Puts rows 1 and 2 into both [`BASIC`] tables on the hub.
    pub async fn seed_two_rows(&self) {
        for table in ["t_field", "t_row"] {
            self.exec(
                "hub",
                &format!("INSERT INTO {table} VALUES (1, 'x', 1, 1.0), (2, 'y', 2, 2.0)"),
            )
            .await;
        }
    }

    /// One integer from a node.
    pub async fn scalar_i64(&self, node: &str, sql: &str) -> i64 {
        let fail = |e: sqlx::Error| -> i64 { panic!("{node}: {sql}: {e}") };
        match self.connect(node).await {
            Conn::Sqlite(mut c) => sqlx::query_scalar(sql)
                .fetch_one(&mut c)
                .await
                .unwrap_or_else(fail),
            Conn::Postgres(mut c) => sqlx::query_scalar(sql)
                .fetch_one(&mut c)
                .await
                .unwrap_or_else(fail),
            Conn::Mysql(mut c) => c
                .fetch_one(sql)
                .await
                .map(|r| r.get::<i64, _>(0))
                .unwrap_or_else(fail),
        }
    }

    /// One text value (the SQL must yield text or NULL: cast on MariaDB with `CAST(… AS CHAR)`).
    pub async fn scalar_text(&self, node: &str, sql: &str) -> Option<String> {
        let fail = |e: sqlx::Error| -> Option<String> { panic!("{node}: {sql}: {e}") };
        match self.connect(node).await {
            Conn::Sqlite(mut c) => sqlx::query_scalar(sql)
                .fetch_one(&mut c)
                .await
                .unwrap_or_else(fail),
            Conn::Postgres(mut c) => sqlx::query_scalar(sql)
                .fetch_one(&mut c)
                .await
                .unwrap_or_else(fail),
            Conn::Mysql(mut c) => c
                .fetch_one(sql)
                .await
                // Expressions over mixed collations come back as binary strings.
                .map(|r| {
                    r.try_get::<Option<String>, _>(0).unwrap_or_else(|_| {
                        r.get::<Option<Vec<u8>>, _>(0)
                            .map(|b| String::from_utf8(b).expect("UTF-8"))
                    })
                })
                .unwrap_or_else(fail),
        }
    }

    /// Number of tracking rows on a node.
    pub async fn tracking_rows(&self, node: &str) -> i64 {
        self.scalar_i64(node, "SELECT count(*) FROM _hetsync_tracking")
            .await
    }

    /// Local edits captured on a node after `seq`: (seq, UTC micros, deleted, changed fields as JSON).
    pub async fn local_events(
        &self,
        node: &str,
        after: i64,
    ) -> Vec<(i64, i64, bool, Option<String>)> {
        match self.connect(node).await {
            Conn::Sqlite(mut c) => {
                let rows: Vec<(i64, String, i64, Option<String>)> = sqlx::query_as(
                    "SELECT seq, changed_at, deleted, fields FROM _hetsync_tracking WHERE seq > ?1 AND origin IS NULL ORDER BY seq",
                )
                .bind(after)
                .fetch_all(&mut c)
                .await
                .unwrap();
                rows.into_iter()
                    .map(|(s, t, d, f)| (s, hetsync_core::change::parse_micros(&t).unwrap(), d != 0, f))
                    .collect()
            }
            Conn::Postgres(mut c) => sqlx::query_as(
                "SELECT seq, (extract(epoch FROM changed_at) * 1000000)::bigint, deleted, fields::text \
                 FROM _hetsync_tracking WHERE seq > $1 AND origin IS NULL ORDER BY seq",
            )
            .bind(after)
            .fetch_all(&mut c)
            .await
            .unwrap(),
            Conn::Mysql(mut c) => sqlx::query_as(
                "SELECT seq, CAST(TIMESTAMPDIFF(MICROSECOND, '1970-01-01', changed_at) AS SIGNED), deleted, CAST(fields AS CHAR) \
                 FROM _hetsync_tracking WHERE seq > ? AND origin IS NULL ORDER BY seq",
            )
            .bind(after)
            .fetch_all(&mut c)
            .await
            .unwrap(),
        }
    }

    /// Asserts every node holds exactly the hub's rows in every table.
    pub async fn assert_converged(&self) {
        for table in &self.tables {
            let hub = self.rows("hub", table).await;
            for s in &self.spokes {
                assert_eq!(
                    self.rows(s, table).await,
                    hub,
                    "table {table}: {s} differs from the hub ({:?})",
                    self.topology
                );
            }
        }
    }

    /// Runs rounds for every spoke `passes` times; returns the rows moved.
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

pub async fn sqlite_connect(path: &Path, create: bool) -> SqliteConnection {
    SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(create)
        .busy_timeout(std::time::Duration::from_secs(30))
        .connect()
        .await
        .unwrap_or_else(|e| panic!("open {}: {e}", path.display()))
}

/// An application connection to MariaDB, quoting identifiers the ANSI way so
/// tests share SQL between databases.
pub async fn mysql_connect(url: &str) -> MySqlConnection {
    let mut conn = url
        .parse::<MySqlConnectOptions>()
        .expect("MariaDB URL")
        .connect()
        .await
        .unwrap_or_else(|e| panic!("connect to {url}: {e}"));
    conn.execute("SET SESSION sql_mode = CONCAT(@@sql_mode, ',ANSI_QUOTES')")
        .await
        .expect("set sql_mode");
    conn
}

fn mysql_value(row: &MySqlRow, i: usize) -> Value {
    let raw = row.try_get_raw(i).expect("raw");
    if raw.is_null() {
        return Value::Null;
    }
    // Rows are read over the text protocol: every value arrives as text and
    // is decoded by its column type.
    let name = raw.type_info().name().to_string();
    match name.as_str() {
        n if n.ends_with("UNSIGNED") => {
            let v: u64 = row.try_get_unchecked(i).expect("unsigned");
            i64::try_from(v).map_or_else(|_| Value::Text(v.to_string()), Value::Int)
        }
        "BIGINT" | "INT" | "MEDIUMINT" | "SMALLINT" | "TINYINT" | "BOOLEAN" => {
            Value::Int(row.try_get_unchecked(i).expect("integer"))
        }
        "DOUBLE" => Value::Float(row.get(i)),
        "FLOAT" => Value::Float(row.get::<f32, _>(i) as f64),
        "BLOB" | "TINYBLOB" | "MEDIUMBLOB" | "LONGBLOB" | "VARBINARY" | "BINARY" => {
            Value::Bytes(row.get(i))
        }
        _ => Value::Text(row.try_get_unchecked(i).expect("text")),
    }
}

fn sqlite_value(row: &SqliteRow, i: usize) -> Value {
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

fn pg_value(row: &PgRow, i: usize) -> Value {
    let raw = row.try_get_raw(i).expect("raw");
    if raw.is_null() {
        return Value::Null;
    }
    match raw.type_info().name() {
        "INT8" => Value::Int(row.get(i)),
        "INT4" => Value::Int(row.get::<i32, _>(i) as i64),
        "FLOAT8" => Value::Float(row.get(i)),
        "BOOL" => Value::Bool(row.get(i)),
        "BYTEA" => Value::Bytes(row.get(i)),
        _ => Value::Text(row.get(i)),
    }
}

/// An application transaction left open on purpose.
pub enum OpenTransaction {
    Postgres(PgConnection),
    Mysql(MySqlConnection),
}

impl OpenTransaction {
    pub async fn commit(self) {
        match self {
            OpenTransaction::Postgres(mut c) => c.execute("COMMIT").await.map(drop),
            OpenTransaction::Mysql(mut c) => c.execute("COMMIT").await.map(drop),
        }
        .expect("commit");
    }
}

impl Deploy {
    /// Runs `sql` in a transaction on a server node and leaves it open.
    pub async fn open_transaction(&self, node: &str, sql: &str) -> OpenTransaction {
        match self.connect(node).await {
            Conn::Postgres(mut c) => {
                c.execute("BEGIN").await.unwrap();
                c.execute(sql).await.unwrap();
                OpenTransaction::Postgres(c)
            }
            Conn::Mysql(mut c) => {
                c.execute("BEGIN").await.unwrap();
                c.execute(sql).await.unwrap();
                OpenTransaction::Mysql(c)
            }
            Conn::Sqlite(_) => panic!("{node}: SQLite serializes writers"),
        }
    }
}

/// Scenario for server spokes: hetsync and the application log in as the
/// same user, yet nothing hetsync writes is captured.
pub async fn engine_writes_are_not_captured(topology: Topology, spoke: &str) {
    let d = Deploy::with(topology, &[spoke], BASIC).await;
    let engine = d.installed().await;
    d.exec(
        "hub",
        "INSERT INTO t_row VALUES (1, 'x', 1, 1.0), (2, 'y', 2, 2.0)",
    )
    .await;
    d.sync_passes(&engine, 2).await;
    d.assert_converged().await;
    assert_eq!(
        d.tracking_rows(spoke).await,
        0,
        "downloads were not captured on {spoke}"
    );
    assert_eq!(d.sync_passes(&engine, 2).await, 0);
}

/// Scenario for server spokes: a transaction that writes first and commits
/// after a round is read by a later round, never skipped.
pub async fn late_commit_is_not_skipped(topology: Topology, spoke: &str) {
    let d = Deploy::with(topology, &[spoke], BASIC).await;
    let engine = d.installed().await;
    let long = d
        .open_transaction(spoke, "INSERT INTO t_row VALUES (1, 'long', 1, 1.0)")
        .await;
    d.exec(spoke, "INSERT INTO t_row VALUES (2, 'short', 2, 2.0)")
        .await;
    let round = engine.sync_spoke(spoke).await.unwrap();
    assert_eq!(
        round.rows_moved(),
        0,
        "nothing is read past a transaction that may still commit"
    );
    long.commit().await;
    engine.sync_spoke(spoke).await.unwrap();
    assert_eq!(
        d.rows("hub", "t_row").await.len(),
        2,
        "both transactions reached the hub"
    );
    d.assert_converged().await;
}

/// Sleeps long enough that the next edit gets a later millisecond change time.
pub async fn tick() {
    tokio::time::sleep(std::time::Duration::from_millis(3)).await;
}

/// Runs the `hetsync` binary on a config.
pub fn hetsync(config: &Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_hetsync"))
        .arg("--config")
        .arg(config)
        .args(args)
        .env_remove("HETSYNC_FAULT")
        .output()
        .expect("run hetsync")
}

/// A run's stdout and stderr together.
pub fn output_text(o: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}
