//! Capture by snapshot difference (`capture = "snapshot"`): no triggers on
//! the node; each catch-up compares the tables with their snapshots. What
//! it records is what the triggers would have (one event per changed row,
//! changed fields only, nothing for a no-op or an undone edit, a code
//! change as a delete and a new row), the engine's writes are not captured
//! back, a field merge keeps both sides' fields, an edit made after a
//! round read the node is not overwritten, a change larger than a page is
//! taken whole, a dropped snapshot stops the node, pending edits hold back
//! uninstall, and switching to triggers loses nothing. The property suites
//! run this mode too (a topology of [`support::MIXED`]).

mod support;

use hetsync_core::value::Value;
use support::{
    basic_row, engine_writes_are_not_captured, hetsync, output_text, Deploy, Topology, BASIC,
    SQLITE, SQLITE_SNAPSHOT,
};

/// An application edit with no catch-up after it (the harness's
/// [`Deploy::exec`] takes a snapshot node's edits at once).
async fn edit(d: &Deploy, node: &str, sql: &str) {
    let mut conn = d.connect(node).await;
    conn.execute(sql)
        .await
        .unwrap_or_else(|e| panic!("{node}: {sql}: {e}"));
}

/// A snapshot spoke of a SQLite hub.
const SNAPSHOT_SPOKE: Topology = Topology {
    hub: SQLITE,
    spokes: &[SQLITE_SNAPSHOT],
};

/// A snapshot hub with a SQLite spoke.
const SNAPSHOT_HUB: Topology = Topology {
    hub: SQLITE_SNAPSHOT,
    spokes: &[SQLITE],
};

#[tokio::test]
async fn a_snapshot_node_has_no_triggers_and_records_what_changed() {
    let d = Deploy::with(SNAPSHOT_SPOKE, &["s"], BASIC).await;
    d.exec(
        "s",
        "INSERT INTO t_field VALUES (1, 'one', 1, 1.5), (2, 'two', 2, 2.5), (3, 'three', 3, 3.5)",
    )
    .await;
    let _engine = d.installed().await;
    assert_eq!(
        d.scalar_i64(
            "s",
            "SELECT count(*) FROM sqlite_master WHERE type = 'trigger'"
        )
        .await,
        0,
        "no triggers"
    );
    assert_eq!(
        d.scalar_i64("s", "SELECT count(*) FROM \"_hetsync_snap_t_field\"")
            .await,
        3,
        "install took the snapshot"
    );
    edit(&d, "s", "UPDATE t_field SET b = 20 WHERE k = 2").await;
    edit(&d, "s", "UPDATE t_field SET a = 'x', c = 9.5 WHERE k = 3").await;
    edit(&d, "s", "UPDATE t_field SET a = 'one' WHERE k = 1").await; // a no-op
    edit(&d, "s", "DELETE FROM t_field WHERE k = 1").await;
    edit(&d, "s", "INSERT INTO t_field VALUES (4, 'four', 4, 4.5)").await;
    edit(&d, "s", "INSERT INTO t_field VALUES (5, 'gone', 5, 5.5)").await;
    edit(&d, "s", "DELETE FROM t_field WHERE k = 5").await; // undone
    assert_eq!(d.tracking_rows("s").await, 0, "nothing before a catch-up");
    let events = d.local_events("s", 0).await;
    let mut seen: Vec<(bool, Option<String>)> = events
        .iter()
        .map(|(_, _, deleted, fields)| (*deleted, fields.clone()))
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        vec![
            (false, None),
            (false, Some(r#"["a","c"]"#.into())),
            (false, Some(r#"["b"]"#.into())),
            (true, None),
        ],
        "k=4 new, k=3 two fields, k=2 one field, k=1 deleted: {events:?}"
    );
    let codes = d
        .query(
            "s",
            "SELECT code, deleted FROM _hetsync_tracking WHERE origin IS NULL ORDER BY code",
        )
        .await;
    assert_eq!(
        codes,
        vec![
            vec![Value::Text("[1]".into()), Value::Int(1)],
            vec![Value::Text("[2]".into()), Value::Int(0)],
            vec![Value::Text("[3]".into()), Value::Int(0)],
            vec![Value::Text("[4]".into()), Value::Int(0)],
        ]
    );
    // Taken once: a second catch-up finds nothing new.
    assert_eq!(d.local_events("s", 0).await.len(), 4);
}

#[tokio::test]
async fn edits_on_a_snapshot_spoke_reach_the_hub_and_back() {
    let d = Deploy::with(SNAPSHOT_SPOKE, &["s"], BASIC).await;
    let engine = d.installed().await;
    d.exec("hub", "INSERT INTO t_row VALUES (1, 'hub', 1, 1.0)")
        .await;
    d.exec("s", "INSERT INTO t_row VALUES (2, 'spoke', 2, 2.0)")
        .await;
    d.sync_passes(&engine, 2).await;
    d.assert_converged().await;
    assert_eq!(
        d.rows("hub", "t_row").await,
        vec![basic_row(1, "hub", 1, 1.0), basic_row(2, "spoke", 2, 2.0)]
    );
    assert_eq!(
        d.local_events("s", 0).await.len(),
        1,
        "the hub's row written on the spoke was not captured back"
    );
    assert_eq!(d.sync_passes(&engine, 2).await, 0, "nothing left to move");
    edit(&d, "s", "UPDATE t_row SET a = 'edited' WHERE k = 1").await;
    edit(&d, "s", "DELETE FROM t_row WHERE k = 2").await;
    d.sync_passes(&engine, 2).await;
    assert_eq!(
        d.rows("hub", "t_row").await,
        vec![basic_row(1, "edited", 1, 1.0)]
    );
    d.assert_converged().await;
}

#[tokio::test]
async fn engine_writes_into_a_snapshot_node_are_not_captured() {
    engine_writes_are_not_captured(SNAPSHOT_SPOKE, "s").await;
}

/// Field form: the hub changes one field and the snapshot spoke another of
/// the same row; both survive, because the comparison records only the
/// field that differs.
#[tokio::test]
async fn a_field_merge_keeps_both_sides() {
    for topology in [SNAPSHOT_SPOKE, SNAPSHOT_HUB] {
        let d = Deploy::with(topology, &["s"], BASIC).await;
        let engine = d.installed().await;
        d.exec("hub", "INSERT INTO t_field VALUES (1, 'x', 1, 1.0)")
            .await;
        d.sync_passes(&engine, 2).await;
        edit(&d, "hub", "UPDATE t_field SET a = 'hub' WHERE k = 1").await;
        edit(&d, "s", "UPDATE t_field SET b = 7 WHERE k = 1").await;
        d.sync_passes(&engine, 2).await;
        d.assert_converged().await;
        assert_eq!(
            d.rows("hub", "t_field").await,
            vec![basic_row(1, "hub", 7, 1.0)],
            "{topology:?}"
        );
    }
}

/// More changed rows than one page of the comparison reads: every one is
/// recorded, each once.
#[tokio::test]
async fn a_change_larger_than_a_page_is_taken_whole() {
    let d = Deploy::with(SNAPSHOT_HUB, &["s"], BASIC).await;
    d.insert_series("hub", "t_field", 12_000, "'r', 1, 0.5")
        .await;
    let engine = d.installed().await;
    d.sync_passes(&engine, 2).await;
    edit(&d, "hub", "UPDATE t_field SET b = b + 1").await;
    edit(&d, "hub", "DELETE FROM t_field WHERE k > 6000").await;
    let events = d.local_events("hub", 0).await;
    let deletes = events.iter().filter(|e| e.2).count();
    assert_eq!((events.len(), deletes), (12_000, 6_000));
    d.sync_passes(&engine, 2).await;
    d.assert_converged().await;
    assert_eq!(d.rows("s", "t_field").await.len(), 6_000);
    assert_eq!(
        d.scalar_i64("s", "SELECT count(*) FROM t_field WHERE b = 2")
            .await,
        6_000
    );
}

/// A code whose bytes change is the old row leaving and a new one arriving.
#[tokio::test]
async fn a_changed_code_is_a_delete_and_a_new_row() {
    let d = Deploy::with(SNAPSHOT_SPOKE, &["s"], BASIC).await;
    let engine = d.installed().await;
    d.exec("s", "INSERT INTO t_row VALUES (1, 'x', 1, 1.0)")
        .await;
    d.sync_passes(&engine, 2).await;
    edit(&d, "s", "UPDATE t_row SET k = 10 WHERE k = 1").await;
    d.sync_passes(&engine, 2).await;
    assert_eq!(
        d.rows("hub", "t_row").await,
        vec![basic_row(10, "x", 1, 1.0)]
    );
    d.assert_converged().await;
}

/// A dropped snapshot table is broken capture: the round stops and names it.
#[tokio::test]
async fn a_dropped_snapshot_stops_the_node() {
    let d = Deploy::with(SNAPSHOT_SPOKE, &["s"], BASIC).await;
    let engine = d.installed().await;
    d.exec("s", "DROP TABLE \"_hetsync_snap_t_row\"").await;
    let e = engine.sync_spoke("s").await.unwrap_err().to_string();
    assert!(
        e.contains("_hetsync_snap_t_row") && e.contains("'s'"),
        "{e}"
    );
}

/// Edits no catch-up has taken yet count as pending: uninstall refuses to
/// drop them without --force.
#[tokio::test]
async fn pending_edits_hold_back_uninstall() {
    let d = Deploy::with(SNAPSHOT_SPOKE, &["s"], BASIC).await;
    let engine = d.installed().await;
    d.sync_passes(&engine, 1).await;
    edit(&d, "s", "INSERT INTO t_row VALUES (1, 'x', 1, 1.0)").await;
    assert_eq!(d.tracking_rows("s").await, 0);
    let out = hetsync(&d.config(), &["uninstall"]);
    let text = output_text(&out);
    assert_ne!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("--force") && text.contains('s'), "{text}");
    assert_eq!(
        d.scalar_i64(
            "s",
            "SELECT count(*) FROM sqlite_master WHERE name = '_hetsync_snap_t_row'"
        )
        .await,
        1,
        "nothing removed"
    );
}

/// Going from snapshots to triggers: install records what the snapshots
/// had not taken yet before it drops them.
#[tokio::test]
async fn switching_to_triggers_loses_nothing() {
    let d = Deploy::with(SNAPSHOT_SPOKE, &["s"], BASIC).await;
    let engine = d.installed().await;
    d.sync_passes(&engine, 1).await;
    edit(&d, "s", "INSERT INTO t_row VALUES (1, 'before', 1, 1.0)").await;
    drop(engine);
    d.edit_config("capture = \"snapshot\"\n", "");
    let out = hetsync(&d.config(), &["install"]);
    assert_eq!(out.status.code(), Some(0), "{}", output_text(&out));
    assert_eq!(
        d.scalar_i64(
            "s",
            "SELECT count(*) FROM sqlite_master WHERE name LIKE '\\_hetsync\\_snap%' ESCAPE '\\'"
        )
        .await,
        0,
        "the snapshots are gone"
    );
    assert_eq!(
        d.scalar_i64(
            "s",
            "SELECT count(*) FROM sqlite_master WHERE type = 'trigger'"
        )
        .await,
        3 * 2,
        "triggers on both tables"
    );
    d.exec("s", "INSERT INTO t_row VALUES (2, 'after', 2, 2.0)")
        .await;
    let engine = d.engine().await;
    d.sync_passes(&engine, 2).await;
    assert_eq!(
        d.rows("hub", "t_row").await,
        vec![
            basic_row(1, "before", 1, 1.0),
            basic_row(2, "after", 2, 2.0)
        ]
    );
}
