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

use super::{connect, exec, fill, full_sync_between, push_pair, BenchNode, Line, DDL};
use hetsync_adapter_odbc::OdbcAdapter;
use hetsync_adapter_postgres::PostgresAdapter;
use hetsync_core::schema::TableDef;
use hetsync_testkit::odbc::{psqlodbc_url, register_drivers};
use hetsync_testkit::pg::PgServer;
use std::time::Duration;

const KINGBASE: &[(&str, &str)] = &[("profile", "kingbase")];

pub async fn odbc_benchmarks(rows: u64, lines: &mut Vec<Line>) {
    register_drivers();
    let (a, b) = (PgServer::start(), PgServer::start());
    a.create_db("hub").await;
    let mut hub = connect(&a, "hub").await;
    exec(&mut hub, DDL).await;
    fill(&mut hub, rows).await;
    let native = |server: &PgServer, db: &str| BenchNode {
        adapter: &PostgresAdapter,
        url: server.url(db),
        options: &[],
    };
    let odbc = |server: &PgServer, db: &str| BenchNode {
        adapter: &OdbcAdapter,
        url: psqlodbc_url(server, db),
        options: KINGBASE,
    };
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
}
