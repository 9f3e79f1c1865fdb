//! Test harness: real databases (SQLite files, throwaway PostgreSQL and
//! MariaDB servers),
//! a `hetsync.toml`, an engine built exactly as the binary builds it, and
//! "application" connections that edit the databases without hetsync.

#![allow(dead_code)]

pub use hetsync_testkit::database::{
    DatabaseKind, KINGBASE_ODBC, MARIADB_ODBC, MYSQL, POSTGRES, POSTGRES_LOGICAL, SQLITE,
    SQLITE_ODBC, SQLITE_SNAPSHOT,
};

use hetsync::setup::open_engine;
use hetsync_core::engine::Engine;
use hetsync_core::sql::quote_ident;
use hetsync_core::value::Value;
use hetsync_testkit::database::{must_execute, must_query, TestConnection, TestDatabase};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Hub and spoke databases for a deployment.
#[derive(Clone, Copy, Debug)]
pub struct Topology {
    pub hub: DatabaseKind,
    pub spokes: &'static [DatabaseKind],
}

/// All SQLite.
pub const ALL_SQLITE: Topology = Topology {
    hub: SQLITE,
    spokes: &[SQLITE],
};

/// The mixed topologies every property test also runs on (spoke kinds repeat
/// cyclically over the spokes a test asks for, so a one-spoke test on the
/// first topology gets a MariaDB spoke).
pub const MIXED: &[Topology] = &[
    Topology {
        hub: POSTGRES,
        spokes: &[MYSQL, SQLITE],
    },
    Topology {
        hub: POSTGRES_LOGICAL,
        spokes: &[SQLITE, POSTGRES],
    },
    // PostgreSQL's SQL through psqlODBC (the ODBC adapter's kingbase
    // profile) as the spoke; a native PostgreSQL spoke is in the one above.
    Topology {
        hub: MYSQL,
        spokes: &[KINGBASE_ODBC],
    },
    // Capture by snapshot difference: no triggers on the hub or on the
    // first spoke, a SQLite file behind the SQLite ODBC driver (the ODBC
    // adapter's generic profile: generic SQL, the driver's catalog).
    Topology {
        hub: SQLITE_SNAPSHOT,
        spokes: &[SQLITE_ODBC, SQLITE],
    },
];

/// The kinds of database that capture by snapshot difference.
pub const SNAPSHOT_KINDS: &[DatabaseKind] = &[SQLITE_SNAPSHOT, SQLITE_ODBC, MARIADB_ODBC];

/// A hub behind the SQLite ODBC driver (the ODBC adapter's generic
/// profile), with a spoke capturing by snapshot difference and a MariaDB
/// spoke behind MariaDB Connector/ODBC (the generic profile too).
pub const GENERIC_ODBC_HUB: Topology = Topology {
    hub: SQLITE_ODBC,
    spokes: &[SQLITE_SNAPSHOT, MARIADB_ODBC],
};

/// A hub reached through ODBC (the kingbase profile over psqlODBC), with a
/// native PostgreSQL spoke and a SQLite spoke.
pub const ODBC_HUB: Topology = Topology {
    hub: KINGBASE_ODBC,
    spokes: &[POSTGRES, SQLITE],
};

impl Topology {
    /// Every kind of database a node runs on, each once, hub first.
    pub fn kinds(&self) -> Vec<DatabaseKind> {
        let mut kinds = vec![self.hub];
        for k in self.spokes {
            if !kinds.contains(k) {
                kinds.push(*k);
            }
        }
        kinds
    }
}

/// The running databases a deployment's nodes live on, one per kind.
#[derive(Clone, Default)]
pub struct Servers(Vec<(DatabaseKind, Arc<dyn TestDatabase>)>);

impl Servers {
    /// Starts the databases a topology needs.
    pub fn for_topology(topology: Topology) -> Servers {
        Servers(
            topology
                .kinds()
                .into_iter()
                .map(|k| (k, (k.start)()))
                .collect(),
        )
    }

    /// These running databases.
    pub fn of(databases: Vec<(DatabaseKind, Arc<dyn TestDatabase>)>) -> Servers {
        Servers(databases)
    }

    /// The running database of a kind.
    pub fn get(&self, kind: DatabaseKind) -> &Arc<dyn TestDatabase> {
        &self
            .0
            .iter()
            .find(|(k, _)| *k == kind)
            .unwrap_or_else(|| panic!("no {kind:?} database was started"))
            .1
    }
}

/// The adapter built into hetsync for a kind of database.
pub fn built_in_adapter(kind: DatabaseKind) -> Arc<dyn hetsync_core::adapter::AdapterFactory> {
    if [KINGBASE_ODBC, SQLITE_ODBC, MARIADB_ODBC].contains(&kind) {
        return Arc::new(hetsync_adapter_odbc::OdbcAdapter);
    }
    match kind.family {
        "sqlite" => Arc::new(hetsync_adapter_sqlite::SqliteAdapter),
        "postgres" => Arc::new(hetsync_adapter_postgres::PostgresAdapter),
        "mysql" => Arc::new(hetsync_adapter_mysql::MysqlAdapter),
        other => panic!("no built-in adapter for {other}"),
    }
}

/// SQLite alone, then every mixed topology.
pub fn topologies() -> impl Iterator<Item = Topology> {
    std::iter::once(ALL_SQLITE).chain(MIXED.iter().copied())
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

/// One table: its `CREATE TABLE` per kind of database (by kind name), and
/// its `[[table]]` config block. MariaDB runs DDL with `ANSI_QUOTES`, so it
/// may quote like the others.
pub struct TableSpec {
    pub name: &'static str,
    pub ddl: &'static [(&'static str, &'static str)],
    pub config: &'static str,
}

impl TableSpec {
    /// The `CREATE TABLE` for a kind of database.
    pub fn ddl_for(&self, kind: DatabaseKind) -> &'static str {
        self.ddl
            .iter()
            .find(|(k, _)| *k == kind.family)
            .unwrap_or_else(|| panic!("table {} has no DDL for {kind:?}", self.name))
            .1
    }
}

/// A row of the [`BASIC`] tables: `k`, `a`, `b`, `c`.
pub fn basic_row(k: i64, a: &str, b: i64, c: f64) -> Vec<Value> {
    vec![
        Value::Int(k),
        Value::Text(a.into()),
        Value::Int(b),
        Value::Float(c),
    ]
}

/// A field-form table `t_field` and a table-form table `t_row`, code `k`.
pub const BASIC: &[TableSpec] = &[
    TableSpec {
        name: "t_field",
        ddl: &[
            (
                "sqlite",
                r#"CREATE TABLE "t_field" ("k" INTEGER PRIMARY KEY, "a" TEXT, "b" INTEGER, "c" REAL)"#,
            ),
            (
                "postgres",
                r#"CREATE TABLE "t_field" ("k" bigint PRIMARY KEY, "a" text, "b" bigint, "c" double precision)"#,
            ),
            (
                "mysql",
                r#"CREATE TABLE "t_field" ("k" bigint PRIMARY KEY, "a" text, "b" bigint, "c" double)"#,
            ),
        ],
        config: "[[table]]\nname = \"t_field\"\ncode = [\"k\"]\nform = \"field\"\n",
    },
    TableSpec {
        name: "t_row",
        ddl: &[
            (
                "sqlite",
                r#"CREATE TABLE "t_row" ("k" INTEGER PRIMARY KEY, "a" TEXT, "b" INTEGER, "c" REAL)"#,
            ),
            (
                "postgres",
                r#"CREATE TABLE "t_row" ("k" bigint PRIMARY KEY, "a" text, "b" bigint, "c" double precision)"#,
            ),
            (
                "mysql",
                r#"CREATE TABLE "t_row" ("k" bigint PRIMARY KEY, "a" text, "b" bigint, "c" double)"#,
            ),
        ],
        config: "[[table]]\nname = \"t_row\"\ncode = [\"k\"]\nform = \"table\"\n",
    },
];

/// One node of a deployment: where it lives.
pub struct NodeDb {
    pub name: String,
    pub kind: DatabaseKind,
    /// Its URL as the config writes it.
    pub url: String,
    database: Arc<dyn TestDatabase>,
}

/// A deployment in a temp dir.
pub struct Deploy {
    pub dir: tempfile::TempDir,
    pub spokes: Vec<String>,
    pub tables: Vec<String>,
    pub nodes: Vec<NodeDb>,
    pub topology: Topology,
    _servers: Servers,
    /// An engine of its own for [`Deploy::capture_now`], made when first needed.
    capture: tokio::sync::OnceCell<Engine>,
}

impl Deploy {
    /// All nodes on SQLite.
    pub async fn new(spokes: &[&str], tables: &[TableSpec]) -> Deploy {
        Deploy::with(ALL_SQLITE, spokes, tables).await
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
            let database = servers.get(kind).clone();
            let url = database.create(dir.path(), name).await;
            let mut conn = database.connect(dir.path(), &url).await;
            for t in tables {
                must_execute(&mut *conn, t.ddl_for(kind)).await;
            }
            let adapter = database.adapter();
            config.push_str(&format!("[[node]]\nname = \"{name}\"\nadapter = \"{adapter}\"\nurl = \"{url}\"\nrole = \"{role}\"\n"));
            let options = database.node_options();
            if !options.is_empty() {
                config.push_str(&format!("[node.options]\n{options}"));
            }
            config.push('\n');
            nodes.push(NodeDb {
                name: name.to_string(),
                kind,
                url,
                database,
            });
        }
        for t in tables {
            config.push_str(t.config);
            config.push('\n');
        }
        // Adapters hetsync does not have built in come as plugins.
        let mut plugins: Vec<&str> = nodes.iter().filter_map(|n| n.database.plugin()).collect();
        plugins.sort_unstable();
        plugins.dedup();
        match plugins[..] {
            [] => {}
            [adapter] => {
                let plugin_dir = hetsync_testkit::plugins::adapter_plugin_dir(adapter);
                config.push_str(&format!("[plugins]\ndir = \"{}\"\n", plugin_dir.display()));
            }
            _ => panic!("a test deployment names one plugin directory, not {plugins:?}"),
        }
        std::fs::write(dir.path().join("hetsync.toml"), config).expect("write config");
        Deploy {
            dir,
            spokes: spokes.iter().map(|s| s.to_string()).collect(),
            tables: tables.iter().map(|t| t.name.to_string()).collect(),
            nodes,
            topology,
            _servers: servers,
            capture: tokio::sync::OnceCell::new(),
        }
    }

    /// A PostgreSQL hub on a server of its own (so that it can be
    /// stopped), a SQLite `standby` (`role = "standby"`), a MariaDB spoke
    /// `a` and a SQLite spoke `b`.
    pub async fn with_standby(tables: &[TableSpec]) -> Deploy {
        let topology = Topology {
            hub: POSTGRES,
            spokes: &[SQLITE, MYSQL, SQLITE],
        };
        let d = Deploy::with(topology, &["standby", "a", "b"], tables).await;
        let url = d.node("standby").url.clone();
        d.edit_config(
            &format!("url = \"{url}\"\nrole = \"spoke\""),
            &format!("url = \"{url}\"\nrole = \"standby\""),
        );
        d
    }

    pub fn config(&self) -> PathBuf {
        self.dir.path().join("hetsync.toml")
    }

    /// Rewrites the config, replacing `from` by `to` (another login in the
    /// URLs, say).
    pub fn edit_config(&self, from: &str, to: &str) {
        let config = std::fs::read_to_string(self.config()).expect("read config");
        std::fs::write(self.config(), config.replace(from, to)).expect("write config");
    }

    /// Appends to the config (a `[sync]` table, say).
    pub fn append_config(&self, text: &str) {
        let config = std::fs::read_to_string(self.config()).expect("read config");
        std::fs::write(self.config(), format!("{config}\n{text}")).expect("write config");
    }

    pub fn node(&self, node: &str) -> &NodeDb {
        self.nodes
            .iter()
            .find(|n| n.name == node)
            .unwrap_or_else(|| panic!("no node {node}"))
    }

    /// What an adapter needs to connect to a node directly (no config).
    pub fn node_spec(&self, node: &str) -> hetsync_core::adapter::NodeSpec {
        hetsync_core::adapter::NodeSpec {
            name: node.to_string(),
            url: self.node(node).url.clone(),
            base_dir: self.dir.path().to_path_buf(),
            options: hetsync_testkit::database::node_options(&*self.node(node).database),
        }
    }

    /// The SQLite file of a node (panics for other databases).
    pub fn db(&self, node: &str) -> PathBuf {
        let n = self.node(node);
        assert_eq!(n.kind, SQLITE, "{node} is not a SQLite node");
        self.dir.path().join(&n.url)
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

    /// The database system a node lives on (to kill its server, say).
    pub fn database(&self, node: &str) -> Arc<dyn TestDatabase> {
        self.node(node).database.clone()
    }

    /// An application connection to a node.
    pub async fn connect(&self, node: &str) -> Box<dyn TestConnection> {
        let n = self.node(node);
        n.database.connect(self.dir.path(), &n.url).await
    }

    /// An application edit on a node, through its own connection.
    /// An application edit on a node. On a node that captures by snapshot
    /// difference, a catch-up follows it, so its change time is (about)
    /// the edit's, as with the other kinds of capture: the sync rules'
    /// "latest change" is the order in which catch-ups saw the edits.
    pub async fn exec(&self, node: &str, sql: &str) -> u64 {
        let mut conn = self.connect(node).await;
        let changed = conn
            .execute(sql)
            .await
            .unwrap_or_else(|e| panic!("{node}: {sql}: {e}"));
        drop(conn);
        if SNAPSHOT_KINDS.contains(&self.node(node).kind) {
            // A node not installed yet, or whose capture a test broke, has
            // nothing to take; the test's next round says so.
            let _ = self.catch_up_apart(node).await;
        }
        changed
    }

    /// [`Deploy::take_captured`] by an engine of its own on a thread of its
    /// own: SQLite statements wait for a busy file on the thread that runs
    /// them, so a catch-up on this test's thread could wait for a lock an
    /// engine of the test holds while that engine waits for the thread.
    async fn catch_up_apart(&self, node: &str) -> anyhow::Result<()> {
        let (config, node) = (self.config(), node.to_string());
        let (done, result) = tokio::sync::oneshot::channel();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime");
            let caught_up = runtime.block_on(async {
                let engine = open_engine(&config, &[]).await?;
                Ok(read_from_end(&engine, &node).await?)
            });
            let _ = done.send(caught_up);
        });
        result.await.expect("the catch-up thread answers")
    }

    /// An application edit on a node made by the database user `user` (a
    /// login the test created on the node's server; the servers trust every
    /// local login, so the URL only names it).
    pub async fn exec_as(&self, node: &str, user: &str, sql: &str) -> u64 {
        let n = self.node(node);
        let (scheme, rest) = n.url.split_once("://").expect("a URL with a scheme");
        let (_, host) = rest.split_once('@').expect("a URL with a user");
        let url = format!("{scheme}://{user}@{host}");
        let mut conn = n.database.connect(self.dir.path(), &url).await;
        conn.execute(sql)
            .await
            .unwrap_or_else(|e| panic!("{node} as {user}: {sql}: {e}"))
    }

    /// The rows of a query on a node.
    pub async fn query(&self, node: &str, sql: &str) -> Vec<Vec<Value>> {
        let mut conn = self.connect(node).await;
        conn.query(sql)
            .await
            .unwrap_or_else(|e| panic!("{node}: {sql}: {e}"))
    }

    /// All rows of a table on a node, ordered by the first two columns.
    pub async fn rows(&self, node: &str, table: &str) -> Vec<Vec<Value>> {
        let mut conn = self.connect(node).await;
        let sql = format!("SELECT * FROM {} ORDER BY 1, 2", quote_ident(table));
        must_query(&mut *conn, &sql).await
    }

    /// Inserts rows `i` = 1..=n into `table` on `node`: `SELECT i, {rest}`.
    pub async fn insert_series(&self, node: &str, table: &str, n: u64, rest: &str) {
        let series = self.node(node).database.series(n);
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

    /// Runs SQL on a node with capture's record of it removed: a change
    /// the capture missed (the trigger was gone, a restore, a hand edit).
    pub async fn exec_uncaptured(&self, node: &str, sql: &str) {
        let before = self
            .scalar_i64(node, "SELECT COALESCE(MAX(seq), 0) FROM _hetsync_tracking")
            .await;
        self.exec(node, sql).await;
        self.exec(
            node,
            &format!("DELETE FROM _hetsync_tracking WHERE seq > {before}"),
        )
        .await;
    }

    /// The one value of a query on a node.
    async fn scalar(&self, node: &str, sql: &str) -> Value {
        let rows = self.query(node, sql).await;
        match rows.as_slice() {
            [row] if row.len() == 1 => row[0].clone(),
            _ => panic!("{node}: {sql}: not one value: {rows:?}"),
        }
    }

    /// One integer from a node.
    pub async fn scalar_i64(&self, node: &str, sql: &str) -> i64 {
        match self.scalar(node, sql).await {
            Value::Int(i) => i,
            other => panic!("{node}: {sql}: not an integer: {other:?}"),
        }
    }

    /// One text value (the SQL must yield text or NULL: cast on MariaDB with `CAST(… AS CHAR)`).
    pub async fn scalar_text(&self, node: &str, sql: &str) -> Option<String> {
        match self.scalar(node, sql).await {
            Value::Null => None,
            Value::Text(t) => Some(t),
            // Expressions over mixed collations come back as binary strings.
            Value::Bytes(b) => Some(String::from_utf8(b).expect("UTF-8")),
            other => panic!("{node}: {sql}: not text: {other:?}"),
        }
    }

    /// Number of tracking rows on a node.
    pub async fn tracking_rows(&self, node: &str) -> i64 {
        self.scalar_i64(node, "SELECT count(*) FROM _hetsync_tracking")
            .await
    }

    /// Takes into a node's tracking table what its capture has decoded
    /// but not recorded yet: capture by logical decoding records at the
    /// start of a round, and tests that read the tracking table right after
    /// an edit want it now; so does capture by snapshot difference.
    /// Nothing for the other kinds of capture.
    pub async fn capture_now(&self, node: &str) {
        let kind = self.node(node).kind;
        if kind != POSTGRES_LOGICAL && !SNAPSHOT_KINDS.contains(&kind) {
            return;
        }
        self.take_captured(node).await.expect("catch up");
    }

    /// Reads a node's changes from its current end: what its capture
    /// decoded or found goes into the tracking table first.
    async fn take_captured(&self, node: &str) -> hetsync_core::Result<()> {
        let engine = self.capture.get_or_init(|| self.engine()).await;
        read_from_end(engine, node).await
    }

    /// Local edits captured on a node after `seq`: (seq, UTC micros, deleted, changed fields as JSON).
    pub async fn local_events(
        &self,
        node: &str,
        after: i64,
    ) -> Vec<(i64, i64, bool, Option<String>)> {
        self.capture_now(node).await;
        let sql = self.node(node).database.local_events_query(after);
        self.query(node, &sql)
            .await
            .into_iter()
            .map(|row| {
                let int = |v: &Value| match v {
                    Value::Int(i) => *i,
                    Value::Bool(b) => i64::from(*b),
                    other => panic!("not an integer: {other:?}"),
                };
                let time = match &row[1] {
                    Value::Text(t) => hetsync_core::change::parse_micros(t).expect("change time"),
                    v => int(v),
                };
                let fields = match &row[3] {
                    Value::Null => None,
                    Value::Text(t) => Some(t.clone()),
                    other => panic!("fields are not text: {other:?}"),
                };
                (int(&row[0]), time, int(&row[2]) != 0, fields)
            })
            .collect()
    }

    /// Moves the change time of a node's local edits after tracking
    /// sequence `after` by `millis` (a node whose clock is off).
    pub async fn shift_local_events(&self, node: &str, after: i64, millis: i64) {
        let sql = self
            .node(node)
            .database
            .shift_local_events_sql(after, millis);
        self.exec(node, &sql).await;
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

    /// Runs `sql` in a transaction on a node and leaves it open.
    pub async fn open_transaction(&self, node: &str, sql: &str) -> OpenTransaction {
        let mut conn = self.connect(node).await;
        must_execute(&mut *conn, "BEGIN").await;
        must_execute(&mut *conn, sql).await;
        OpenTransaction(conn)
    }
}

/// An application transaction left open on purpose.
pub struct OpenTransaction(Box<dyn TestConnection>);

impl OpenTransaction {
    pub async fn commit(mut self) {
        must_execute(&mut *self.0, "COMMIT").await;
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

/// Reads `node`'s changes from its current end by `engine`: what its
/// capture decoded or found goes into the tracking table first.
async fn read_from_end(engine: &Engine, node: &str) -> hetsync_core::Result<()> {
    let n = std::iter::once(engine.hub())
        .chain(engine.spokes())
        .find(|n| n.name() == node)
        .unwrap_or_else(|| panic!("no node {node}"));
    let end = n.position().await?;
    let range = hetsync_core::change::ReadRange::since(end);
    n.read_changes(engine.tables(), &range).await.map(drop)
}

/// Sleeps long enough that the next edit gets a later millisecond change time.
pub async fn tick() {
    tokio::time::sleep(std::time::Duration::from_millis(3)).await;
}

/// Runs the `hetsync` binary on a config.
pub fn hetsync(config: &Path, args: &[&str]) -> std::process::Output {
    hetsync_command(config, args).output().expect("run hetsync")
}

/// The `hetsync` command on a config, to run as the caller likes.
pub fn hetsync_command(config: &Path, args: &[&str]) -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_hetsync"));
    command
        .arg("--config")
        .arg(config)
        .args(args)
        .env_remove("HETSYNC_FAULT");
    command
}

impl Deploy {
    /// Runs `hetsync` on this deployment, which must succeed; its output.
    pub fn run(&self, args: &[&str]) -> String {
        let out = hetsync(&self.config(), args);
        let text = output_text(&out);
        assert!(out.status.success(), "hetsync {args:?}: {text}");
        text
    }

    /// Two `hetsync sync` runs (the second brings each spoke what later
    /// spokes sent in the first), then every copy must be equal.
    pub async fn sync_to_convergence(&self) {
        self.run(&["sync"]);
        self.run(&["sync"]);
        self.assert_converged().await;
    }

    /// Runs `hetsync` on this deployment, which must succeed; its standard
    /// output parsed as JSON.
    pub fn json(&self, args: &[&str]) -> serde_json::Value {
        let out = hetsync(&self.config(), args);
        assert!(
            out.status.success(),
            "hetsync {args:?}: {}",
            output_text(&out)
        );
        serde_json::from_slice(&out.stdout).expect("JSON")
    }
}

/// A run's stdout and stderr together.
pub fn output_text(o: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// SplitMix64: a tiny seeded generator, so a failing case can be replayed.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number below `n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// One of `items`.
    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[usize::try_from(self.below(items.len() as u64)).expect("an index")]
    }
}

/// The `(name, role)` of each node a JSON report (`status --json`,
/// `/health`) lists under `nodes`.
pub fn roles(report: &serde_json::Value) -> Vec<(&str, &str)> {
    report["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|n| (n["name"].as_str().unwrap(), n["role"].as_str().unwrap()))
        .collect()
}
