//! Ways copies could stop being equal without a word, each ending with a
//! clear signal and a way back (issue "never silently diverge").

mod support;

use hetsync_core::value::Value;
use support::{hetsync, output_text, Deploy, Topology, BASIC};

/// A table added to the configuration of a synced pair gets its own first
/// full comparison: rows that were on either side before capture was
/// installed on it reach the other side, and later rounds are incremental.
async fn a_table_added_to_the_config_is_backfilled(topology: Topology) {
    let d = Deploy::with(topology, &["a"], &BASIC[..1]).await;
    d.installed().await;
    let added = &BASIC[1];
    for node in ["hub", "a"] {
        d.exec(node, added.ddl_for(d.node(node).kind)).await;
    }
    d.exec(
        "hub",
        "INSERT INTO t_row VALUES (1, 'hub', 1, 1.5), (2, 'hub', 2, 2.5)",
    )
    .await;
    d.exec("a", "INSERT INTO t_row VALUES (9, 'spoke', 9, 9.5)")
        .await;
    d.append_config(added.config);

    let out = hetsync(&d.config(), &["install"]);
    assert!(out.status.success(), "{}", output_text(&out));
    let out = hetsync(&d.config(), &["status"]);
    let text = output_text(&out);
    assert!(
        text.contains("compared row by row next round: t_row"),
        "{topology:?}: status names the table awaiting its comparison\n{text}"
    );
    let out = hetsync(&d.config(), &["sync"]);
    let text = output_text(&out);
    assert!(out.status.success(), "{topology:?}: {text}");
    assert!(
        text.contains("compared row by row: t_row"),
        "{topology:?}: the round says it compared the new table\n{text}"
    );
    let out = hetsync(&d.config(), &["verify"]);
    assert!(out.status.success(), "{topology:?}: {}", output_text(&out));
    let hub = d.rows("hub", "t_row").await;
    let keys: Vec<&Value> = hub.iter().map(|r| &r[0]).collect();
    assert_eq!(
        keys,
        [&Value::Int(1), &Value::Int(2), &Value::Int(9)],
        "{topology:?}"
    );
    assert_eq!(d.rows("a", "t_row").await, hub, "{topology:?}");

    // Recorded: the next sync is incremental for every table.
    let out = hetsync(&d.config(), &["sync", "--json"]);
    assert!(out.status.success(), "{}", output_text(&out));
    let rounds: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for round in rounds.as_array().unwrap() {
        assert_eq!(round["compared_whole"], serde_json::json!([]), "{round}");
        assert_eq!(round["uploaded"], serde_json::json!({}), "{round}");
        assert_eq!(round["downloaded"], serde_json::json!({}), "{round}");
    }
    // And an edit of the new table goes by the ordinary path.
    d.exec("a", "UPDATE t_row SET a = 'edited' WHERE k = 1")
        .await;
    let out = hetsync(&d.config(), &["sync"]);
    assert!(out.status.success(), "{}", output_text(&out));
    assert_eq!(
        d.rows("hub", "t_row").await[0][1],
        Value::Text("edited".into()),
        "{topology:?}"
    );
}

on_every_topology!(a_table_added_to_the_config_is_backfilled);
