//! The ODBC adapter's `generic` profile over the SQLite ODBC driver: a
//! database hetsync knows only through its driver. Generic SQL, capture
//! by snapshot difference (no triggers), the catalog through the driver's
//! catalog functions, transactions through the driver. The conformance
//! suite runs it too (`tests/conformance.rs`), and the property suites
//! (a spoke of `support::MIXED`, the hub of `support::GENERIC_ODBC_HUB`).

mod support;

use support::{
    basic_row as row, hetsync, output_text, Deploy, TableSpec, Topology, BASIC, MARIADB_ODBC,
    POSTGRES, SQLITE, SQLITE_ODBC,
};

/// A SQLite hub with a spoke behind the SQLite ODBC driver.
const ODBC_SPOKE: Topology = Topology {
    hub: SQLITE,
    spokes: &[SQLITE_ODBC],
};

/// A hub behind the SQLite ODBC driver with a native SQLite spoke.
const ODBC_HUB: Topology = Topology {
    hub: SQLITE_ODBC,
    spokes: &[SQLITE],
};

async fn round_trip(topology: Topology) {
    let d = Deploy::with(topology, &["a"], &BASIC[..1]).await;
    d.exec(
        "hub",
        "INSERT INTO t_field VALUES (1, '变电站 ''甲''', 10, 0.5)",
    )
    .await;
    d.exec("a", "INSERT INTO t_field VALUES (2, 'from a', 20, 1.25)")
        .await;
    d.run(&["install"]);
    d.sync_to_convergence().await;
    let expected = vec![row(1, "变电站 '甲'", 10, 0.5), row(2, "from a", 20, 1.25)];
    assert_eq!(d.rows("hub", "t_field").await, expected);
    assert_eq!(d.rows("a", "t_field").await, expected);

    d.exec("hub", "UPDATE t_field SET a = '改' WHERE k = 2")
        .await;
    d.exec("a", "UPDATE t_field SET b = 21 WHERE k = 2").await;
    d.exec("a", "DELETE FROM t_field WHERE k = 1").await;
    d.sync_to_convergence().await;
    let expected = vec![row(2, "改", 21, 1.25)];
    assert_eq!(d.rows("hub", "t_field").await, expected);
    assert_eq!(d.rows("a", "t_field").await, expected);
    let verify = d.run(&["verify"]);
    assert!(verify.contains("identical"), "{verify}");
}

#[tokio::test]
async fn an_odbc_spoke_syncs_both_ways() {
    round_trip(ODBC_SPOKE).await;
}

#[tokio::test]
async fn an_odbc_hub_syncs_both_ways() {
    round_trip(ODBC_HUB).await;
}

/// A PostgreSQL hub table that the generic spokes lack (they hold another
/// table only).
const EQUIPMENT: TableSpec = TableSpec {
    name: "设备表",
    ddl: &[
        (
            "postgres",
            r#"CREATE TABLE "设备表" ("编号" bigint PRIMARY KEY, "名称" varchar(40), "备注" text,
               "在用" boolean, "更新时间" timestamptz(6), "容量" numeric(12,4))"#,
        ),
        ("mysql", r#"CREATE TABLE "其他" ("x" bigint PRIMARY KEY)"#),
        ("sqlite", r#"CREATE TABLE "其他" ("x" INTEGER PRIMARY KEY)"#),
    ],
    // The proposed types lose the time zone (MariaDB) and the length
    // (SQLite); the hub's values fit them.
    config: "[[table]]\nname = \"设备表\"\ncode = [\"编号\"]\nallow_lossy = true\n",
};

/// The fields of [`EQUIPMENT`].
const FIELDS: [&str; 6] = ["编号", "名称", "备注", "在用", "更新时间", "容量"];

/// The slave types `discover --write-mapping` proposed for `node`, in the
/// order of [`FIELDS`].
fn proposed(mapping: &str, node: &str) -> Vec<String> {
    let section = mapping
        .split("<Node ")
        .find(|s| s.starts_with(&format!("id=\"{node}\"")))
        .unwrap_or_else(|| panic!("no <Node id=\"{node}\">:\n{mapping}"));
    FIELDS
        .iter()
        .map(|field| {
            let at = section
                .find(&format!("mainField=\"{field}\""))
                .unwrap_or_else(|| panic!("{node}: no field {field}:\n{section}"));
            let field = &section[at..];
            let start = field.find("slaveType=\"").expect("a slave type") + "slaveType=\"".len();
            let len = field[start..].find('"').expect("a closing quote");
            field[start..start + len].to_string()
        })
        .collect()
}

/// An ODBC node's type rules are its database's, not the ODBC adapter's
/// (PostgreSQL's, for the kingbase profile): the types discover proposes
/// for a MariaDB and a SQLite behind their drivers are theirs, create the
/// table there, and carry the hub's rows.
#[tokio::test]
async fn discover_proposes_the_types_of_the_database_behind_the_driver() {
    let topology = Topology {
        hub: POSTGRES,
        spokes: &[MARIADB_ODBC, SQLITE_ODBC],
    };
    let d = Deploy::with(topology, &["a", "b"], &[EQUIPMENT]).await;
    let out = hetsync(&d.config(), &["discover", "--write-mapping"]);
    // The table is missing on both spokes (exit 2); the mapping is written.
    assert_eq!(out.status.code(), Some(2), "{}", output_text(&out));
    let mapping = std::fs::read_to_string(d.dir.path().join("MappingFile.xml")).unwrap();
    assert_eq!(
        proposed(&mapping, "a"),
        [
            "bigint",
            "varchar(40)",
            "longtext",
            "tinyint(1)",
            "datetime(6)",
            "decimal(12,4)"
        ],
        "MariaDB's rules:\n{mapping}"
    );
    assert_eq!(
        proposed(&mapping, "b"),
        [
            "INTEGER",
            "TEXT",
            "TEXT",
            "BOOLEAN",
            "TIMESTAMPTZ(6)",
            "DECIMAL(12,4)"
        ],
        "SQLite's rules:\n{mapping}"
    );

    // The operator creates the tables as proposed; the rows cross.
    for node in ["a", "b"] {
        let columns: Vec<String> = FIELDS
            .iter()
            .zip(proposed(&mapping, node))
            .map(|(field, native)| format!("\"{field}\" {native}"))
            .collect();
        d.exec(
            node,
            &format!(
                "CREATE TABLE \"设备表\" ({}, PRIMARY KEY (\"编号\"))",
                columns.join(", ")
            ),
        )
        .await;
    }
    d.exec(
        "hub",
        r#"INSERT INTO "设备表" VALUES
           (1, '主变 ''甲''', '备注😀', true, '2024-02-29 23:59:59.123456+00', 12345678.1234),
           (2, NULL, NULL, false, NULL, -0.0001)"#,
    )
    .await;
    d.run(&["install"]);
    // verify compares the rows (the test's PostgreSQL reader has no
    // timestamptz decoder for assert_converged).
    d.run(&["sync"]);
    d.run(&["sync"]);
    for node in ["a", "b"] {
        assert_eq!(d.rows(node, "设备表").await.len(), 2, "rows on {node}");
    }
    let verify = d.run(&["verify"]);
    assert!(verify.contains("identical"), "{verify}");
}
