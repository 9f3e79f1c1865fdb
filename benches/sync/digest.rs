//! Group `digest`: `verify` by the convergence digest against the
//! row-by-row comparison it replaced, on a PostgreSQL hub, a MariaDB spoke
//! and a SQLite spoke holding the same rows; then `repair` of a MariaDB
//! spoke with 100 corrupted rows, and how many rows it read.

use super::{push_pair, Line};
use hetsync_core::adapter::{AdapterFactory, Node, NodeSpec};
use hetsync_core::code::CombinedCode;
use hetsync_core::digest::buckets_for;
use hetsync_core::engine::{Deployment, Engine};
use hetsync_core::report::Prefer;
use hetsync_core::schema::{SyncTable, TableDef};
use hetsync_core::types::CanonicalType;
use hetsync_core::value::Value;
use hetsync_testkit::mysql::MysqlServer;
use hetsync_testkit::pg::PgServer;
use sqlx::{Connection, Executor};
use std::collections::BTreeMap;
use std::time::Instant;

/// The same rows on every database: integers and texts, which PostgreSQL
/// and MariaDB both hash in their own SQL.
const PG_TABLE: &str = "CREATE TABLE d (id bigint PRIMARY KEY, c1 bigint, c2 bigint, c5 text, \
    c6 text, c7 varchar(40), c8 bigint)";
const PG_FILL: &str = "INSERT INTO d SELECT i, i * 2, i % 1000, 'name ' || i, md5(i::text), \
    'planning zone', i % 7 FROM generate_series(1, $1) i";

async fn fill_postgres(server: &PgServer, rows: u64) -> String {
    server.create_db("hub").await;
    let url = server.url("hub");
    let mut conn = sqlx::PgConnection::connect(&url).await.expect("connect");
    conn.execute(PG_TABLE).await.expect("create");
    sqlx::query(PG_FILL)
        .bind(rows as i64)
        .execute(&mut conn)
        .await
        .expect("fill");
    url
}

async fn fill_mariadb(server: &MysqlServer, rows: u64) -> String {
    server.create_db("spoke").await;
    let url = server.url("spoke");
    let mut conn = sqlx::MySqlConnection::connect(&url).await.expect("connect");
    conn.execute(
        "CREATE TABLE d (id bigint PRIMARY KEY, c1 bigint, c2 bigint, c5 text, c6 text, \
         c7 varchar(40), c8 bigint)",
    )
    .await
    .expect("create");
    conn.execute(
        format!(
            "INSERT INTO d SELECT seq, seq * 2, seq % 1000, CONCAT('name ', seq), MD5(seq), \
             'planning zone', seq % 7 FROM seq_1_to_{rows}"
        )
        .as_str(),
    )
    .await
    .expect("fill");
    url
}

async fn fill_sqlite(dir: &std::path::Path, rows: u64) -> String {
    let path = dir.join("spoke.db");
    let mut conn = hetsync_testkit::sqlite::open(&path, true).await;
    conn.execute(
        "CREATE TABLE d (id INTEGER PRIMARY KEY, c1 INTEGER, c2 INTEGER, c5 TEXT, c6 TEXT, \
         c7 VARCHAR(40), c8 INTEGER)",
    )
    .await
    .expect("create");
    // SQLite has no md5(): the texts come from PostgreSQL below.
    conn.execute(
        format!(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {rows}) \
             INSERT INTO d SELECT i, i * 2, i % 1000, 'name ' || i, NULL, 'planning zone', i % 7 FROM n"
        )
        .as_str(),
    )
    .await
    .expect("fill");
    path.display().to_string()
}

/// Copies c6 (an MD5 text) from PostgreSQL into the SQLite file, in batches.
async fn copy_md5s(pg_url: &str, sqlite: &str, rows: u64) {
    let mut pg = sqlx::PgConnection::connect(pg_url).await.expect("connect");
    let mut lite = hetsync_testkit::sqlite::open(std::path::Path::new(sqlite), false).await;
    lite.execute("BEGIN").await.expect("begin");
    let mut from = 0i64;
    while (from as u64) < rows {
        let batch: Vec<(i64, String)> =
            sqlx::query_as("SELECT id, c6 FROM d WHERE id > $1 ORDER BY id LIMIT 50000")
                .bind(from)
                .fetch_all(&mut pg)
                .await
                .expect("read");
        let Some(last) = batch.last() else { break };
        from = last.0;
        for (id, md5) in batch {
            sqlx::query("UPDATE d SET c6 = ? WHERE id = ?")
                .bind(md5)
                .bind(id)
                .execute(&mut lite)
                .await
                .expect("update");
        }
    }
    lite.execute("COMMIT").await.expect("commit");
}

/// What `verify` did before the digest: the hub's table in memory, each
/// spoke scanned and compared row by row.
async fn row_by_row(engine: &Engine, table: &SyncTable) -> u64 {
    let mut hub: BTreeMap<CombinedCode, Vec<Value>> = BTreeMap::new();
    each_row(engine.hub(), table, |code, row| {
        hub.insert(code, row);
    })
    .await;
    let mut differences = 0;
    for spoke in engine.spokes() {
        let mut seen = 0;
        each_row(spoke, table, |code, row| {
            seen += 1;
            match hub.get(&code) {
                Some(h) if hetsync_core::value::rows_identical(h, &row) => {}
                _ => differences += 1,
            }
        })
        .await;
        differences += (hub.len() as u64).saturating_sub(seen);
    }
    differences
}

async fn each_row(
    node: &dyn Node,
    table: &SyncTable,
    mut each: impl FnMut(CombinedCode, Vec<Value>),
) {
    let mut after: Option<CombinedCode> = None;
    loop {
        let batch = node
            .scan(table, after.as_ref(), 20_000)
            .await
            .expect("scan");
        if batch.is_empty() {
            return;
        }
        for row in batch {
            let code = table.code_of(&row, node.name()).expect("code");
            after = Some(code.clone());
            each(code, row);
        }
    }
}

pub async fn digest_benchmarks(rows: u64, lines: &mut Vec<Line>) {
    let (pg, maria) = (PgServer::start(), MysqlServer::start());
    let dir = tempfile::tempdir().expect("temp dir");
    let hub_url = fill_postgres(&pg, rows).await;
    let maria_url = fill_mariadb(&maria, rows).await;
    let lite = fill_sqlite(dir.path(), rows).await;
    copy_md5s(&hub_url, &lite, rows).await;
    let spec = |name: &str, url: &str| NodeSpec {
        name: name.into(),
        url: url.into(),
        base_dir: dir.path().into(),
        options: Default::default(),
    };
    let connect = |factory: &'static dyn AdapterFactory, name: &'static str, url: String| {
        let spec = spec(name, &url);
        async move { factory.connect(&spec).await.expect("connect") }
    };
    let urls = [
        (
            &hetsync_adapter_postgres::PostgresAdapter as &dyn AdapterFactory,
            "hub",
            hub_url,
        ),
        (&hetsync_adapter_mysql::MysqlAdapter, "mariadb", maria_url),
        (&hetsync_adapter_sqlite::SqliteAdapter, "sqlite", lite),
    ];
    let mut nodes = Vec::new();
    for (factory, name, url) in &urls {
        nodes.push(connect(*factory, name, url.clone()).await);
    }
    let mut nodes = nodes.into_iter();
    let deployment = Deployment {
        hub: nodes.next().expect("hub"),
        spokes: nodes.collect(),
        unreachable: Vec::new(),
        tables: vec![TableDef::new("d", &["id"])],
        mapping: None,
        standby: None,
    };
    let engine = Engine::new(deployment).await.expect("engine");
    engine.install().await.expect("install");
    let table = engine.tables()[0].clone();

    let started = Instant::now();
    assert_eq!(row_by_row(&engine, &table).await, 0, "the copies are equal");
    let baseline = started.elapsed();
    let started = Instant::now();
    let report = engine.verify().await.expect("verify");
    let took = started.elapsed();
    assert!(report.ok, "{report:?}");
    push_pair(
        lines,
        rows,
        ("verify PG+MariaDB+SQLite, row by row", baseline),
        (
            "verify PG+MariaDB+SQLite, by digest",
            took,
            "target ≥ 3× baseline",
        ),
    );

    // Each node's digest alone, one after the other: what each database's
    // SQL costs, without the others on the same cores.
    let text = CanonicalType::Text { unicode: true };
    let types = [
        CanonicalType::Int64,
        CanonicalType::Int64,
        CanonicalType::Int64,
        text.clone(),
        text,
        CanonicalType::Varchar {
            length: 40,
            unicode: true,
        },
        CanonicalType::Int64,
    ];
    let buckets = buckets_for(rows);
    for (factory, name, url) in urls {
        let node = connect(factory, name, url).await;
        let started = Instant::now();
        let digest = node.digest(&table, &types, buckets).await.expect("digest");
        assert!(digest.is_some(), "{} computes the digest", node.name());
        lines.push(Line {
            name: format!("digest of one copy alone, {}", node.name()),
            rows,
            took: started.elapsed(),
            baseline: None,
            target: "",
        });
    }

    // 100 rows of the MariaDB spoke corrupted.
    let mut conn = sqlx::MySqlConnection::connect(&maria.url("spoke"))
        .await
        .expect("connect");
    let every = (rows / 100).max(1);
    conn.execute(format!("UPDATE d SET c5 = 'corrupt' WHERE id % {every} = 7").as_str())
        .await
        .expect("corrupt");
    let started = Instant::now();
    let repaired = engine
        .repair("mariadb", &[], Prefer::Hub)
        .await
        .expect("repair");
    let took = started.elapsed();
    let t = &repaired.tables[0];
    assert_eq!(t.differing, rows.min(100 * every) / every, "{t:?}");
    lines.push(Line {
        name: "repair 100 corrupted rows (PG hub, MariaDB)".into(),
        rows,
        took,
        baseline: None,
        target: "",
    });
    println!(
        "repair read {} of {} hub rows ({:.3} %) and {} of {} spoke rows ({:.3} %), target < 5 %; {} of {} buckets differed",
        t.rows_read.0,
        t.hub_rows,
        100.0 * t.rows_read.0 as f64 / t.hub_rows as f64,
        t.rows_read.1,
        t.spoke_rows,
        100.0 * t.rows_read.1 as f64 / t.spoke_rows as f64,
        t.differing_buckets,
        t.buckets
    );
    assert!(engine.verify().await.expect("verify").ok, "repaired");
}
