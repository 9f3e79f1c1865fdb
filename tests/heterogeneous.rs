//! A deployment whose nodes name and type the same data differently: a
//! PostgreSQL hub `变电站表`, a MariaDB spoke `substation` with English
//! column names and a `double` capacity, a SQLite spoke `变电站` with other
//! key names. It is set up with nothing but `hetsync discover
//! --write-mapping` and hand edits of the generated `MappingFile.xml`, then
//! installs, syncs both ways and verifies (issue 5's "done when").

mod support;

use std::path::Path;
use support::{hetsync, output_text as text, Deploy, TableSpec, Topology, MYSQL, POSTGRES, SQLITE};

const SUBSTATIONS: TableSpec = TableSpec {
    name: "变电站表",
    ddl: &[
        (
            "postgres",
            r#"CREATE TABLE "变电站表" ("单位序号" varchar(16), "年份" integer, "ID" bigint,
        "名称" varchar(100), "容量" numeric(12,4), "投运日期" date, "更新时间" timestamptz(6), "备注" text,
        PRIMARY KEY ("单位序号", "年份", "ID"))"#,
        ),
        (
            "mysql",
            r#"CREATE TABLE "substation" ("unit_no" varchar(16), "year" int, "id" bigint,
        "name" varchar(100), "capacity_mva" double, "commissioned" date, "updated_at" datetime(6), "remark" text,
        PRIMARY KEY ("unit_no", "year", "id")) CHARACTER SET utf8mb4"#,
        ),
        (
            "sqlite",
            r#"CREATE TABLE "变电站" ("单位" VARCHAR(16), "年份" INTEGER, "编号" INTEGER,
        "名称" VARCHAR(100), "容量" DECIMAL(12,4), "投运日期" DATE, "更新时间" TIMESTAMPTZ,
        PRIMARY KEY ("单位", "年份", "编号"))"#,
        ),
    ],
    config: "[[table]]\nname = \"变电站表\"\ncode = [\"单位序号\", \"年份\", \"ID\"]\n",
};

fn ok(config: &Path, args: &[&str]) -> String {
    let out = hetsync(config, args);
    assert!(out.status.success(), "hetsync {args:?}: {}", text(&out));
    text(&out)
}

/// The operator's edits of one `<Node>` section: rename the table and fields.
fn edit_node(
    xml: &str,
    node: &str,
    table: &str,
    fields: &[(&str, &str)],
    left_out: &[&str],
) -> String {
    let start = xml
        .find(&format!("<Node id=\"{node}\""))
        .expect("node section");
    let end = start + xml[start..].find("</Node>").expect("end of node");
    let mut section = xml[start..end].replace(
        "slaveTable=\"变电站表\"",
        &format!("slaveTable=\"{table}\""),
    );
    for (main, slave) in fields {
        section = section.replace(
            &format!("mainField=\"{main}\" slaveField=\"{main}\""),
            &format!("mainField=\"{main}\" slaveField=\"{slave}\""),
        );
    }
    for main in left_out {
        let at = section
            .find(&format!("mainField=\"{main}\""))
            .expect("field");
        let close = at + section[at..].find("isDeleted=\"false\"").expect("flag");
        section.replace_range(
            close..close + "isDeleted=\"false\"".len(),
            "isDeleted=\"true\"",
        );
    }
    format!("{}{section}{}", &xml[..start], &xml[end..])
}

/// The hub's `容量` of a row, as PostgreSQL prints it.
async fn hub_capacity(d: &Deploy, id: i64) -> Option<String> {
    d.scalar_text(
        "hub",
        &format!(r#"SELECT "容量"::text FROM "变电站表" WHERE "ID" = {id}"#),
    )
    .await
}

#[tokio::test]
async fn renamed_and_retyped_tables_sync_both_ways_from_a_generated_mapping() {
    let topology = Topology {
        hub: POSTGRES,
        spokes: &[MYSQL, SQLITE],
    };
    let d = Deploy::with(topology, &["mdb", "lite"], &[SUBSTATIONS]).await;
    let config = d.config();
    d.exec(
        "hub",
        r#"INSERT INTO "变电站表" VALUES
           ('D01', 2025, 1, '城东站', 240.5, '2024-02-29', '1969-07-20 20:17:40.5+00', '主变'),
           ('D01', 2025, 2, '城西站😀', 12345678.1234, '9999-12-31', '2024-03-01 02:30:00+08', NULL)"#,
    )
    .await;
    d.exec(
        "mdb",
        r#"INSERT INTO "substation" VALUES ('D02', 2025, 7, '江北站', 120.25, '2000-01-01', '2020-01-01 00:00:00.000001', 'r')"#,
    )
    .await;
    d.exec(
        "lite",
        r#"INSERT INTO "变电站" VALUES ('D03', 2025, 9, '南湖站', 35.5, '1900-01-01', '2024-02-29 23:59:59.999999+00:00')"#,
    )
    .await;

    // Without a mapping, the spokes' tables are not found under the hub's name.
    let out = hetsync(&config, &["install"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("does not exist on node 'mdb'"),
        "{}",
        text(&out)
    );

    // discover lists what it found and writes a mapping with the hub's names.
    // A table missing on a node is an error (exit 2), and the mapping to
    // fix it is written all the same.
    let out = hetsync(&config, &["discover", "--write-mapping"]);
    let found = text(&out);
    assert_eq!(out.status.code(), Some(2), "{found}");
    assert!(
        found.contains("mdb: table '变电站表' is missing")
            && found.contains("hetsync: table '变电站表' is missing on mdb"),
        "{found}"
    );
    assert!(found.contains("not synced on mdb: substation"), "{found}");
    assert!(found.contains("not synced on lite: 变电站"), "{found}");
    let mapping = d.dir.path().join("MappingFile.xml");
    let generated = std::fs::read_to_string(&mapping).unwrap();
    assert!(
        generated.contains("substation (unit_no varchar(16)"),
        "the comment lists candidates:\n{generated}"
    );
    assert!(
        generated.contains("mainType=\"numeric(12,4)\""),
        "{generated}"
    );
    // A second run does not overwrite the operator's file.
    let out = hetsync(&config, &["discover", "--write-mapping"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).contains("pass --force"), "{}", text(&out));

    // The operator's hand edits.
    let edited = edit_node(
        &generated,
        "mdb",
        "substation",
        &[
            ("单位序号", "unit_no"),
            ("年份", "year"),
            ("ID", "id"),
            ("名称", "name"),
            ("容量", "capacity_mva"),
            ("投运日期", "commissioned"),
            ("更新时间", "updated_at"),
            ("备注", "remark"),
        ],
        &["备注"],
    );
    let edited = edit_node(
        &edited,
        "lite",
        "变电站",
        &[("单位序号", "单位"), ("ID", "编号")],
        &["备注"],
    );
    std::fs::write(&mapping, edited).unwrap();

    let found = ok(&config, &["discover"]);
    assert!(
        found.contains("容量 → capacity_mva: numeric(12,4) ↔ double; to node widening, to hub lossy (scale, range)"),
        "{found}"
    );
    assert!(found.contains("mdb as 'substation'"), "{found}");
    let json: serde_json::Value =
        serde_json::from_str(&ok(&config, &["discover", "--json"])).unwrap();
    let mdb = &json["tables"][0]["spokes"][0];
    assert_eq!(mdb["local_table"], "substation");
    let capacity = mdb["differences"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["column"] == "容量")
        .expect("容量 differs");
    assert_eq!(capacity["local"], "capacity_mva");
    assert_eq!(capacity["to_node"]["fidelity"], "widening");
    assert_eq!(
        capacity["to_hub"],
        serde_json::json!({"fidelity": "lossy", "losses": ["scale", "range"]})
    );

    // Two-way sync through lossy mappings needs the operator's consent.
    let out = hetsync(&config, &["install"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let refusal = text(&out);
    assert!(
        refusal.contains("two-way sync through lossy mappings is refused"),
        "{refusal}"
    );
    assert!(refusal.contains("column '容量' ('capacity_mva' on node 'mdb'), to hub double → numeric(12,4): loses scale, range"), "{refusal}");
    assert!(
        refusal.contains("column '更新时间' ('updated_at' on node 'mdb'), to node timestamp(6) with time zone → datetime(6): loses time zone"),
        "{refusal}"
    );
    let toml = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, format!("{toml}allow_lossy = true\n")).unwrap();

    ok(&config, &["install"]);
    // Two passes: the second brings 'lite''s row, uploaded after 'mdb' synced, to 'mdb'.
    ok(&config, &["sync"]);
    ok(&config, &["sync"]);
    ok(&config, &["verify"]);

    // Values arrive converted, byte for byte.
    assert_eq!(hub_capacity(&d, 7).await.as_deref(), Some("120.2500"));
    assert_eq!(
        d.scalar_text(
            "hub",
            r#"SELECT "更新时间"::text FROM "变电站表" WHERE "ID" = 7"#
        )
        .await
        .as_deref(),
        Some("2020-01-01 00:00:00.000001+00")
    );
    assert_eq!(
        d.scalar_text("hub", r#"SELECT "容量"::text || ' ' || "投运日期"::text || ' ' || "更新时间"::text FROM "变电站表" WHERE "ID" = 9"#).await.as_deref(),
        Some("35.5000 1900-01-01 2024-02-29 23:59:59.999999+00")
    );
    assert_eq!(
        d.scalar_text("hub", r#"SELECT "备注" FROM "变电站表" WHERE "ID" = 7"#)
            .await,
        None,
        "a field left out is not synced"
    );
    assert_eq!(
        d.scalar_text("mdb", "SELECT CONCAT(CAST(capacity_mva AS CHAR), ' ', CAST(commissioned AS CHAR), ' ', CAST(updated_at AS CHAR), ' ', name) FROM substation WHERE id = 2").await.as_deref(),
        Some("12345678.1234 9999-12-31 2024-02-29 18:30:00.000000 城西站😀")
    );
    assert_eq!(
        d.scalar_text(
            "mdb",
            "SELECT CAST(updated_at AS CHAR) FROM substation WHERE id = 1"
        )
        .await
        .as_deref(),
        Some("1969-07-20 20:17:40.500000")
    );
    assert_eq!(
        d.scalar_text("mdb", "SELECT remark FROM substation WHERE id = 1")
            .await,
        None
    );
    assert_eq!(
        d.scalar_text("lite", r#"SELECT typeof("容量") || ' ' || "容量" || ' ' || "投运日期" || ' ' || "更新时间" FROM "变电站" WHERE "编号" = 2"#).await.as_deref(),
        Some("real 12345678.1234 9999-12-31 2024-02-29 18:30:00")
    );
    assert_eq!(
        d.scalar_text(
            "lite",
            r#"SELECT "名称" FROM "变电站" WHERE "单位" = 'D02' AND "编号" = 7"#
        )
        .await
        .as_deref(),
        Some("江北站")
    );

    // An edit on the renamed spoke reaches the others in their own terms.
    d.exec(
        "mdb",
        "UPDATE substation SET capacity_mva = 99.125 WHERE id = 1",
    )
    .await;
    ok(&config, &["sync"]);
    assert_eq!(hub_capacity(&d, 1).await.as_deref(), Some("99.1250"));
    assert_eq!(
        d.scalar_text(
            "lite",
            r#"SELECT CAST("容量" AS TEXT) FROM "变电站" WHERE "编号" = 1"#
        )
        .await
        .as_deref(),
        Some("99.125")
    );

    // A value the hub's column cannot hold is refused, naming table, code
    // and column; nothing is applied.
    d.exec(
        "mdb",
        "UPDATE substation SET capacity_mva = 1.23456 WHERE id = 2",
    )
    .await;
    let out = hetsync(&config, &["sync", "--node", "mdb"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let refusal = text(&out);
    assert!(
        refusal.contains("table '变电站表', combined code [\"D01\",2025,2]"),
        "{refusal}"
    );
    assert!(refusal.contains("column 'capacity_mva' (double) on node 'mdb' does not fit hub column '容量' (numeric(12,4))"), "{refusal}");
    assert!(
        refusal.contains("1.23456 has more than 4 decimals"),
        "{refusal}"
    );
    assert_eq!(hub_capacity(&d, 2).await.as_deref(), Some("12345678.1234"));
    d.exec(
        "mdb",
        "UPDATE substation SET capacity_mva = 1.5 WHERE id = 2",
    )
    .await;
    ok(&config, &["sync"]);
    assert_eq!(hub_capacity(&d, 2).await.as_deref(), Some("1.5000"));
    ok(&config, &["verify"]);

    // The dictionaries went to the state store.
    let state =
        hetsync_adapter_sqlite::SqliteStateStore::open(&d.dir.path().join("hetsync-state.db"))
            .await
            .unwrap();
    use hetsync_core::state::StateStore;
    let dict = state
        .last_dictionary("mdb")
        .await
        .unwrap()
        .expect("harvested");
    let substation = dict.table("substation").expect("substation harvested");
    assert_eq!(substation.primary_key, ["unit_no", "year", "id"]);
}

/// `on_unfit = "truncate"`: a value longer than the hub's column is cut to
/// fit and the cut is logged with table, code and column; without it the
/// round is refused. The spoke keeps its longer value, which `verify` shows.
#[tokio::test]
async fn unfit_values_are_refused_or_cut_and_logged() {
    const SHORT: TableSpec = TableSpec {
        name: "t",
        ddl: &[(
            "sqlite",
            r#"CREATE TABLE "t" ("k" INTEGER PRIMARY KEY, "v" VARCHAR(5))"#,
        )],
        config: "[[table]]\nname = \"t\"\ncode = [\"k\"]\nallow_lossy = true\n",
    };
    let d = Deploy::new(&["a"], &[SHORT]).await;
    let config = d.config();
    d.exec("a", r#"DROP TABLE "t""#).await;
    d.exec(
        "a",
        r#"CREATE TABLE "t" ("k" INTEGER PRIMARY KEY, "v" TEXT)"#,
    )
    .await;
    d.exec(
        "a",
        r#"INSERT INTO "t" VALUES (1, '变电站表很长'), (2, 'ok')"#,
    )
    .await;
    ok(&config, &["install"]);

    let out = hetsync(&config, &["sync"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("table 't', combined code [1]: column 'v' (TEXT) on node 'a' does not fit hub column 'v' (VARCHAR(5)): 6 characters do not fit varchar(5)"),
        "{}",
        text(&out)
    );
    assert_eq!(
        d.scalar_i64("hub", r#"SELECT count(*) FROM "t""#).await,
        0,
        "nothing applied"
    );

    let toml = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, format!("{toml}on_unfit = \"truncate\"\n")).unwrap();
    let logged = ok(&config, &["sync"]);
    assert!(logged.contains("value cut to fit"), "{logged}");
    assert!(
        logged.contains("code=[1]") && logged.contains("column=v"),
        "{logged}"
    );
    assert_eq!(
        d.scalar_text("hub", r#"SELECT "v" FROM "t" WHERE "k" = 1"#)
            .await
            .as_deref(),
        Some("变电站表很")
    );
    assert_eq!(
        d.scalar_text("hub", r#"SELECT "v" FROM "t" WHERE "k" = 2"#)
            .await
            .as_deref(),
        Some("ok")
    );
    let out = hetsync(&config, &["verify"]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(text(&out).contains("differs [1]: v"), "{}", text(&out));
}
