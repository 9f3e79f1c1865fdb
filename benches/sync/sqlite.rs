//! Group `sqlite`: the embedded default on its own. SQLite → SQLite full
//! sync and an incremental round after an UPDATE of every row, each by the
//! `hetsync` binary with its peak RSS, against plain Rust copy programs
//! (read every row, multi-row INSERTs in one transaction) through each
//! driver the adapter uses: sqlx-sqlite, and rusqlite, which its bulk
//! statements run through (the ratio is against the faster); and capture
//! overhead on SQLite: single-row inserts and one UPDATE of every row, in
//! one transaction, with and without hetsync's triggers.

use super::{bench_table, run_measured, Line};
use hetsync_core::adapter::{AdapterFactory, NodeSpec};
use sqlx::{Executor, Row, SqliteConnection};
use std::path::Path;
use std::time::Instant;

const DDL: &str = "CREATE TABLE t (id INTEGER PRIMARY KEY, c1 INTEGER, c2 INTEGER, c3 REAL, \
    c4 REAL, c5 TEXT, c6 TEXT, c7 TEXT, c8 INTEGER, c9 REAL)";

/// Rows per INSERT of the plain copy: 10 columns each, well under SQLite's
/// limit of 32,766 parameters.
const ROWS_PER_INSERT: usize = 1_000;

pub(super) async fn open(path: &Path) -> SqliteConnection {
    hetsync_testkit::sqlite::open(path, true).await
}

pub(super) async fn exec(conn: &mut SqliteConnection, sql: &str) {
    conn.execute(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// A new file holding table `t`, with `rows` rows when asked.
pub(super) async fn create(path: &Path, rows: u64) {
    let mut conn = open(path).await;
    exec(&mut conn, DDL).await;
    if rows > 0 {
        exec(
            &mut conn,
            &format!(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {rows}) \
                 INSERT INTO t SELECT i, i * 2, i % 1000, i * 0.5, i * 0.25, 'name ' || i, \
                 printf('%016x%016x', i * 2654435761, i * 40503), 'planning zone', i % 7, \
                 i * 1.25 FROM n"
            ),
        )
        .await;
    }
}

/// A multi-row INSERT of `n` rows of table `t`, anonymous parameters.
fn insert_sql(n: usize) -> String {
    let one = format!("({})", ["?"; 10].join(", "));
    format!("INSERT INTO t VALUES {}", vec![one; n].join(", "))
}

/// The plain copy: every row of `from` read through sqlx and written to
/// `to` in multi-row INSERTs, in one transaction.
async fn plain_copy(from: &Path, to: &Path) -> u64 {
    use futures_util::TryStreamExt;
    let mut source = open(from).await;
    let mut sink = open(to).await;
    exec(&mut sink, "BEGIN").await;
    let full = insert_sql(ROWS_PER_INSERT);
    let mut copied = 0u64;
    let mut batch: Vec<sqlx::sqlite::SqliteRow> = Vec::with_capacity(ROWS_PER_INSERT);
    let mut rows = sqlx::query("SELECT * FROM t").fetch(&mut source);
    loop {
        let row = rows.try_next().await.expect("read");
        let end = row.is_none();
        batch.extend(row);
        if batch.len() == ROWS_PER_INSERT || (end && !batch.is_empty()) {
            let sql = if batch.len() == ROWS_PER_INSERT {
                full.clone()
            } else {
                insert_sql(batch.len())
            };
            let mut q = sqlx::query(&sql);
            for r in &batch {
                q = q
                    .bind(r.get::<i64, _>(0))
                    .bind(r.get::<i64, _>(1))
                    .bind(r.get::<i64, _>(2))
                    .bind(r.get::<f64, _>(3))
                    .bind(r.get::<f64, _>(4))
                    .bind(r.get::<String, _>(5))
                    .bind(r.get::<String, _>(6))
                    .bind(r.get::<String, _>(7))
                    .bind(r.get::<i64, _>(8))
                    .bind(r.get::<f64, _>(9));
            }
            q.execute(&mut sink).await.expect("insert");
            copied += batch.len() as u64;
            batch.clear();
        }
        if end {
            break;
        }
    }
    drop(rows);
    exec(&mut sink, "COMMIT").await;
    copied
}

/// The same copy through rusqlite: a prepared multi-row INSERT bound from
/// the rows read, in one transaction.
fn plain_copy_rusqlite(from: &Path, to: &Path) -> u64 {
    use rusqlite::types::Value;
    let source = rusqlite::Connection::open(from).expect("open source");
    let mut sink = rusqlite::Connection::open(to).expect("open sink");
    let tx = sink.transaction().expect("begin");
    let mut read = source.prepare("SELECT * FROM t").expect("prepare read");
    let mut rows = read.query([]).expect("read");
    let mut batch: Vec<Value> = Vec::with_capacity(ROWS_PER_INSERT * 10);
    let mut copied = 0u64;
    let flush = |batch: &mut Vec<Value>| {
        let n = batch.len() / 10;
        tx.prepare_cached(&insert_sql(n))
            .expect("prepare insert")
            .execute(rusqlite::params_from_iter(batch.iter()))
            .expect("insert");
        batch.clear();
        n as u64
    };
    while let Some(row) = rows.next().expect("read") {
        batch.extend((0..10).map(|i| row.get::<_, Value>(i).expect("value")));
        if batch.len() == ROWS_PER_INSERT * 10 {
            copied += flush(&mut batch);
        }
    }
    if !batch.is_empty() {
        copied += flush(&mut batch);
    }
    tx.commit().expect("commit");
    copied
}

pub(super) fn write_config(dir: &Path) -> std::path::PathBuf {
    let config = dir.join("hetsync.toml");
    std::fs::write(
        &config,
        "[[node]]\nname = \"hub\"\nadapter = \"sqlite\"\nurl = \"hub.db\"\nrole = \"hub\"\n\n\
         [[node]]\nname = \"spoke\"\nadapter = \"sqlite\"\nurl = \"spoke.db\"\nrole = \"spoke\"\n\n\
         [[table]]\nname = \"t\"\ncode = [\"id\"]\nform = \"field\"\n",
    )
    .unwrap();
    config
}

/// The rows of `table` in a SQLite file.
pub(super) async fn count(path: &Path, table: &str) -> i64 {
    let mut conn = open(path).await;
    sqlx::query(&format!("SELECT count(*) FROM {table}"))
        .fetch_one(&mut conn)
        .await
        .expect("count")
        .get(0)
}

pub async fn sqlite_benchmarks(rows: u64, lines: &mut Vec<Line>) {
    let dir = tempfile::tempdir().expect("temp dir");
    let (hub, spoke, raw, raw2) = (
        dir.path().join("hub.db"),
        dir.path().join("spoke.db"),
        dir.path().join("raw.db"),
        dir.path().join("raw2.db"),
    );
    create(&hub, rows).await;
    create(&spoke, 0).await;
    create(&raw, 0).await;
    create(&raw2, 0).await;

    let started = Instant::now();
    assert_eq!(plain_copy(&hub, &raw).await, rows);
    let by_sqlx = started.elapsed();
    let started = Instant::now();
    assert_eq!(plain_copy_rusqlite(&hub, &raw2), rows);
    let by_rusqlite = started.elapsed();
    for (name, took) in [("sqlx", by_sqlx), ("rusqlite", by_rusqlite)] {
        lines.push(Line {
            name: format!("SQLite plain copy ({name}, multi-row INSERT)"),
            rows,
            took,
            baseline: None,
            target: "",
        });
    }
    let baseline = by_sqlx.min(by_rusqlite);

    let config = write_config(dir.path());
    run_measured(&config, &["install"]);
    let (full, full_kb) = run_measured(&config, &["sync"]);
    assert_eq!(
        count(&spoke, "t").await,
        rows as i64,
        "full sync copied every row"
    );
    lines.push(Line {
        name: "SQLite → SQLite full sync (binary)".into(),
        rows,
        took: full,
        baseline: Some(baseline),
        target: "target ≥ 250k rows/s, ≥ 0.5×",
    });

    let mut conn = open(&spoke).await;
    let started = Instant::now();
    exec(&mut conn, "UPDATE t SET c1 = c1 + 1, c5 = c5 || '!'").await;
    let update = started.elapsed();
    drop(conn);
    let (incremental, incremental_kb) = run_measured(&config, &["sync"]);
    let mut conn = open(&hub).await;
    let changed: i64 = sqlx::query("SELECT count(*) FROM t WHERE c5 LIKE '%!'")
        .fetch_one(&mut conn)
        .await
        .expect("count")
        .get(0);
    assert_eq!(
        changed, rows as i64,
        "the incremental round moved every row"
    );
    lines.push(Line {
        name: "SQLite incremental after a full UPDATE".into(),
        rows,
        took: incremental,
        baseline: None,
        target: "target ≥ 100k rows/s",
    });
    lines.push(Line {
        name: "  (the UPDATE itself on the spoke)".into(),
        rows,
        took: update,
        baseline: None,
        target: "",
    });
    println!(
        "SQLite peak RSS of hetsync: full sync {} MB, incremental {} MB (target < 200 MB for a 1M-row change)",
        full_kb / 1024,
        incremental_kb / 1024
    );

    capture_overhead(dir.path(), rows.min(200_000), lines).await;
}

/// Single-row inserts of `rows` rows, then one UPDATE of all of them, each
/// in one transaction, into a table without and with capture.
async fn capture_overhead(dir: &Path, rows: u64, lines: &mut Vec<Line>) {
    let mut timings = Vec::new();
    for with_capture in [false, true] {
        let path = dir.join(format!("capture-{with_capture}.db"));
        create(&path, 0).await;
        if with_capture {
            let spec = NodeSpec {
                name: "cap".into(),
                url: path.display().to_string(),
                base_dir: dir.into(),
                options: Default::default(),
            };
            let node = hetsync_adapter_sqlite::SqliteAdapter
                .connect(&spec)
                .await
                .expect("connect");
            node.install(&[bench_table("t")]).await.expect("install");
        }
        let mut conn = open(&path).await;
        let started = Instant::now();
        exec(&mut conn, "BEGIN").await;
        for i in 1..=rows as i64 {
            sqlx::query("INSERT INTO t VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
                .bind(i)
                .bind(i * 2)
                .bind(i % 1000)
                .bind(i as f64 * 0.5)
                .bind(i as f64 * 0.25)
                .bind(format!("name {i}"))
                .bind(format!("{:016x}", i.wrapping_mul(2654435761)))
                .bind("planning zone")
                .bind(i % 7)
                .bind(i as f64 * 1.25)
                .execute(&mut conn)
                .await
                .expect("insert");
        }
        exec(&mut conn, "COMMIT").await;
        let inserts = started.elapsed();
        let started = Instant::now();
        exec(&mut conn, "BEGIN").await;
        exec(&mut conn, "UPDATE t SET c1 = c1 + 1").await;
        exec(&mut conn, "COMMIT").await;
        timings.push((inserts, started.elapsed()));
    }
    let (plain, captured) = (timings[0], timings[1]);
    lines.push(Line {
        name: "SQLite capture: single-row inserts, 1 tx".into(),
        rows,
        took: captured.0,
        baseline: Some(plain.0),
        target: "target ≥ 0.5×",
    });
    lines.push(Line {
        name: "SQLite capture: one UPDATE of every row".into(),
        rows,
        took: captured.1,
        baseline: Some(plain.1),
        target: "target ≥ 0.4×",
    });
}
