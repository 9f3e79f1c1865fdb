//! Rounds under sustained writes: applications keep editing the very rows
//! the rounds write, on the hub and on the spoke at once, and every round
//! still succeeds without starting over; once the writers stop, copies
//! converge.

mod support;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use support::{Deploy, Topology, BASIC};

/// Rows the writers cycle through.
const HOT: u64 = 10;

/// Edits rows 1..=HOT of both tables on `node` until told to stop; returns
/// how many edits it made.
async fn write_until(d: Arc<Deploy>, node: &'static str, stop: Arc<AtomicBool>) -> u64 {
    let edits = AtomicU64::new(0);
    let mut i = 0u64;
    while !stop.load(Ordering::SeqCst) {
        let k = i % HOT + 1;
        for table in ["t_field", "t_row"] {
            let sql = format!("UPDATE {table} SET a = '{node}-{i}', b = b + 1 WHERE k = {k}");
            d.exec(node, &sql).await;
            edits.fetch_add(1, Ordering::SeqCst);
        }
        i += 1;
        tokio::task::yield_now().await;
    }
    edits.into_inner()
}

async fn rounds_succeed_while_both_sides_edit_the_same_rows(topology: Topology) {
    let d = Arc::new(Deploy::with(topology, &["a"], BASIC).await);
    for table in ["t_field", "t_row"] {
        d.insert_series("hub", table, HOT, "'x', 0, 0.0").await;
    }
    let engine = d.installed().await;
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = ["hub", "a"]
        .into_iter()
        .map(|node| tokio::spawn(write_until(d.clone(), node, stop.clone())))
        .collect();
    let mut conflicts = 0;
    for round in 0..12 {
        let report = engine
            .sync_spoke("a")
            .await
            .unwrap_or_else(|e| panic!("round {round} under load ({topology:?}): {e}"));
        conflicts += report.conflicts.len();
        tokio::task::yield_now().await;
    }
    stop.store(true, Ordering::SeqCst);
    for w in writers {
        assert!(w.await.unwrap() > 0, "the writers kept writing");
    }
    assert!(
        conflicts > 0,
        "edits of the same fields were decided and logged"
    );
    engine.sync_spoke("a").await.unwrap();
    engine.sync_spoke("a").await.unwrap();
    d.assert_converged().await;
}

on_every_topology!(rounds_succeed_while_both_sides_edit_the_same_rows);
