//! The adapter conformance suite: what every adapter must do (data
//! dictionary, install, capture, no echo, apply, guard, bulk mode, push
//! signs, integration lock, uninstall), exported so that a vendor's plugin
//! crate runs it with one call on its own database:
//!
//! ```ignore
//! #[tokio::test]
//! async fn conforms() {
//!     let db = MyDatabase::start(); // implements TestDatabase
//!     hetsync_testkit::conformance::check_plugin(&db, &path_of_my_plugin()).await;
//! }
//! ```
//!
//! The suite needs nothing of the database but [`TestDatabase`]: it creates
//! its table with the adapter's own default type rules and edits it with
//! plain SQL (double-quoted identifiers, standard literals).

use crate::database::{must_execute, must_query, TestConnection, TestDatabase};
use hetsync_core::adapter::{AdapterFactory, Node, NodeSpec};
use hetsync_core::change::{
    ApplyBatch, ChangeSet, PeerMark, ReadRange, RowOp, Stamp, TrackingEntry, Watermark,
};
use hetsync_core::code::{CombinedCode, KeyPart};
use hetsync_core::digest::{digest_row, BucketDigest, RowDigest};
use hetsync_core::mapping::loss::{classify, Fidelity};
use hetsync_core::mapping::rules::{RuleSource, TypeRules};
use hetsync_core::schema::{ConflictPolicy, SyncForm, SyncTable};
use hetsync_core::sql::quote_ident;
use hetsync_core::types::CanonicalType;
use hetsync_core::value::Value;
use hetsync_core::Error;
use hetsync_plugin_sdk::{LoadOptions, PluginAdapter, PluginLibrary};
use std::path::Path;
use std::sync::Arc;

/// The suite's table: a Unicode name, a two-column code.
const TABLE: &str = "变电站表";

/// Its columns and the canonical type each is declared with.
fn columns() -> [(&'static str, CanonicalType); 5] {
    let text = CanonicalType::Text { unicode: true };
    [
        ("单位序号", CanonicalType::Int64),
        (
            "编号",
            CanonicalType::Varchar {
                length: 32,
                unicode: true,
            },
        ),
        ("名称", text.clone()),
        ("容量", CanonicalType::Float64),
        ("备注", text),
    ]
}

fn sync_table() -> SyncTable {
    SyncTable {
        name: TABLE.into(),
        columns: columns().iter().map(|(c, _)| c.to_string()).collect(),
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

/// `CREATE TABLE` for the suite's table, each column typed by the adapter's
/// default rule for its canonical type.
fn create_table(factory: &dyn AdapterFactory, rules: &TypeRules) -> String {
    let none = TypeRules::default();
    let columns: Vec<String> = columns()
        .iter()
        .map(|(name, canonical)| {
            let source = RuleSource {
                adapter: "",
                table: TABLE,
                column: name,
                native: "",
                canonical: Some(canonical),
            };
            let native = none
                .target_type(rules, factory.name(), &source)
                .unwrap_or_else(|| {
                    panic!(
                        "{}: no default type rule for {canonical:?} (column {name})",
                        factory.name()
                    )
                });
            let null = if name.starts_with('单') || name.starts_with('编') {
                " NOT NULL"
            } else {
                ""
            };
            format!("{} {native}{null}", quote_ident(name))
        })
        .collect();
    format!(
        "CREATE TABLE {} ({}, PRIMARY KEY ({}, {}))",
        quote_ident(TABLE),
        columns.join(", "),
        quote_ident("单位序号"),
        quote_ident("编号")
    )
}

/// Reads in bounds take the same events as one unbounded read (`all`), in
/// reads of `limit` events at most (a node whose positions are transactions
/// stops inside one that alone holds more), each ending where the next
/// begins; a read ends at `until` at most.
async fn bounded_reads(node: &dyn Node, tables: &[SyncTable], start: Watermark, all: &ChangeSet) {
    let events = |c: &ChangeSet| -> Vec<(CombinedCode, bool, Option<Vec<String>>)> {
        c.tables
            .values()
            .flat_map(|t| &t.events)
            .map(|e| (e.code.clone(), e.deleted, e.fields.clone()))
            .collect()
    };
    for limit in [1, 2, 3] {
        let mut since = start;
        let mut read = Vec::new();
        let mut reads = 0;
        loop {
            let range = ReadRange::since(since).limit(Some(limit));
            let part = node.read_changes(tables, &range).await.unwrap();
            reads += 1;
            let got = events(&part);
            assert!(!got.is_empty(), "limit {limit}: read {reads} took nothing");
            assert!(
                got.len() <= limit as usize,
                "limit {limit}: read {reads} took {} events",
                got.len()
            );
            read.extend(got);
            since = part.upto;
            match part.rest {
                Some(rest) => assert_eq!(rest, all.upto, "limit {limit}: where the rest ends"),
                None => break,
            }
            assert!(reads < 10, "limit {limit}: reads never end");
        }
        assert_eq!(
            read,
            events(all),
            "limit {limit}: the events of one unbounded read"
        );
        assert_eq!(
            since, all.upto,
            "limit {limit}: the last read ends where the unbounded one did"
        );
        // Four events; the first transaction holds two.
        let fewest = 4usize.div_ceil(limit as usize);
        assert!(reads >= fewest, "limit {limit}: {reads} reads");
    }
    let first = node
        .read_changes(tables, &ReadRange::since(start).limit(Some(2)))
        .await
        .unwrap();
    let until = node
        .read_changes(tables, &ReadRange::since(start).until(Some(first.upto)))
        .await
        .unwrap();
    assert_eq!(until.upto, first.upto, "a read ends at `until`");
    assert_eq!(events(&until), events(&first));
    assert_eq!(until.rest, None);
    // A start past the node's end: its tracking table went back (a restored
    // backup), and the read says so instead of waiting for positions that
    // were already used.
    let ahead = Watermark::at(all.upto.pos + 1_000_000);
    let behind = node
        .read_changes(tables, &ReadRange::since(ahead))
        .await
        .unwrap();
    assert!(behind.behind, "a read past the end says the node went back");
    assert!(events(&behind).is_empty());
    assert!(!all.behind);
}

/// The convergence digest a node computes itself, if it does, is the one
/// the engine computes from `rows` (the table's rows): bucket digests and
/// row hashes, on the whole table and on the table without its double
/// column (which not every database spells exactly).
async fn digest_agrees(node: &dyn Node, table: &SyncTable, rows: &[Vec<Value>]) {
    let types: Vec<CanonicalType> = columns().into_iter().map(|(_, t)| t).collect();
    let keep = [0, 1, 2, 4];
    let narrow = SyncTable {
        columns: keep.iter().map(|&i| table.columns[i].clone()).collect(),
        ..table.clone()
    };
    let narrow_types: Vec<CanonicalType> = keep.iter().map(|&i| types[i].clone()).collect();
    let narrow_rows: Vec<Vec<Value>> = rows
        .iter()
        .map(|r| keep.iter().map(|&i| r[i].clone()).collect())
        .collect();
    let cases = [
        (table, types.as_slice(), rows),
        (&narrow, narrow_types.as_slice(), narrow_rows.as_slice()),
    ];
    for (t, types, rows) in cases {
        for buckets in [1, 4] {
            let what = format!(
                "digest of {} column(s) in {buckets} bucket(s)",
                t.columns.len()
            );
            let Some(got) = node.digest(t, types, buckets).await.expect(&what) else {
                continue;
            };
            let mut want = vec![BucketDigest::default(); buckets as usize];
            let mut hashes = Vec::new();
            for row in rows {
                let (bucket, hash) = digest_row(row, &t.code, buckets);
                want[bucket as usize].add(&hash);
                let code = t.code_of(row, node.name()).expect("code");
                hashes.push(RowDigest { code, hash });
            }
            assert_eq!(got, want, "{what}");
            let all: Vec<u32> = (0..buckets).collect();
            let mut got = node
                .digest_rows(t, types, buckets, &all)
                .await
                .expect(&what)
                .unwrap_or_else(|| panic!("{what}: no row hashes where the digest was computed"));
            got.sort_by(|a, b| a.code.cmp(&b.code));
            assert_eq!(got, hashes, "row hashes of the {what}");
        }
    }
}

async fn rows(app: &mut dyn TestConnection) -> Vec<Vec<Value>> {
    must_query(
        app,
        &format!("SELECT * FROM {} ORDER BY 1, 2", quote_ident(TABLE)),
    )
    .await
}

/// An application edit, taken into capture at once: a node that captures
/// by snapshot difference records edits when a catch-up compares (a read
/// of its changes), and the suite wants each edit as a change of its own.
async fn app_edit(
    db: &dyn TestDatabase,
    node: &dyn Node,
    app: &mut dyn TestConnection,
    tables: &[SyncTable],
    sql: &str,
) {
    must_execute(app, sql).await;
    if db.captures_by_snapshot() {
        let end = node.position().await.unwrap();
        node.read_changes(tables, &ReadRange::since(end))
            .await
            .expect("a catch-up takes the edit");
    }
}

/// Bulk mode: nothing is captured while it is on and the node refuses
/// rounds; its end records the load, new and changed rows whole and the
/// codes gone as deletes, stamped and attributed as asked.
async fn bulk_mode(node: &dyn Node, app: &mut dyn TestConnection, tables: &[SyncTable]) {
    let mark = node.position().await.unwrap();
    let old_rows = rows(app).await.len() as u64;
    node.bulk_begin(tables, 1_000).await.expect("bulk begin");
    assert_eq!(
        node.bulk_tables().await.unwrap(),
        std::collections::BTreeMap::from([(TABLE.to_string(), 1_000)])
    );
    let refused = node
        .read_changes(tables, &ReadRange::since(mark))
        .await
        .expect_err("a node in bulk mode refuses rounds");
    assert!(refused.to_string().contains("bulk mode"), "{refused}");
    must_execute(
        app,
        r#"INSERT INTO "变电站表" VALUES (9, '载1', '甲', 1.5, NULL), (9, '载2', '乙', 2.5, 'x')"#,
    )
    .await;
    must_execute(
        app,
        r#"UPDATE "变电站表" SET "容量" = 7.5 WHERE "编号" = '载1'"#,
    )
    .await;
    must_execute(app, r#"DELETE FROM "变电站表" WHERE "单位序号" <> 9"#).await;
    let stamp = 1_800_000_000_123_456;
    let recorded = node
        .bulk_end(tables, stamp, Some("loader"))
        .await
        .expect("bulk end");
    assert_eq!(
        recorded,
        [hetsync_core::change::BulkRecorded {
            table: TABLE.into(),
            changed: 2,
            deleted: old_rows,
        }]
    );
    assert!(node.bulk_tables().await.unwrap().is_empty());
    let read = node
        .read_changes(tables, &ReadRange::since(mark))
        .await
        .expect("capture is back");
    let events = &read.tables[TABLE].events;
    assert_eq!(events.len() as u64, 2 + old_rows, "{events:?}");
    for e in events {
        assert_eq!(e.stamp.time, stamp, "{e:?}");
        assert_eq!(e.stamp.user.as_deref(), Some("loader"), "{e:?}");
        assert_eq!(e.fields, None, "{e:?}");
    }
    let mut upserts: Vec<&CombinedCode> = events
        .iter()
        .filter(|e| !e.deleted)
        .map(|e| &e.code)
        .collect();
    upserts.sort();
    assert_eq!(upserts, [&code(9, "载1"), &code(9, "载2")]);
    assert_eq!(
        read.tables[TABLE].rows[&code(9, "载1")][3],
        Value::Float(7.5)
    );
    // The next edit is captured as usual.
    let end = node.position().await.unwrap();
    must_execute(
        app,
        r#"UPDATE "变电站表" SET "名称" = '丁' WHERE "编号" = '载2'"#,
    )
    .await;
    assert_eq!(node.count_events(end, None).await.unwrap(), 1);
}

/// A position past every commit: never before the final one, and a read
/// up to it takes a change committed before it was asked.
async fn committed_position(
    db: &dyn TestDatabase,
    node: &dyn Node,
    app: &mut dyn TestConnection,
    tables: &[SyncTable],
) {
    let start = node.position().await.unwrap();
    let edit = r#"UPDATE "变电站表" SET "备注" = 'committed' WHERE "编号" = 'c'"#;
    app_edit(db, node, app, tables, edit).await;
    let committed = node.committed_position().await.expect("committed_position");
    assert!(committed >= start, "{committed:?} before {start:?}");
    let read = node
        .read_changes(tables, &ReadRange::since(start).until(Some(committed)))
        .await
        .unwrap();
    let codes: Vec<&CombinedCode> = read.tables[TABLE].events.iter().map(|e| &e.code).collect();
    assert_eq!(codes, [&code(2, "c")], "the commit is within it");
}

/// Push mode: a node that tells of commits is quiet while nothing is
/// committed, and tells of another connection's commit.
async fn push_signs(node: &dyn Node, app: &mut dyn TestConnection, row: &str) {
    use hetsync_core::adapter::ChangeSign;
    let wait = std::time::Duration::from_millis(300);
    if node.await_changes(wait).await.expect("await_changes") == ChangeSign::Unsupported {
        // The service polls its position instead.
        return;
    }
    // What the first call (it starts watching) or earlier commits left.
    let mut quiet = false;
    for _ in 0..10 {
        if node.await_changes(wait).await.unwrap() == ChangeSign::Quiet {
            quiet = true;
            break;
        }
    }
    assert!(
        quiet,
        "await_changes kept telling of changes with nothing committed"
    );
    let edit = format!(r#"UPDATE "变电站表" SET "名称" = '戊' WHERE "编号" = '{row}'"#);
    assert_eq!(must_execute(app, &edit).await, 1, "{edit}");
    assert_eq!(
        node.await_changes(std::time::Duration::from_secs(10))
            .await
            .unwrap(),
        ChangeSign::Changed,
        "a commit was not told of"
    );
}

/// A fresh batch (a new copy's rows, written the adapter's fastest way)
/// goes in whole, and fails as a concurrent edit, writing nothing, when one
/// of its codes is already in the table. Adds two rows.
async fn fresh_batches(node: &dyn Node, app: &mut dyn TestConnection, tables: &[SyncTable]) {
    let before = rows(app).await;
    let new_row = |id: &str| {
        vec![
            Value::Int(7),
            text(id),
            text("新的 it's"),
            Value::Float(0.25),
            Value::Null,
        ]
    };
    let fresh = |rows| ApplyBatch::fresh_rows(TABLE, rows);
    let refused = node
        .apply(tables, &fresh(vec![new_row("f"), before[0].clone()]))
        .await
        .expect_err("a fresh batch with a code already in the table");
    assert!(matches!(refused, Error::ConcurrentEdit { .. }), "{refused}");
    assert_eq!(rows(app).await, before, "nothing half-applied");
    let outcome = node
        .apply(tables, &fresh(vec![new_row("f"), new_row("g")]))
        .await
        .expect("a fresh batch of new codes");
    assert_eq!(outcome.inserted, 2);
    let mut expected = before;
    expected.extend([new_row("f"), new_row("g")]);
    expected.sort_by_key(|row| match &row[..2] {
        [Value::Int(unit), Value::Text(id)] => (*unit, id.clone()),
        other => panic!("a code of the conformance table: {other:?}"),
    });
    assert_eq!(rows(app).await, expected);
}

/// Loads the plugin library at `library` and runs [`check_adapter`] on its
/// adapter.
pub async fn check_plugin(db: &dyn TestDatabase, library: &Path) {
    let library =
        PluginLibrary::load(library, &LoadOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    check_adapter(db, Arc::new(PluginAdapter::new(library))).await;
}

/// Runs everything an adapter must do against `factory`, on a new database
/// of `db`; panics with what failed.
pub async fn check_adapter(db: &dyn TestDatabase, factory: Arc<dyn AdapterFactory>) {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = db.create(dir.path(), "hub").await;
    let mut app = db.connect(dir.path(), &url).await;
    let spec = NodeSpec {
        name: "hub".into(),
        url,
        base_dir: dir.path().to_path_buf(),
        options: crate::database::node_options(db),
    };
    let node = factory.connect(&spec).await.expect("connect");
    assert_eq!(node.adapter(), factory.name());
    assert_eq!(node.name(), "hub");
    // The table is declared by the node's default rules (an ODBC node's
    // are its profile's), so they must name types its database takes and
    // describes back as they were meant.
    let rules = TypeRules::parse(
        node.default_type_rules()
            .unwrap_or_else(|| factory.default_type_rules()),
        &format!("default type rules of {}", factory.name()),
    )
    .expect("the default type rules parse");
    assert!(
        rules.rules.len() >= 23,
        "a default rule for every canonical type"
    );
    must_execute(&mut *app, &create_table(factory.as_ref(), &rules)).await;
    if db.node_options().is_empty() {
        // A node option may choose other SQL (an ODBC profile): the
        // factory says what its nodes can do by default.
        assert_eq!(node.capabilities(), factory.capabilities());
    }
    let t = sync_table();
    let tables = [t.clone()];

    // Data dictionary: the columns in order, the code, nullability, and a
    // canonical type that holds every value of the declared one.
    let shape = node.describe(TABLE).await.unwrap().expect("table found");
    let names: Vec<&str> = shape.columns.iter().map(|c| c.name.as_str()).collect();
    let declared = columns();
    assert_eq!(names, declared.iter().map(|(c, _)| *c).collect::<Vec<_>>());
    assert_eq!(shape.primary_key, ["单位序号", "编号"]);
    assert!(shape.columns[2].nullable);
    assert!(!shape.columns[0].nullable);
    for ((name, want), got) in declared.iter().zip(&shape.columns) {
        let got = got
            .canonical
            .as_ref()
            .unwrap_or_else(|| panic!("column {name}: no canonical type"));
        let fidelity = classify(want, got);
        assert!(
            matches!(fidelity, Fidelity::Exact | Fidelity::Widening),
            "column {name}: declared {want:?} by the default rules, described as {got:?} ({fidelity})"
        );
    }
    assert!(node.describe("不存在的表").await.unwrap().is_none());

    // Install, idempotently.
    assert!(!node.is_installed().await.unwrap());
    node.install(&tables).await.expect("install");
    node.install(&tables).await.expect("install again");
    assert!(node.is_installed().await.unwrap());
    assert_eq!(
        node.list_tables().await.unwrap(),
        [TABLE],
        "the table list leaves hetsync's own tables out"
    );
    let start = node.position().await.unwrap();
    assert_eq!(node.count_events(start, None).await.unwrap(), 0);

    // Capture: two inserts, a one-field update, a delete.
    for edit in [
        r#"INSERT INTO "变电站表" VALUES (1, 'a', '甲', 1.5, NULL), (1, 'b', '乙', 2.5, 'x')"#,
        r#"UPDATE "变电站表" SET "名称" = '丙' WHERE "编号" = 'a'"#,
        r#"DELETE FROM "变电站表" WHERE "编号" = 'b'"#,
    ] {
        app_edit(db, node.as_ref(), &mut *app, &tables, edit).await;
    }
    let changes = node
        .read_changes(&tables, &ReadRange::since(start))
        .await
        .unwrap();
    assert_eq!(changes.upto, node.position().await.unwrap());
    let got = &changes.tables[TABLE];
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
    bounded_reads(node.as_ref(), &tables, start, &changes).await;
    assert_eq!(node.count_events(start, None).await.unwrap(), 4);
    // Local edits count whichever peer's echoes are left out.
    assert_eq!(
        node.count_events(start, Some("elsewhere")).await.unwrap(),
        4
    );

    // Apply: an insert with awkward text, a one-field update, a delete of an
    // absent row; a tracking entry and a peer watermark in the same batch.
    let awkward = "it's \"quoted\" \\ back\tslash 😀 变电站";
    // Its user (recorded on the node where it was made) is kept with it.
    let stamp = Stamp {
        user: Some("o'brien 用户".into()),
        ..Stamp::new(1_700_000_000_123_456, "elsewhere")
    };
    let batch = ApplyBatch {
        ops: vec![(
            TABLE.into(),
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
            table: TABLE.into(),
            code: code(2, "c"),
            stamp: stamp.clone(),
            deleted: false,
            fields: None,
        }],
        peer: Some(PeerMark {
            peer: "elsewhere".into(),
            watermark: Watermark::at(42),
            tables: Some(vec![TABLE.into()]),
        }),
        guard: Some(changes.upto),
        fresh: false,
        settle: None,
        stamps: Vec::new(),
        log: None,
    };
    assert_eq!(node.synced_tables("elsewhere").await.unwrap(), None);
    let outcome = node.apply(&tables, &batch).await.expect("apply");
    assert_eq!(
        (outcome.inserted, outcome.updated, outcome.deleted),
        (1, 1, 0)
    );
    assert_eq!(
        node.synced_tables("elsewhere").await.unwrap(),
        Some(vec![TABLE.to_string()]),
        "the synced tables recorded with the peer's watermark"
    );
    assert_eq!(node.synced_tables("nobody").await.unwrap(), None);
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
    assert_eq!(rows(&mut *app).await, expected, "rows in the database");
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
    digest_agrees(node.as_ref(), &t, &expected).await;

    // No echo: the batch's writes were not captured; its tracking entry was,
    // with its original stamp, user included.
    assert_eq!(node.count_events(changes.upto, None).await.unwrap(), 1);
    assert_eq!(
        node.count_events(changes.upto, Some("elsewhere"))
            .await
            .unwrap(),
        0
    );
    let after = node
        .read_changes(&tables, &ReadRange::since(changes.upto))
        .await
        .unwrap();
    let written: Vec<&Stamp> = after.tables[TABLE]
        .events
        .iter()
        .map(|e| &e.stamp)
        .collect();
    assert_eq!(written, [&stamp]);
    assert_eq!(
        node.peer_watermark("elsewhere").await.unwrap(),
        Some(Watermark::at(42))
    );
    assert_eq!(node.peer_watermark("nobody").await.unwrap(), None);

    // The guard: a row edited after the guard position refuses a batch
    // that does not settle, as a concurrent edit (which crosses a plugin
    // boundary unchanged).
    let guard = node.position().await.unwrap();
    must_execute(
        &mut *app,
        r#"UPDATE "变电站表" SET "名称" = 'local', "容量" = 7 WHERE "编号" = 'c'"#,
    )
    .await;
    let c_row = |name: &str, capacity: Value, note: &str| {
        vec![Value::Int(2), text("c"), text(name), capacity, text(note)]
    };
    let stale = |fields: Vec<usize>, values: Vec<Value>, time: i64, settle| {
        let names = fields.iter().map(|&i| columns()[i].0.to_string()).collect();
        ApplyBatch {
            ops: vec![(
                TABLE.into(),
                vec![RowOp::Upsert {
                    values,
                    fields: Some(fields),
                }],
            )],
            tracking: vec![TrackingEntry {
                table: TABLE.into(),
                code: code(2, "c"),
                stamp: Stamp::new(time, "elsewhere"),
                deleted: false,
                fields: Some(names),
            }],
            peer: None,
            guard: Some(guard),
            fresh: false,
            settle,
            stamps: Vec::new(),
            log: None,
        }
    };
    let (older, newer) = (1_700_000_000_000_000, 4_000_000_000_000_000);
    let refused = node
        .apply(
            &tables,
            &stale(vec![2], c_row("late", Value::Null, ""), older, None),
        )
        .await
        .expect_err("guarded");
    assert!(matches!(refused, Error::ConcurrentEdit { .. }), "{refused}");
    assert_eq!(
        rows(&mut *app).await[1],
        c_row("local", Value::Float(7.0), ""),
        "nothing half-applied"
    );

    // Settling instead: per field the later change wins, the loser is
    // logged as a conflict, and nothing is refused. An older incoming name
    // yields to the local edit while its note (edited by nobody here) goes
    // in; a newer incoming capacity overwrites the local one, whose edit is
    // trimmed so that it never goes out as if it were new.
    let settle = hetsync_core::plan::settle::Settle {
        hub: "hub".into(),
        side: hetsync_core::plan::Side::Hub,
    };
    // The decision is recorded with the commit, until the engine has
    // logged it and says to forget it.
    let mut first = stale(
        vec![2, 4],
        c_row("late", Value::Null, "note"),
        older,
        Some(settle.clone()),
    );
    first.log = Some(hetsync_core::change::ConflictLog {
        conflicts: Vec::new(),
        prefix: "round/1/n".into(),
    });
    let outcome = node
        .apply(&tables, &first)
        .await
        .expect("settled, not refused");
    let recorded: Vec<(Option<String>, Option<String>)> = node
        .pending_conflicts()
        .await
        .unwrap()
        .into_iter()
        .map(|c| (c.uid, c.field))
        .collect();
    assert_eq!(
        recorded,
        [(Some("round/1/n0".to_string()), Some("名称".to_string()))]
    );
    node.forget_conflicts(&["round/1/n0".to_string(), "unknown".to_string()])
        .await
        .unwrap();
    assert!(node.pending_conflicts().await.unwrap().is_empty());
    let decided: Vec<(Option<&str>, hetsync_core::plan::Side)> = outcome
        .conflicts
        .iter()
        .map(|c| (c.field.as_deref(), c.winner_side))
        .collect();
    assert_eq!(decided, [(Some("名称"), hetsync_core::plan::Side::Hub)]);
    let outcome = node
        .apply(
            &tables,
            &stale(
                vec![3],
                c_row("late", Value::Float(8.0), ""),
                newer,
                Some(settle),
            ),
        )
        .await
        .expect("settled, not refused");
    assert_eq!(outcome.conflicts.len(), 1);
    assert_eq!(
        outcome.conflicts[0].winner_side,
        hetsync_core::plan::Side::Spoke
    );
    assert_eq!(
        rows(&mut *app).await[1],
        c_row("local", Value::Float(8.0), "note"),
        "the later change of each field"
    );
    let since = node
        .read_changes(&tables, &ReadRange::since(guard))
        .await
        .unwrap();
    let changes: Vec<(&str, Option<&[String]>)> = since.tables[TABLE]
        .events
        .iter()
        .map(|e| (e.stamp.origin.as_str(), e.fields.as_deref()))
        .collect();
    let names = |n: &[&str]| n.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let (note, capacity, name) = (names(&["备注"]), names(&["容量"]), names(&["名称"]));
    assert_eq!(
        changes,
        [
            ("hub", Some(name.as_slice())),
            ("elsewhere", Some(note.as_slice())),
            ("elsewhere", Some(capacity.as_slice())),
        ],
        "the local edit keeps only the name; the batches record only what they wrote"
    );
    // A standby's read of its own edits leaves out what it integrated.
    let own = node
        .read_changes(&tables, &ReadRange::since(guard).only_local())
        .await
        .unwrap();
    let origins: Vec<&str> = own.tables[TABLE]
        .events
        .iter()
        .map(|e| e.stamp.origin.as_str())
        .collect();
    assert_eq!(origins, ["hub"], "only the local edit");
    committed_position(db, node.as_ref(), &mut *app, &tables).await;

    // A purge deletes every row at or before the position its peers
    // integrated and older than its time, except the newest, and records
    // how far it went (a peer behind that is stale).
    assert_eq!(node.purged_history().await.unwrap(), None);
    let end = node.position().await.unwrap();
    let tracked = node.count_events(Watermark::default(), None).await.unwrap();
    let later = 5_000_000_000_000_000; // 2128: after every stamp above
    let deleted = node.purge_tracking(end, later).await.expect("purge");
    assert_eq!(deleted, tracked - 1, "all but the newest of {tracked}");
    assert_eq!(
        node.count_events(Watermark::default(), None).await.unwrap(),
        1
    );
    assert_eq!(
        node.purged_history().await.unwrap(),
        Some(hetsync_core::change::PurgedHistory {
            upto: end,
            before_micros: later,
        })
    );
    assert_eq!(node.purge_tracking(end, later).await.unwrap(), 0);

    // A row push mode sees edited: one bulk mode loaded.
    let mut edited = "载2";
    if db.captures_by_snapshot() {
        // What bulk mode saves (the triggers' work) a comparison never does.
        let refused = node
            .bulk_begin(&tables, 1_000)
            .await
            .expect_err("no bulk mode where capture compares snapshots");
        assert!(refused.to_string().contains("snapshot"), "{refused}");
        edited = "a";
    } else {
        bulk_mode(node.as_ref(), &mut *app, &tables).await;
    }
    push_signs(node.as_ref(), &mut *app, edited).await;
    fresh_batches(node.as_ref(), &mut *app, &tables).await;

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
    must_execute(
        &mut *app,
        r#"INSERT INTO "变电站表" VALUES (3, 'd', NULL, NULL, NULL)"#,
    )
    .await;
    assert_eq!(rows(&mut *app).await.len(), 5);
}
