//! Bulk mode on real databases (a PostgreSQL hub with a MariaDB and a
//! SQLite spoke): `hetsync bulk begin` suspends capture on a node's tables,
//! the application loads data with nothing captured, rounds refuse the node
//! meanwhile, and `hetsync bulk end` records the load (new, changed and
//! deleted rows) so that every node converges on it.

mod support;

use hetsync_core::value::Value;
use support::{basic_row as row, hetsync, output_text, Deploy, TableSpec, BASIC, MIXED};

/// `INSERT` of rows `from..to` into `t_field`, one statement.
fn load(from: i64, to: i64) -> String {
    let rows: Vec<String> = (from..to)
        .map(|k| format!("({k}, 'bulk {k}', {k}, {}.5)", k % 100))
        .collect();
    format!("INSERT INTO t_field VALUES {}", rows.join(", "))
}

/// The tracking rows of a node.
async fn tracked(d: &Deploy, node: &str) -> i64 {
    d.scalar_i64(node, "SELECT COUNT(*) FROM _hetsync_tracking")
        .await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bulk_load_on_any_node_is_recorded_at_its_end_and_reaches_every_node() {
    let d = Deploy::with(MIXED[0], &["a", "b"], &BASIC[..1]).await;
    d.exec(
        "hub",
        "INSERT INTO t_field VALUES (1, 'x', 1, 1.0), (2, 'y', 2, 2.0), (3, 'z', 3, 3.0)",
    )
    .await;
    d.run(&["install"]);
    d.run(&["sync"]);

    // A MariaDB spoke: 1,000 rows loaded, one changed, one deleted, with
    // nothing captured.
    let begun = d.run(&["bulk", "begin", "--node", "a", "--table", "t_field"]);
    assert!(begun.contains("capture suspended on t_field"), "{begun}");
    let status = d.json(&["status", "--json"]);
    let a = &status["nodes"][1];
    assert_eq!(a["name"], "a", "{status}");
    assert!(a["bulk"]["t_field"].as_i64().is_some(), "{status}");
    assert!(
        d.run(&["status"]).contains("bulk mode since"),
        "status says so"
    );
    let before = tracked(&d, "a").await;
    d.exec("a", &load(100, 1100)).await;
    d.exec("a", "UPDATE t_field SET a = 'changed in bulk' WHERE k = 1")
        .await;
    d.exec("a", "DELETE FROM t_field WHERE k = 2").await;
    assert_eq!(
        tracked(&d, "a").await,
        before,
        "nothing captured in bulk mode"
    );

    // Rounds refuse the node, and only it.
    d.exec("hub", "UPDATE t_field SET a = 'hub edit' WHERE k = 3")
        .await;
    let refused = hetsync(&d.config(), &["sync", "--node", "a"]);
    assert!(!refused.status.success(), "{}", output_text(&refused));
    assert!(
        output_text(&refused).contains("node 'a' is in bulk mode since")
            && output_text(&refused).contains("hetsync bulk end --node a"),
        "{}",
        output_text(&refused)
    );
    d.run(&["sync", "--node", "b"]);
    assert_eq!(d.rows("b", "t_field").await[2], row(3, "hub edit", 3, 3.0));

    let recorded = d.json(&["bulk", "end", "--node", "a", "--user", "loader", "--json"]);
    assert_eq!(recorded[0]["table"], "t_field", "{recorded}");
    assert_eq!(recorded[0]["changed"], 1001, "{recorded}");
    assert_eq!(recorded[0]["deleted"], 1, "{recorded}");
    assert_eq!(
        d.scalar_i64(
            "a",
            "SELECT COUNT(*) FROM _hetsync_tracking WHERE user_name = 'loader'"
        )
        .await,
        1002
    );
    d.sync_to_convergence().await;
    let expected = d.rows("a", "t_field").await;
    assert_eq!(expected.len(), 1002);
    assert_eq!(expected[0], row(1, "changed in bulk", 1, 1.0));
    assert_eq!(expected[1], row(3, "hub edit", 3, 3.0));
    assert_eq!(expected[2], row(100, "bulk 100", 100, 0.5));
    for node in ["hub", "b"] {
        assert_eq!(d.rows(node, "t_field").await, expected, "{node}");
    }

    // Capture is back: an edit after the end is captured as usual.
    d.exec("a", "UPDATE t_field SET b = -1 WHERE k = 100").await;
    d.sync_to_convergence().await;
    assert_eq!(
        d.rows("b", "t_field").await[2],
        row(100, "bulk 100", -1, 0.5)
    );

    // The PostgreSQL hub: every round waits while it is in bulk mode.
    d.run(&["bulk", "begin", "--node", "hub"]);
    d.exec("hub", "UPDATE t_field SET c = c + 1 WHERE k < 600")
        .await;
    d.exec("hub", "DELETE FROM t_field WHERE k >= 1000").await;
    let refused = hetsync(&d.config(), &["sync"]);
    assert!(!refused.status.success(), "{}", output_text(&refused));
    assert!(
        output_text(&refused).contains("node 'hub' is in bulk mode"),
        "{}",
        output_text(&refused)
    );
    let recorded = d.json(&["bulk", "end", "--node", "hub", "--json"]);
    assert_eq!(recorded[0]["changed"], 502, "{recorded}");
    assert_eq!(recorded[0]["deleted"], 100, "{recorded}");

    // The SQLite spoke: half its rows deleted in one statement.
    d.run(&["bulk", "begin", "--node", "b"]);
    d.exec("b", "DELETE FROM t_field WHERE k % 2 = 0").await;
    let recorded = d.json(&["bulk", "end", "--node", "b", "--json"]);
    assert_eq!(recorded[0]["changed"], 0, "{recorded}");
    assert_eq!(recorded[0]["deleted"], 500, "{recorded}");

    d.sync_to_convergence().await;
    let expected = d.rows("hub", "t_field").await;
    assert_eq!(expected.len(), 452);
    assert_eq!(expected[0], row(1, "changed in bulk", 1, 2.0));
    for node in ["a", "b"] {
        assert_eq!(d.rows(node, "t_field").await, expected, "{node}");
    }
    let verified = d.run(&["verify"]);
    assert!(
        verified.contains("t_field: 452 row(s), identical on 3 node(s)"),
        "{verified}"
    );

    // Ending twice, or a table the config does not sync, is refused.
    let again = hetsync(&d.config(), &["bulk", "end", "--node", "b"]);
    assert!(!again.status.success());
    assert!(
        output_text(&again).contains("node 'b' is not in bulk mode"),
        "{}",
        output_text(&again)
    );
    let unknown = hetsync(
        &d.config(),
        &["bulk", "begin", "--node", "b", "--table", "nope"],
    );
    assert!(!unknown.status.success());
    assert!(
        output_text(&unknown).contains("no synced table named 'nope'"),
        "{}",
        output_text(&unknown)
    );
}

/// A table coded by text, case-insensitive on MariaDB.
const NAMED: TableSpec = TableSpec {
    name: "名称表",
    ddl: &[
        (
            "mysql",
            r#"CREATE TABLE "名称表" ("名" varchar(20) PRIMARY KEY, "值" int) COLLATE utf8mb4_general_ci"#,
        ),
        (
            "postgres",
            r#"CREATE TABLE "名称表" ("名" varchar(20) PRIMARY KEY, "值" int)"#,
        ),
    ],
    config: "[[table]]\nname = \"名称表\"\ncode = [\"名\"]\n",
};

#[tokio::test(flavor = "multi_thread")]
async fn a_code_whose_case_changed_in_bulk_moves_on_every_node() {
    let d = Deploy::with(MIXED[2], &["a"], &[NAMED]).await;
    d.exec(
        "hub",
        r#"INSERT INTO "名称表" VALUES ('abc', 1), ('def', 2)"#,
    )
    .await;
    d.run(&["install"]);
    d.run(&["sync"]);
    d.run(&["bulk", "begin", "--node", "hub"]);
    // The same key to MariaDB's collation, another to PostgreSQL.
    d.exec(
        "hub",
        r#"UPDATE "名称表" SET "名" = 'ABC' WHERE "名" = 'abc'"#,
    )
    .await;
    let recorded = d.json(&["bulk", "end", "--node", "hub", "--json"]);
    assert_eq!(recorded[0]["table"], "名称表", "{recorded}");
    assert_eq!(recorded[0]["changed"], 1, "{recorded}");
    assert_eq!(recorded[0]["deleted"], 1, "{recorded}");
    d.sync_to_convergence().await;
    let names = d
        .query("a", r#"SELECT "名", "值" FROM "名称表" ORDER BY "名""#)
        .await;
    assert_eq!(
        names,
        vec![
            vec![Value::Text("ABC".into()), Value::Int(1)],
            vec![Value::Text("def".into()), Value::Int(2)],
        ]
    );
}
