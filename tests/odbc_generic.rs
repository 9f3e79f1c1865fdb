//! The ODBC adapter's `generic` profile over the SQLite ODBC driver: a
//! database hetsync knows only through its driver. Generic SQL, capture
//! by snapshot difference (no triggers), the catalog through the driver's
//! catalog functions, transactions through the driver. The conformance
//! suite runs it too (`tests/conformance.rs`), and the property suites
//! (a spoke of `support::MIXED`, the hub of `support::GENERIC_ODBC_HUB`).

mod support;

use support::{basic_row as row, Deploy, Topology, BASIC, SQLITE, SQLITE_ODBC};

/// A SQLite hub with a spoke behind the SQLite ODBC driver.
const ODBC_SPOKE: Topology = Topology {
    hub: SQLITE,
    spokes: &[SQLITE_ODBC],
};

/// A hub behind the SQLite ODBC driver with a native SQLite spoke.
const ODBC_HUB: Topology = Topology {
    hub: SQLITE_ODBC,
    spokes: &[SQLITE],
};

async fn round_trip(topology: Topology) {
    let d = Deploy::with(topology, &["a"], &BASIC[..1]).await;
    d.exec(
        "hub",
        "INSERT INTO t_field VALUES (1, '变电站 ''甲''', 10, 0.5)",
    )
    .await;
    d.exec("a", "INSERT INTO t_field VALUES (2, 'from a', 20, 1.25)")
        .await;
    d.run(&["install"]);
    d.sync_to_convergence().await;
    let expected = vec![row(1, "变电站 '甲'", 10, 0.5), row(2, "from a", 20, 1.25)];
    assert_eq!(d.rows("hub", "t_field").await, expected);
    assert_eq!(d.rows("a", "t_field").await, expected);

    d.exec("hub", "UPDATE t_field SET a = '改' WHERE k = 2")
        .await;
    d.exec("a", "UPDATE t_field SET b = 21 WHERE k = 2").await;
    d.exec("a", "DELETE FROM t_field WHERE k = 1").await;
    d.sync_to_convergence().await;
    let expected = vec![row(2, "改", 21, 1.25)];
    assert_eq!(d.rows("hub", "t_field").await, expected);
    assert_eq!(d.rows("a", "t_field").await, expected);
    let verify = d.run(&["verify"]);
    assert!(verify.contains("identical"), "{verify}");
}

#[tokio::test]
async fn an_odbc_spoke_syncs_both_ways() {
    round_trip(ODBC_SPOKE).await;
}

#[tokio::test]
async fn an_odbc_hub_syncs_both_ways() {
    round_trip(ODBC_HUB).await;
}
