//! Conflict policies (`conflict = "hub" | "priority" | "user_level"`) on
//! real databases: a PostgreSQL hub with a MariaDB and a SQLite spoke,
//! synced by the binary, and the conflict log as `hetsync conflicts` lists it.

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

/// The logged conflicts (`hetsync conflicts --json`), each as the texts of
/// the given paths into its JSON (`"winner/node"`; `-` for null).
fn logged(d: &Deploy, paths: &[&str]) -> Vec<Vec<String>> {
    let listed = d.json(&["conflicts", "--json"]);
    listed
        .as_array()
        .expect("a list")
        .iter()
        .map(|c| {
            paths
                .iter()
                .map(|path| {
                    let v = path.split('/').fold(c, |v, key| &v[key]);
                    v.as_str().unwrap_or("-").to_string()
                })
                .collect()
        })
        .collect()
}

/// Rows 1 and 2 in `t_field` and `t_row` on the hub, installed and synced.
async fn seed(d: &Deploy) {
    for t in ["t_field", "t_row"] {
        d.exec(
            "hub",
            &format!("INSERT INTO {t} VALUES (1, 'x', 1, 1.0), (2, 'y', 2, 2.0)"),
        )
        .await;
    }
    d.run(&["install"]);
    d.run(&["sync"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn hub_and_priority_policies_decide_and_are_logged_with_their_rule() {
    let d = Deploy::with(MIXED[0], &["a", "b"], POLICIES).await;
    d.edit_config("name = \"a\"\n", "name = \"a\"\npriority = 1\n");
    d.edit_config("name = \"b\"\n", "name = \"b\"\npriority = 5\n");
    seed(&d).await;

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

    d.sync_to_convergence().await;
    assert_eq!(
        d.rows("b", "t_field").await,
        vec![row(1, "hub", 7, 1.0), row(2, "y", 2, 2.0)]
    );
    assert_eq!(
        d.rows("a", "t_row").await,
        vec![row(1, "x", 50, 1.0), row(2, "y", 20, 2.0)]
    );

    let decided = logged(&d, &["table", "code", "rule", "winner/node", "loser/node"]);
    let expected = |t: &str, k: &str, rule: &str, won: &str, lost: &str| {
        [t, k, rule, won, lost].map(String::from).to_vec()
    };
    for conflict in [
        expected("t_field", "[1]", "hub", "hub", "a"),
        expected("t_row", "[1]", "priority", "b", "a"),
        expected("t_row", "[2]", "priority", "a", "hub"),
    ] {
        assert!(decided.contains(&conflict), "{conflict:?} in {decided:?}");
    }
    let fields = logged(&d, &["table", "field", "winner/value", "loser/value"]);
    assert!(
        fields.contains(
            &["t_field", "a", "'hub'", "'from-a'"]
                .map(String::from)
                .to_vec()
        ),
        "{fields:?}"
    );

    let only_rows = d.json(&["conflicts", "--json", "--table", "t_row", "--since", "1h"]);
    assert!(
        !only_rows.as_array().unwrap().is_empty()
            && only_rows
                .as_array()
                .unwrap()
                .iter()
                .all(|c| c["table"] == "t_row"),
        "{only_rows}"
    );
    let text = d.run(&["conflicts", "--since", "2999-01-01"]);
    assert!(text.contains("no conflicts logged"), "{text}");
    let text = d.run(&["conflicts", "--table", "t_field"]);
    assert!(text.contains("by rule hub"), "{text}");
    let bad = hetsync(&d.config(), &["conflicts", "--since", "yesterday"]);
    assert!(!bad.status.success());
    assert!(
        output_text(&bad).contains("neither a duration"),
        "{}",
        output_text(&bad)
    );
}

/// `t_field` (form field) where the database users' levels decide.
const USER_LEVEL: &[TableSpec] = &[TableSpec {
    name: "t_field",
    ddl: BASIC[0].ddl,
    config: "[[table]]\nname = \"t_field\"\ncode = [\"k\"]\nform = \"field\"\nconflict = \"user_level\"\n",
}];

#[tokio::test(flavor = "multi_thread")]
async fn user_level_weighs_the_users_the_databases_recorded_across_hops() {
    let d = Deploy::with(MIXED[0], &["a", "b"], USER_LEVEL).await;
    // SQLite (b) records no user: its edits count as the clerk's.
    d.edit_config("name = \"b\"\n", "name = \"b\"\ndefault_user = \"clerk\"\n");
    d.edit_config("[[table]]", "[users]\nchief = 10\nclerk = 1\n\n[[table]]");
    for user in ["chief", "clerk"] {
        d.exec("hub", &format!("CREATE ROLE {user} LOGIN SUPERUSER"))
            .await;
        for host in ["%", "localhost", "127.0.0.1"] {
            d.exec("a", &format!("CREATE USER '{user}'@'{host}'")).await;
            d.exec("a", &format!("GRANT ALL ON *.* TO '{user}'@'{host}'"))
                .await;
        }
    }
    d.exec(
        "hub",
        "INSERT INTO t_field VALUES (1, 'x', 1, 1.0), (2, 'y', 2, 2.0), (3, 'z', 3, 3.0)",
    )
    .await;
    d.run(&["install"]);
    d.run(&["sync"]);

    // 1: the chief's edit on a beats the clerk's later one on the hub.
    // 2: the chief's edit on a reaches the hub first (a syncs before b)
    //    and still beats b's later edit there: the hub recorded its user.
    // 3: b's edit (the clerk, by default) beats a later one on the hub by
    //    a user the map does not name (level 0).
    d.exec_as(
        "a",
        "chief",
        "UPDATE t_field SET a = 'chief-a' WHERE k IN (1, 2)",
    )
    .await;
    tick().await;
    d.exec_as(
        "hub",
        "clerk",
        "UPDATE t_field SET a = 'clerk-hub' WHERE k = 1",
    )
    .await;
    d.exec("b", "UPDATE t_field SET a = 'clerk-b' WHERE k IN (2, 3)")
        .await;
    tick().await;
    d.exec("hub", "UPDATE t_field SET a = 'nobody-hub' WHERE k = 3")
        .await;

    d.sync_to_convergence().await;
    assert_eq!(
        d.rows("hub", "t_field").await,
        vec![
            row(1, "chief-a", 1, 1.0),
            row(2, "chief-a", 2, 2.0),
            row(3, "clerk-b", 3, 3.0)
        ]
    );

    let decided: Vec<Vec<String>> = logged(
        &d,
        &[
            "code",
            "rule",
            "winner/node",
            "winner/user",
            "loser/node",
            "loser/user",
            "winner/value",
        ],
    )
    .into_iter()
    .map(|c| {
        vec![
            c[0].clone(),
            c[1].clone(),
            format!("{}/{}", c[2], c[3]),
            format!("{}/{}", c[4], c[5]),
            c[6].clone(),
        ]
    })
    .collect();
    let expected = |k: &str, won: &str, lost: &str, value: &str| {
        [k, "user_level", won, lost, value]
            .map(String::from)
            .to_vec()
    };
    for conflict in [
        expected("[1]", "a/chief", "hub/clerk", "'chief-a'"),
        expected("[2]", "a/chief", "b/-", "'chief-a'"),
        expected("[3]", "b/-", "hub/postgres", "'clerk-b'"),
    ] {
        assert!(decided.contains(&conflict), "{conflict:?} in {decided:?}");
    }
    let text = d.run(&["conflicts", "--table", "t_field"]);
    assert!(
        text.contains("won  a by chief at") && text.contains("by rule user_level"),
        "{text}"
    );
}

/// The id of the logged conflict of `table`'s row `code` (and `field`).
fn conflict_id(d: &Deploy, table: &str, code: &str, field: Option<&str>) -> String {
    let listed = d.json(&["conflicts", "--json"]);
    let found = listed
        .as_array()
        .expect("a list")
        .iter()
        .find(|c| c["table"] == table && c["code"] == code && c["field"].as_str() == field)
        .unwrap_or_else(|| panic!("no conflict of {table} {code} {field:?} in {listed}"));
    found["id"].to_string()
}

/// `conflicts undo` brings the losing change back as a new change that
/// reaches every node: a field that lost to a later edit, a row update
/// that lost to a delete (the row comes back), a delete that lost to an
/// update (the row goes again). An undo is recorded and not done twice.
#[tokio::test(flavor = "multi_thread")]
async fn an_undone_conflict_brings_the_losing_change_back_everywhere() {
    let d = Deploy::with(MIXED[0], &["a", "b"], BASIC).await;
    seed(&d).await;

    d.exec("a", "UPDATE t_field SET a = 'from-a' WHERE k = 1")
        .await;
    d.exec("a", "UPDATE t_row SET b = 20 WHERE k = 2").await;
    d.exec("a", "DELETE FROM t_row WHERE k = 1").await;
    tick().await;
    d.exec("b", "UPDATE t_field SET a = 'from-b' WHERE k = 1")
        .await;
    d.exec("b", "UPDATE t_row SET b = 5 WHERE k = 1").await;
    d.exec("hub", "DELETE FROM t_row WHERE k = 2").await;
    d.sync_to_convergence().await;
    assert_eq!(
        d.rows("a", "t_field").await,
        vec![row(1, "from-b", 1, 1.0), row(2, "y", 2, 2.0)]
    );
    assert_eq!(d.rows("a", "t_row").await, vec![row(1, "x", 5, 1.0)]);

    let field = conflict_id(&d, "t_field", "[1]", Some("a"));
    let text = d.run(&["conflicts", "undo", &field]);
    assert!(text.contains("a written at the hub"), "{text}");
    let json = d.json(&[
        "conflicts",
        "undo",
        &conflict_id(&d, "t_row", "[2]", None),
        "--json",
    ]);
    assert_eq!(json["written"], "row", "{json}");
    let json = d.json(&[
        "conflicts",
        "undo",
        &conflict_id(&d, "t_row", "[1]", None),
        "--json",
    ]);
    assert_eq!(json["written"], "deleted", "{json}");

    d.run(&["sync"]);
    d.assert_converged().await;
    for node in ["hub", "a", "b"] {
        assert_eq!(
            d.rows(node, "t_field").await,
            vec![row(1, "from-a", 1, 1.0), row(2, "y", 2, 2.0)],
            "{node}"
        );
        assert_eq!(
            d.rows(node, "t_row").await,
            vec![row(2, "y", 20, 2.0)],
            "{node}"
        );
    }

    let again = hetsync(&d.config(), &["conflicts", "undo", &field]);
    assert!(!again.status.success());
    assert!(
        output_text(&again).contains("undone already"),
        "{}",
        output_text(&again)
    );
    let text = d.run(&["conflicts"]);
    assert!(text.contains("undone at"), "{text}");
    let missing = hetsync(&d.config(), &["conflicts", "undo", "999"]);
    assert!(!missing.status.success());
    assert!(output_text(&missing).contains("no logged conflict with id 999"));
}

/// `conflict = "manual"`: the hub's side stands and the conflict waits in
/// the log (`--awaiting`) while the row's other fields sync; `conflicts
/// resolve` keeps the spoke's change, a value, or the hub's side, and what
/// it keeps reaches every node.
#[tokio::test(flavor = "multi_thread")]
async fn a_manual_conflict_waits_until_resolved() {
    const MANUAL: &[TableSpec] = &[TableSpec {
        name: "t_field",
        ddl: BASIC[0].ddl,
        config: "[[table]]\nname = \"t_field\"\ncode = [\"k\"]\nform = \"field\"\nconflict = \"manual\"\n",
    }];
    let d = Deploy::with(MIXED[0], &["a", "b"], MANUAL).await;
    d.exec(
        "hub",
        "INSERT INTO t_field VALUES (1, 'x', 1, 1.0), (2, 'y', 2, 2.0), (3, 'z', 3, 3.0)",
    )
    .await;
    d.run(&["install"]);
    d.run(&["sync"]);
    for k in 1..=3 {
        d.exec(
            "hub",
            &format!("UPDATE t_field SET a = 'hub{k}' WHERE k = {k}"),
        )
        .await;
    }
    tick().await;
    for k in 1..=3 {
        d.exec(
            "a",
            &format!("UPDATE t_field SET a = 'a{k}', b = {k}0 WHERE k = {k}"),
        )
        .await;
    }
    d.sync_to_convergence().await;
    // The hub's a stands (although a's edit is later); a's b went through.
    assert_eq!(
        d.rows("b", "t_field").await,
        vec![
            row(1, "hub1", 10, 1.0),
            row(2, "hub2", 20, 2.0),
            row(3, "hub3", 30, 3.0)
        ]
    );
    let awaiting = d.json(&["conflicts", "--awaiting", "--json"]);
    let ids: Vec<String> = awaiting
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            assert_eq!(
                (&c["rule"], &c["field"]),
                (&"manual".into(), &"a".into()),
                "{c}"
            );
            c["id"].to_string()
        })
        .collect();
    assert_eq!(ids.len(), 3, "{awaiting}");
    assert_eq!(d.json(&["status", "--json"])["awaiting_conflicts"], 3);
    assert!(d
        .run(&["status"])
        .contains("3 conflict(s) await a decision"));
    assert!(d.run(&["conflicts"]).contains("awaiting a decision"));

    d.run(&["conflicts", "resolve", &ids[0], "--keep", "spoke"]);
    d.run(&["conflicts", "resolve", &ids[1], "--keep", "decided"]);
    let kept = d.json(&["conflicts", "resolve", &ids[2], "--keep", "hub", "--json"]);
    assert_eq!(kept["written"], "nothing", "{kept}");
    let twice = hetsync(
        &d.config(),
        &["conflicts", "resolve", &ids[2], "--keep", "hub"],
    );
    assert!(!twice.status.success());
    assert!(
        output_text(&twice).contains("resolved already"),
        "{}",
        output_text(&twice)
    );
    assert_eq!(
        d.json(&["conflicts", "--awaiting", "--json"]),
        serde_json::json!([])
    );
    assert_eq!(d.json(&["status", "--json"])["awaiting_conflicts"], 0);

    d.run(&["sync"]);
    d.assert_converged().await;
    for node in ["hub", "a", "b"] {
        assert_eq!(
            d.rows(node, "t_field").await,
            vec![
                row(1, "a1", 10, 1.0),
                row(2, "decided", 20, 2.0),
                row(3, "hub3", 30, 3.0)
            ],
            "{node}"
        );
    }
    let text = d.run(&["conflicts"]);
    assert!(text.contains("kept value decided"), "{text}");
}
