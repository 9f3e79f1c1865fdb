//! A round stopped at any step, then rerun, converges, loses nothing and
//! applies nothing twice: injected faults at every named point, and a real
//! `kill -9` of the `hetsync` process.

mod support;

use async_trait::async_trait;
use hetsync_core::engine::{FaultHook, FaultPoint};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::{tick, Deploy, Topology, BASIC};

/// Fails the first round that reaches `point`.
struct FailOnce {
    point: FaultPoint,
    fired: AtomicBool,
}

#[async_trait]
impl FaultHook for FailOnce {
    async fn reached(&self, _: &str, point: FaultPoint) -> hetsync_core::Result<()> {
        if point == self.point && !self.fired.swap(true, Ordering::SeqCst) {
            return Err(hetsync_core::Error::Injected(point.to_string()));
        }
        Ok(())
    }
}

/// Hub tracking rows the engine wrote on behalf of `spoke`.
async fn integrated_from(d: &Deploy, spoke: &str) -> i64 {
    d.scalar_i64(
        "hub",
        &format!("SELECT count(*) FROM _hetsync_tracking WHERE origin = '{spoke}'"),
    )
    .await
}

async fn edits_on_both_sides(d: &Deploy) {
    d.exec("a", "INSERT INTO t_field VALUES (10, 'new on a', 10, 10.0)")
        .await;
    d.exec("a", "UPDATE t_field SET a = 'a edited' WHERE k = 1")
        .await;
    d.exec("a", "DELETE FROM t_row WHERE k = 2").await;
    tick().await;
    d.exec("hub", "UPDATE t_field SET b = 99 WHERE k = 1").await;
    d.exec(
        "hub",
        "INSERT INTO t_row VALUES (20, 'new on hub', 20, 20.0)",
    )
    .await;
}

async fn a_round_stopped_at_any_point_then_rerun_converges_exactly_once(topology: Topology) {
    for point in FaultPoint::ALL {
        let d = Deploy::with(topology, &["a", "b"], BASIC).await;
        d.seed_two_rows().await;
        let first_round_fault = point == FaultPoint::AfterFullSyncBatch;
        let hook = Arc::new(FailOnce {
            point,
            fired: AtomicBool::new(false),
        });
        let engine = if first_round_fault {
            // Only a full sync has batches: crash in the middle of the first one.
            let engine = d.engine().await.with_faults(hook);
            engine.install().await.unwrap();
            assert!(
                engine.sync_spoke("a").await.is_err(),
                "{point}: fault fired"
            );
            engine.sync_all().await.unwrap();
            engine
        } else {
            d.installed().await;
            d.engine().await.with_faults(hook)
        };
        if !first_round_fault {
            edits_on_both_sides(&d).await;
            let err = engine.sync_spoke("a").await.unwrap_err();
            assert!(err.to_string().contains(point.as_str()), "{point}: {err}");
            engine.sync_spoke("a").await.unwrap();
            engine.sync_all().await.unwrap();
            // a's three changes reached the hub exactly once each.
            assert_eq!(
                integrated_from(&d, "a").await,
                3,
                "{point}: hub integrated a's changes a wrong number of times"
            );
        }
        assert_eq!(
            d.sync_passes(&engine, 1).await,
            0,
            "{point}: nothing left to move"
        );
        d.assert_converged().await;
        if !first_round_fault {
            let rows = d.rows("b", "t_field").await;
            assert_eq!(rows.len(), 3, "{point}");
            assert_eq!(
                rows[0][1],
                hetsync_core::value::Value::Text("a edited".into()),
                "{point}"
            );
            assert_eq!(rows[0][2], hetsync_core::value::Value::Int(99), "{point}");
            assert_eq!(
                d.rows("b", "t_row").await.len(),
                2,
                "{point}: t_row 1 and 20"
            );
        }
    }
}

/// Fails the `nth` round (from 1) that reaches `point`.
struct FailNth {
    point: FaultPoint,
    nth: usize,
    seen: AtomicUsize,
}

#[async_trait]
impl FaultHook for FailNth {
    async fn reached(&self, _: &str, point: FaultPoint) -> hetsync_core::Result<()> {
        if point == self.point && self.seen.fetch_add(1, Ordering::SeqCst) + 1 == self.nth {
            return Err(hetsync_core::Error::Injected(point.to_string()));
        }
        Ok(())
    }
}

/// Rounds of 7 events read one 30-row transaction on each side in parts
/// (inside the transaction where positions are transactions); a round
/// stopped in the middle of that, then the `sync` run again, integrates
/// every change exactly once.
async fn a_transaction_read_in_parts_survives_a_stop_between_them(topology: Topology) {
    for point in [
        FaultPoint::AfterRead,
        FaultPoint::AfterHubApply,
        FaultPoint::AfterSpokeApply,
    ] {
        let d = Deploy::with(topology, &["a"], BASIC).await;
        d.append_config("[sync]\nround_events = 7\n");
        d.installed().await;
        d.insert_series("a", "t_field", 30, "'a', 0, 0.0").await;
        d.insert_series("hub", "t_row", 30, "'hub', 1, 1.0").await;
        let hook = Arc::new(FailNth {
            point,
            nth: 3,
            seen: AtomicUsize::new(0),
        });
        let engine = d.engine().await.with_faults(hook);
        let spokes = ["a".to_string()];
        let pass = engine.sync_pass(&spokes).await.expect("sync");
        assert_eq!(
            pass.failed.len(),
            1,
            "{topology:?} {point}: the fault fired"
        );
        let pass = engine.sync_pass(&spokes).await.expect("sync");
        assert!(
            pass.failed.is_empty(),
            "{topology:?} {point}: {:?}",
            pass.failed
        );
        assert_eq!(
            integrated_from(&d, "a").await,
            30,
            "{topology:?} {point}: every change of a integrated once"
        );
        d.assert_converged().await;
        assert_eq!(d.rows("hub", "t_field").await.len(), 30);
        assert_eq!(d.rows("a", "t_row").await.len(), 30);
        assert_eq!(d.sync_passes(&engine, 1).await, 0, "{topology:?} {point}");
    }
}

fn hetsync(d: &Deploy) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hetsync"));
    cmd.arg("--config")
        .arg(d.config())
        .env_remove("HETSYNC_FAULT");
    cmd
}

/// Starts `hetsync sync` paused at `point`, waits until it is there, kills it with SIGKILL.
fn kill_at(d: &Deploy, point: &str) {
    let mut child = hetsync(d)
        .args(["sync", "--node", "a"])
        .env("HETSYNC_FAULT", format!("{point}:pause"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn hetsync");
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            if line.contains("HETSYNC_FAULT reached") {
                let _ = tx.send(());
            }
        }
    });
    rx.recv_timeout(Duration::from_secs(60))
        .expect("hetsync reached the fault point");
    child.kill().expect("kill -9");
    child.wait().unwrap();
}

async fn kill_9_between_hub_and_spoke_commits_then_rerun(topology: Topology) {
    let d = Deploy::with(topology, &["a", "b"], BASIC).await;
    d.seed_two_rows().await;
    assert!(hetsync(&d).arg("install").status().unwrap().success());
    assert!(hetsync(&d).arg("sync").status().unwrap().success());
    edits_on_both_sides(&d).await;
    kill_at(&d, "after_hub_apply");
    assert!(hetsync(&d).arg("sync").status().unwrap().success());
    assert!(hetsync(&d).arg("sync").status().unwrap().success());
    assert_eq!(integrated_from(&d, "a").await, 3);
    let verify = hetsync(&d).arg("verify").output().unwrap();
    assert_eq!(
        verify.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&verify.stdout)
    );
}

/// Edits field `a` of rows 1..=20 on the spoke, then later on the hub: 20
/// conflicts, each won by the hub.
async fn twenty_conflicts(d: &Deploy, round: &str) {
    d.exec(
        "a",
        &format!("UPDATE t_field SET a = 'spoke {round}' WHERE k <= 20"),
    )
    .await;
    tick().await;
    d.exec(
        "hub",
        &format!("UPDATE t_field SET a = 'hub {round}' WHERE k <= 20"),
    )
    .await;
}

/// Conflicts in hetsync's log (the state store): all of them, and distinct ids.
async fn logged_conflicts(d: &Deploy) -> (i64, i64) {
    let mut state =
        hetsync_testkit::sqlite::open(&d.dir.path().join("hetsync-state.db"), false).await;
    sqlx::query_as("SELECT count(*), count(DISTINCT uid) FROM conflicts WHERE field = 'a'")
        .fetch_one(&mut state)
        .await
        .unwrap()
}

/// A round that decided conflicts and died after the hub committed them
/// (kill -9, or an error before the spoke's commit): the next round logs
/// each conflict once, none lost, none twice, and the nodes keep none.
async fn conflicts_of_a_round_killed_after_the_hub_commit_are_logged_exactly_once(
    topology: Topology,
) {
    let d = Deploy::with(topology, &["a"], &BASIC[..1]).await;
    d.insert_series("hub", "t_field", 20, "'x', i, 0.5").await;
    assert!(hetsync(&d).arg("install").status().unwrap().success());
    assert!(hetsync(&d).arg("sync").status().unwrap().success());

    twenty_conflicts(&d, "killed").await;
    kill_at(&d, "after_hub_apply");
    assert_eq!(
        d.scalar_i64("hub", "SELECT count(*) FROM _hetsync_conflict")
            .await,
        20,
        "recorded with the hub's commit"
    );
    assert!(hetsync(&d).arg("sync").status().unwrap().success());
    assert_eq!(logged_conflicts(&d).await, (20, 20));

    twenty_conflicts(&d, "failed").await;
    let failed = hetsync(&d)
        .arg("sync")
        .env("HETSYNC_FAULT", "after_hub_apply:error")
        .output()
        .unwrap();
    assert_eq!(failed.status.code(), Some(1));
    // The failed round's record says what it committed: the hub's side.
    let mut state =
        hetsync_testkit::sqlite::open(&d.dir.path().join("hetsync-state.db"), false).await;
    let (report, error): (String, String) =
        sqlx::query_as("SELECT report, error FROM rounds WHERE ok = 0 ORDER BY id DESC LIMIT 1")
            .fetch_one(&mut state)
            .await
            .unwrap();
    let report: serde_json::Value = serde_json::from_str(&report).unwrap();
    assert!(error.contains("after_hub_apply"), "{error}");
    assert_eq!(
        report["events_read"],
        serde_json::json!([20, 20]),
        "{report}"
    );
    assert_eq!(
        report["conflicts"].as_array().map(Vec::len),
        Some(20),
        "the conflicts the hub's commit made final: {report}"
    );
    assert_eq!(report["downloaded"], serde_json::json!({}), "{report}");
    assert!(hetsync(&d).arg("sync").status().unwrap().success());
    assert!(hetsync(&d).arg("sync").status().unwrap().success());
    assert_eq!(logged_conflicts(&d).await, (40, 40));
    for node in ["hub", "a"] {
        assert_eq!(
            d.scalar_i64(node, "SELECT count(*) FROM _hetsync_conflict")
                .await,
            0,
            "{node} forgot what was logged"
        );
    }
    d.assert_converged().await;
}

async fn kill_9_at_a_random_moment_of_a_large_first_sync_then_rerun(topology: Topology) {
    let d = Deploy::with(topology, &["a"], BASIC).await;
    d.insert_series("hub", "t_row", 30_000, "'row ' || i, i, i * 0.25")
        .await;
    d.exec("a", "INSERT INTO t_row VALUES (-1, 'spoke only', 0, 0.0)")
        .await;
    assert!(hetsync(&d).arg("install").status().unwrap().success());
    // Kill at a moment that varies from run to run, somewhere in the copy.
    let delay = Duration::from_millis(50 + (Instant::now().elapsed().subsec_nanos() as u64 % 400));
    let mut child = hetsync(&d)
        .arg("sync")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(delay);
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(hetsync(&d).arg("sync").status().unwrap().success());
    d.assert_converged().await;
    assert_eq!(d.rows("hub", "t_row").await.len(), 30_001);
    assert_eq!(
        integrated_from(&d, "a").await,
        1,
        "the spoke-only row went up once"
    );
}

on_every_topology!(
    a_round_stopped_at_any_point_then_rerun_converges_exactly_once,
    a_transaction_read_in_parts_survives_a_stop_between_them,
    kill_9_between_hub_and_spoke_commits_then_rerun,
    conflicts_of_a_round_killed_after_the_hub_commit_are_logged_exactly_once,
    kill_9_at_a_random_moment_of_a_large_first_sync_then_rerun
);
