//! Group `odbc`: the ODBC adapter's full sync against the PostgreSQL
//! adapter's own, in the same run, on the same two servers. The ODBC nodes
//! are the same kind of PostgreSQL database reached through psqlODBC with
//! the `kingbase` profile:
//! - PG → PG: both nodes through the PostgreSQL adapter (the baseline);
//! - PG → ODBC: the spoke written through ODBC;
//! - ODBC → PG: the hub read through ODBC.
//!
//! The three alternate twice and each keeps its best run: the machine is
//! noisy. Target (issue #15): ≥ 0.3× the baseline.
//!
//! Then an incremental round after one UPDATE of every row on the hub, into
//! a PostgreSQL spoke and into one reached through psqlODBC (whose rows go
//! through the staging table and the apply function): no target.

use super::{
    connect, exec, fill, full_sync_between, installed, push_pair, sync_spoke, BenchNode, Line, DDL,
};
use hetsync_adapter_odbc::OdbcAdapter;
use hetsync_adapter_postgres::PostgresAdapter;
use hetsync_core::schema::TableDef;
use hetsync_testkit::odbc::{psqlodbc_url, register_drivers};
use hetsync_testkit::pg::PgServer;
use std::time::{Duration, Instant};

const KINGBASE: &[(&str, &str)] = &[("profile", "kingbase")];

/// A database on `server` through the PostgreSQL adapter.
fn native(server: &PgServer, db: &str) -> BenchNode<'static> {
    BenchNode {
        adapter: &PostgresAdapter,
        url: server.url(db),
        options: &[],
    }
}

/// A database on `server` through psqlODBC, with the kingbase profile.
fn odbc(server: &PgServer, db: &str) -> BenchNode<'static> {
    BenchNode {
        adapter: &OdbcAdapter,
        url: psqlodbc_url(server, db),
        options: KINGBASE,
    }
}

pub async fn odbc_benchmarks(rows: u64, lines: &mut Vec<Line>) {
    register_drivers();
    let (a, b) = (PgServer::start(), PgServer::start());
    a.create_db("hub").await;
    let mut hub = connect(&a, "hub").await;
    exec(&mut hub, DDL).await;
    fill(&mut hub, rows).await;
    let mut best = [Duration::MAX; 3];
    for round in 0..2 {
        for (way, slot) in best.iter_mut().enumerate() {
            let db = format!("spoke_{way}_{round}");
            b.create_db(&db).await;
            exec(&mut connect(&b, &db).await, DDL).await;
            let (from, to) = match way {
                0 => (native(&a, "hub"), native(&b, &db)),
                1 => (native(&a, "hub"), odbc(&b, &db)),
                _ => (odbc(&a, "hub"), native(&b, &db)),
            };
            let table = TableDef::new("t", &["id"]);
            *slot = (*slot).min(full_sync_between(&from, &to, table, rows).await);
        }
    }
    push_pair(
        lines,
        rows,
        ("full sync PG → PG, PostgreSQL adapter", best[0]),
        (
            "full sync PG → spoke through psqlODBC",
            best[1],
            "target ≥ 0.30×",
        ),
    );
    lines.push(Line {
        name: "full sync hub through psqlODBC → PG".into(),
        rows,
        took: best[2],
        baseline: Some(best[0]),
        target: "target ≥ 0.30×",
    });
    incremental(&a, &b, rows, lines).await;
}

/// An incremental round into a PostgreSQL spoke and into one reached
/// through psqlODBC, after one UPDATE of every row on the hub.
async fn incremental(a: &PgServer, b: &PgServer, rows: u64, lines: &mut Vec<Line>) {
    let hub = native(a, "hub");
    let mut engines = Vec::new();
    for name in ["pg", "odbc"] {
        let db = format!("incremental_{name}");
        b.create_db(&db).await;
        exec(&mut connect(b, &db).await, DDL).await;
        let spoke = match name {
            "pg" => native(b, &db),
            _ => odbc(b, &db),
        };
        let engine = installed(&hub, (&spoke, name), TableDef::new("t", &["id"])).await;
        assert_eq!(sync_spoke(&engine, name).await, rows, "the full sync first");
        engines.push((name, engine));
    }
    exec(
        &mut connect(a, "hub").await,
        "UPDATE t SET c1 = c1 + 1, c5 = c5 || '!'",
    )
    .await;
    let mut took = Vec::new();
    for (name, engine) in &engines {
        let started = Instant::now();
        assert_eq!(sync_spoke(engine, name).await, rows, "every row changed");
        took.push(started.elapsed());
    }
    push_pair(
        lines,
        rows,
        ("incremental after a full-table UPDATE, PG → PG", took[0]),
        ("incremental, PG → spoke through psqlODBC", took[1], ""),
    );
}
