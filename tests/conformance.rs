//! The adapter conformance suite: what every adapter must do (install,
//! capture, no echo, apply, data dictionary with canonical types, guard,
//! uninstall), run against
//! each adapter twice: linked in, and loaded from its plugin library.

mod support;

use hetsync_core::adapter::AdapterFactory;
use hetsync_core::change::{ApplyBatch, PeerMark, RowOp, Stamp, TrackingEntry, Watermark};
use hetsync_core::code::{CombinedCode, KeyPart};
use hetsync_core::schema::{ConflictPolicy, SyncForm, SyncTable};
use hetsync_core::types::CanonicalType;
use hetsync_core::value::Value;
use hetsync_core::Error;
use hetsync_plugin_sdk::{LoadOptions, PluginAdapter, PluginLibrary};
use std::sync::Arc;
use support::{Deploy, Kind, TableSpec, Topology};

const TABLE: TableSpec = TableSpec {
    name: "变电站表",
    sqlite: r#"CREATE TABLE "变电站表" ("单位序号" INTEGER, "编号" TEXT, "名称" TEXT, "容量" REAL, "备注" TEXT, PRIMARY KEY ("单位序号", "编号"))"#,
    postgres: r#"CREATE TABLE "变电站表" ("单位序号" bigint, "编号" text, "名称" text, "容量" double precision, "备注" text, PRIMARY KEY ("单位序号", "编号"))"#,
    mysql: r#"CREATE TABLE "变电站表" ("单位序号" bigint, "编号" varchar(32), "名称" text, "容量" double, "备注" text, PRIMARY KEY ("单位序号", "编号"))"#,
    config: "[[table]]\nname = \"变电站表\"\ncode = [\"单位序号\", \"编号\"]\n",
};

const COLUMNS: [&str; 5] = ["单位序号", "编号", "名称", "容量", "备注"];

fn sync_table() -> SyncTable {
    SyncTable {
        name: TABLE.name.into(),
        columns: COLUMNS.iter().map(|c| c.to_string()).collect(),
        code: vec![0, 1],
        form: SyncForm::Field,
        conflict: ConflictPolicy::Latest,
    }
}

fn code(unit: i64, id: &str) -> CombinedCode {
    CombinedCode(vec![KeyPart::Int(unit), KeyPart::Text(id.into())])
}

fn text(s: &str) -> Value {
    Value::Text(s.into())
}

fn linked(kind: Kind) -> Arc<dyn AdapterFactory> {
    match kind {
        Kind::Sqlite => Arc::new(hetsync_adapter_sqlite::SqliteAdapter),
        Kind::Postgres => Arc::new(hetsync_adapter_postgres::PostgresAdapter),
        Kind::Mysql => Arc::new(hetsync_adapter_mysql::MysqlAdapter),
    }
}

fn loaded(kind: Kind) -> Arc<dyn AdapterFactory> {
    let name = match kind {
        Kind::Sqlite => "sqlite",
        Kind::Postgres => "postgres",
        Kind::Mysql => "mysql",
    };
    let path = hetsync_testkit::plugins::adapter_plugin(name);
    let library =
        PluginLibrary::load(&path, &LoadOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    Arc::new(PluginAdapter::new(library))
}

/// Everything an adapter must do, on a fresh database of `kind`.
async fn conformance(kind: Kind, factory: Arc<dyn AdapterFactory>) {
    let d = Deploy::with(
        Topology {
            hub: kind,
            spokes: &[],
        },
        &[],
        &[TABLE],
    )
    .await;
    let rules = hetsync_core::mapping::rules::TypeRules::parse(
        factory.default_type_rules(),
        &format!("default type rules of {}", factory.name()),
    )
    .expect("the default type rules parse");
    assert!(
        rules.rules.len() >= 23,
        "a default rule for every canonical type"
    );
    let node = factory.connect(&d.node_spec("hub")).await.expect("connect");
    assert_eq!(node.adapter(), factory.name());
    assert_eq!(node.name(), "hub");
    assert_eq!(node.capabilities(), factory.capabilities());
    let t = sync_table();
    let tables = [t.clone()];

    // Data dictionary.
    let shape = node
        .describe(TABLE.name)
        .await
        .unwrap()
        .expect("table found");
    let names: Vec<&str> = shape.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, COLUMNS);
    assert_eq!(shape.primary_key, ["单位序号", "编号"]);
    assert!(shape.columns[2].nullable);
    let canonical: Vec<Option<CanonicalType>> =
        shape.columns.iter().map(|c| c.canonical.clone()).collect();
    let unicode_text = Some(CanonicalType::Text { unicode: true });
    let id = match kind {
        Kind::Mysql => Some(CanonicalType::Varchar {
            length: 32,
            unicode: true,
        }),
        Kind::Sqlite | Kind::Postgres => unicode_text.clone(),
    };
    assert_eq!(
        canonical,
        [
            Some(CanonicalType::Int64),
            id,
            unicode_text.clone(),
            Some(CanonicalType::Float64),
            unicode_text
        ],
        "canonical types of {kind:?}"
    );
    assert!(node.describe("不存在的表").await.unwrap().is_none());

    // Install, idempotently.
    assert!(!node.is_installed().await.unwrap());
    node.install(&tables).await.expect("install");
    node.install(&tables).await.expect("install again");
    assert!(node.is_installed().await.unwrap());
    assert_eq!(
        node.list_tables().await.unwrap(),
        [TABLE.name],
        "the table list leaves hetsync's own tables out"
    );
    let start = node.position().await.unwrap();
    assert_eq!(node.count_events(start, None).await.unwrap(), 0);

    // Capture: two inserts, a one-field update, a delete.
    d.exec(
        "hub",
        r#"INSERT INTO "变电站表" VALUES (1, 'a', '甲', 1.5, NULL), (1, 'b', '乙', 2.5, 'x')"#,
    )
    .await;
    d.exec(
        "hub",
        r#"UPDATE "变电站表" SET "名称" = '丙' WHERE "编号" = 'a'"#,
    )
    .await;
    d.exec("hub", r#"DELETE FROM "变电站表" WHERE "编号" = 'b'"#)
        .await;
    let changes = node.read_changes(&tables, start, None).await.unwrap();
    assert_eq!(changes.upto, node.position().await.unwrap());
    let got = &changes.tables[TABLE.name];
    let events: Vec<(CombinedCode, bool, Option<Vec<String>>)> = got
        .events
        .iter()
        .map(|e| (e.code.clone(), e.deleted, e.fields.clone()))
        .collect();
    assert_eq!(
        events,
        [
            (code(1, "a"), false, None),
            (code(1, "b"), false, None),
            (code(1, "a"), false, Some(vec!["名称".to_string()])),
            (code(1, "b"), true, None),
        ]
    );
    assert!(got.events.iter().all(|e| e.stamp.origin == "hub"));
    assert_eq!(
        got.rows[&code(1, "a")],
        [
            Value::Int(1),
            text("a"),
            text("丙"),
            Value::Float(1.5),
            Value::Null
        ]
    );
    assert!(!got.rows.contains_key(&code(1, "b")));
    assert_eq!(node.count_events(start, None).await.unwrap(), 4);
    // Local edits count whichever peer's echoes are left out.
    assert_eq!(
        node.count_events(start, Some("elsewhere")).await.unwrap(),
        4
    );

    // Apply: an insert with awkward text, a one-field update, a delete of an
    // absent row; a tracking entry and a peer watermark in the same batch.
    let awkward = "it's \"quoted\" \\ back\tslash 😀 变电站";
    let stamp = Stamp {
        time: 1_700_000_000_123_456,
        origin: "elsewhere".into(),
    };
    let batch = ApplyBatch {
        ops: vec![(
            TABLE.name.into(),
            vec![
                RowOp::Delete { code: code(9, "z") },
                RowOp::Upsert {
                    values: vec![
                        Value::Int(2),
                        text("c"),
                        text(awkward),
                        Value::Null,
                        text(""),
                    ],
                    fields: None,
                },
                RowOp::Upsert {
                    values: vec![
                        Value::Int(1),
                        text("a"),
                        text("丁"),
                        Value::Float(99.0),
                        Value::Null,
                    ],
                    fields: Some(vec![2]),
                },
            ],
        )],
        tracking: vec![TrackingEntry {
            table: TABLE.name.into(),
            code: code(2, "c"),
            stamp: stamp.clone(),
            deleted: false,
            fields: None,
        }],
        peer: Some(PeerMark {
            peer: "elsewhere".into(),
            watermark: Watermark(42),
        }),
        guard: Some(changes.upto),
        fresh: false,
    };
    let outcome = node.apply(&tables, &batch).await.expect("apply");
    assert_eq!(
        (outcome.inserted, outcome.updated, outcome.deleted),
        (1, 1, 0)
    );
    let expected = vec![
        vec![
            Value::Int(1),
            text("a"),
            text("丁"),
            Value::Float(1.5),
            Value::Null,
        ],
        vec![
            Value::Int(2),
            text("c"),
            text(awkward),
            Value::Null,
            text(""),
        ],
    ];
    assert_eq!(
        d.rows("hub", TABLE.name).await,
        expected,
        "rows in the database"
    );
    assert_eq!(node.scan(&t, None, 10).await.unwrap(), expected);
    assert_eq!(
        node.scan(&t, Some(&code(1, "a")), 10).await.unwrap(),
        expected[1..]
    );
    assert_eq!(
        node.fetch(&t, &[code(2, "c"), code(9, "z")]).await.unwrap(),
        expected[1..]
    );
    assert_eq!(node.count_rows(&t).await.unwrap(), 2);

    // No echo: the batch's writes were not captured; its tracking entry was,
    // with its original stamp.
    assert_eq!(node.count_events(changes.upto, None).await.unwrap(), 1);
    assert_eq!(
        node.count_events(changes.upto, Some("elsewhere"))
            .await
            .unwrap(),
        0
    );
    let after = node
        .read_changes(&tables, changes.upto, None)
        .await
        .unwrap();
    let written: Vec<&Stamp> = after.tables[TABLE.name]
        .events
        .iter()
        .map(|e| &e.stamp)
        .collect();
    assert_eq!(written, [&stamp]);
    assert_eq!(
        node.peer_watermark("elsewhere").await.unwrap(),
        Some(Watermark(42))
    );
    assert_eq!(node.peer_watermark("nobody").await.unwrap(), None);

    // The guard: a row edited after the guard position refuses the batch,
    // as a concurrent edit (which crosses a plugin boundary unchanged).
    let guard = node.position().await.unwrap();
    d.exec(
        "hub",
        r#"UPDATE "变电站表" SET "容量" = 7 WHERE "编号" = 'c'"#,
    )
    .await;
    let stale = ApplyBatch {
        ops: vec![(
            TABLE.name.into(),
            vec![RowOp::Upsert {
                values: vec![
                    Value::Int(2),
                    text("c"),
                    text("late"),
                    Value::Null,
                    text(""),
                ],
                fields: Some(vec![2]),
            }],
        )],
        tracking: Vec::new(),
        peer: None,
        guard: Some(guard),
        fresh: false,
    };
    let refused = node.apply(&tables, &stale).await.expect_err("guarded");
    assert!(matches!(refused, Error::ConcurrentEdit { .. }), "{refused}");
    assert_eq!(
        d.rows("hub", TABLE.name).await[1][2],
        text(awkward),
        "nothing half-applied"
    );

    // The integration lock is exclusive until dropped.
    let lock = node.lock_integration().await.expect("lock");
    drop(lock);
    drop(
        node.lock_integration()
            .await
            .expect("lock again after release"),
    );

    // Uninstall leaves the application able to write.
    node.uninstall().await.expect("uninstall");
    assert!(!node.is_installed().await.unwrap());
    d.exec(
        "hub",
        r#"INSERT INTO "变电站表" VALUES (3, 'd', NULL, NULL, NULL)"#,
    )
    .await;
    assert_eq!(d.rows("hub", TABLE.name).await.len(), 3);
}

macro_rules! both_ways {
    ($($name:ident: $kind:expr),* $(,)?) => {
        mod linked_in {
            use super::*;
            $(
                #[tokio::test]
                async fn $name() {
                    conformance($kind, linked($kind)).await;
                }
            )*
        }
        mod loaded_from_plugin {
            use super::*;
            $(
                #[tokio::test]
                async fn $name() {
                    conformance($kind, loaded($kind)).await;
                }
            )*
        }
    };
}

both_ways!(sqlite: Kind::Sqlite, postgres: Kind::Postgres, mysql: Kind::Mysql);

/// The vendor template (`examples/adapter-template`), built with one plain
/// `cargo build` in its directory, loads and conforms (on a SQLite file, the
/// database it reaches as shipped).
#[tokio::test]
async fn the_adapter_template_builds_loads_and_conforms() {
    let path = hetsync_testkit::plugins::template_plugin();
    let library =
        PluginLibrary::load(path, &LoadOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(library.manifest.adapter, "template");
    conformance(Kind::Sqlite, Arc::new(PluginAdapter::new(library))).await;
}
