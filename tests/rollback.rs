//! Round backups and rollback on real databases (a PostgreSQL hub with a
//! MariaDB and a SQLite spoke): with `[sync] backup = "round"` a round
//! keeps the rows it writes as they were, and `hetsync rollback ROUND_ID
//! [--node N]` writes them back as new changes that every node follows,
//! whether the round wrote them on the hub or on a spoke.

mod support;

use support::{basic_row as row, hetsync, output_text, Deploy, BASIC, MIXED};

#[tokio::test(flavor = "multi_thread")]
async fn a_round_rolled_back_on_the_hub_or_a_spoke_is_undone_everywhere() {
    let d = Deploy::with(MIXED[0], &["a", "b"], &BASIC[..1]).await;
    d.append_config("[sync]\nbackup = \"round\"\nbackup_keep = 5\n");
    d.exec(
        "hub",
        "INSERT INTO t_field VALUES (1, 'x', 1, 1.0), (2, 'y', 2, 2.0)",
    )
    .await;
    d.run(&["install"]);
    d.run(&["sync"]);
    let before = d.rows("hub", "t_field").await;

    // a's round takes edits someone regrets, and they reach everyone.
    d.exec("a", "UPDATE t_field SET a = 'bad' WHERE k = 1")
        .await;
    d.exec("a", "DELETE FROM t_field WHERE k = 2").await;
    d.exec("a", "INSERT INTO t_field VALUES (3, 'new', 3, 3.0)")
        .await;
    let rounds = d.json(&["sync", "--node", "a", "--json"]);
    let id = rounds[0]["id"].as_str().expect("a round id").to_string();
    let text = d.run(&["sync"]);
    assert!(text.contains("; round "), "{text}");
    let regretted = vec![row(1, "bad", 1, 1.0), row(3, "new", 3, 3.0)];
    assert_eq!(d.rows("b", "t_field").await, regretted);

    // Rolled back where it wrote, the hub: rows 1 and 2 come back, row 3
    // goes, and every node follows.
    let done = d.json(&["rollback", &id, "--node", "hub", "--json"]);
    assert_eq!(done[0]["node"], "hub", "{done}");
    assert_eq!(done[0]["restored"]["t_field"], 2, "{done}");
    assert_eq!(done[0]["deleted"]["t_field"], 1, "{done}");
    assert_eq!(d.rows("hub", "t_field").await, before);
    d.sync_to_convergence().await;
    for node in ["a", "b"] {
        assert_eq!(d.rows(node, "t_field").await, before, "{node}");
    }

    // Rolled back on a spoke: b's copy goes back as b's own new change,
    // which the hub and a then take.
    d.exec("hub", "UPDATE t_field SET a = 'hub-late' WHERE k = 1")
        .await;
    let rounds = d.json(&["sync", "--node", "b", "--json"]);
    let id = rounds[0]["id"].as_str().expect("b's round id").to_string();
    assert_eq!(d.rows("b", "t_field").await[0], row(1, "hub-late", 1, 1.0));
    let done = d.json(&["rollback", &id, "--node", "b", "--json"]);
    assert_eq!(done[0]["restored"]["t_field"], 1, "{done}");
    d.sync_to_convergence().await;
    assert_eq!(d.rows("a", "t_field").await, before);

    let unknown = hetsync(&d.config(), &["rollback", "no-such-round"]);
    assert!(!unknown.status.success());
    assert!(
        output_text(&unknown).contains("no backup of round 'no-such-round'"),
        "{}",
        output_text(&unknown)
    );
}

/// The copies of node `node`'s SQLite file in the deployment's directory.
fn copies(d: &Deploy, node: &str) -> Vec<std::path::PathBuf> {
    let prefix = format!("{node}.db.bak-");
    let mut found: Vec<_> = std::fs::read_dir(d.dir.path())
        .expect("the deployment's directory")
        .map(|e| e.expect("an entry").path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with(&prefix))
        })
        .collect();
    found.sort();
    found
}

#[tokio::test(flavor = "multi_thread")]
async fn backup_file_copies_a_sqlite_node_whole_and_keeps_rows_of_the_others() {
    use sqlx::Connection;
    let d = Deploy::with(MIXED[0], &["a", "b"], &BASIC[..1]).await;
    d.append_config("[sync]\nbackup = \"file\"\nbackup_keep = 2\n");
    d.exec("hub", "INSERT INTO t_field VALUES (1, 'x', 1, 1.0)")
        .await;
    d.run(&["install"]);
    d.run(&["sync"]);
    assert_eq!(
        copies(&d, "b").len(),
        1,
        "b was copied before its first round"
    );
    assert!(copies(&d, "a").is_empty(), "a MariaDB node is no file");

    // b's copy holds b as it was before the round wrote to it.
    d.exec("hub", "UPDATE t_field SET a = 'later' WHERE k = 1")
        .await;
    let rounds = d.json(&["sync", "--node", "b", "--json"]);
    let backups = rounds[0]["backups"].as_array().expect("backups").clone();
    assert_eq!(backups.len(), 1, "{rounds}");
    let id = rounds[0]["id"].as_str().expect("an id");
    let copy = backups[0].as_str().expect("a path").to_string();
    assert!(copy.ends_with(&format!("b.db.bak-{id}")), "{copy}");
    let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{copy}?mode=ro"))
        .await
        .expect("the copy opens as a database");
    let a: String = sqlx::query_scalar("SELECT a FROM t_field WHERE k = 1")
        .fetch_one(&mut conn)
        .await
        .expect("the copy has the table");
    assert_eq!(a, "x");
    drop(conn);
    assert_eq!(d.rows("b", "t_field").await, vec![row(1, "later", 1, 1.0)]);

    // a, which is no file, keeps the rows its rounds write: rollback works.
    let rounds = d.json(&["sync", "--node", "a", "--json"]);
    let id = rounds[0]["id"].as_str().expect("a's round id").to_string();
    assert_eq!(rounds[0]["backups"], serde_json::json!([]), "{rounds}");
    d.json(&["rollback", &id, "--node", "a", "--json"]);
    assert_eq!(d.rows("a", "t_field").await, vec![row(1, "x", 1, 1.0)]);

    // Only the newest backup_keep copies stay.
    for n in 0..3 {
        d.exec("hub", &format!("UPDATE t_field SET b = {n} WHERE k = 1"))
            .await;
        d.run(&["sync", "--node", "b"]);
    }
    assert_eq!(copies(&d, "b").len(), 2, "{:?}", copies(&d, "b"));
}
