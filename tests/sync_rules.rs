//! The sync rules (docs/sync-rules.md) on real SQLite files: convergence, field merge,
//! latest-wins, delete/update races, no echo, out-of-order edits, incremental cost.

mod support;

use async_trait::async_trait;
use hetsync_core::engine::{FaultHook, FaultPoint};
use hetsync_core::plan::Side;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use support::{basic_row as row, tick, Deploy, Topology, BASIC};

async fn first_sync_copies_the_hub_and_uploads_spoke_only_rows(topology: Topology) {
    let d = Deploy::with(topology, &["a", "b"], BASIC).await;
    d.exec(
        "hub",
        "INSERT INTO t_field VALUES (1, 'hub', 1, 1.5), (2, 'hub2', 2, 2.5)",
    )
    .await;
    d.exec(
        "a",
        "INSERT INTO t_field VALUES (2, 'stale', 0, 0.0), (7, 'only-a', 7, 7.0)",
    )
    .await;
    let engine = d.engine().await;
    engine.install().await.unwrap();
    d.sync_passes(&engine, 2).await;
    d.assert_converged().await;
    // The hub's copy wins where nobody recorded a change; a's own row went up.
    assert_eq!(
        d.rows("b", "t_field").await,
        vec![
            row(1, "hub", 1, 1.5),
            row(2, "hub2", 2, 2.5),
            row(7, "only-a", 7, 7.0)
        ]
    );
}

async fn field_form_keeps_both_edits_to_different_fields(topology: Topology) {
    let d = Deploy::with(topology, &["a", "b"], BASIC).await;
    d.exec("hub", "INSERT INTO t_field VALUES (1, 'x', 1, 1.0)")
        .await;
    let engine = d.installed().await;
    d.exec("a", "UPDATE t_field SET a = 'from-a' WHERE k = 1")
        .await;
    tick().await;
    d.exec("b", "UPDATE t_field SET b = 42 WHERE k = 1").await;
    d.sync_passes(&engine, 2).await;
    d.assert_converged().await;
    assert_eq!(
        d.rows("hub", "t_field").await,
        vec![row(1, "from-a", 42, 1.0)]
    );
}

async fn table_form_latest_whole_row_wins(topology: Topology) {
    let d = Deploy::with(topology, &["a", "b"], BASIC).await;
    d.exec("hub", "INSERT INTO t_row VALUES (1, 'x', 1, 1.0)")
        .await;
    let engine = d.installed().await;
    d.exec("a", "UPDATE t_row SET a = 'from-a' WHERE k = 1")
        .await;
    tick().await;
    d.exec("b", "UPDATE t_row SET b = 42 WHERE k = 1").await;
    let first = engine.sync_all().await.unwrap();
    assert_eq!(
        first[1].conflicts.len(),
        1,
        "b's round resolves the conflict"
    );
    d.sync_passes(&engine, 1).await;
    d.assert_converged().await;
    assert_eq!(d.rows("hub", "t_row").await, vec![row(1, "x", 42, 1.0)]);
}

async fn same_field_latest_change_wins_whatever_the_sync_order(topology: Topology) {
    for order in [["a", "b"], ["b", "a"]] {
        let d = Deploy::with(topology, &["a", "b"], BASIC).await;
        d.exec("hub", "INSERT INTO t_field VALUES (1, 'x', 1, 1.0)")
            .await;
        let engine = d.installed().await;
        d.exec("a", "UPDATE t_field SET a = 'early' WHERE k = 1")
            .await;
        tick().await;
        d.exec("b", "UPDATE t_field SET a = 'late' WHERE k = 1")
            .await;
        for _ in 0..2 {
            for s in order {
                engine.sync_spoke(s).await.unwrap();
            }
        }
        d.assert_converged().await;
        assert_eq!(
            d.rows("a", "t_field").await,
            vec![row(1, "late", 1, 1.0)],
            "order {order:?}"
        );
    }
}

async fn later_update_resurrects_and_later_delete_wins(topology: Topology) {
    let d = Deploy::with(topology, &["a", "b"], BASIC).await;
    d.seed_two_rows().await;
    let engine = d.installed().await;
    for t in ["t_field", "t_row"] {
        d.exec("a", &format!("DELETE FROM {t} WHERE k = 1")).await;
        d.exec("b", &format!("UPDATE {t} SET b = 2 WHERE k = 2"))
            .await;
        tick().await;
        d.exec("b", &format!("UPDATE {t} SET b = 10 WHERE k = 1"))
            .await;
        d.exec("a", &format!("DELETE FROM {t} WHERE k = 2")).await;
        tick().await;
    }
    d.sync_passes(&engine, 2).await;
    d.assert_converged().await;
    assert_eq!(d.rows("hub", "t_field").await, vec![row(1, "x", 10, 1.0)]);
    assert_eq!(d.rows("hub", "t_row").await, vec![row(1, "x", 10, 1.0)]);
}

async fn a_changed_combined_code_moves_the_row(topology: Topology) {
    let d = Deploy::with(topology, &["a"], BASIC).await;
    d.exec("hub", "INSERT INTO t_field VALUES (1, 'x', 1, 1.0)")
        .await;
    let engine = d.installed().await;
    d.exec("a", "UPDATE t_field SET k = 5 WHERE k = 1").await;
    d.sync_passes(&engine, 1).await;
    assert_eq!(d.rows("hub", "t_field").await, vec![row(5, "x", 1, 1.0)]);
}

async fn no_echo_a_quiet_round_moves_nothing_and_records_nothing(topology: Topology) {
    let d = Deploy::with(topology, &["a", "b", "c"], BASIC).await;
    d.exec("hub", "INSERT INTO t_field VALUES (1, 'x', 1, 1.0)")
        .await;
    let engine = d.installed().await;
    d.exec("a", "INSERT INTO t_field VALUES (2, 'a', 2, 2.0)")
        .await;
    d.exec("b", "UPDATE t_field SET a = 'b' WHERE k = 1").await;
    d.exec("c", "INSERT INTO t_row VALUES (3, 'c', 3, 3.0)")
        .await;
    d.sync_passes(&engine, 2).await;
    d.assert_converged().await;
    let mut before = Vec::new();
    for n in ["hub", "a", "b", "c"] {
        before.push(d.tracking_rows(n).await);
    }
    assert_eq!(
        d.sync_passes(&engine, 3).await,
        0,
        "quiet rounds move nothing"
    );
    for (i, n) in ["hub", "a", "b", "c"].into_iter().enumerate() {
        assert_eq!(
            d.tracking_rows(n).await,
            before[i],
            "{n} recorded new tracking rows"
        );
    }
    // Spokes never capture what the engine wrote to them.
    assert_eq!(d.tracking_rows("b").await, 1);
}

async fn convergence_takes_at_most_two_rounds_per_spoke(topology: Topology) {
    let d = Deploy::with(topology, &["a", "b", "c"], BASIC).await;
    let engine = d.installed().await;
    for (i, s) in ["a", "b", "c"].into_iter().enumerate() {
        d.exec(
            s,
            &format!("INSERT INTO t_field VALUES ({i}, '{s}', {i}, 0.5)"),
        )
        .await;
        d.exec(
            s,
            &format!("INSERT INTO t_row VALUES ({i}, '{s}', {i}, 0.5)"),
        )
        .await;
    }
    d.exec("hub", "INSERT INTO t_field VALUES (9, 'hub', 9, 9.0)")
        .await;
    d.sync_passes(&engine, 2).await;
    d.assert_converged().await;
    assert_eq!(d.rows("c", "t_field").await.len(), 4);
}

async fn one_changed_row_in_100k_moves_one_row(topology: Topology) {
    let d = Deploy::with(topology, &["a", "b"], BASIC).await;
    d.insert_series("hub", "t_field", 100_000, "'row ' || i, i, i * 0.5")
        .await;
    let engine = d.installed().await;
    assert_eq!(d.rows("b", "t_field").await.len(), 100_000);
    d.exec("a", "UPDATE t_field SET b = -1 WHERE k = 77777")
        .await;
    let reports = engine.sync_all().await.unwrap();
    assert_eq!(reports[0].events_read, (1, 0));
    assert_eq!(reports[0].rows_moved(), 1, "a uploads one row");
    assert_eq!(reports[1].rows_moved(), 1, "b downloads one row");
    assert_eq!(reports[1].events_read, (0, 1));
    d.assert_converged().await;
}

/// Edits the spoke (and optionally the hub) once, right after the round read its changes.
struct EditDuringRound {
    deploy: Arc<Deploy>,
    done: AtomicBool,
    sql: Vec<(&'static str, &'static str)>,
}

#[async_trait]
impl FaultHook for EditDuringRound {
    async fn reached(&self, _: &str, point: FaultPoint) -> hetsync_core::Result<()> {
        if point == FaultPoint::AfterRead && !self.done.swap(true, Ordering::SeqCst) {
            for (node, sql) in &self.sql {
                tick().await;
                self.deploy.exec(node, sql).await;
            }
        }
        Ok(())
    }
}

async fn edits_committed_after_the_round_read_are_not_skipped(topology: Topology) {
    let d = Arc::new(Deploy::with(topology, &["a"], BASIC).await);
    d.exec(
        "hub",
        "INSERT INTO t_field VALUES (1, 'x', 1, 1.0), (2, 'y', 2, 2.0)",
    )
    .await;
    d.installed().await;
    d.exec("a", "UPDATE t_field SET a = 'read' WHERE k = 1")
        .await;
    d.exec("hub", "UPDATE t_field SET b = 20 WHERE k = 2").await;
    let hook = Arc::new(EditDuringRound {
        deploy: d.clone(),
        done: AtomicBool::new(false),
        sql: vec![
            // The same row the round is about to upload, and one it did not read.
            ("a", "UPDATE t_field SET c = 9.5 WHERE k = 1"),
            ("a", "INSERT INTO t_row VALUES (3, 'late', 3, 3.0)"),
            // The row the round is about to download, edited on the spoke.
            ("a", "UPDATE t_field SET a = 'spoke-late' WHERE k = 2"),
        ],
    });
    let engine = d.engine().await.with_faults(hook);
    let report = engine.sync_spoke("a").await.unwrap();
    assert_eq!(
        report.retries, 0,
        "the applies settled the concurrent edits; nothing started over"
    );
    assert!(
        report.conflicts.is_empty(),
        "the edits touched other fields and rows: {:?}",
        report.conflicts
    );
    engine.sync_spoke("a").await.unwrap();
    d.assert_converged().await;
    assert_eq!(
        d.rows("hub", "t_field").await,
        vec![row(1, "read", 1, 9.5), row(2, "spoke-late", 20, 2.0)]
    );
    assert_eq!(d.rows("hub", "t_row").await, vec![row(3, "late", 3, 3.0)]);
}

/// An edit, made after the round read, of a field or row the round writes
/// is settled where it is written: the later change wins and the decision
/// is logged, and nothing starts over.
async fn a_concurrent_edit_of_a_written_field_is_settled_by_time(topology: Topology) {
    let d = Arc::new(Deploy::with(topology, &["a"], BASIC).await);
    d.seed_two_rows().await;
    let engine = d.installed().await;
    drop(engine);
    d.exec("a", "UPDATE t_field SET a = 'spoke' WHERE k = 1")
        .await;
    d.exec("hub", "UPDATE t_field SET a = 'hub' WHERE k = 2")
        .await;
    d.exec("a", "UPDATE t_row SET a = 'spoke' WHERE k = 1")
        .await;
    let hook = Arc::new(EditDuringRound {
        deploy: d.clone(),
        done: AtomicBool::new(false),
        sql: vec![
            // Later edits of what the round uploads, made at the hub…
            ("hub", "UPDATE t_field SET a = 'hub-late' WHERE k = 1"),
            ("hub", "DELETE FROM t_row WHERE k = 1"),
            // …and of what it downloads, made at the spoke.
            ("a", "UPDATE t_field SET a = 'spoke-late' WHERE k = 2"),
        ],
    });
    let engine = d.engine().await.with_faults(hook);
    let report = engine.sync_spoke("a").await.unwrap();
    assert_eq!(report.retries, 0, "nothing started over");
    let mut decided: Vec<(String, String, Option<String>, Side)> = report
        .conflicts
        .iter()
        .map(|c| {
            (
                c.table.clone(),
                c.code.to_json(),
                c.field.clone(),
                c.winner_side,
            )
        })
        .collect();
    decided.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    assert_eq!(
        decided,
        [
            ("t_field".into(), "[1]".into(), Some("a".into()), Side::Hub),
            (
                "t_field".into(),
                "[2]".into(),
                Some("a".into()),
                Side::Spoke
            ),
            ("t_row".into(), "[1]".into(), None, Side::Hub),
        ],
        "each later edit won where it was made ({topology:?})"
    );
    engine.sync_spoke("a").await.unwrap();
    d.assert_converged().await;
    assert_eq!(
        d.rows("hub", "t_field").await,
        vec![row(1, "hub-late", 1, 1.0), row(2, "spoke-late", 2, 2.0)]
    );
    assert_eq!(d.rows("hub", "t_row").await, vec![row(2, "y", 2, 2.0)]);
    assert_eq!(d.sync_passes(&engine, 1).await, 0, "nothing left to move");
}

async fn quoted_and_unicode_identifiers_work(topology: Topology) {
    const ODD: &[support::TableSpec] = &[support::TableSpec {
        name: "it's \"odd\" 表",
        ddl: &[
            (
                "sqlite",
                r#"CREATE TABLE "it's ""odd"" 表" ("编 ""号""" VARCHAR(100) PRIMARY KEY, "值'v" INTEGER, "备注" TEXT)"#,
            ),
            (
                "postgres",
                r#"CREATE TABLE "it's ""odd"" 表" ("编 ""号""" varchar(100) PRIMARY KEY, "值'v" bigint, "备注" text)"#,
            ),
            (
                "mysql",
                r#"CREATE TABLE "it's ""odd"" 表" ("编 ""号""" varchar(100) PRIMARY KEY, "值'v" bigint, "备注" text)"#,
            ),
        ],
        config: "[[table]]\nname = '''it's \"odd\" 表'''\ncode = ['编 \"号\"']\n",
    }];
    let d = Deploy::with(topology, &["a"], ODD).await;
    let engine = d.installed().await;
    d.exec(
        "a",
        r#"INSERT INTO "it's ""odd"" 表" VALUES ('甲''s "1"', 1, '😀 four-byte')"#,
    )
    .await;
    d.exec(
        "hub",
        r#"INSERT INTO "it's ""odd"" 表" VALUES ('乙', 2, NULL)"#,
    )
    .await;
    d.sync_passes(&engine, 1).await;
    d.assert_converged().await;
    assert_eq!(d.rows("hub", "it's \"odd\" 表").await.len(), 2);
}

on_every_topology!(
    first_sync_copies_the_hub_and_uploads_spoke_only_rows,
    field_form_keeps_both_edits_to_different_fields,
    table_form_latest_whole_row_wins,
    same_field_latest_change_wins_whatever_the_sync_order,
    later_update_resurrects_and_later_delete_wins,
    a_changed_combined_code_moves_the_row,
    no_echo_a_quiet_round_moves_nothing_and_records_nothing,
    convergence_takes_at_most_two_rounds_per_spoke,
    one_changed_row_in_100k_moves_one_row,
    edits_committed_after_the_round_read_are_not_skipped,
    a_concurrent_edit_of_a_written_field_is_settled_by_time,
    quoted_and_unicode_identifiers_work
);
