//! The hub's hot standby on real databases: a PostgreSQL hub (a server of
//! its own, so it can be stopped), a SQLite standby, a MariaDB spoke `a`
//! and a SQLite spoke `b`. Every node edits rows of its own range at
//! random; the hub's server is stopped with changes of every node on the
//! way (some on the hub only, some of `a`'s integrated by the hub and not
//! yet by the standby), the standby is promoted, the spokes go on syncing
//! with it without a full resync, the old hub comes back as its standby,
//! and every copy ends equal with every node's last edit of each of its
//! rows in place.

mod support;

use hetsync_core::value::Value;
use std::collections::BTreeMap;
use support::{basic_row as row, hetsync, output_text, Deploy, Rng, BASIC};

/// The nodes, each editing the keys of its own range.
const NODES: [(&str, i64); 4] = [("hub", 1000), ("standby", 2000), ("a", 3000), ("b", 4000)];

/// What each node's rows of its range must be everywhere at the end.
struct Model {
    rows: BTreeMap<&'static str, BTreeMap<i64, (String, i64)>>,
    next: BTreeMap<&'static str, i64>,
    rng: Rng,
}

impl Model {
    fn new(seed: u64) -> Model {
        Model {
            rows: NODES.iter().map(|(n, _)| (*n, BTreeMap::new())).collect(),
            next: NODES.iter().map(|(n, base)| (*n, *base)).collect(),
            rng: Rng(seed),
        }
    }

    /// `count` random edits of `node`'s rows (an insert, an update or a
    /// delete each), in both tables.
    async fn edit(&mut self, d: &Deploy, node: &'static str, count: usize, tag: &str) {
        for i in 0..count {
            let own: Vec<i64> = self.rows[node].keys().copied().collect();
            let choice = if own.len() < 3 { 0 } else { self.rng.below(3) };
            let value = format!("{node}-{tag}-{i}");
            let n = i64::try_from(self.rng.below(1000)).expect("small");
            let sql = match choice {
                0 => {
                    let k = self.next[node];
                    self.next.insert(node, k + 1);
                    self.rows
                        .get_mut(node)
                        .expect("node")
                        .insert(k, (value.clone(), n));
                    format!("INSERT INTO {{t}} VALUES ({k}, '{value}', {n}, 1.5)")
                }
                1 => {
                    let k = self.rng.pick(&own);
                    self.rows
                        .get_mut(node)
                        .expect("node")
                        .insert(k, (value.clone(), n));
                    format!("UPDATE {{t}} SET a = '{value}', b = {n} WHERE k = {k}")
                }
                _ => {
                    let k = self.rng.pick(&own);
                    self.rows.get_mut(node).expect("node").remove(&k);
                    format!("DELETE FROM {{t}} WHERE k = {k}")
                }
            };
            for table in ["t_field", "t_row"] {
                d.exec(node, &sql.replace("{t}", table)).await;
            }
        }
    }

    /// Every node holds every node's rows as the model says.
    async fn check(&self, d: &Deploy) {
        let expected: Vec<Vec<Value>> = self
            .rows
            .values()
            .flat_map(|rows| rows.iter().map(|(k, (a, b))| (*k, row(*k, a, *b, 1.5))))
            .collect::<BTreeMap<i64, Vec<Value>>>()
            .into_values()
            .collect();
        for (node, _) in NODES {
            for table in ["t_field", "t_row"] {
                assert_eq!(
                    d.rows(node, table).await,
                    expected,
                    "table {table} on {node}: not every node's last edits"
                );
            }
        }
    }
}

/// `hetsync sync --json` when some rounds may fail: the modes of the
/// rounds that ran, by spoke, and the spokes that failed.
fn sync_json(d: &Deploy) -> (Vec<(String, String)>, Vec<String>) {
    let out = hetsync(&d.config(), &["sync", "--json"]);
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let parsed: serde_json::Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("sync --json: {e}: {}", output_text(&out)));
    let mut rounds = Vec::new();
    let mut failed = Vec::new();
    for item in parsed.as_array().expect("a list") {
        let spoke = item["spoke"].as_str().expect("spoke").to_string();
        match item.get("error") {
            Some(_) => failed.push(spoke),
            None => rounds.push((spoke, item["mode"].as_str().unwrap_or("").to_string())),
        }
    }
    (rounds, failed)
}

#[tokio::test]
async fn a_promoted_standby_takes_over_and_the_old_hub_rejoins_as_its_standby() {
    let d = Deploy::with_standby(BASIC).await;
    let mut model = Model::new(17);
    for (node, _) in NODES {
        model.edit(&d, node, 4, "seed").await;
    }
    d.run(&["install"]);
    d.run(&["sync"]);
    d.run(&["sync"]);
    model.check(&d).await;

    // Rounds with edits everywhere.
    for pass in 0..3 {
        for (node, _) in NODES {
            model.edit(&d, node, 5, &format!("p{pass}")).await;
        }
        d.run(&["sync"]);
    }
    d.run(&["sync"]);
    model.check(&d).await;

    // Changes on their way when the hub stops: every node's that only the
    // hub, the standby and `a` have (b has not synced since: it finds them
    // in what the standby mirrored), `a`'s integrated by the hub alone
    // (one round of `a`, no standby round after it), the hub's own never
    // synced, `b`'s not yet uploaded.
    for (node, _) in NODES {
        model.edit(&d, node, 6, "last").await;
    }
    d.run(&["sync", "--node", "a"]);
    model.edit(&d, "a", 6, "gap").await;
    {
        let engine = d.engine().await;
        let report = engine.sync_spoke("a").await.expect("a's round");
        assert!(report.rows_uploaded() > 0, "a uploaded to the hub only");
    }
    model.edit(&d, "hub", 3, "unsent").await;
    let hub_server = d.database("hub");
    assert!(hub_server.kill_server(), "the hub has a server of its own");

    let out = hetsync(&d.config(), &["sync"]);
    assert!(!out.status.success(), "no sync without the hub");
    assert!(
        output_text(&out).contains("'hub'"),
        "the error names the hub: {}",
        output_text(&out)
    );
    let out = hetsync(&d.config(), &["promote", "a"]);
    assert!(!out.status.success(), "only the standby can be promoted");
    assert!(
        output_text(&out).contains("not the hub's standby"),
        "{}",
        output_text(&out)
    );
    let promoted = d.run(&["promote", "standby"]);
    assert!(
        promoted.contains("promoted 'standby' to the hub (epoch 1)"),
        "{promoted}"
    );

    // The spokes go on with the standby as the hub: no full comparison.
    for pass in 0..2 {
        for node in ["standby", "a", "b"] {
            model.edit(&d, node, 4, &format!("after{pass}")).await;
        }
        let (rounds, failed) = sync_json(&d);
        assert_eq!(failed, ["hub"], "only the old hub's rounds fail");
        for (spoke, mode) in &rounds {
            assert_eq!(mode, "incremental", "{spoke} resynced in full: {rounds:?}");
        }
        assert!(rounds.iter().any(|(s, _)| s == "a"), "{rounds:?}");
    }

    // The old hub returns: it is the standby now, and uploads what it had
    // captured that never reached the standby.
    hub_server.restart_server();
    let (rounds, failed) = sync_json(&d);
    assert!(failed.is_empty(), "{failed:?}");
    assert_eq!(
        rounds.first().map(|r| r.0.as_str()),
        Some("hub"),
        "{rounds:?}"
    );
    d.run(&["sync"]);
    model.check(&d).await;
    d.run(&["verify"]);

    // Edits on the old hub, now a standby, reach everyone; it cannot act
    // as the hub again unless promoted.
    model.edit(&d, "hub", 4, "as-standby").await;
    model.edit(&d, "b", 4, "end").await;
    d.run(&["sync"]);
    d.run(&["sync"]);
    model.check(&d).await;
    let status = d.json(&["status", "--json"]);
    assert_eq!(
        support::roles(&status),
        [
            ("standby", "hub"),
            ("hub", "standby"),
            ("a", "spoke"),
            ("b", "spoke")
        ],
        "the promoted standby acts as the hub, the old hub as its standby"
    );
}

#[tokio::test]
async fn conflicts_across_a_failover_go_to_the_later_edit() {
    let d = Deploy::with_standby(&BASIC[..1]).await;
    d.exec(
        "hub",
        "INSERT INTO t_field VALUES (1, 'x', 1, 1.5), (2, 'y', 2, 1.5), (3, 'z', 3, 1.5)",
    )
    .await;
    d.run(&["install"]);
    d.run(&["sync"]);
    // Row 1: a's edit reaches the hub only, b's later one none; row 2: the
    // hub's edit never leaves it, a's later one comes after the failover;
    // row 3: the hub deletes it unsent, b's later edit keeps it.
    d.exec("a", "UPDATE t_field SET a = 'a-early' WHERE k = 1")
        .await;
    d.engine().await.sync_spoke("a").await.expect("a's round");
    support::tick().await;
    d.exec("b", "UPDATE t_field SET a = 'b-later' WHERE k = 1")
        .await;
    d.exec("hub", "UPDATE t_field SET a = 'hub-early' WHERE k = 2")
        .await;
    d.exec("hub", "DELETE FROM t_field WHERE k = 3").await;
    support::tick().await;
    d.exec("b", "UPDATE t_field SET b = 33 WHERE k = 3").await;
    let hub_server = d.database("hub");
    assert!(hub_server.kill_server());
    d.run(&["promote", "standby"]);
    support::tick().await;
    d.exec("a", "UPDATE t_field SET a = 'a-later' WHERE k = 2")
        .await;
    // One pass before the failover was not enough for the spokes to record
    // where they would read the standby from: a whole comparison, which
    // takes every change they captured as new, needs --force.
    let out = hetsync(&d.config(), &["sync"]);
    let text = output_text(&out);
    assert!(!out.status.success(), "{text}");
    for spoke in ["a", "b"] {
        assert!(
            text.contains(&format!(
                "spoke '{spoke}' has no watermark of the hub 'standby' but one of its standby 'hub'"
            )),
            "{text}"
        );
    }
    assert_eq!(d.rows("a", "t_field").await[1], row(2, "a-later", 2, 1.5));
    let _ = hetsync(&d.config(), &["sync", "--force"]);
    hub_server.restart_server();
    d.run(&["sync"]);
    d.run(&["sync"]);
    let expected = vec![
        row(1, "b-later", 1, 1.5),
        row(2, "a-later", 2, 1.5),
        row(3, "z", 33, 1.5),
    ];
    for node in ["hub", "standby", "a", "b"] {
        assert_eq!(d.rows(node, "t_field").await, expected, "{node}");
    }
    d.run(&["verify"]);
}
