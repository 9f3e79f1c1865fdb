//! Group `bulk`: bulk mode against trigger capture, on PostgreSQL and
//! MariaDB. Per database the same load runs three ways, each into a
//! database of its own on the same server:
//! - with no hetsync installed (the baseline);
//! - with hetsync's capture installed (triggers record every row);
//! - with capture installed, between `bulk begin` and `bulk end` (timed
//!   together: the copy at the begin, the load, the recording at the end).
//!
//! Two loads: an import of every row into an empty table (the target:
//! ≤ 1.3× the baseline), and one UPDATE of every row of the loaded table
//! (bulk begin then copies every row, and its end compares every row).

use super::{bench_table, connect, copy_pipe, exec, fill, mariadb_ddl, mariadb_filled, Line, DDL};
use hetsync_core::adapter::Capture;
use hetsync_core::change::BulkRecorded;
use hetsync_core::schema::SyncTable;
use hetsync_testkit::mysql::MysqlServer;
use hetsync_testkit::pg::PgServer;
use sqlx::{Connection, Executor, MySqlConnection};
use std::future::Future;
use std::time::{Duration, Instant};

/// How a load runs.
#[derive(Clone, Copy, PartialEq)]
enum Way {
    Plain,
    Triggers,
    Bulk,
}

const WAYS: [(Way, &str); 3] = [
    (Way::Plain, "plain"),
    (Way::Triggers, "triggers"),
    (Way::Bulk, "bulk"),
];

/// Times `load`, between a bulk begin and end on `node` when `way` is
/// [`Way::Bulk`], and checks what the end recorded.
async fn timed<F: Future<Output = ()>>(
    way: Way,
    node: &dyn Capture,
    table: &SyncTable,
    expected: u64,
    load: F,
) -> Duration {
    let started = Instant::now();
    if way == Way::Bulk {
        node.bulk_begin(std::slice::from_ref(table), now())
            .await
            .expect("bulk begin");
        load.await;
        let recorded = node
            .bulk_end(std::slice::from_ref(table), now(), None)
            .await
            .expect("bulk end");
        assert_eq!(
            recorded,
            [BulkRecorded {
                table: table.name.clone(),
                changed: expected,
                deleted: 0,
            }]
        );
    } else {
        load.await;
    }
    started.elapsed()
}

fn now() -> i64 {
    chrono::Utc::now().timestamp_micros()
}

/// The lines of one database: per load, each way against the baseline.
fn lines_of(db: &str, rows: u64, timings: &[(Duration, Duration)], lines: &mut Vec<Line>) {
    let plain = timings[0];
    for (i, (load, target)) in [
        ("import into an empty table", "target ≥ 0.77× (≤ 1.3×)"),
        ("one UPDATE of every row", ""),
    ]
    .into_iter()
    .enumerate()
    {
        for ((way, name), t) in WAYS.iter().zip(timings).skip(1) {
            let took = if i == 0 { t.0 } else { t.1 };
            lines.push(Line {
                name: format!("{db} {load}: {name}"),
                rows,
                took,
                baseline: Some(if i == 0 { plain.0 } else { plain.1 }),
                target: if *way == Way::Bulk { target } else { "" },
            });
        }
    }
}

async fn postgres(rows: u64, lines: &mut Vec<Line>) {
    let server = PgServer::start();
    server.create_db("src").await;
    let mut source = connect(&server, "src").await;
    exec(&mut source, DDL).await;
    fill(&mut source, rows).await;
    let table = bench_table("t");
    let mut timings = Vec::new();
    for (way, db) in WAYS {
        server.create_db(db).await;
        let mut conn = connect(&server, db).await;
        exec(&mut conn, DDL).await;
        let node = hetsync_adapter_postgres::PostgresNode::connect(db, &server.url(db))
            .await
            .unwrap();
        if way != Way::Plain {
            node.install(std::slice::from_ref(&table))
                .await
                .expect("install");
        }
        let import = timed(
            way,
            &node,
            &table,
            rows,
            copy_pipe(&mut source, "SELECT * FROM t", &mut conn, "t"),
        )
        .await;
        exec(&mut conn, "VACUUM ANALYZE t").await;
        let update = timed(
            way,
            &node,
            &table,
            rows,
            exec(&mut conn, "UPDATE t SET c1 = c1 + 1"),
        )
        .await;
        timings.push((import, update));
    }
    lines_of("PostgreSQL bulk:", rows, &timings, lines);
}

async fn mariadb(rows: u64, lines: &mut Vec<Line>) {
    let server = MysqlServer::start();
    mariadb_filled(&server, "src", rows).await;
    let ddl = mariadb_ddl();
    let table = bench_table("t");
    let mut timings = Vec::new();
    for (way, db) in WAYS {
        server.create_db(db).await;
        let mut conn = MySqlConnection::connect(&server.url(db)).await.unwrap();
        conn.execute(ddl.as_str()).await.unwrap();
        let node = hetsync_adapter_mysql::MysqlNode::connect(db, &server.url(db))
            .await
            .unwrap();
        if way != Way::Plain {
            node.install(std::slice::from_ref(&table))
                .await
                .expect("install");
        }
        let import = timed(way, &node, &table, rows, async {
            conn.execute("INSERT INTO t SELECT * FROM src.t")
                .await
                .unwrap();
        })
        .await;
        let update = timed(way, &node, &table, rows, async {
            conn.execute("UPDATE t SET c1 = c1 + 1").await.unwrap();
        })
        .await;
        timings.push((import, update));
    }
    lines_of("MariaDB bulk:", rows, &timings, lines);
}

pub async fn bulk_benchmarks(rows: u64, lines: &mut Vec<Line>) {
    postgres(rows, lines).await;
    mariadb(rows, lines).await;
}
