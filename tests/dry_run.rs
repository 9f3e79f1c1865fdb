//! `hetsync sync --dry-run` on real databases: a PostgreSQL hub with a
//! MariaDB and a SQLite spoke. The preview reports what each spoke's next
//! round would move, decide and leave out; nothing is written, no
//! watermark moves, and the real round then does what it said.

mod support;

use support::{basic_row as row, hetsync, output_text, tick, Deploy, TableSpec, BASIC, MIXED};

/// The entry of `spoke` in a list of per-spoke reports.
fn of<'a>(list: &'a serde_json::Value, spoke: &str) -> &'a serde_json::Value {
    list.as_array()
        .expect("a list")
        .iter()
        .find(|r| r["spoke"] == spoke)
        .unwrap_or_else(|| panic!("no report of {spoke} in {list}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dry_run_reports_the_round_and_writes_nothing() {
    let d = Deploy::with(MIXED[0], &["a", "b"], &BASIC[..1]).await;
    d.exec(
        "hub",
        "INSERT INTO t_field VALUES (1, 'x', 1, 1.0), (2, 'y', 2, 2.0)",
    )
    .await;
    assert!(hetsync(&d.config(), &["install"]).status.success());
    // A first round is a full comparison: the preview says so.
    let first = d.json(&["sync", "--dry-run", "--json"]);
    assert_eq!(of(&first, "a")["mode"], "full", "{first}");
    assert_eq!(of(&first, "a")["compared_whole"][0], "t_field", "{first}");
    assert!(d.rows("a", "t_field").await.is_empty(), "nothing written");
    assert!(hetsync(&d.config(), &["sync"]).status.success());

    // a and the hub edit field a of row 1 (a later: a conflict a wins); the
    // hub adds row 3, b adds row 4 and puts bytes into the text column a
    // of row 2 (SQLite takes any value in any column), which cannot sync.
    d.exec("hub", "UPDATE t_field SET a = 'hub' WHERE k = 1")
        .await;
    tick().await;
    d.exec("a", "UPDATE t_field SET a = 'from-a' WHERE k = 1")
        .await;
    d.exec("hub", "INSERT INTO t_field VALUES (3, 'z', 3, 3.0)")
        .await;
    d.exec("b", "INSERT INTO t_field VALUES (4, 'w', 4, 4.0)")
        .await;
    d.exec("b", "UPDATE t_field SET a = X'00ff10' WHERE k = 2")
        .await;
    let status_before = d.json(&["status", "--json"]);
    let rows_before = [
        d.rows("hub", "t_field").await,
        d.rows("a", "t_field").await,
        d.rows("b", "t_field").await,
    ];

    let preview = d.json(&["sync", "--dry-run", "--json"]);
    let a = of(&preview, "a");
    assert_eq!(a["mode"], "incremental");
    assert_eq!(a["uploaded"]["t_field"]["upserts"], 1, "{a}");
    assert_eq!(a["downloaded"]["t_field"]["upserts"], 1, "row 3: {a}");
    let conflicts = a["conflicts"].as_array().unwrap();
    assert_eq!(conflicts.len(), 1, "{a}");
    assert_eq!(conflicts[0]["field"], "a");
    assert_eq!(conflicts[0]["winner"]["origin"], "a");
    assert_eq!(conflicts[0]["winner_value"], "'from-a'");
    assert_eq!(conflicts[0]["rule"], "latest");
    assert_eq!(a["refused"].as_array().unwrap().len(), 0);
    // b is planned against the hub as it is now (a's round did not run):
    // rows 1 (the hub's edit) and 3 come down, row 4 goes up, and row 2
    // would stop the round.
    let b = of(&preview, "b");
    assert_eq!(b["uploaded"]["t_field"]["upserts"], 1, "{b}");
    assert_eq!(b["downloaded"]["t_field"]["upserts"], 2, "{b}");
    assert_eq!(b["stops"], true, "{b}");
    let refused = &b["refused"][0];
    assert_eq!(
        (&refused["node"], &refused["code"]),
        (&"b".into(), &serde_json::json!([2]))
    );
    assert!(
        refused["message"]
            .as_str()
            .unwrap()
            .contains("holds a BLOB"),
        "{refused}"
    );

    // Nothing was written, no watermark moved, nothing was logged.
    let rows_after = [
        d.rows("hub", "t_field").await,
        d.rows("a", "t_field").await,
        d.rows("b", "t_field").await,
    ];
    assert_eq!(rows_after, rows_before);
    assert_eq!(
        d.json(&["status", "--json"])["nodes"],
        status_before["nodes"]
    );
    assert_eq!(d.json(&["conflicts", "--json"]), serde_json::json!([]));
    let text = output_text(&hetsync(&d.config(), &["sync", "--dry-run"]));
    for line in [
        "a ⇄ hub (incremental, dry run",
        "↑ would go to hub: t_field 1 row(s)",
        "field a: kept 'from-a'",
        "would stop the round",
        "dry run: nothing was written",
    ] {
        assert!(text.contains(line), "{line:?} in {text}");
    }

    // The real rounds do what the preview said: a's as planned, b's stops.
    let out = hetsync(&d.config(), &["sync", "--json"]);
    assert_eq!(out.status.code(), Some(1), "{}", output_text(&out));
    let done: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let round = of(&done, "a");
    assert_eq!(round["uploaded"], a["uploaded"]);
    assert_eq!(round["downloaded"], a["downloaded"]);
    assert!(of(&done, "b")["error"]
        .as_str()
        .unwrap()
        .contains("holds a BLOB"));
    assert_eq!(
        d.rows("a", "t_field").await,
        vec![
            row(1, "from-a", 1, 1.0),
            row(2, "y", 2, 2.0),
            row(3, "z", 3, 3.0)
        ]
    );
}

/// The dry run names the columns whose values the round converts between
/// the spoke's types and the hub's: a PostgreSQL `numeric(10,2)` held in a
/// SQLite `REAL`, with what the conversion can lose and how many rows cross.
#[tokio::test(flavor = "multi_thread")]
async fn a_dry_run_lists_the_type_conversions_of_the_rows_it_moves() {
    const CONVERTED: &[TableSpec] = &[TableSpec {
        name: "t_conv",
        ddl: &[
            (
                "postgres",
                r#"CREATE TABLE "t_conv" ("k" bigint PRIMARY KEY, "c" numeric(10,2))"#,
            ),
            (
                "mysql",
                r#"CREATE TABLE "t_conv" ("k" bigint PRIMARY KEY, "c" numeric(10,2))"#,
            ),
            (
                "sqlite",
                r#"CREATE TABLE "t_conv" ("k" INTEGER PRIMARY KEY, "c" REAL)"#,
            ),
        ],
        config: "[[table]]\nname = \"t_conv\"\ncode = [\"k\"]\nallow_lossy = true\n",
    }];
    let d = Deploy::with(MIXED[0], &["a", "b"], CONVERTED).await;
    d.exec("hub", "INSERT INTO t_conv VALUES (1, 1.25), (2, 2.50)")
        .await;
    d.run(&["install"]);
    d.run(&["sync"]);
    d.exec("hub", "UPDATE t_conv SET c = 9.75").await;
    d.exec("b", "INSERT INTO t_conv VALUES (3, 0.5)").await;

    let preview = d.json(&["sync", "--dry-run", "--json"]);
    let b = of(&preview, "b");
    let conversions = b["conversions"].as_array().unwrap();
    let of_way = |way: &str| {
        conversions
            .iter()
            .find(|c| c["direction"] == way)
            .unwrap_or_else(|| panic!("no conversion {way} in {b}"))
    };
    let down = of_way("to spoke");
    assert_eq!(
        (&down["table"], &down["column"]),
        (&"t_conv".into(), &"c".into()),
        "{b}"
    );
    assert_eq!(down["rows"], 2, "{b}");
    assert!(down["types"].as_str().unwrap().ends_with("→ REAL"), "{b}");
    let up = of_way("to hub");
    assert_eq!(up["rows"], 1, "{b}");
    assert!(up["fidelity"].as_str().unwrap().starts_with("lossy"), "{b}");
    assert_eq!(down["fidelity"], "widening", "{b}");
    // The code column converts nothing; MariaDB's decimal(10,2) is read
    // through a conversion that loses nothing.
    assert_eq!(conversions.len(), 2, "{b}");
    let a = &of(&preview, "a")["conversions"];
    assert_eq!(a.as_array().unwrap().len(), 1, "{a}");
    assert_eq!(
        (&a[0]["direction"], &a[0]["fidelity"]),
        (&"to spoke".into(), &"exact".into()),
        "{a}"
    );
    let text = d.run(&["sync", "--dry-run", "--node", "b"]);
    assert!(text.contains("t_conv.c to spoke"), "{text}");
}
