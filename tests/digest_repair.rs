//! The convergence digest and targeted repair on real databases: a
//! PostgreSQL hub, a MariaDB spoke and a SQLite spoke. Each computes the
//! digest in its own SQL where it can spell every column, the engine hashes
//! the rows of the others, and all must agree to the bit; `verify` then finds rows that
//! capture missed, and `repair` rewrites exactly those, from either side.

mod support;

use hetsync_core::value::Value;
use support::{hetsync, output_text, Deploy, TableSpec, Topology, MYSQL, POSTGRES, SQLITE};

/// Every type the databases' SQL can hash (a double only on PostgreSQL),
/// a text code with Chinese in it.
const TABLES: &[TableSpec] = &[
    TableSpec {
        name: "dg_exact",
        ddl: &[
            (
                "postgres",
                r#"CREATE TABLE "dg_exact" ("k" bigint PRIMARY KEY, "name" varchar(40), "flag" boolean, "note" text, "b" bytea, "d" date)"#,
            ),
            (
                "mysql",
                r#"CREATE TABLE "dg_exact" ("k" bigint PRIMARY KEY, "name" varchar(40), "flag" boolean, "note" text, "b" blob, "d" date)"#,
            ),
            (
                "sqlite",
                r#"CREATE TABLE "dg_exact" ("k" INTEGER PRIMARY KEY, "name" VARCHAR(40), "flag" BOOLEAN, "note" TEXT, "b" BLOB, "d" DATE)"#,
            ),
        ],
        config: "[[table]]\nname = \"dg_exact\"\ncode = [\"k\"]\n",
    },
    TableSpec {
        name: "dg_plain",
        ddl: &[
            (
                "postgres",
                r#"CREATE TABLE "dg_plain" ("k" bigint PRIMARY KEY, "flag" boolean, "b" bytea, "note" text)"#,
            ),
            (
                "mysql",
                r#"CREATE TABLE "dg_plain" ("k" bigint PRIMARY KEY, "flag" boolean, "b" blob, "note" text)"#,
            ),
            (
                "sqlite",
                r#"CREATE TABLE "dg_plain" ("k" INTEGER PRIMARY KEY, "flag" BOOLEAN, "b" BLOB, "note" TEXT)"#,
            ),
        ],
        config: "[[table]]\nname = \"dg_plain\"\ncode = [\"k\"]\n",
    },
    TableSpec {
        name: "dg_float",
        ddl: &[
            (
                "postgres",
                r#"CREATE TABLE "dg_float" ("k" bigint PRIMARY KEY, "x" double precision)"#,
            ),
            (
                "mysql",
                r#"CREATE TABLE "dg_float" ("k" bigint PRIMARY KEY, "x" double)"#,
            ),
            (
                "sqlite",
                r#"CREATE TABLE "dg_float" ("k" INTEGER PRIMARY KEY, "x" REAL)"#,
            ),
        ],
        config: "[[table]]\nname = \"dg_float\"\ncode = [\"k\"]\n",
    },
    TableSpec {
        name: "线路表",
        ddl: &[
            (
                "postgres",
                r#"CREATE TABLE "线路表" ("编号" varchar(40) PRIMARY KEY, "v" bigint)"#,
            ),
            (
                "mysql",
                r#"CREATE TABLE "线路表" ("编号" varchar(40) PRIMARY KEY, "v" bigint)"#,
            ),
            (
                "sqlite",
                r#"CREATE TABLE "线路表" ("编号" VARCHAR(40) PRIMARY KEY, "v" INTEGER)"#,
            ),
        ],
        config: "[[table]]\nname = \"线路表\"\ncode = [\"编号\"]\n",
    },
];

const TOPOLOGY: Topology = Topology {
    hub: POSTGRES,
    spokes: &[MYSQL, SQLITE],
};

/// 40 rows per table on the hub: NULLs, empty and Unicode text, trailing
/// spaces, quotes, empty and binary bytes, dates, awkward floats.
async fn seed(d: &Deploy) {
    d.exec(
        "hub",
        "INSERT INTO dg_exact SELECT k, \
           CASE k % 4 WHEN 0 THEN NULL WHEN 1 THEN '名前' || k WHEN 2 THEN '' ELSE 'it''s ' || k END, \
           CASE k % 3 WHEN 0 THEN NULL WHEN 1 THEN true ELSE false END, \
           CASE k % 2 WHEN 0 THEN 'ab  ' || k ELSE NULL END, \
           CASE k % 3 WHEN 0 THEN NULL WHEN 1 THEN decode('00ff10', 'hex') ELSE decode('', 'hex') END, \
           CASE k % 2 WHEN 0 THEN DATE '2024-02-29' + k::int ELSE NULL END \
         FROM generate_series(1, 40) AS k",
    )
    .await;
    d.exec(
        "hub",
        "INSERT INTO dg_plain SELECT k, \
           CASE k % 3 WHEN 0 THEN NULL WHEN 1 THEN true ELSE false END, \
           CASE k % 3 WHEN 0 THEN NULL WHEN 1 THEN decode('00ff10', 'hex') ELSE decode('', 'hex') END, \
           CASE k % 4 WHEN 0 THEN NULL WHEN 1 THEN '名前;' || k WHEN 2 THEN '' ELSE 'it''s ' || k END \
         FROM generate_series(1, 40) AS k",
    )
    .await;
    d.exec(
        "hub",
        "INSERT INTO dg_float SELECT k, \
           CASE k % 5 WHEN 0 THEN NULL WHEN 1 THEN k * 0.1 WHEN 2 THEN 1e300 WHEN 3 THEN -2.5 ELSE 1.0 / k END \
         FROM generate_series(1, 40) AS k",
    )
    .await;
    d.exec(
        "hub",
        "INSERT INTO \"线路表\" SELECT '线路-' || k, k FROM generate_series(1, 40) AS k",
    )
    .await;
}

fn json_of(out: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", output_text(out)))
}

/// The entry of `node` for `table` in `verify --json`.
fn verified<'a>(report: &'a serde_json::Value, table: &str, node: &str) -> &'a serde_json::Value {
    report["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["table"] == table)
        .and_then(|t| {
            t["nodes"]
                .as_array()
                .unwrap()
                .iter()
                .find(|n| n["node"] == node)
        })
        .unwrap_or_else(|| panic!("no {table}/{node} in {report}"))
}

#[tokio::test]
async fn verify_and_repair_by_digest_across_postgres_mariadb_and_sqlite() {
    let d = Deploy::with(TOPOLOGY, &["m", "s"], TABLES).await;
    seed(&d).await;
    let out = hetsync(&d.config(), &["install"]);
    assert!(out.status.success(), "{}", output_text(&out));
    let out = hetsync(&d.config(), &["sync"]);
    assert!(out.status.success(), "{}", output_text(&out));

    // Equal copies: the SQL digests of PostgreSQL and MariaDB and the
    // streamed one of SQLite agree, and no row is read where SQL did it.
    let out = hetsync(&d.config(), &["verify", "--json"]);
    assert!(out.status.success(), "{}", output_text(&out));
    let report = json_of(&out);
    assert_eq!(
        verified(&report, "dg_exact", "m")["rows_read"],
        0,
        "{report}"
    );
    for (table, node) in [
        ("线路表", "m"),
        ("dg_plain", "m"),
        ("线路表", "s"),
        ("dg_plain", "s"),
    ] {
        assert_eq!(verified(&report, table, node)["rows_read"], 0, "{report}");
    }
    // MariaDB has no exact text of a double: its rows are hashed here.
    assert_eq!(
        verified(&report, "dg_float", "m")["rows_read"],
        40,
        "{report}"
    );
    assert_eq!(
        verified(&report, "dg_exact", "s")["rows_read"],
        40,
        "{report}"
    );

    // Changes capture missed.
    d.exec_uncaptured("m", "UPDATE dg_exact SET note = 'changed' WHERE k = 3")
        .await;
    d.exec_uncaptured("m", "DELETE FROM dg_exact WHERE k = 4")
        .await;
    d.exec_uncaptured("m", "INSERT INTO dg_exact (k, name) VALUES (99, 'extra')")
        .await;
    d.exec_uncaptured("m", "UPDATE dg_float SET x = 2.5 WHERE k = 3")
        .await;
    d.exec_uncaptured("s", "UPDATE \"线路表\" SET v = 0 WHERE \"编号\" = '线路-2'")
        .await;
    d.exec_uncaptured(
        "s",
        "UPDATE dg_plain SET flag = NOT flag, b = x'00' WHERE k = 4",
    )
    .await;
    let out = hetsync(&d.config(), &["verify", "--json"]);
    assert_eq!(out.status.code(), Some(3), "{}", output_text(&out));
    let report = json_of(&out);
    let m = verified(&report, "dg_exact", "m");
    assert_eq!(m["differences"], 3, "{report}");
    assert_eq!(m["missing"], serde_json::json!([[4]]), "{report}");
    assert_eq!(m["extra"], serde_json::json!([[99]]), "{report}");
    assert_eq!(
        m["differing"],
        serde_json::json!([[[3], ["note"]]]),
        "{report}"
    );
    let f = verified(&report, "dg_float", "m");
    assert_eq!(
        f["differing"],
        serde_json::json!([[[3], ["x"]]]),
        "{report}"
    );
    let s = verified(&report, "线路表", "s");
    assert_eq!(
        s["differing"],
        serde_json::json!([[["线路-2"], ["v"]]]),
        "{report}"
    );
    let s = verified(&report, "dg_plain", "s");
    assert_eq!(
        s["differing"],
        serde_json::json!([[[4], ["flag", "b"]]]),
        "{report}"
    );
    assert_eq!(verified(&report, "dg_exact", "s")["differences"], 0);

    // Repair keeping the hub's copy rewrites exactly those rows.
    let out = hetsync(&d.config(), &["repair", "--json"]);
    assert!(out.status.success(), "{}", output_text(&out));
    let repairs = json_of(&out);
    let m = &repairs[0];
    assert_eq!(m["round"]["spoke"], "m", "{repairs}");
    assert_eq!(m["round"]["mode"], "repair", "{repairs}");
    assert_eq!(
        m["round"]["downloaded"]["dg_exact"],
        serde_json::json!({"upserts": 2, "deletes": 1}),
        "{repairs}"
    );
    assert_eq!(
        m["round"]["downloaded"]["dg_float"],
        serde_json::json!({"upserts": 1, "deletes": 0}),
        "{repairs}"
    );
    assert!(
        m["round"]["uploaded"].as_object().unwrap().is_empty(),
        "{repairs}"
    );
    for table in ["线路表", "dg_plain"] {
        assert_eq!(
            repairs[1]["round"]["downloaded"][table],
            serde_json::json!({"upserts": 1, "deletes": 0}),
            "{repairs}"
        );
    }
    let out = hetsync(&d.config(), &["verify"]);
    assert!(out.status.success(), "{}", output_text(&out));
    assert_eq!(
        d.query("m", "SELECT note FROM dg_exact WHERE k = 3").await,
        vec![vec![Value::Null]]
    );

    // Keeping the spoke's copy: it goes to the hub, and from there to the
    // other spokes with their next round.
    d.exec_uncaptured("m", "UPDATE dg_exact SET name = 'from m' WHERE k = 5")
        .await;
    d.exec_uncaptured("m", "DELETE FROM dg_exact WHERE k = 6")
        .await;
    let out = hetsync(
        &d.config(),
        &[
            "repair", "--node", "m", "--table", "dg_exact", "--prefer", "spoke",
        ],
    );
    let text = output_text(&out);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("kept m's copy"), "{text}");
    assert_eq!(
        d.scalar_text("hub", "SELECT name FROM dg_exact WHERE k = 5")
            .await,
        Some("from m".into())
    );
    let out = hetsync(&d.config(), &["sync"]);
    assert!(out.status.success(), "{}", output_text(&out));
    assert_eq!(
        d.scalar_text("s", "SELECT name FROM dg_exact WHERE k = 5")
            .await,
        Some("from m".into())
    );
    assert!(d
        .query("s", "SELECT k FROM dg_exact WHERE k = 6")
        .await
        .is_empty());
    let out = hetsync(&d.config(), &["verify"]);
    assert!(out.status.success(), "{}", output_text(&out));

    // An unknown table is a usage error naming the tables.
    let out = hetsync(&d.config(), &["repair", "--table", "nope"]);
    let text = output_text(&out);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(text.contains("no synced table named 'nope'"), "{text}");
}
