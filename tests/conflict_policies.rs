//! Conflict policies (`conflict = "hub" | "priority"`) on real databases: a
//! PostgreSQL hub with a MariaDB and a SQLite spoke, synced by the binary,
//! and the conflict log as `hetsync conflicts` lists it.

mod support;

use support::{basic_row as row, hetsync, output_text, tick, Deploy, TableSpec, BASIC, MIXED};

/// `t_field` (form field) where the hub wins, `t_row` (form table) where
/// the nodes' priorities decide.
const POLICIES: &[TableSpec] = &[
    TableSpec {
        name: "t_field",
        ddl: BASIC[0].ddl,
        config: "[[table]]\nname = \"t_field\"\ncode = [\"k\"]\nform = \"field\"\nconflict = \"hub\"\n",
    },
    TableSpec {
        name: "t_row",
        ddl: BASIC[1].ddl,
        config: "[[table]]\nname = \"t_row\"\ncode = [\"k\"]\nform = \"table\"\nconflict = \"priority\"\n",
    },
];

fn run(d: &Deploy, args: &[&str]) -> String {
    let out = hetsync(&d.config(), args);
    let text = output_text(&out);
    assert!(out.status.success(), "hetsync {args:?}: {text}");
    text
}

#[tokio::test(flavor = "multi_thread")]
async fn hub_and_priority_policies_decide_and_are_logged_with_their_rule() {
    let d = Deploy::with(MIXED[0], &["a", "b"], POLICIES).await;
    d.edit_config("name = \"a\"\n", "name = \"a\"\npriority = 1\n");
    d.edit_config("name = \"b\"\n", "name = \"b\"\npriority = 5\n");
    for t in ["t_field", "t_row"] {
        d.exec(
            "hub",
            &format!("INSERT INTO {t} VALUES (1, 'x', 1, 1.0), (2, 'y', 2, 2.0)"),
        )
        .await;
    }
    run(&d, &["install"]);
    run(&d, &["sync"]);

    // t_field, policy hub: the hub's edit stays although a's is later; a's
    // edit of another field of the row still goes through.
    d.exec("hub", "UPDATE t_field SET a = 'hub' WHERE k = 1")
        .await;
    tick().await;
    d.exec("a", "UPDATE t_field SET a = 'from-a', b = 7 WHERE k = 1")
        .await;
    // t_row, policy priority: b (5) beats a's later edit (1); a (1) beats
    // the hub's later edit (no priority: 0).
    d.exec("b", "UPDATE t_row SET b = 50 WHERE k = 1").await;
    d.exec("a", "UPDATE t_row SET b = 20 WHERE k = 2").await;
    tick().await;
    d.exec("a", "UPDATE t_row SET b = 10 WHERE k = 1").await;
    d.exec("hub", "UPDATE t_row SET b = 99 WHERE k = 2").await;

    run(&d, &["sync"]);
    run(&d, &["sync"]);
    d.assert_converged().await;
    assert_eq!(
        d.rows("b", "t_field").await,
        vec![row(1, "hub", 7, 1.0), row(2, "y", 2, 2.0)]
    );
    assert_eq!(
        d.rows("a", "t_row").await,
        vec![row(1, "x", 50, 1.0), row(2, "y", 20, 2.0)]
    );

    let listed: serde_json::Value =
        serde_json::from_str(&run(&d, &["conflicts", "--json"])).expect("JSON");
    let decided: Vec<(String, String, String, String, String)> = listed
        .as_array()
        .expect("a list")
        .iter()
        .map(|c| {
            let text = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_string();
            (
                text(&c["table"]),
                text(&c["code"]),
                text(&c["rule"]),
                text(&c["winner"]["node"]),
                text(&c["loser"]["node"]),
            )
        })
        .collect();
    let expected = |t: &str, k: &str, rule: &str, won: &str, lost: &str| {
        (t.into(), k.into(), rule.into(), won.into(), lost.into())
    };
    for conflict in [
        expected("t_field", "[1]", "hub", "hub", "a"),
        expected("t_row", "[1]", "priority", "b", "a"),
        expected("t_row", "[2]", "priority", "a", "hub"),
    ] {
        assert!(decided.contains(&conflict), "{conflict:?} in {decided:?}");
    }
    let field = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["table"] == "t_field")
        .unwrap();
    assert_eq!(field["field"], "a");
    assert_eq!(field["winner"]["value"], "'hub'");
    assert_eq!(field["loser"]["value"], "'from-a'");

    let only_rows: serde_json::Value = serde_json::from_str(&run(
        &d,
        &["conflicts", "--json", "--table", "t_row", "--since", "1h"],
    ))
    .expect("JSON");
    assert!(
        !only_rows.as_array().unwrap().is_empty()
            && only_rows
                .as_array()
                .unwrap()
                .iter()
                .all(|c| c["table"] == "t_row"),
        "{only_rows}"
    );
    let text = run(&d, &["conflicts", "--since", "2999-01-01"]);
    assert!(text.contains("no conflicts logged"), "{text}");
    let text = run(&d, &["conflicts", "--table", "t_field"]);
    assert!(text.contains("by rule hub"), "{text}");
    let bad = hetsync(&d.config(), &["conflicts", "--since", "yesterday"]);
    assert!(!bad.status.success());
    assert!(
        output_text(&bad).contains("neither a duration"),
        "{}",
        output_text(&bad)
    );
}
