//! The ODBC adapter's `dameng` profile against a live DM8 database, when
//! `HETSYNC_DAMENG_ODBC` holds an ODBC connection string of one (what
//! follows `odbc:` in a node's URL, e.g. `DSN=dm8;UID=SYSDBA;PWD=…`; the
//! DM8 ODBC driver registered in the `odbcinst.ini` that `ODBCSYSINI`
//! names). No DM8 server runs where hetsync is built: without the
//! variable the test prints that it was skipped and checks nothing.
//!
//! With it, a table made for the test on the DM8 database (and dropped
//! after) syncs both ways with a SQLite hub: install, a full round, an
//! edit on each side, a delete, `verify`, `uninstall`.

mod support;

use hetsync_core::value::Value;
use hetsync_testkit::database::TestConnection;
use hetsync_testkit::odbc::OdbcConnection;
use std::io::Write;
use support::{hetsync, output_text};

/// Runs the binary, asserting that it succeeds.
fn run(config: &std::path::Path, args: &[&str]) -> String {
    let out = hetsync(config, args);
    let text = output_text(&out);
    assert!(out.status.success(), "hetsync {args:?}:\n{text}");
    text
}

/// The rows of the table, in key order.
async fn rows(conn: &mut dyn TestConnection, table: &str) -> Vec<Vec<Value>> {
    conn.query(&format!(
        "SELECT \"k\", \"a\", \"b\" FROM \"{table}\" ORDER BY \"k\""
    ))
    .await
    .unwrap_or_else(|e| panic!("reading {table}: {e}"))
}

async fn must(conn: &mut dyn TestConnection, sql: &str) {
    conn.execute(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

#[tokio::test]
async fn a_dameng_spoke_syncs_both_ways() {
    let Ok(conn_str) = std::env::var("HETSYNC_DAMENG_ODBC") else {
        // Straight to the process's stderr, past the test harness's
        // capture: the skip shows in every run's log.
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED a_dameng_spoke_syncs_both_ways: HETSYNC_DAMENG_ODBC is not set (an ODBC \
             connection string of a DM8 database, e.g. \"DSN=dm8;UID=SYSDBA;PWD=...\")"
        );
        return;
    };
    let table = format!("hetsync_live_{}", std::process::id());
    let ddl = format!(
        "CREATE TABLE \"{table}\" (\"k\" BIGINT PRIMARY KEY, \"a\" VARCHAR(100), \"b\" INT)"
    );
    let mut dm = OdbcConnection::open(conn_str.clone()).await;
    must(&mut dm, &ddl).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let mut hub = hetsync_testkit::sqlite::open(&dir.path().join("hub.db"), true).await;
    must(&mut hub, &ddl).await;
    let config = dir.path().join("hetsync.toml");
    let url = format!("odbc:{conn_str}")
        .replace('\\', "\\\\")
        .replace('"', "\\\"");
    std::fs::write(
        &config,
        format!(
            "[[node]]\nname = \"hub\"\nadapter = \"sqlite\"\nurl = \"hub.db\"\nrole = \"hub\"\n\n\
             [[node]]\nname = \"dm\"\nadapter = \"odbc\"\nurl = \"{url}\"\nrole = \"spoke\"\n\
             [node.options]\nprofile = \"dameng\"\n\n\
             [[table]]\nname = \"{table}\"\ncode = [\"k\"]\n"
        ),
    )
    .expect("write the configuration");

    must(
        &mut hub,
        &format!("INSERT INTO \"{table}\" VALUES (1, '变电站 ''甲''', 10)"),
    )
    .await;
    must(
        &mut dm,
        &format!("INSERT INTO \"{table}\" VALUES (2, 'from dm', 20)"),
    )
    .await;
    run(&config, &["install"]);
    run(&config, &["sync"]);
    let t = |s: &str| Value::Text(s.into());
    let expected = vec![
        vec![Value::Int(1), t("变电站 '甲'"), Value::Int(10)],
        vec![Value::Int(2), t("from dm"), Value::Int(20)],
    ];
    assert_eq!(rows(&mut hub, &table).await, expected);
    assert_eq!(rows(&mut dm, &table).await, expected);

    must(
        &mut hub,
        &format!("UPDATE \"{table}\" SET \"a\" = '改' WHERE \"k\" = 2"),
    )
    .await;
    must(
        &mut dm,
        &format!("UPDATE \"{table}\" SET \"b\" = 21 WHERE \"k\" = 2"),
    )
    .await;
    must(&mut dm, &format!("DELETE FROM \"{table}\" WHERE \"k\" = 1")).await;
    run(&config, &["sync"]);
    run(&config, &["sync"]);
    let expected = vec![vec![Value::Int(2), t("改"), Value::Int(21)]];
    assert_eq!(rows(&mut hub, &table).await, expected);
    assert_eq!(rows(&mut dm, &table).await, expected);
    let verify = run(&config, &["verify"]);
    assert!(verify.contains("identical"), "{verify}");

    run(&config, &["uninstall"]);
    must(&mut dm, &format!("DROP TABLE \"{table}\"")).await;
}
