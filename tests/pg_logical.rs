//! PostgreSQL capture by logical decoding (`capture = "logical"`) on real
//! throwaway servers with `wal_level = logical`: what the slot decodes is
//! what the triggers would have recorded, the engine's writes are not
//! decoded back, a transaction open across a round is taken once it
//! commits, a large transaction is drained in pages, a lost slot stops the
//! node, switching back to triggers loses nothing, and uninstall removes
//! the slot, the publication and the origin. The property, randomized and
//! crash suites run this mode too, as the hub of one of their topologies.

mod support;

use hetsync_core::value::Value;
use support::{hetsync, output_text, Deploy, Topology, BASIC, POSTGRES, POSTGRES_LOGICAL, SQLITE};

const LOGICAL_HUB: Topology = Topology {
    hub: POSTGRES_LOGICAL,
    spokes: &[SQLITE],
};

const LOGICAL_SPOKE: Topology = Topology {
    hub: SQLITE,
    spokes: &[POSTGRES_LOGICAL],
};

/// Runs `hetsync` with `args` on the deployment's config, which must succeed.
fn succeeds(d: &Deploy, args: &[&str]) {
    let out = hetsync(&d.config(), args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{args:?}: {}",
        output_text(&out)
    );
}

/// The node's slot name, as install made it.
const SLOT: &str = "('hetsync_' || left(md5(current_database() || '.' || current_schema()), 20))";

#[tokio::test]
async fn install_explains_a_server_without_logical_wal() {
    // A server with the default wal_level (replica).
    let d = Deploy::with(
        Topology {
            hub: POSTGRES,
            spokes: &[SQLITE],
        },
        &["a"],
        BASIC,
    )
    .await;
    d.edit_config(
        "role = \"hub\"\n",
        "role = \"hub\"\n[node.options]\ncapture = \"logical\"\n",
    );
    let install = hetsync(&d.config(), &["install"]);
    let text = output_text(&install);
    assert_ne!(install.status.code(), Some(0), "{text}");
    assert!(
        text.contains("node 'hub'")
            && text.contains("wal_level")
            && text.contains("'replica'")
            && text.contains("ALTER SYSTEM SET wal_level = logical"),
        "{text}"
    );
    assert_eq!(
        d.scalar_i64(
            "hub",
            "SELECT count(*) FROM pg_tables WHERE tablename LIKE '\\_hetsync\\_%'"
        )
        .await,
        0,
        "nothing installed"
    );
}

/// The changes of a statement, as decoded, are those the triggers record:
/// one event per row, changed fields only, nothing for a no-op update, a
/// code change as the old code leaving and the new one arriving. The
/// change time is the commit's, and no user is known.
#[tokio::test]
async fn decoded_changes_are_what_the_triggers_record() {
    let d = Deploy::with(LOGICAL_HUB, &["lite"], BASIC).await;
    let engine = d.installed().await;
    let before = d.tracking_rows("hub").await;
    // More rows in one transaction than one fetch of the slot takes.
    d.exec(
        "hub",
        "INSERT INTO t_field SELECT i, 'r' || i, i, i * 0.5 FROM generate_series(1, 25000) i",
    )
    .await;
    d.exec("hub", "UPDATE t_field SET b = b").await;
    d.exec("hub", "UPDATE t_field SET b = b + 1 WHERE k <= 10")
        .await;
    d.exec("hub", "UPDATE t_field SET k = k + 50000 WHERE k = 1")
        .await;
    assert_eq!(
        d.tracking_rows("hub").await,
        before,
        "nothing is in the tracking table before a round drains the slot"
    );
    let edits_end = d
        .scalar_text("hub", "SELECT pg_current_wal_lsn()::text")
        .await
        .expect("a log position");
    engine.sync_all().await.expect("sync");
    let local = "SELECT count(*) FROM _hetsync_tracking WHERE origin IS NULL";
    assert_eq!(d.scalar_i64("hub", local).await, 25_012);
    assert_eq!(
        d.scalar_i64(
            "hub",
            "SELECT count(*) FROM _hetsync_tracking WHERE fields = '[\"b\"]'::jsonb"
        )
        .await,
        10
    );
    assert_eq!(
        d.scalar_i64(
            "hub",
            "SELECT count(*) FROM _hetsync_tracking WHERE deleted AND code = '[1]'::jsonb"
        )
        .await,
        1,
        "key change: the old code left"
    );
    assert_eq!(
        d.scalar_i64(
            "hub",
            "SELECT count(*) FROM _hetsync_tracking WHERE code = '[50001]'::jsonb AND NOT deleted"
        )
        .await,
        1,
        "… and the new one arrived"
    );
    assert_eq!(
        d.scalar_i64(
            "hub",
            "SELECT count(*) FROM _hetsync_tracking WHERE origin IS NULL AND user_name IS NOT NULL"
        )
        .await,
        0,
        "the log does not say who"
    );
    assert_eq!(
        d.scalar_i64(
            "hub",
            "SELECT count(DISTINCT changed_at) FROM _hetsync_tracking WHERE origin IS NULL"
        )
        .await,
        3,
        "one commit time per transaction (the no-op update records nothing)"
    );
    d.sync_passes(&engine, 1).await;
    d.assert_converged().await;
    assert_eq!(d.rows("lite", "t_field").await.len(), 25_000);
    // The slot moves on lazily: a round that finds nothing new adds nothing.
    let tracked = d.tracking_rows("hub").await;
    d.sync_passes(&engine, 2).await;
    assert_eq!(
        d.tracking_rows("hub").await,
        tracked,
        "nothing drained twice"
    );
    // The slot was moved on past the edits (by the drains after the one
    // that took them), so they are not decoded again.
    let past = format!(
        "SELECT count(*) FROM pg_replication_slots \
         WHERE slot_name = {SLOT} AND confirmed_flush_lsn >= '{edits_end}'::pg_lsn"
    );
    assert_eq!(d.scalar_i64("hub", &past).await, 1, "the slot moved on");
}

#[tokio::test]
async fn engine_writes_are_not_decoded_back() {
    support::engine_writes_are_not_captured(LOGICAL_SPOKE, "pg").await;
}

/// A transaction open across a round is drained once it commits; the
/// committed edit next to it goes at once (decoding delivers commits in
/// order, so nothing waits for the open one).
#[tokio::test]
async fn a_transaction_that_commits_after_a_round_is_not_skipped() {
    let d = Deploy::with(LOGICAL_SPOKE, &["pg"], BASIC).await;
    let engine = d.installed().await;
    let long = d
        .open_transaction("pg", "INSERT INTO t_row VALUES (1, 'long', 1, 1.0)")
        .await;
    d.exec("pg", "INSERT INTO t_row VALUES (2, 'short', 2, 2.0)")
        .await;
    let round = engine.sync_spoke("pg").await.unwrap();
    assert_eq!(round.rows_moved(), 1, "the committed edit moved");
    long.commit().await;
    engine.sync_spoke("pg").await.unwrap();
    assert_eq!(
        d.rows("hub", "t_row").await.len(),
        2,
        "both reached the hub"
    );
    d.assert_converged().await;
}

/// A slot dropped behind hetsync's back stops the node's rounds with an
/// error naming it; install makes a new one and the node syncs again.
#[tokio::test]
async fn a_lost_slot_stops_the_node_until_install() {
    let d = Deploy::with(LOGICAL_SPOKE, &["pg"], BASIC).await;
    d.installed().await;
    d.exec("pg", &format!("SELECT pg_drop_replication_slot({SLOT})"))
        .await;
    d.exec("pg", "INSERT INTO t_row VALUES (1, 'after', 1, 1.0)")
        .await;
    let sync = hetsync(&d.config(), &["sync"]);
    let text = output_text(&sync);
    assert_ne!(sync.status.code(), Some(0), "{text}");
    assert!(
        text.contains("'pg'") && text.contains("replication slot") && text.contains("repair"),
        "{text}"
    );
    succeeds(&d, &["install"]);
    // The row written while the slot was gone is found by comparing.
    succeeds(&d, &["repair", "--node", "pg", "--prefer", "spoke"]);
    d.exec("pg", "INSERT INTO t_row VALUES (2, 'decoded', 2, 2.0)")
        .await;
    succeeds(&d, &["sync"]);
    assert_eq!(d.rows("hub", "t_row").await.len(), 2);
}

/// Edits still in the slot when the node goes back to triggers are taken
/// by install before the slot goes; nothing is lost.
#[tokio::test]
async fn switching_back_to_triggers_keeps_what_the_slot_held() {
    let d = Deploy::with(LOGICAL_SPOKE, &["pg"], BASIC).await;
    let engine = d.installed().await;
    drop(engine);
    d.exec("pg", "INSERT INTO t_row VALUES (1, 'in the slot', 1, 1.0)")
        .await;
    d.edit_config("[node.options]\ncapture = \"logical\"\n", "");
    succeeds(&d, &["install"]);
    assert_eq!(
        d.scalar_i64("pg", "SELECT count(*) FROM pg_replication_slots")
            .await,
        0,
        "the slot went"
    );
    d.exec("pg", "INSERT INTO t_row VALUES (2, 'by trigger', 2, 2.0)")
        .await;
    succeeds(&d, &["sync"]);
    assert_eq!(d.rows("hub", "t_row").await.len(), 2);
}

#[tokio::test]
async fn uninstall_removes_the_slot_the_publication_and_the_origin() {
    let d = Deploy::with(LOGICAL_SPOKE, &["pg"], BASIC).await;
    d.installed().await;
    assert_eq!(
        d.scalar_text(
            "pg",
            "SELECT relreplident::text FROM pg_class WHERE relname = 't_row'"
        )
        .await
        .as_deref(),
        Some("f")
    );
    succeeds(&d, &["uninstall", "--force"]);
    for (what, sql) in [
        ("slots", "SELECT count(*) FROM pg_replication_slots"),
        ("publications", "SELECT count(*) FROM pg_publication"),
        ("origins", "SELECT count(*) FROM pg_replication_origin"),
    ] {
        assert_eq!(d.scalar_i64("pg", sql).await, 0, "{what} left");
    }
    assert_eq!(
        d.scalar_text(
            "pg",
            "SELECT relreplident::text FROM pg_class WHERE relname = 't_row'"
        )
        .await
        .as_deref(),
        Some("d"),
        "replica identity back to the default"
    );
    assert_eq!(d.rows("pg", "t_row").await, Vec::<Vec<Value>>::new());
}
