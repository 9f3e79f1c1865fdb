//! Tracking purge on real databases (a PostgreSQL hub with a MariaDB and a
//! SQLite spoke): `hetsync purge` and `[sync] retention` delete the
//! tracking rows every peer has integrated, never one a peer still needs,
//! keep each node's newest row, and syncing goes on exactly afterwards.

mod support;

use support::{basic_row as row, hetsync, output_text, Deploy, BASIC, MIXED};

/// Tracking rows per node: hub, a, b.
async fn tracking(d: &Deploy) -> [i64; 3] {
    let mut out = [0; 3];
    for (i, node) in ["hub", "a", "b"].into_iter().enumerate() {
        out[i] = d
            .scalar_i64(node, "SELECT count(*) FROM _hetsync_tracking")
            .await;
    }
    out
}

/// What `purge --json` deleted per node.
fn purged(d: &Deploy, retention: &str) -> Vec<(String, u64, bool)> {
    let json = d.json(&["purge", "--json", "--retention", retention]);
    json.as_array()
        .expect("a list")
        .iter()
        .map(|p| {
            (
                p["node"].as_str().unwrap().to_string(),
                p["deleted"].as_u64().unwrap(),
                p["kept"].is_string(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn purge_deletes_what_every_peer_integrated_and_a_late_spoke_loses_nothing() {
    let d = Deploy::with(MIXED[0], &["a", "b"], &BASIC[..1]).await;
    let no_retention = hetsync(&d.config(), &["purge"]);
    assert!(!no_retention.status.success());
    assert!(
        output_text(&no_retention).contains("retention"),
        "{}",
        output_text(&no_retention)
    );
    d.run(&["install"]);
    d.run(&["sync"]);
    for (node, k) in [("hub", 1), ("a", 10), ("b", 20)] {
        for i in 0..3 {
            d.exec(
                node,
                &format!("INSERT INTO t_field VALUES ({}, '{node}', {i}, 1.0)", k + i),
            )
            .await;
        }
    }
    d.exec("hub", "UPDATE t_field SET b = 7 WHERE k = 1").await;
    let before = tracking(&d).await;
    assert_eq!(before, [4, 3, 3]);

    // Too young: nothing goes.
    let young = purged(&d, "1h");
    assert!(young.iter().all(|(_, n, _)| *n == 0), "{young:?}");
    assert_eq!(tracking(&d).await, before);

    // Only a syncs; b stays away. a's rows are integrated (its newest row
    // stays); b's are not, and the hub's are still needed by b.
    d.run(&["sync", "--node", "a"]);
    let after_a = tracking(&d).await;
    let purged_now = purged(&d, "0s");
    assert_eq!(tracking(&d).await, [after_a[0], 1, 3], "{purged_now:?}");
    assert!(
        purged_now.contains(&("a".to_string(), 2, false)),
        "{purged_now:?}"
    );
    // (The hub recorded no watermark of b: b had sent nothing.)
    assert!(
        purged_now.contains(&("b".to_string(), 0, true)),
        "{purged_now:?}"
    );

    // b returns: nothing it missed or made is lost.
    d.run(&["sync"]);
    d.assert_converged().await;
    let rows = d.rows("b", "t_field").await;
    assert_eq!(rows.len(), 9, "{rows:?}");
    assert!(rows.contains(&row(1, "hub", 7, 1.0)), "{rows:?}");
    assert!(rows.contains(&row(12, "a", 2, 1.0)), "{rows:?}");
    assert!(rows.contains(&row(22, "b", 2, 1.0)), "{rows:?}");

    // With [sync] retention, a sync purges after its rounds: once every
    // spoke has integrated everything, each node keeps its newest row only.
    d.append_config("[sync]\nretention = \"0s\"\n");
    d.run(&["sync"]);
    let text = d.run(&["sync"]);
    assert!(text.contains("tracking row(s) deleted"), "{text}");
    assert_eq!(tracking(&d).await, [1, 1, 1]);

    // Positions hold after the purge: new edits everywhere still sync.
    d.exec("a", "UPDATE t_field SET a = 'late-a' WHERE k = 20")
        .await;
    d.exec("b", "UPDATE t_field SET a = 'late-b' WHERE k = 10")
        .await;
    d.exec("hub", "DELETE FROM t_field WHERE k = 2").await;
    d.sync_to_convergence().await;
    let rows = d.rows("a", "t_field").await;
    assert_eq!(rows.len(), 8, "{rows:?}");
    assert!(rows.contains(&row(20, "late-a", 0, 1.0)), "{rows:?}");
    assert!(rows.contains(&row(10, "late-b", 0, 1.0)), "{rows:?}");
}
