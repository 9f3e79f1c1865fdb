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

/// Drops the capture trigger for updates of `table` on `node` (or takes
/// the table out of the publication where capture decodes the log, or
/// drops its snapshot where capture compares with one).
async fn drop_update_trigger(d: &Deploy, node: &str, table: &str) {
    let kind = d.node(node).kind.name;
    let sql = match kind {
        "postgres" | "kingbase-odbc" => {
            format!("DROP TRIGGER \"_hetsync_update\" ON \"{table}\"")
        }
        // Capture by decoding: the table leaves the publication.
        "postgres-logical" => format!(
            "DO $$ BEGIN EXECUTE format('ALTER PUBLICATION %I DROP TABLE \"{table}\"', \
             'hetsync_' || left(md5(current_database() || '.' || current_schema()), 20)); END $$"
        ),
        // Capture by snapshot difference: the table's snapshot goes.
        "sqlite-snapshot" | "sqlite-odbc" | "mariadb-odbc" => {
            format!("DROP TABLE \"_hetsync_snap_{table}\"")
        }
        "sqlite" | "mysql" => {
            let find = if kind == "sqlite" {
                format!(
                    "SELECT name FROM sqlite_master WHERE type = 'trigger' \
                     AND tbl_name = '{table}' AND name LIKE '%update%'"
                )
            } else {
                format!(
                    "SELECT CAST(trigger_name AS CHAR) FROM information_schema.triggers \
                     WHERE trigger_schema = DATABASE() AND event_object_table = '{table}' \
                     AND event_manipulation = 'UPDATE'"
                )
            };
            let rows = d.query(node, &find).await;
            let Some(Value::Text(name)) = rows.first().and_then(|r| r.first()) else {
                panic!("no update trigger on {node}: {rows:?}");
            };
            format!("DROP TRIGGER \"{name}\"")
        }
        other => panic!("no trigger to drop on {other}"),
    };
    d.exec(node, &sql).await;
}

/// A dropped capture trigger stops the node's rounds with an error naming
/// the node and the trigger (nothing is read from it meanwhile, so nothing
/// it captured is lost); `status` says so; `install` repairs it, and then
/// edits are captured again.
async fn a_dropped_trigger_stops_the_node_until_install_repairs_it(topology: Topology) {
    let d = Deploy::with(topology, &["a"], &BASIC[..1]).await;
    d.insert_series("hub", "t_field", 3, "'x', i, 0.5").await;
    d.installed().await;
    for node in ["a", "hub"] {
        drop_update_trigger(&d, node, "t_field").await;
        d.exec(node, "UPDATE t_field SET a = 'unseen' WHERE k = 1")
            .await;
        let out = hetsync(&d.config(), &["sync"]);
        let text = output_text(&out);
        assert_eq!(out.status.code(), Some(1), "{topology:?} {node}: {text}");
        // The trigger, or (capture by decoding) the table's publication.
        let object = match d.node(node).kind.name {
            "postgres-logical" => "t_field",
            _ => "_hetsync_",
        };
        assert!(
            text.contains(&format!("node '{node}': hetsync's capture is broken"))
                && text.contains(object)
                && (text.contains("is missing") || text.contains("altered"))
                && text.contains("hetsync install"),
            "{topology:?} {node}: the error names the node, the trigger and the way back\n{text}"
        );
        let out = hetsync(&d.config(), &["status"]);
        let text = output_text(&out);
        assert!(
            text.contains("capture is broken"),
            "{topology:?} {node}: status shows it\n{text}"
        );

        let out = hetsync(&d.config(), &["install"]);
        assert!(out.status.success(), "{}", output_text(&out));
        let out = hetsync(&d.config(), &["sync"]);
        assert!(
            out.status.success(),
            "{topology:?} {node}: {}",
            output_text(&out)
        );
        // The uncaptured edit is still only where it was made: verify says so.
        let out = hetsync(&d.config(), &["verify"]);
        assert_eq!(out.status.code(), Some(3), "{}", output_text(&out));
        // Edits are captured again: the row's next edit goes everywhere.
        d.exec(node, "UPDATE t_field SET a = 'seen', b = 7 WHERE k = 1")
            .await;
        let out = hetsync(&d.config(), &["sync"]);
        assert!(out.status.success(), "{}", output_text(&out));
        let out = hetsync(&d.config(), &["verify"]);
        assert!(
            out.status.success(),
            "{topology:?} {node}: {}",
            output_text(&out)
        );
    }
}

/// A disabled PostgreSQL trigger is an altered one.
#[tokio::test]
async fn a_disabled_postgres_trigger_is_refused() {
    let topology = support::MIXED
        .iter()
        .copied()
        .find(|t| t.hub.name == "postgres")
        .expect("a topology with a PostgreSQL hub");
    let d = Deploy::with(topology, &["a"], &BASIC[..1]).await;
    d.installed().await;
    d.exec(
        "hub",
        "ALTER TABLE t_field DISABLE TRIGGER \"_hetsync_update\"",
    )
    .await;
    let out = hetsync(&d.config(), &["sync"]);
    let text = output_text(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("trigger _hetsync_update on t_field was altered or disabled"),
        "{text}"
    );
    let out = hetsync(&d.config(), &["install"]);
    assert!(out.status.success(), "{}", output_text(&out));
    let out = hetsync(&d.config(), &["sync"]);
    assert!(out.status.success(), "{}", output_text(&out));
}

/// A table without a unique key on its code.
const DUP: &[support::TableSpec] = &[support::TableSpec {
    name: "dup",
    ddl: &[
        ("sqlite", r#"CREATE TABLE "dup" ("k" TEXT, "v" TEXT)"#),
        ("postgres", r#"CREATE TABLE "dup" ("k" text, "v" text)"#),
        ("mysql", r#"CREATE TABLE "dup" ("k" text, "v" text)"#),
    ],
    config: "[[table]]\nname = \"dup\"\ncode = [\"k\"]\n",
}];

/// A code that two rows share would silently lose one of them: install
/// refuses the node, naming the table, the code columns and the repeated
/// codes, and changes nothing there; once the code is unique it installs.
async fn install_refuses_a_code_that_is_not_unique(topology: Topology) {
    let d = Deploy::with(topology, &["a"], DUP).await;
    d.exec(
        "a",
        "INSERT INTO dup VALUES ('A', 'one'), ('A', 'two'), ('B', 'three')",
    )
    .await;
    let out = hetsync(&d.config(), &["install"]);
    let text = output_text(&out);
    assert_eq!(out.status.code(), Some(1), "{topology:?}: {text}");
    assert!(
        text.contains("table 'dup'")
            && text.contains("on node 'a' the combined code (k) is not unique: ('A') × 2"),
        "{topology:?}: {text}"
    );
    assert_eq!(
        d.query("a", "SELECT count(*) FROM dup").await[0][0],
        Value::Int(3),
        "{topology:?}: the rows are untouched"
    );
    d.exec("a", "UPDATE dup SET k = 'C' WHERE v = 'two'").await;
    let out = hetsync(&d.config(), &["install"]);
    assert!(out.status.success(), "{topology:?}: {}", output_text(&out));
}

/// A code repeated after install (the unique key dropped, say) stops the
/// round naming node, table and code, where one of the rows would have
/// been lost; once one of them is gone the copies converge.
async fn sync_refuses_rows_that_share_a_code(topology: Topology) {
    let d = Deploy::with(topology, &["a"], DUP).await;
    assert!(hetsync(&d.config(), &["install"]).status.success());
    d.exec("a", "INSERT INTO dup VALUES ('A', 'one'), ('A', 'two')")
        .await;
    let out = hetsync(&d.config(), &["sync"]);
    let text = output_text(&out);
    assert_eq!(out.status.code(), Some(1), "{topology:?}: {text}");
    assert!(
        text.contains(
            "table 'dup', combined code [\"A\"]: node 'a' has more than one row with this code"
        ),
        "{topology:?}: {text}"
    );
    assert!(d.rows("hub", "dup").await.is_empty(), "{topology:?}");
    d.exec("a", "DELETE FROM dup WHERE v = 'two'").await;
    let out = hetsync(&d.config(), &["sync"]);
    assert!(out.status.success(), "{topology:?}: {}", output_text(&out));
    d.assert_converged().await;
    assert_eq!(d.rows("hub", "dup").await.len(), 1, "{topology:?}");
}

on_every_topology!(
    sync_refuses_rows_that_share_a_code,
    a_table_added_to_the_config_is_backfilled,
    a_dropped_trigger_stops_the_node_until_install_repairs_it,
    a_row_without_a_code_blocks_only_until_it_is_fixed,
    install_refuses_a_code_that_is_not_unique
);

/// A spoke restored from an older backup (here: its SQLite file) has
/// tracking positions the hub already integrated: its next edits are read
/// all the same (the round re-reads its whole tracking table and says so),
/// and copies converge on the later changes.
#[tokio::test]
async fn a_spoke_restored_from_an_older_backup_loses_no_edit() {
    let d = Deploy::new(&["a"], &BASIC[..1]).await;
    d.insert_series("hub", "t_field", 3, "'x', i, 0.5").await;
    d.installed().await;
    let backup = d.dir.path().join("a.backup");
    std::fs::copy(d.db("a"), &backup).unwrap();
    // Synced after the backup: the hub integrates the spoke's later positions.
    for k in 1..=3 {
        d.exec("a", &format!("UPDATE t_field SET b = b + 10 WHERE k = {k}"))
            .await;
    }
    let out = hetsync(&d.config(), &["sync"]);
    assert!(out.status.success(), "{}", output_text(&out));
    std::fs::copy(&backup, d.db("a")).unwrap();
    d.exec(
        "a",
        "UPDATE t_field SET a = 'after the restore' WHERE k = 2",
    )
    .await;
    let out = hetsync(&d.config(), &["sync"]);
    let text = output_text(&out);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("tracking table went back") && text.contains("a"),
        "the round says it re-read the spoke's changes\n{text}"
    );
    let out = hetsync(&d.config(), &["verify"]);
    assert!(out.status.success(), "{}", output_text(&out));
    let hub = d.rows("hub", "t_field").await;
    assert_eq!(hub[1][1], Value::Text("after the restore".into()));
    assert_eq!(
        hub[1][2],
        Value::Int(12),
        "the hub's later value of the other field came back down"
    );
}

/// `uninstall` refuses while a spoke has changes not yet synced, saying how
/// many; `--force` removes capture anyway.
#[tokio::test]
async fn uninstall_refuses_to_discard_unsynced_changes() {
    let d = Deploy::new(&["a"], &BASIC[..1]).await;
    d.installed().await;
    d.exec("a", "INSERT INTO t_field VALUES (1, 'unsynced', 1, 1.0)")
        .await;
    let out = hetsync(&d.config(), &["uninstall"]);
    let text = output_text(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("spoke 'a' has 1 change(s) to send") && text.contains("--force"),
        "{text}"
    );
    assert_eq!(d.tracking_rows("a").await, 1, "capture is still there");
    let out = hetsync(&d.config(), &["sync"]);
    assert!(out.status.success(), "{}", output_text(&out));
    let out = hetsync(&d.config(), &["uninstall"]);
    assert!(out.status.success(), "synced: {}", output_text(&out));

    let out = hetsync(&d.config(), &["install"]);
    assert!(out.status.success(), "{}", output_text(&out));
    d.exec("a", "UPDATE t_field SET a = 'again' WHERE k = 1")
        .await;
    let out = hetsync(&d.config(), &["uninstall", "--force"]);
    assert!(out.status.success(), "{}", output_text(&out));
}

/// `status --check` exits 1 when a spoke's last round failed, it never
/// synced or its lag is over `--max-lag`, naming the spoke; 0 otherwise.
#[tokio::test]
async fn status_check_fails_on_a_failed_round_or_lag() {
    let d = Deploy::new(&["a"], &BASIC[..1]).await;
    let out = hetsync(&d.config(), &["install"]);
    assert!(out.status.success(), "{}", output_text(&out));
    let out = hetsync(&d.config(), &["status", "--check"]);
    assert_eq!(out.status.code(), Some(1), "{}", output_text(&out));
    assert!(output_text(&out).contains("spoke 'a' never synced"));

    let out = hetsync(&d.config(), &["sync"]);
    assert!(out.status.success(), "{}", output_text(&out));
    let out = hetsync(&d.config(), &["status", "--check"]);
    assert!(out.status.success(), "{}", output_text(&out));
    let out = hetsync(&d.config(), &["status", "--check", "--max-lag", "1h"]);
    assert!(out.status.success(), "{}", output_text(&out));
    std::thread::sleep(std::time::Duration::from_millis(20));
    let out = hetsync(&d.config(), &["status", "--check", "--max-lag", "10ms"]);
    assert_eq!(out.status.code(), Some(1), "{}", output_text(&out));
    assert!(output_text(&out).contains("spoke 'a': last successful round"));

    let failed = support::hetsync_command(&d.config(), &["sync", "--json"])
        .env("HETSYNC_FAULT", "after_read:error")
        .output()
        .unwrap();
    assert_eq!(failed.status.code(), Some(1));
    // `sync --json` reports the failed spoke as an object with its error.
    let rounds: serde_json::Value = serde_json::from_slice(&failed.stdout).unwrap();
    assert_eq!(rounds[0]["spoke"], "a", "{rounds}");
    assert!(
        rounds[0]["error"]
            .as_str()
            .is_some_and(|e| e.contains("after_read")),
        "{rounds}"
    );
    let out = hetsync(&d.config(), &["status", "--check"]);
    let text = output_text(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("spoke 'a': its last round failed"), "{text}");
}

/// Output to a reader that went away ends the process quietly, never with
/// a panic.
#[tokio::test]
async fn a_closed_pipe_is_no_panic() {
    let d = Deploy::new(&["a"], &BASIC[..1]).await;
    d.installed().await;
    let mut child = support::hetsync_command(&d.config(), &["status"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        matches!(out.status.code(), Some(0 | 141)),
        "{:?} {stderr}",
        out.status
    );
}

/// PostgreSQL's NOTICEs (a second `install` meets its objects: "already
/// exists, skipping") and sqlx's statement logs stay out of stderr at
/// `--log info` unless the filter names sqlx.
#[tokio::test]
async fn driver_chatter_stays_out_of_the_log_unless_asked_for() {
    let topology = Topology {
        hub: support::POSTGRES,
        spokes: &[support::SQLITE],
    };
    let d = Deploy::with(topology, &["a"], &BASIC[..1]).await;
    assert!(hetsync(&d.config(), &["install"]).status.success());
    let out = hetsync(&d.config(), &["--log", "info", "install"]);
    let text = output_text(&out);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("installing capture"), "info is shown: {text}");
    assert!(!text.contains("skipping"), "no NOTICE at info: {text}");
    assert!(!text.contains("sqlx::query"), "no statement log: {text}");
    // Asked for by name, they are there: the check above can fail.
    let out = hetsync(&d.config(), &["--log", "info,sqlx=info", "install"]);
    let text = output_text(&out);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("skipping"),
        "the NOTICEs, when asked for: {text}"
    );
}

/// A table whose code column may hold NULL.
const NK: &[support::TableSpec] = &[support::TableSpec {
    name: "nk",
    ddl: &[
        (
            "sqlite",
            r#"CREATE TABLE "nk" ("k" INTEGER UNIQUE, "v" TEXT)"#,
        ),
        (
            "postgres",
            r#"CREATE TABLE "nk" ("k" bigint UNIQUE, "v" text)"#,
        ),
        (
            "mysql",
            r#"CREATE TABLE "nk" ("k" bigint UNIQUE, "v" text)"#,
        ),
    ],
    config: "[[table]]\nname = \"nk\"\ncode = [\"k\"]\n",
}];

/// A row without a code (a NULL in its code column) cannot be synced: the
/// round stops with an error naming the node, the table and the column
/// while such a row exists, and goes on once it was fixed at the source
/// (deleted, or given a code), with nothing else lost.
async fn a_row_without_a_code_blocks_only_until_it_is_fixed(topology: Topology) {
    let d = Deploy::with(topology, &["a"], NK).await;
    d.installed().await;
    d.exec("a", "INSERT INTO nk VALUES (NULL, 'no code')").await;
    d.exec("a", "INSERT INTO nk VALUES (1, 'fine')").await;
    let out = hetsync(&d.config(), &["sync"]);
    let text = output_text(&out);
    assert_eq!(out.status.code(), Some(1), "{topology:?}: {text}");
    assert!(
        text.contains("table 'nk'") && text.contains("node 'a'") && text.contains("(k)"),
        "{topology:?}: the error names the node, table and code column\n{text}"
    );
    // Given a code: the change of code is the NULL row leaving and row 2
    // arriving.
    d.exec("a", "UPDATE nk SET k = 2 WHERE k IS NULL").await;
    let out = hetsync(&d.config(), &["sync"]);
    assert!(out.status.success(), "{topology:?}: {}", output_text(&out));
    let rows = d.rows("hub", "nk").await;
    assert_eq!(rows.len(), 2, "{topology:?}: {rows:?}");
    assert_eq!(rows[1][1], Value::Text("no code".into()), "{topology:?}");
    // Deleted: the inserted-then-deleted NULL row is passed over.
    d.exec("a", "INSERT INTO nk VALUES (NULL, 'again')").await;
    d.exec("a", "DELETE FROM nk WHERE k IS NULL").await;
    d.exec("a", "INSERT INTO nk VALUES (3, 'after')").await;
    let out = hetsync(&d.config(), &["sync"]);
    assert!(out.status.success(), "{topology:?}: {}", output_text(&out));
    assert_eq!(d.rows("hub", "nk").await.len(), 3, "{topology:?}");
    let out = hetsync(&d.config(), &["verify"]);
    assert!(out.status.success(), "{topology:?}: {}", output_text(&out));
}

/// `discover` marks a code column the hub's table lacks as an error and
/// exits 2, as it does for a table missing on a node.
#[tokio::test]
async fn discover_refuses_a_code_column_that_does_not_exist() {
    let d = Deploy::new(&["a"], &BASIC[..1]).await;
    let out = hetsync(&d.config(), &["discover"]);
    assert!(out.status.success(), "{}", output_text(&out));
    assert!(output_text(&out).contains("✔ t_field"));
    d.edit_config("code = [\"k\"]", "code = [\"nope\"]");
    let out = hetsync(&d.config(), &["discover"]);
    let text = output_text(&out);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(
        text.contains("✘ t_field: code column(s) nope missing on the hub")
            && !text.contains("✔ t_field"),
        "{text}"
    );
}

/// A node's entry in `status --json`.
fn node_in(status: &serde_json::Value, name: &str) -> serde_json::Value {
    status["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["name"] == name)
        .unwrap_or_else(|| panic!("no {name} in {status}"))
        .clone()
}

/// Points a spoke of `d` at another adapter and URL.
fn repoint(d: &Deploy, spoke: &str, adapter: &str, url: &str, extra: &str) {
    let node = d.node(spoke);
    d.edit_config(
        &format!(
            "name = \"{spoke}\"\nadapter = \"{}\"\nurl = \"{}\"\n",
            node.kind.family, node.url
        ),
        &format!("name = \"{spoke}\"\nadapter = \"{adapter}\"\nurl = \"{url}\"\n{extra}"),
    );
}

/// A spoke that refuses connections and one that never answers stop only
/// themselves: `sync` syncs the healthy spoke, then exits 1 naming both
/// (host and port); `sync --node` of the healthy one succeeds; `status`
/// reports them as unreachable and the others as usual, within the connect
/// timeout. With the hub unreachable every round fails, and `status` still
/// reports the spokes.
#[tokio::test]
async fn an_unreachable_node_stops_only_itself() {
    let d = Deploy::new(&["a", "b", "c"], &BASIC[..1]).await;
    assert!(hetsync(&d.config(), &["install"]).status.success());
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_port = silent.local_addr().unwrap().port();
    repoint(
        &d,
        "b",
        "postgres",
        "postgres://sync:pw@127.0.0.1:1/plan",
        "",
    );
    repoint(
        &d,
        "c",
        "mysql",
        &format!("mysql://sync:pw@127.0.0.1:{silent_port}/plan"),
        "options = { connect_timeout = \"1s\" }\n",
    );
    d.exec("hub", "INSERT INTO t_field VALUES (1, 'x', 1, 1.0)")
        .await;
    d.exec("a", "INSERT INTO t_field VALUES (2, 'y', 2, 2.0)")
        .await;

    let started = std::time::Instant::now();
    let out = hetsync(&d.config(), &["sync"]);
    let text = output_text(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("round failed for b: cannot connect to node 'b': 127.0.0.1:1:"),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "round failed for c: cannot connect to node 'c': 127.0.0.1:{silent_port}: no answer within 1s"
        )),
        "{text}"
    );
    assert!(!text.contains("pw@"), "a secret reached the output: {text}");
    assert_eq!(
        d.rows("a", "t_field").await,
        d.rows("hub", "t_field").await,
        "the healthy spoke synced"
    );
    assert_eq!(d.rows("hub", "t_field").await.len(), 2);

    d.exec("hub", "UPDATE t_field SET a = 'z' WHERE k = 1")
        .await;
    let out = hetsync(&d.config(), &["sync", "--node", "a"]);
    assert!(out.status.success(), "{}", output_text(&out));
    assert_eq!(
        d.scalar_text("a", "SELECT a FROM t_field WHERE k = 1")
            .await,
        Some("z".into())
    );

    let out = hetsync(&d.config(), &["status", "--json"]);
    assert!(out.status.success(), "{}", output_text(&out));
    let status: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let node = |name: &str| node_in(&status, name);
    assert_eq!(node("a")["unreachable"], false, "{status}");
    assert_eq!(node("a")["pending_upload"], 0, "{status}");
    for name in ["b", "c"] {
        assert_eq!(node(name)["unreachable"], true, "{status}");
        assert!(
            node(name)["error"]
                .as_str()
                .is_some_and(|e| e.contains(&format!("cannot connect to node '{name}'"))),
            "{status}"
        );
    }
    let out = hetsync(&d.config(), &["status"]);
    assert!(
        output_text(&out).contains("unreachable"),
        "{}",
        output_text(&out)
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(30),
        "the silent node held the commands up: {:?}",
        started.elapsed()
    );
    let out = hetsync(&d.config(), &["status", "--check"]);
    assert_eq!(out.status.code(), Some(1), "{}", output_text(&out));
    let out = hetsync(&d.config(), &["verify"]);
    let text = output_text(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("cannot connect to node 'b'"), "{text}");

    // The hub itself unreachable: rounds fail naming it, status goes on.
    d.edit_config(
        &format!("url = \"{}\"", d.node("hub").url),
        "url = \"hub-moved-away.db\"",
    );
    let out = hetsync(&d.config(), &["sync", "--node", "a"]);
    let text = output_text(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("cannot connect to node 'hub'"), "{text}");
    let out = hetsync(&d.config(), &["status", "--json"]);
    assert!(out.status.success(), "{}", output_text(&out));
    let status: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let node = |name: &str| node_in(&status, name);
    assert_eq!(node("hub")["unreachable"], true, "{status}");
    assert_eq!(node("a")["installed"], true, "{status}");
    assert!(node("a")["last_success"].is_object(), "{status}");
}

/// SQLite stores any kind of value in any column. A BLOB in a TEXT column
/// is refused, naming table, code and column, where PostgreSQL would have
/// made it the text `\x00ff10` and MariaDB raw bytes; once it is text the
/// row syncs.
#[tokio::test]
async fn a_blob_in_a_sqlite_text_column_is_refused() {
    let topology = Topology {
        hub: support::POSTGRES,
        spokes: &[support::MYSQL, support::SQLITE],
    };
    let d = Deploy::with(topology, &["m", "s"], &BASIC[..1]).await;
    assert!(hetsync(&d.config(), &["install"]).status.success());
    d.exec("s", "INSERT INTO t_field VALUES (5, X'00ff10', 1, 1.0)")
        .await;
    d.exec("s", "INSERT INTO t_field VALUES (6, 'fine', 1, 1.0)")
        .await;
    let out = hetsync(&d.config(), &["sync"]);
    let text = output_text(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains(
            "round failed for s: table 't_field', combined code [5]: column 'a' (TEXT) on node 's' \
             holds a BLOB (3 bytes), which is not a text"
        ),
        "{text}"
    );
    for node in ["hub", "m"] {
        assert!(d.rows(node, "t_field").await.is_empty(), "{node}");
    }
    d.exec("s", "UPDATE t_field SET a = 'now text' WHERE k = 5")
        .await;
    let out = hetsync(&d.config(), &["sync"]);
    assert!(out.status.success(), "{}", output_text(&out));
    d.assert_converged().await;
    assert_eq!(
        d.scalar_text("hub", "SELECT a FROM t_field WHERE k = 5")
            .await,
        Some("now text".into())
    );
    // An incremental round reads the changed row the same way.
    d.exec("s", "UPDATE t_field SET a = X'01' WHERE k = 6")
        .await;
    let out = hetsync(&d.config(), &["sync", "--node", "s"]);
    let text = output_text(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("combined code [6]: column 'a' (TEXT) on node 's' holds a BLOB (1 bytes)"),
        "{text}"
    );
    assert_eq!(
        d.scalar_text("hub", "SELECT a FROM t_field WHERE k = 6")
            .await,
        Some("fine".into())
    );
}

/// The ids, nodes and codes of `hetsync parked --json`.
fn parked(d: &Deploy) -> Vec<(i64, String, String)> {
    let out = hetsync(&d.config(), &["parked", "--json"]);
    assert!(out.status.success(), "{}", output_text(&out));
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    list.as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["id"].as_i64().unwrap(),
                p["node"].as_str().unwrap().to_string(),
                p["code"].to_string(),
            )
        })
        .collect()
}

/// With `[sync] on_error = "park"` a change that cannot be synced as it is
/// (a BLOB in a SQLite TEXT column; a hub change of a row the spoke holds
/// such a value in) is parked with its error and the rest of the round
/// goes on; `status` counts it; a later change of the row that syncs
/// settles it; `parked retry` reads it again (parked anew while it is still
/// wrong); `parked drop` forgets it.
#[tokio::test]
async fn a_change_that_cannot_be_synced_is_parked_and_the_round_goes_on() {
    let d = Deploy::new(&["a"], &BASIC[..1]).await;
    d.append_config("[sync]\non_error = \"park\"\n");
    assert!(hetsync(&d.config(), &["install"]).status.success());
    d.exec("a", "INSERT INTO t_field VALUES (5, X'00ff10', 1, 1.0)")
        .await;
    d.exec("a", "INSERT INTO t_field VALUES (6, 'fine', 1, 1.0)")
        .await;
    let out = hetsync(&d.config(), &["sync"]);
    let text = output_text(&out);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("1 change(s) parked"), "{text}");
    assert_eq!(d.rows("hub", "t_field").await.len(), 1, "row 6 synced");
    let list = parked(&d);
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!((list[0].1.as_str(), list[0].2.as_str()), ("a", "[5]"));
    let out = hetsync(&d.config(), &["parked"]);
    assert!(
        output_text(&out).contains("holds a BLOB (3 bytes), which is not a text"),
        "{}",
        output_text(&out)
    );
    let out = hetsync(&d.config(), &["status", "--json"]);
    let status: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(node_in(&status, "a")["parked"], 1, "{status}");

    // A retry while the value is still wrong parks it anew.
    let id = list[0].0.to_string();
    assert!(hetsync(&d.config(), &["parked", "retry", &id])
        .status
        .success());
    assert!(hetsync(&d.config(), &["sync"]).status.success());
    let again = parked(&d);
    assert_eq!(again.len(), 1);
    assert_ne!(again[0].0, list[0].0, "read again and parked anew");
    assert_eq!(d.rows("hub", "t_field").await.len(), 1);
    // Fixed where it was made: the next round syncs it and the parked
    // change is settled.
    d.exec("a", "UPDATE t_field SET a = 'now text' WHERE k = 5")
        .await;
    assert!(hetsync(&d.config(), &["sync"]).status.success());
    assert_eq!(
        d.scalar_text("hub", "SELECT a FROM t_field WHERE k = 5")
            .await,
        Some("now text".into())
    );
    assert!(parked(&d).is_empty());

    // The hub changes a row the spoke holds an unreadable value in (put
    // there without capture): the hub's change is parked.
    d.exec_uncaptured("a", "UPDATE t_field SET a = X'02' WHERE k = 6")
        .await;
    d.exec("hub", "UPDATE t_field SET b = 9 WHERE k = 6").await;
    let out = hetsync(&d.config(), &["sync"]);
    assert!(out.status.success(), "{}", output_text(&out));
    let list = parked(&d);
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!((list[0].1.as_str(), list[0].2.as_str()), ("hub", "[6]"));
    // Dropped: forgotten.
    let id = list[0].0.to_string();
    let out = hetsync(&d.config(), &["parked", "drop", &id]);
    assert!(out.status.success(), "{}", output_text(&out));
    assert!(parked(&d).is_empty());
    let out = hetsync(&d.config(), &["parked", "drop", &id]);
    assert_eq!(out.status.code(), Some(1), "{}", output_text(&out));
    assert!(output_text(&out).contains(&format!("no parked change with id {id}")));
}

/// With `[sync] on_error = "park"` the changes of rows without a code are
/// parked under the table (code `[]`) and the round goes on with the other
/// rows; the change that fixes them at the source settles the parked one.
#[tokio::test]
async fn a_row_without_a_code_is_parked() {
    let d = Deploy::new(&["a"], NK).await;
    d.append_config("[sync]\non_error = \"park\"\n");
    d.installed().await;
    d.exec("a", "INSERT INTO nk VALUES (NULL, 'no code')").await;
    d.exec("a", "INSERT INTO nk VALUES (1, 'fine')").await;
    let out = hetsync(&d.config(), &["sync"]);
    let text = output_text(&out);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("1 change(s) parked"), "{text}");
    assert_eq!(d.rows("hub", "nk").await.len(), 1, "row 1 synced");
    let list = parked(&d);
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!((list[0].1.as_str(), list[0].2.as_str()), ("a", "[]"));
    let out = hetsync(&d.config(), &["parked"]);
    let text = output_text(&out);
    assert!(
        text.contains("1 row(s) have a NULL in their combined code (k)"),
        "{text}"
    );
    // Rounds without a new change of it keep it parked and go on.
    d.exec("a", "INSERT INTO nk VALUES (3, 'later')").await;
    assert!(hetsync(&d.config(), &["sync"]).status.success());
    assert_eq!(d.rows("hub", "nk").await.len(), 2);
    assert_eq!(parked(&d).len(), 1);
    // Given a code at the source: it syncs and the parked change settles.
    d.exec("a", "UPDATE nk SET k = 2 WHERE k IS NULL").await;
    let out = hetsync(&d.config(), &["sync"]);
    assert!(out.status.success(), "{}", output_text(&out));
    assert_eq!(
        d.scalar_text("hub", "SELECT v FROM nk WHERE k = 2").await,
        Some("no code".into())
    );
    assert!(parked(&d).is_empty());
    assert!(hetsync(&d.config(), &["verify"]).status.success());
}

/// With `[sync] on_error = "park"` a row the hub's own constraint refuses
/// (a unique index only the hub has) is parked and the spoke's other rows
/// go up; once it is changed to fit, it syncs and the parked change is
/// settled. With `stop` the round fails naming the node, writing nothing.
#[tokio::test]
async fn a_write_the_destination_refuses_is_parked() {
    let d = Deploy::new(&["a"], &BASIC[..1]).await;
    assert!(hetsync(&d.config(), &["install"]).status.success());
    assert!(hetsync(&d.config(), &["sync"]).status.success());
    d.exec("hub", "CREATE UNIQUE INDEX hub_only ON t_field(a)")
        .await;
    d.exec(
        "a",
        "INSERT INTO t_field VALUES (1, 'same', 1, 1.0), (2, 'same', 2, 2.0), (3, 'other', 3, 3.0)",
    )
    .await;
    let out = hetsync(&d.config(), &["sync"]);
    let text = output_text(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("node 'hub' refused a write by one of its constraints"),
        "{text}"
    );
    assert!(d.rows("hub", "t_field").await.is_empty());

    d.append_config("[sync]\non_error = \"park\"\n");
    let out = hetsync(&d.config(), &["sync"]);
    let text = output_text(&out);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("1 change(s) parked"), "{text}");
    let keys: Vec<Value> = d
        .rows("hub", "t_field")
        .await
        .into_iter()
        .map(|r| r[0].clone())
        .collect();
    assert_eq!(keys, vec![Value::Int(1), Value::Int(3)]);
    let list = parked(&d);
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!((list[0].1.as_str(), list[0].2.as_str()), ("a", "[2]"));
    let out = hetsync(&d.config(), &["parked"]);
    assert!(
        output_text(&out).contains("node 'hub' refused it"),
        "{}",
        output_text(&out)
    );

    d.exec("a", "UPDATE t_field SET a = 'third' WHERE k = 2")
        .await;
    assert!(hetsync(&d.config(), &["sync"]).status.success());
    assert_eq!(d.rows("hub", "t_field").await.len(), 3);
    assert!(parked(&d).is_empty());
    d.assert_converged().await;
}
