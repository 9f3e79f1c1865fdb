//! PostgreSQL-specific capture and apply behaviour on real throwaway servers:
//! set-based statement capture, no-op suppression, loop prevention with a
//! shared login, late-committing transactions, mixed deployments, and the
//! privileges the operator guide lists for hetsync's login and the
//! application's.

mod support;

use hetsync_core::value::Value;
use support::{hetsync, output_text, Deploy, Topology, BASIC, POSTGRES, SQLITE};

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

/// hetsync logs in with exactly the grants `docs/operator-guide.md` lists,
/// not as a superuser; the application logs in as a third role with the
/// grants the guide says capture needs.
#[tokio::test]
async fn the_documented_grants_are_enough_to_install_and_sync() {
    let d = Deploy::with(
        Topology {
            hub: POSTGRES,
            spokes: &[SQLITE],
        },
        &["a"],
        BASIC,
    )
    .await;
    let url = d.node("hub").url.clone();
    let database = url.rsplit('/').next().unwrap().to_string();
    for sql in [
        "CREATE ROLE hs LOGIN".to_string(),
        format!("GRANT CONNECT, TEMPORARY ON DATABASE \"{database}\" TO hs"),
        "GRANT USAGE, CREATE ON SCHEMA public TO hs".into(),
        "GRANT SELECT, INSERT, UPDATE, DELETE, TRIGGER ON t_field, t_row TO hs".into(),
        "CREATE ROLE app LOGIN".into(),
        "GRANT SELECT, INSERT, UPDATE, DELETE ON t_field, t_row TO app".into(),
    ] {
        d.exec("hub", &sql).await;
    }
    d.edit_config("postgres://postgres@", "postgres://hs@");
    let install = hetsync(&d.config(), &["install"]);
    assert_eq!(install.status.code(), Some(0), "{}", output_text(&install));
    for sql in [
        "GRANT INSERT ON _hetsync_tracking TO app",
        "GRANT USAGE ON SEQUENCE _hetsync_tracking_seq_seq TO app",
    ] {
        d.exec("hub", sql).await;
    }
    let app_url = url.replace("postgres://postgres@", "postgres://app@");
    let mut app = <sqlx::PgConnection as sqlx::Connection>::connect(&app_url)
        .await
        .expect("the application's login");
    sqlx::query("INSERT INTO t_row VALUES (1, 'by app', 1, 1.0)")
        .execute(&mut app)
        .await
        .expect("the application writes a captured table");
    d.exec("a", "INSERT INTO t_field VALUES (2, 'by spoke', 2, 2.0)")
        .await;
    for _ in 0..2 {
        let sync = hetsync(&d.config(), &["sync"]);
        assert_eq!(sync.status.code(), Some(0), "{}", output_text(&sync));
    }
    assert_eq!(d.rows("a", "t_row").await.len(), 1, "captured, went down");
    assert_eq!(
        d.rows("hub", "t_field").await.len(),
        1,
        "applied at the hub"
    );
    let verify = hetsync(&d.config(), &["verify"]);
    assert_eq!(verify.status.code(), Some(0), "{}", output_text(&verify));
}
