//! Faults from outside hetsync: the PostgreSQL or MariaDB server of the hub
//! or of the spoke is killed (SIGKILL of its processes) at each fault point
//! of a round, then started again. The round fails naming the node whose
//! server died (or ends, when nothing was left to write there); the next
//! rounds converge with nothing lost or duplicated, and once converged a
//! round moves nothing.

mod support;

use async_trait::async_trait;
use hetsync_core::engine::{FaultHook, FaultPoint};
use hetsync_core::value::Value;
use hetsync_testkit::database::TestDatabase;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use support::{Deploy, Servers, Topology, BASIC, MIXED, POSTGRES, POSTGRES_LOGICAL};

/// Kills a server the first time the round reaches a point.
struct KillAt {
    point: FaultPoint,
    server: Arc<dyn TestDatabase>,
    fired: AtomicBool,
}

#[async_trait]
impl FaultHook for KillAt {
    async fn reached(&self, _: &str, point: FaultPoint) -> hetsync_core::Result<()> {
        if point == self.point && !self.fired.swap(true, Ordering::SeqCst) {
            assert!(self.server.kill_server(), "the node has a server");
        }
        Ok(())
    }
}

/// Rows of both tables: 1, 2, 3 on the hub and 11, 12, 13 on the spoke.
async fn seed(d: &Deploy) {
    for table in ["t_field", "t_row"] {
        d.exec(
            "hub",
            &format!(
                "INSERT INTO {table} VALUES (1, 'x', 1, 1.0), (2, 'y', 2, 2.0), (3, 'z', 3, 3.0)"
            ),
        )
        .await;
        d.exec(
            "a",
            &format!("INSERT INTO {table} VALUES (11, 'p', 1, 1.0), (12, 'q', 2, 2.0), (13, 'r', 3, 3.0)"),
        )
        .await;
    }
}

/// Edits on both sides after a first sync: an update, a delete and an
/// insert each, and row 3 edited on both (the spoke's edit is later).
async fn edit(d: &Deploy) {
    for table in ["t_field", "t_row"] {
        d.exec("hub", &format!("UPDATE {table} SET a = 'hub' WHERE k = 1"))
            .await;
        d.exec("hub", &format!("DELETE FROM {table} WHERE k = 2"))
            .await;
        d.exec(
            "hub",
            &format!("INSERT INTO {table} VALUES (4, 'w', 4, 4.0)"),
        )
        .await;
        d.exec("hub", &format!("UPDATE {table} SET a = 'h' WHERE k = 3"))
            .await;
        d.exec("a", &format!("UPDATE {table} SET b = 99 WHERE k = 11"))
            .await;
        d.exec("a", &format!("DELETE FROM {table} WHERE k = 13"))
            .await;
        d.exec(
            "a",
            &format!("INSERT INTO {table} VALUES (14, 'v', 4, 4.0)"),
        )
        .await;
        support::tick().await;
        d.exec("a", &format!("UPDATE {table} SET a = 's' WHERE k = 3"))
            .await;
    }
}

/// What every node holds at the end: (k, a, b) per row.
fn expected(edited: bool) -> Vec<(i64, &'static str, i64)> {
    if edited {
        vec![
            (1, "hub", 1),
            (3, "s", 3),
            (4, "w", 4),
            (11, "p", 99),
            (12, "q", 2),
            (14, "v", 4),
        ]
    } else {
        vec![
            (1, "x", 1),
            (2, "y", 2),
            (3, "z", 3),
            (11, "p", 1),
            (12, "q", 2),
            (13, "r", 3),
        ]
    }
}

async fn kill_once(topology: Topology, servers: &Servers, victim: &str, point: FaultPoint) {
    let context = format!("{topology:?}: {victim}'s server killed at {point}");
    let d = Deploy::on(topology, servers.clone(), &["a"], BASIC).await;
    seed(&d).await;
    let full = point == FaultPoint::AfterFullSyncBatch;
    let engine = d.engine().await;
    engine.install().await.expect("install");
    if !full {
        engine.sync_all().await.expect("first sync");
        edit(&d).await;
    }
    drop(engine);
    let engine = d.engine().await.with_faults(Arc::new(KillAt {
        point,
        server: d.database(victim),
        fired: AtomicBool::new(false),
    }));
    let pass = engine
        .sync_pass(&["a".to_string()])
        .await
        .unwrap_or_else(|e| panic!("{context}: {e}"));
    drop(engine);
    // The round fails when it still had to write to the dead node.
    let needed_after = match point {
        FaultPoint::AfterSpokeApply => false,
        FaultPoint::AfterHubApply => victim == "a",
        _ => true,
    };
    assert_eq!(
        !pass.failed.is_empty(),
        needed_after,
        "{context}: {:?}",
        pass.failed
    );
    for (_, e) in &pass.failed {
        assert!(
            e.to_string().contains(&format!("node '{victim}'")),
            "{context}: the error names the node: {e}"
        );
    }
    d.database(victim).restart_server();

    let engine = d.engine().await;
    let pass = engine
        .sync_pass(&["a".to_string()])
        .await
        .unwrap_or_else(|e| panic!("{context}: {e}"));
    assert!(pass.failed.is_empty(), "{context}: {:?}", pass.failed);
    d.assert_converged().await;
    for table in ["t_field", "t_row"] {
        let rows: Vec<(i64, String, i64)> = d
            .rows("hub", table)
            .await
            .into_iter()
            .map(|r| match (&r[0], &r[1], &r[2]) {
                (Value::Int(k), Value::Text(a), Value::Int(b)) => (*k, a.clone(), *b),
                other => panic!("{context}: {other:?}"),
            })
            .collect();
        let want: Vec<(i64, String, i64)> = expected(!full)
            .into_iter()
            .map(|(k, a, b)| (k, a.to_string(), b))
            .collect();
        assert_eq!(rows, want, "{context}: table {table}");
    }
    let again = engine
        .sync_pass(&["a".to_string()])
        .await
        .unwrap_or_else(|e| panic!("{context}: {e}"));
    let moved: u64 = again.rounds.iter().map(|r| r.rows_moved()).sum();
    assert_eq!(moved, 0, "{context}: a converged pair moves nothing");
}

async fn every_point_and_victim(topology: Topology) {
    let servers = Servers::for_topology(topology);
    for victim in ["hub", "a"] {
        for point in FaultPoint::ALL {
            kill_once(topology, &servers, victim, point).await;
        }
    }
}

#[tokio::test]
async fn postgres_hub_and_mariadb_spoke_servers_killed_at_every_point() {
    every_point_and_victim(MIXED[0]).await;
}

#[tokio::test]
async fn mariadb_hub_and_odbc_spoke_servers_killed_at_every_point() {
    every_point_and_victim(MIXED[2]).await;
}

/// The hub captures by logical decoding: a crash may take the slot's
/// confirmed position back to the last checkpoint, and what it decodes
/// again must not be taken twice.
#[tokio::test]
async fn logical_postgres_hub_and_postgres_spoke_servers_killed_at_every_point() {
    every_point_and_victim(Topology {
        hub: POSTGRES_LOGICAL,
        spokes: &[POSTGRES],
    })
    .await;
}
