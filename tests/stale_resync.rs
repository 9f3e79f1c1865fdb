//! A spoke that stays away past `[sync] stale_after` while the hub purges
//! its tracking rows (a PostgreSQL hub with a MariaDB and a SQLite spoke,
//! edits on every side): the purge does not wait for it, `status` shows it
//! stale, its next round resyncs it from the hub, the changes it cannot
//! decide are held (listed by `hetsync parked`, frozen on both sides) until
//! `parked retry` sends them or `parked drop` brings the hub's row, and in
//! the end every copy is equal with nothing lost.

mod support;

use support::{basic_row as row, hetsync_command, output_text, Deploy, BASIC, MIXED};

/// `hetsync parked --json`: (id, node, code, stale) of each.
fn parked(d: &Deploy) -> Vec<(i64, String, String, bool)> {
    d.json(&["parked", "--json"])
        .as_array()
        .expect("a list")
        .iter()
        .map(|p| {
            (
                p["id"].as_i64().unwrap(),
                p["node"].as_str().unwrap().to_string(),
                p["code"].to_string(),
                p["stale"].as_bool().unwrap(),
            )
        })
        .collect()
}

fn id_of(list: &[(i64, String, String, bool)], code: &str) -> String {
    list.iter()
        .find(|p| p.2 == code)
        .unwrap_or_else(|| panic!("no parked change of {code} in {list:?}"))
        .0
        .to_string()
}

fn stale(d: &Deploy, node: &str) -> bool {
    let status = d.json(&["status", "--json"]);
    status["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["name"] == node)
        .unwrap_or_else(|| panic!("no {node} in {status}"))["stale"]
        .as_bool()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_spoke_away_past_the_purge_resyncs_and_loses_nothing() {
    let d = Deploy::with(MIXED[0], &["a", "b"], &BASIC[..1]).await;
    d.append_config("[sync]\nstale_after = \"2s\"\n");
    d.run(&["install"]);
    for k in 1..=6 {
        d.exec(
            "hub",
            &format!("INSERT INTO t_field VALUES ({k}, 'v{k}', 0, 1.0)"),
        )
        .await;
    }
    d.run(&["sync"]);

    // b goes away. Meanwhile everyone edits, b too.
    d.exec("b", "UPDATE t_field SET a = 'b-old' WHERE k = 4")
        .await;
    d.exec("b", "UPDATE t_field SET a = 'b-both' WHERE k = 5")
        .await;
    d.exec("b", "INSERT INTO t_field VALUES (20, 'b-new-row', 0, 1.0)")
        .await;
    d.exec("hub", "UPDATE t_field SET b = 11 WHERE k = 1").await;
    d.exec("hub", "DELETE FROM t_field WHERE k = 2").await;
    d.exec("hub", "INSERT INTO t_field VALUES (7, 'v7', 0, 1.0)")
        .await;
    d.exec("hub", "UPDATE t_field SET a = 'hub-both' WHERE k = 5")
        .await;
    d.exec("a", "UPDATE t_field SET b = 33 WHERE k = 3").await;
    std::thread::sleep(std::time::Duration::from_secs(3));

    // a syncs; b's last success is past stale_after: the purge does not
    // wait for it.
    d.run(&["sync", "--node", "a"]);
    assert!(!stale(&d, "b"), "nothing purged yet");
    let purge = d.json(&["purge", "--json", "--retention", "0s"]);
    let hub = &purge[0];
    assert_eq!(hub["node"], "hub", "{purge}");
    assert_eq!(hub["released"], serde_json::json!(["b"]), "{purge}");
    assert!(hub["deleted"].as_u64().unwrap() > 0, "{purge}");
    assert!(stale(&d, "b"));
    let text = d.run(&["status"]);
    assert!(text.contains("stale"), "{text}");

    // After the purge, b edits again (that change can be decided), and the
    // hub edits on.
    d.exec("b", "UPDATE t_field SET a = 'b-after' WHERE k = 6")
        .await;
    d.exec("hub", "UPDATE t_field SET c = 7.5 WHERE k = 7")
        .await;

    // The dry run says what the resync holds.
    let preview = d.json(&["sync", "--dry-run", "--node", "b", "--json"]);
    assert_eq!(preview[0]["mode"], "resync", "{preview}");
    let held: Vec<&serde_json::Value> = preview[0]["refused"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["held"] == true)
        .collect();
    assert_eq!(held.len(), 3, "{preview}");

    // A resync that crashes once the hub committed b's changes is stale
    // still: the held changes stay held, and the next round resyncs.
    let crashed = hetsync_command(&d.config(), &["sync", "--node", "b"])
        .env("HETSYNC_FAULT", "after_hub_apply:abort")
        .output()
        .expect("run hetsync");
    assert!(!crashed.status.success(), "{}", output_text(&crashed));
    assert!(stale(&d, "b"));
    assert_eq!(parked(&d).len(), 3);
    assert_eq!(
        d.scalar_text("hub", "SELECT a FROM t_field WHERE k = 6")
            .await,
        Some("b-after".into())
    );

    let text = d.run(&["sync", "--node", "b"]);
    assert!(text.contains("resync of a stale spoke"), "{text}");
    assert!(!stale(&d, "b"), "{text}");

    // b has everything the hub had, the purged changes included; the
    // change it made after the purge reached the hub.
    let b_rows = d.rows("b", "t_field").await;
    for expected in [
        row(1, "v1", 11, 1.0),
        row(3, "v3", 33, 1.0),
        row(7, "v7", 0, 7.5),
        row(6, "b-after", 0, 1.0),
    ] {
        assert!(b_rows.contains(&expected), "{expected:?} in {b_rows:?}");
    }
    // (Row 2 went: 1, 3, 4, 5, 6, 7 and b's own 20 are left.)
    assert_eq!(b_rows.len(), 7, "{b_rows:?}");
    assert_eq!(
        d.scalar_text("hub", "SELECT a FROM t_field WHERE k = 6")
            .await,
        Some("b-after".into())
    );
    // Its changes from before the purge are held, as they are on each side.
    let list = parked(&d);
    assert_eq!(list.len(), 3, "{list:?}");
    assert!(list.iter().all(|p| p.1 == "b" && p.3), "{list:?}");
    for code in ["[4]", "[5]", "[20]"] {
        id_of(&list, code);
    }
    assert!(b_rows.contains(&row(4, "b-old", 0, 1.0)), "{b_rows:?}");
    assert!(b_rows.contains(&row(5, "b-both", 0, 1.0)), "{b_rows:?}");
    assert!(b_rows.contains(&row(20, "b-new-row", 0, 1.0)), "{b_rows:?}");
    assert_eq!(
        d.scalar_text("hub", "SELECT a FROM t_field WHERE k = 5")
            .await,
        Some("hub-both".into())
    );
    assert_eq!(
        d.scalar_i64("hub", "SELECT count(*) FROM t_field WHERE k = 20")
            .await,
        0
    );
    let text = d.run(&["parked"]);
    assert!(text.contains("held"), "{text}");
    assert!(text.contains("while this spoke was stale"), "{text}");

    // A held row stays frozen: a later hub edit of it does not overwrite
    // b's copy.
    d.exec("hub", "UPDATE t_field SET b = 44 WHERE k = 4").await;
    d.run(&["sync"]);
    assert!(d
        .rows("b", "t_field")
        .await
        .contains(&row(4, "b-old", 0, 1.0)));

    // Decided: b's rows 4 and 20 are sent, the hub's row 5 is kept.
    d.run(&["parked", "retry", &id_of(&list, "[4]")]);
    d.run(&["parked", "retry", &id_of(&list, "[20]")]);
    let text = d.run(&["parked", "drop", &id_of(&list, "[5]")]);
    assert!(text.contains("hub's copy"), "{text}");
    assert!(d
        .rows("b", "t_field")
        .await
        .contains(&row(5, "hub-both", 0, 1.0)));
    d.run(&["sync"]);
    d.run(&["sync"]);
    assert_eq!(parked(&d), vec![]);
    d.assert_converged().await;
    let a_rows = d.rows("a", "t_field").await;
    assert!(a_rows.contains(&row(4, "b-old", 0, 1.0)), "{a_rows:?}");
    assert!(a_rows.contains(&row(20, "b-new-row", 0, 1.0)), "{a_rows:?}");
    assert!(a_rows.contains(&row(5, "hub-both", 0, 1.0)), "{a_rows:?}");
    assert!(a_rows.contains(&row(6, "b-after", 0, 1.0)), "{a_rows:?}");
    assert_eq!(a_rows.len(), 7, "{a_rows:?}");
}
