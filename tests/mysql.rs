//! MariaDB-specific capture and apply behaviour on real throwaway servers:
//! byte-exact change detection under a case-insensitive collation, no-op
//! suppression, key changes, loop prevention with a shared login, the commit
//! barrier against late-committing transactions, native value types,
//! install/uninstall leaving nothing behind, and install under a binary log.

mod support;

use hetsync_core::value::Value;
use hetsync_testkit::database::TestDatabase;
use hetsync_testkit::mysql::MysqlServer;
use sqlx::{Executor, Row};
use std::sync::Arc;
use support::{
    hetsync, output_text, Deploy, Servers, TableSpec, Topology, BASIC, MYSQL, POSTGRES, SQLITE,
};

const MARIADB_HUB: Topology = Topology {
    hub: MYSQL,
    spokes: &[MYSQL],
};

const PG_HUB: Topology = Topology {
    hub: POSTGRES,
    spokes: &[MYSQL],
};

#[tokio::test]
async fn changes_are_detected_byte_exact_and_no_op_updates_record_nothing() {
    let d = Deploy::with(MARIADB_HUB, &["a"], BASIC).await;
    d.installed().await;
    d.insert_series("hub", "t_field", 1000, "'r' || i, i, i * 0.5")
        .await;
    assert_eq!(
        d.tracking_rows("hub").await,
        1000,
        "one event per inserted row"
    );
    d.exec("hub", "UPDATE t_field SET b = b").await;
    assert_eq!(
        d.tracking_rows("hub").await,
        1000,
        "a no-op update records nothing"
    );

    // The table's collation (utf8mb4_unicode_ci) calls 'r1' and 'R1' equal,
    // and ignores trailing spaces; both are still changes.
    d.exec("hub", "UPDATE t_field SET a = 'R1' WHERE k = 1")
        .await;
    d.exec("hub", "UPDATE t_field SET a = 'r2 ' WHERE k = 2")
        .await;
    let events = d.local_events("hub", 1000).await;
    assert_eq!(events.len(), 2);
    assert!(events
        .iter()
        .all(|(_, _, deleted, fields)| !deleted && fields.as_deref() == Some("[\"a\"]")));

    d.exec("hub", "UPDATE t_field SET b = b + 1, c = c WHERE k <= 10")
        .await;
    assert_eq!(
        d.scalar_i64(
            "hub",
            "SELECT count(*) FROM _hetsync_tracking WHERE fields = '[\"b\"]'"
        )
        .await,
        10
    );
    d.exec("hub", "UPDATE t_field SET k = k + 5000 WHERE k = 1")
        .await;
    let events = d.local_events("hub", 1012).await;
    assert_eq!(
        events
            .iter()
            .map(|(_, _, deleted, fields)| (*deleted, fields.clone()))
            .collect::<Vec<_>>(),
        vec![(true, None), (false, None)],
        "a key change is a delete of the old code and an insert of the new one"
    );
}

#[tokio::test]
async fn engine_writes_are_not_captured_even_with_the_applications_login() {
    // Application and hetsync both log in as `root` here.
    support::engine_writes_are_not_captured(PG_HUB, "maria").await;
}

#[tokio::test]
async fn a_transaction_open_across_a_round_is_not_skipped() {
    support::late_commit_is_not_skipped(PG_HUB, "maria").await;
}

/// MariaDB's own types, synced MariaDB to MariaDB value for value.
const NATIVE: &[TableSpec] = &[TableSpec {
    name: "设备",
    ddl: &[(
        "mysql",
        r#"CREATE TABLE "设备" (
        "编号" varchar(40) NOT NULL, "年份" smallint NOT NULL,
        "容量" decimal(12,4), "比率" float, "启用" tinyint(1), "计数" bigint unsigned,
        "投运" datetime(6), "日期" date, "照片" varbinary(64), "备注" text,
        PRIMARY KEY ("编号", "年份"))"#,
    )],
    config: "[[table]]\nname = \"设备\"\ncode = [\"编号\", \"年份\"]\n",
}];

#[tokio::test]
async fn native_types_round_trip_both_ways() {
    let d = Deploy::with(MARIADB_HUB, &["a"], NATIVE).await;
    d.exec(
        "hub",
        "INSERT INTO \"设备\" VALUES \
         ('变-1', 2024, 12345678.1234, 0.5, 1, 18446744073709551615, '1969-12-31 23:59:59.999999', '2024-02-29', x'00ff00', '😀 four-byte'), \
         ('Z', -32768, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)",
    )
    .await;
    let engine = d.installed().await;
    d.exec(
        "a",
        "INSERT INTO \"设备\" VALUES ('a''s \\\\ \"q\"', 1, -0.0001, -1.5, 0, 0, '9999-12-31 23:59:59.000000', '1000-01-01', x'', '')",
    )
    .await;
    d.exec(
        "a",
        "UPDATE \"设备\" SET \"照片\" = x'0000' WHERE \"编号\" = 'Z'",
    )
    .await;
    d.sync_passes(&engine, 2).await;
    d.assert_converged().await;
    let rows = d.rows("hub", "设备").await;
    assert_eq!(rows.len(), 3);
    let z = rows
        .iter()
        .find(|r| r[0] == Value::Text("Z".into()))
        .unwrap();
    assert_eq!(z[8], Value::Bytes(vec![0, 0]), "binary with zero bytes");
    let first = rows
        .iter()
        .find(|r| r[0] == Value::Text("变-1".into()))
        .unwrap();
    assert_eq!(first[2], Value::Text("12345678.1234".into()));
    assert_eq!(first[5], Value::Text("18446744073709551615".into()));
    assert_eq!(first[6], Value::Text("1969-12-31 23:59:59.999999".into()));
    assert_eq!(first[9], Value::Text("😀 four-byte".into()));
    let odd = rows
        .iter()
        .find(|r| r[0] == Value::Text("a's \\ \"q\"".into()))
        .expect("quotes and backslashes arrive intact");
    assert_eq!(odd[8], Value::Bytes(vec![]));
}

/// Every table, trigger and routine in the connection's database.
async fn objects(conn: &mut sqlx::MySqlConnection) -> Vec<String> {
    let sql = "SELECT CAST(x AS CHAR) FROM ( \
         SELECT CONCAT('table ', table_name) AS x FROM information_schema.tables WHERE table_schema = DATABASE() \
         UNION ALL SELECT CONCAT('trigger ', trigger_name) FROM information_schema.triggers WHERE trigger_schema = DATABASE() \
         UNION ALL SELECT CONCAT('routine ', routine_name) FROM information_schema.routines WHERE routine_schema = DATABASE()) o \
         ORDER BY 1";
    conn.fetch_all(sql)
        .await
        .unwrap()
        .iter()
        .map(|r| r.get::<String, _>(0))
        .collect()
}

#[tokio::test]
async fn install_is_repeatable_and_uninstall_removes_exactly_what_it_made() {
    let d = Deploy::with(MARIADB_HUB, &["a"], BASIC).await;
    let mut conn = hetsync_testkit::mysql::app_connection(&d.node("a").url).await;
    let before = objects(&mut conn).await;
    let engine = d.engine().await;
    engine.install().await.unwrap();
    engine
        .install()
        .await
        .expect("a second install replaces the first");
    let installed = objects(&mut conn).await;
    assert_eq!(
        installed.len(),
        before.len() + 5 + 2 * 4,
        "5 tables, and 3 triggers and 1 procedure per synced table: {installed:?}"
    );
    let version: String = sqlx::query_scalar(
        "SELECT CAST(value AS CHAR) FROM _hetsync_meta WHERE name = 'schema_version'",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(version, hetsync_core::dialect::SCHEMA_VERSION.to_string());
    engine.sync_all().await.unwrap();
    engine.uninstall().await.unwrap();
    assert_eq!(objects(&mut conn).await, before);
}

/// With binary logging on, creating triggers takes SUPER or
/// `log_bin_trust_function_creators`: install as a login with exactly the
/// grants the operator guide lists says what to grant or set and leaves
/// nothing half made, and `sync` refuses the node until an install finishes.
#[tokio::test]
async fn install_under_a_binary_log_says_what_to_set_and_leaves_nothing_behind() {
    let server = Arc::new(MysqlServer::start_with_binlog());
    let servers = Servers::of(vec![
        (MYSQL, server.clone() as Arc<dyn TestDatabase>),
        (SQLITE, (SQLITE.start)()),
    ]);
    let topology = Topology {
        hub: MYSQL,
        spokes: &[SQLITE],
    };
    let d = Deploy::on(topology, servers, &["a"], BASIC).await;
    let url = d.node("hub").url.clone();
    let database = url.rsplit('/').next().unwrap().to_string();
    let mut root = hetsync_testkit::mysql::app_connection(&url).await;
    for sql in [
        "CREATE USER 'hs'@'127.0.0.1' IDENTIFIED BY 'pw'".to_string(),
        format!(
            "GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, ALTER, INDEX, \
             CREATE TEMPORARY TABLES, LOCK TABLES, TRIGGER, CREATE ROUTINE, ALTER ROUTINE, \
             EXECUTE ON `{database}`.* TO 'hs'@'127.0.0.1'"
        ),
    ] {
        root.execute(sql.as_str()).await.unwrap();
    }
    d.edit_config("mysql://root@", "mysql://hs:pw@");

    let install = hetsync(&d.config(), &["install"]);
    let said = output_text(&install);
    assert_eq!(install.status.code(), Some(1), "{said}");
    assert!(
        said.contains("log_bin_trust_function_creators") && said.contains("SUPER"),
        "says what to grant or set: {said}"
    );
    let left: i64 = sqlx::query_scalar(
        "SELECT (SELECT count(*) FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE()) \
         + (SELECT count(*) FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = DATABASE())",
    )
    .fetch_one(&mut root)
    .await
    .unwrap();
    assert_eq!(left, 0, "no trigger or procedure left half made");
    let sync = hetsync(&d.config(), &["sync"]);
    let said = output_text(&sync);
    assert_eq!(sync.status.code(), Some(1), "{said}");
    assert!(
        said.contains("install did not finish"),
        "the node is refused: {said}"
    );

    root.execute("SET GLOBAL log_bin_trust_function_creators = 1")
        .await
        .unwrap();
    let install = hetsync(&d.config(), &["install"]);
    assert_eq!(install.status.code(), Some(0), "{}", output_text(&install));
    let sync = hetsync(&d.config(), &["sync"]);
    assert_eq!(sync.status.code(), Some(0), "{}", output_text(&sync));
    d.exec("hub", "INSERT INTO t_row VALUES (1, 'x', 1, 1.0)")
        .await;
    let sync = hetsync(&d.config(), &["sync"]);
    assert_eq!(sync.status.code(), Some(0), "{}", output_text(&sync));
    assert_eq!(d.rows("a", "t_row").await.len(), 1, "captured and synced");
}
