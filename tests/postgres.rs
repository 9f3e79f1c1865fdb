//! PostgreSQL-specific capture and apply behaviour on real throwaway servers:
//! set-based statement capture, no-op suppression, loop prevention with a
//! shared login, late-committing transactions, mixed deployments.

mod support;

use hetsync_core::value::Value;
use support::{Deploy, Topology, BASIC, POSTGRES, SQLITE};

const PG_HUB: Topology = Topology {
    hub: POSTGRES,
    spokes: &[SQLITE, POSTGRES],
};

#[tokio::test]
async fn mixed_deployment_converges_both_ways() {
    let d = Deploy::with(PG_HUB, &["lite", "pg"], BASIC).await;
    d.exec("hub", "INSERT INTO t_field VALUES (1, 'hub', 1, 0.5)")
        .await;
    let engine = d.installed().await;
    d.exec("lite", "INSERT INTO t_field VALUES (2, 'lite', 2, 1.5)")
        .await;
    d.exec(
        "pg",
        "INSERT INTO t_row VALUES (3, 'pg ''quoted'' 变电站', 3, 2.5)",
    )
    .await;
    d.exec("pg", "UPDATE t_field SET a = 'pg edit' WHERE k = 1")
        .await;
    d.sync_passes(&engine, 2).await;
    d.assert_converged().await;
    assert_eq!(
        d.rows("lite", "t_field").await,
        vec![
            vec![
                Value::Int(1),
                Value::Text("pg edit".into()),
                Value::Int(1),
                Value::Float(0.5)
            ],
            vec![
                Value::Int(2),
                Value::Text("lite".into()),
                Value::Int(2),
                Value::Float(1.5)
            ],
        ]
    );
}

#[tokio::test]
async fn one_statement_is_captured_set_based_and_no_op_updates_record_nothing() {
    let d = Deploy::with(PG_HUB, &["lite"], BASIC).await;
    d.installed().await;
    d.exec(
        "hub",
        "INSERT INTO t_field SELECT i, 'r' || i, i, i * 0.5 FROM generate_series(1, 1000) i",
    )
    .await;
    assert_eq!(d.tracking_rows("hub").await, 1000);
    d.exec("hub", "UPDATE t_field SET b = b").await;
    assert_eq!(
        d.tracking_rows("hub").await,
        1000,
        "a no-op update records nothing"
    );
    d.exec("hub", "UPDATE t_field SET b = b + 1 WHERE k <= 10")
        .await;
    assert_eq!(
        d.scalar_i64(
            "hub",
            "SELECT count(*) FROM _hetsync_tracking WHERE fields = '[\"b\"]'::jsonb"
        )
        .await,
        10
    );
    d.exec("hub", "UPDATE t_field SET k = k + 5000 WHERE k = 1")
        .await;
    assert_eq!(
        d.scalar_i64(
            "hub",
            "SELECT count(*) FROM _hetsync_tracking WHERE deleted"
        )
        .await,
        1,
        "key change: delete of the old code"
    );
    assert_eq!(
        d.tracking_rows("hub").await,
        1012,
        "… and an insert of the new one"
    );
}

#[tokio::test]
async fn engine_writes_are_not_captured_even_with_the_applications_login() {
    // Application and hetsync both log in as `postgres` here.
    let topology = Topology {
        hub: SQLITE,
        spokes: &[POSTGRES],
    };
    support::engine_writes_are_not_captured(topology, "pg").await;
}

#[tokio::test]
async fn a_transaction_that_commits_after_a_round_is_not_skipped() {
    let topology = Topology {
        hub: POSTGRES,
        spokes: &[POSTGRES],
    };
    support::late_commit_is_not_skipped(topology, "pg").await;
}
