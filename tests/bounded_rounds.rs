//! Bounded rounds: a round reads `[sync] round_events` per side at most and
//! commits its progress; one `sync` runs rounds until a spoke has what was
//! final when it began, so a backlog drains in rounds of bounded size and
//! writers that keep going cannot keep a `sync` running.

mod support;

use hetsync_core::engine::{FaultHook, FaultPoint};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use support::{hetsync, output_text, Deploy, Topology, BASIC};

/// Events per round in these tests.
const ROUND_EVENTS: u64 = 7;

/// A backlog on both sides (one big transaction on the hub, single-row
/// transactions on both sides, edits of the same rows) drains in several
/// rounds of one `sync`, each within its limit, and copies converge.
async fn a_backlog_drains_in_bounded_rounds(topology: Topology) {
    let d = Deploy::with(topology, &["a", "b"], BASIC).await;
    d.append_config(&format!("[sync]\nround_events = {ROUND_EVENTS}\n"));
    let engine = d.installed().await;
    // One transaction of 30 events on the hub.
    d.insert_series("hub", "t_field", 30, "'hub', 0, 0.0").await;
    for k in 1..=12 {
        d.exec("hub", &format!("UPDATE t_field SET b = {k} WHERE k = {k}"))
            .await;
        d.exec(
            "a",
            &format!("INSERT INTO t_row VALUES ({k}, 'a', {k}, 1.5)"),
        )
        .await;
    }
    for k in 1..=5 {
        d.exec(
            "b",
            &format!("INSERT INTO t_row VALUES ({}, 'b', 0, 0.5)", 100 + k),
        )
        .await;
    }
    let pass = engine
        .sync_pass(&["a".to_string(), "b".to_string()])
        .await
        .expect("sync");
    assert!(
        pass.failed.is_empty(),
        "{topology:?}: failed rounds {:?}",
        pass.failed
    );
    let of = |spoke: &str| -> Vec<_> {
        pass.rounds
            .iter()
            .filter(|r| r.spoke == spoke && !r.follow_up)
            .collect()
    };
    let a = of("a");
    assert!(
        a.len() >= 6,
        "{topology:?}: 12 spoke events and 42 hub events in rounds of {ROUND_EVENTS}: {} round(s)",
        a.len()
    );
    for (i, r) in a.iter().enumerate() {
        assert_eq!(
            r.more,
            i + 1 < a.len(),
            "{topology:?}: round {i} of a says whether more follows"
        );
        assert!(
            r.events_read.0 <= ROUND_EVENTS,
            "{topology:?}: round {i} read {} spoke events",
            r.events_read.0
        );
        // A node whose positions are transactions stops inside the 30-row
        // insert.
        assert!(
            r.events_read.1 <= ROUND_EVENTS,
            "{topology:?}: round {i} read {} hub events",
            r.events_read.1
        );
    }
    let spoke_events: u64 = a.iter().map(|r| r.events_read.0).sum();
    assert_eq!(
        spoke_events, 12,
        "{topology:?}: every spoke event read once"
    );
    let hub_events: u64 = a.iter().map(|r| r.events_read.1).sum();
    assert_eq!(hub_events, 42, "{topology:?}: every hub event read once");
    d.assert_converged().await;
    let t_field = d.rows("a", "t_field").await;
    assert_eq!(t_field.len(), 30);
    assert_eq!(
        d.rows("b", "t_row").await.len(),
        17,
        "{topology:?}: a's and b's rows everywhere"
    );
    // Nothing is left: the next sync moves nothing.
    let again = engine
        .sync_pass(&["a".to_string(), "b".to_string()])
        .await
        .unwrap();
    assert!(again.rounds.iter().all(|r| r.rows_moved() == 0 && !r.more));
}

/// Writes a round's worth of new rows on `node` (the hub or the spoke) at
/// the end of every round.
struct WriterBetweenRounds {
    d: Arc<Deploy>,
    node: &'static str,
    next: AtomicU64,
}

#[async_trait::async_trait]
impl FaultHook for WriterBetweenRounds {
    async fn reached(&self, _: &str, point: FaultPoint) -> hetsync_core::Result<()> {
        if point == FaultPoint::AfterSpokeApply {
            for _ in 0..WRITES_PER_ROUND {
                let k = self.next.fetch_add(1, Ordering::SeqCst);
                self.d
                    .exec(
                        self.node,
                        &format!("INSERT INTO t_field VALUES ({k}, 'w', 0, 0.0)"),
                    )
                    .await;
            }
        }
        Ok(())
    }
}

/// As many rows as a round reads: without an end fixed at the first
/// round, the `sync` would never finish.
const WRITES_PER_ROUND: u64 = 5;

/// A writer that adds a round's worth of rows during every round of a
/// `sync`, on the spoke or on the hub, cannot keep it running: its rounds
/// stop at what was final when the first one read.
async fn writers_cannot_keep_a_sync_running(topology: Topology) {
    for (node, side) in [("a", 0), ("hub", 1)] {
        let d = Arc::new(Deploy::with(topology, &["a"], BASIC).await);
        d.append_config(&format!("[sync]\nround_events = {WRITES_PER_ROUND}\n"));
        d.installed().await;
        for k in 1..=20 {
            d.exec(
                node,
                &format!("INSERT INTO t_field VALUES ({k}, 'a', 0, 0.0)"),
            )
            .await;
        }
        let writer = Arc::new(WriterBetweenRounds {
            d: d.clone(),
            node,
            next: AtomicU64::new(1000),
        });
        let engine = d.engine().await.with_faults(writer.clone());
        let pass = tokio::time::timeout(
            std::time::Duration::from_secs(120),
            engine.sync_pass(&["a".to_string()]),
        )
        .await
        .unwrap_or_else(|_| panic!("{topology:?} {node}: the sync kept running behind the writer"))
        .expect("sync");
        assert!(
            pass.failed.is_empty(),
            "{topology:?} {node}: {:?}",
            pass.failed
        );
        let read: Vec<u64> = pass
            .rounds
            .iter()
            .map(|r| [r.events_read.0, r.events_read.1][side])
            .collect();
        assert_eq!(
            read,
            [5, 5, 5, 5],
            "{topology:?} {node}: the 20 events final at the start, in rounds of 5"
        );
        let written = writer.next.load(Ordering::SeqCst) - 1000;
        assert_eq!(
            written,
            4 * WRITES_PER_ROUND,
            "{topology:?} {node}: written during the rounds"
        );
        // The writer's rows follow with the next sync.
        let engine = d.engine().await;
        engine.sync_pass(&["a".to_string()]).await.expect("sync");
        d.assert_converged().await;
        assert_eq!(d.rows("hub", "t_field").await.len() as u64, 20 + written);
    }
}

on_every_topology!(
    a_backlog_drains_in_bounded_rounds,
    writers_cannot_keep_a_sync_running
);

/// `hetsync sync` says when a round stopped at its limit, and one `sync`
/// still leaves every copy equal; a zero limit is refused where it stands.
#[tokio::test]
async fn the_cli_drains_a_backlog_in_one_sync() {
    let d = Deploy::new(&["a"], BASIC).await;
    d.append_config("[sync]\nround_events = 2\n");
    let out = hetsync(&d.config(), &["install"]);
    assert!(out.status.success(), "{}", output_text(&out));
    let out = hetsync(&d.config(), &["sync"]);
    assert!(out.status.success(), "{}", output_text(&out));
    for k in 1..=5 {
        d.exec(
            "a",
            &format!("INSERT INTO t_field VALUES ({k}, 'a', 0, 0.0)"),
        )
        .await;
    }
    let out = hetsync(&d.config(), &["sync"]);
    let text = output_text(&out);
    assert!(out.status.success(), "{text}");
    assert_eq!(
        text.matches("stopped at round_events").count(),
        2,
        "5 events in rounds of 2: two rounds say more follows\n{text}"
    );
    let out = hetsync(&d.config(), &["verify"]);
    assert!(out.status.success(), "{}", output_text(&out));
    d.assert_converged().await;

    d.edit_config("round_events = 2", "round_events = 0");
    let out = hetsync(&d.config(), &["status"]);
    let text = output_text(&out);
    assert!(!out.status.success());
    assert!(
        text.contains("hetsync.toml:") && text.contains("[sync] round_events must be at least 1"),
        "{text}"
    );
}

/// The guard of a round's write reads the node's edits after the round's
/// read position in pages: behind a backlog longer than a page, a later
/// local edit of a row the round writes still wins over the older change
/// coming in, instead of being overwritten.
#[tokio::test]
async fn a_local_edit_behind_a_long_backlog_still_settles_a_write() {
    let d = Deploy::new(&["a"], BASIC).await;
    d.append_config("[sync]\nround_events = 2000\n");
    let engine = d.installed().await;
    d.exec("hub", "INSERT INTO t_row VALUES (1, 'hub', 1, 1.0)")
        .await;
    engine.sync_pass(&["a".to_string()]).await.expect("sync");
    d.exec("hub", "UPDATE t_row SET a = 'hub edit' WHERE k = 1")
        .await;
    // 12,100 events after the first round's 2,000, then the later edit.
    d.exec(
        "a",
        "WITH RECURSIVE n(i) AS (SELECT 1000 UNION ALL SELECT i + 1 FROM n WHERE i < 13099) \
         INSERT INTO t_row SELECT i, 'bulk', i, 0.5 FROM n",
    )
    .await;
    d.exec("a", "UPDATE t_row SET a = 'spoke edit' WHERE k = 1")
        .await;
    let pass = engine.sync_pass(&["a".to_string()]).await.expect("sync");
    assert!(pass.failed.is_empty(), "{:?}", pass.failed);
    assert!(pass.rounds.len() >= 6, "{} rounds", pass.rounds.len());
    d.assert_converged().await;
    let hub = d.rows("hub", "t_row").await;
    assert_eq!(hub.len(), 12_101);
    assert_eq!(
        hub[0][1],
        hetsync_core::value::Value::Text("spoke edit".into()),
        "the later edit wins"
    );
}
