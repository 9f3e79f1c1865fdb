//! The `hetsync` binary as an operator uses it: the demo, the sqlite3 shell,
//! config errors, exit codes, install/uninstall, status and JSON output.

mod support;

use std::path::Path;
use std::process::Command;
use support::{Deploy, BASIC};

use support::{hetsync, output_text as text};

fn sqlite3(db: &Path, sql: &str) -> String {
    let out = Command::new("sqlite3")
        .arg(db)
        .arg(sql)
        .output()
        .expect("the sqlite3 shell is installed");
    assert!(out.status.success(), "sqlite3: {}", text(&out));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
fn demo_runs_verifies_and_the_operator_can_keep_editing() {
    let dir = tempfile::tempdir().unwrap();
    let demo_dir = dir.path().join("demo");
    let out = Command::new(env!("CARGO_BIN_EXE_hetsync"))
        .args(["demo", "--dir"])
        .arg(&demo_dir)
        .output()
        .unwrap();
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(0), "{shown}");
    for expected in [
        "field 颜色: kept '紫'",
        "delete vs update",
        "all copies match",
        "变电站表",
    ] {
        assert!(
            shown.contains(expected),
            "demo output lacks {expected:?}:\n{shown}"
        );
    }
    let config = demo_dir.join("hetsync.toml");
    assert_eq!(hetsync(&config, &["verify"]).status.code(), Some(0));

    // The operator edits a planner's copy with the sqlite3 shell and syncs again.
    sqlite3(
        &demo_dir.join("planner_zhang.db"),
        "UPDATE 变电站表 SET 颜色 = '橙' WHERE ID = 1",
    );
    let sync = hetsync(&config, &["sync"]);
    assert!(sync.status.success(), "{}", text(&sync));
    assert_eq!(hetsync(&config, &["verify"]).status.code(), Some(0));
    assert_eq!(
        sqlite3(
            &demo_dir.join("planner_wang.db"),
            "SELECT 颜色 FROM 变电站表 WHERE ID = 1"
        ),
        "橙"
    );

    // Rerunning the demo replaces its own directory.
    let again = Command::new(env!("CARGO_BIN_EXE_hetsync"))
        .args(["demo", "--dir"])
        .arg(&demo_dir)
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(0), "{}", text(&again));
}

#[test]
fn demo_refuses_a_foreign_directory() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("precious.txt"), "keep me").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_hetsync"))
        .args(["demo", "--dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_ne!(out.status.code(), Some(0));
    assert!(text(&out).contains("not empty"), "{}", text(&out));
    assert!(dir.path().join("precious.txt").exists());
}

#[tokio::test]
async fn the_sqlite3_shell_is_captured_and_no_op_updates_are_not() {
    let d = Deploy::new(&["a"], BASIC).await;
    d.exec("hub", "INSERT INTO t_field VALUES (1, 'x', 1, 1.0)")
        .await;
    assert!(hetsync(&d.config(), &["install"]).status.success());
    assert!(hetsync(&d.config(), &["sync"]).status.success());
    sqlite3(
        &d.db("a"),
        "UPDATE t_field SET b = 7 WHERE k = 1; UPDATE t_field SET b = 7 WHERE k = 1;",
    );
    assert_eq!(
        sqlite3(
            &d.db("a"),
            "SELECT table_name, code, deleted, fields, origin IS NULL FROM _hetsync_tracking"
        ),
        r#"t_field|[1]|0|["b"]|1"#
    );
    assert!(sqlite3(&d.db("a"), "SELECT changed_at FROM _hetsync_tracking").ends_with('Z'));
    assert!(hetsync(&d.config(), &["sync"]).status.success());
    assert_eq!(
        sqlite3(&d.db("hub"), "SELECT b FROM t_field WHERE k = 1"),
        "7"
    );
}

#[tokio::test]
async fn status_and_sync_speak_json() {
    let d = Deploy::new(&["a", "b"], BASIC).await;
    assert!(hetsync(&d.config(), &["install"]).status.success());
    let before: serde_json::Value =
        serde_json::from_slice(&hetsync(&d.config(), &["status", "--json"]).stdout).unwrap();
    assert_eq!(
        before["nodes"][1]["hub_watermark"],
        serde_json::Value::Null,
        "never synced"
    );
    d.exec("a", "INSERT INTO t_row VALUES (1, 'a', 1, 1.0)")
        .await;
    let sync: serde_json::Value =
        serde_json::from_slice(&hetsync(&d.config(), &["sync", "--json"]).stdout).unwrap();
    assert_eq!(sync[0]["mode"], "full");
    assert_eq!(sync[0]["uploaded"]["t_row"]["upserts"], 1);
    d.exec("b", "INSERT INTO t_row VALUES (2, 'b', 2, 2.0)")
        .await;
    let status: serde_json::Value =
        serde_json::from_slice(&hetsync(&d.config(), &["status", "--json"]).stdout).unwrap();
    assert_eq!(status["nodes"][0]["role"], "hub");
    assert_eq!(status["nodes"][2]["name"], "b");
    assert_eq!(status["nodes"][2]["pending_upload"], 1);
    assert_eq!(status["nodes"][1]["pending_download"], 0);
    assert!(status["nodes"][1]["last_success"]["finished_at"].is_string());
}

/// The spokes of one `sync` as it ran them: (spoke, follow-up).
fn rounds_of(config: &Path) -> Vec<(String, bool)> {
    let out = hetsync(config, &["sync", "--json"]);
    assert!(out.status.success(), "{}", text(&out));
    let rounds: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    rounds
        .as_array()
        .expect("a list of rounds")
        .iter()
        .map(|r| {
            (
                r["spoke"].as_str().unwrap().to_string(),
                r["follow_up"].as_bool().unwrap(),
            )
        })
        .collect()
}

/// Without concurrent edits, one `sync` leaves every copy equal: rows a
/// later spoke uploads reach the spokes synced before it in a follow-up
/// round, and only when there are such rows.
#[tokio::test]
async fn one_sync_then_verify_agrees() {
    let d = Deploy::new(&["a", "b", "c"], BASIC).await;
    assert!(hetsync(&d.config(), &["install"]).status.success());
    assert_eq!(rounds_of(&d.config()).len(), 3, "nothing to follow up");
    d.exec("a", "INSERT INTO t_row VALUES (1, 'a', 1, 1.0)")
        .await;
    d.exec("c", "INSERT INTO t_field VALUES (3, 'c', 3, 3.0)")
        .await;
    d.exec("b", "INSERT INTO t_row VALUES (2, 'b', 2, 2.0)")
        .await;
    let owned = |r: &[(&str, bool)]| -> Vec<(String, bool)> {
        r.iter().map(|(s, f)| (s.to_string(), *f)).collect()
    };
    assert_eq!(
        rounds_of(&d.config()),
        owned(&[
            ("a", false),
            ("b", false),
            ("c", false),
            ("a", true),
            ("b", true)
        ])
    );
    let verify = hetsync(&d.config(), &["verify"]);
    assert_eq!(verify.status.code(), Some(0), "{}", text(&verify));
    d.exec("a", "UPDATE t_row SET a = 'a2' WHERE k = 1").await;
    assert_eq!(
        rounds_of(&d.config()),
        owned(&[("a", false), ("b", false), ("c", false)]),
        "the first spoke's upload reached the others in the pass itself"
    );
    let verify = hetsync(&d.config(), &["verify"]);
    assert_eq!(verify.status.code(), Some(0), "{}", text(&verify));
}

#[tokio::test]
async fn verify_lists_differences_and_exits_3() {
    let d = Deploy::new(&["a"], BASIC).await;
    d.exec(
        "hub",
        "INSERT INTO t_field VALUES (1, 'x', 1, 1.0), (2, 'y', 2, 2.0)",
    )
    .await;
    assert!(hetsync(&d.config(), &["install"]).status.success());
    assert!(hetsync(&d.config(), &["sync"]).status.success());
    // Edits behind hetsync's back (triggers dropped by hand) make copies differ.
    sqlite3(&d.db("a"), "DROP TRIGGER _hetsync_update_t_field; UPDATE t_field SET a = 'drift' WHERE k = 2; DELETE FROM t_field WHERE k = 1;");
    let out = hetsync(&d.config(), &["verify"]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    let shown = text(&out);
    assert!(
        shown.contains("missing [1]") && shown.contains("differs [2]: a"),
        "{shown}"
    );
    let json: serde_json::Value =
        serde_json::from_slice(&hetsync(&d.config(), &["verify", "--json"]).stdout).unwrap();
    assert_eq!(json["ok"], false);
}

#[tokio::test]
async fn uninstall_removes_exactly_what_install_made() {
    let d = Deploy::new(&["a"], BASIC).await;
    let schema = |db: &Path| {
        sqlite3(
            db,
            "SELECT type, name FROM sqlite_master WHERE name <> 'sqlite_sequence' ORDER BY 1, 2",
        )
    };
    let before = schema(&d.db("hub"));
    assert!(hetsync(&d.config(), &["install"]).status.success());
    assert!(
        hetsync(&d.config(), &["install"]).status.success(),
        "install is idempotent"
    );
    assert_eq!(
        sqlite3(
            &d.db("hub"),
            "SELECT count(*) FROM sqlite_master WHERE type = 'trigger'"
        ),
        "6"
    );
    assert!(hetsync(&d.config(), &["uninstall"]).status.success());
    assert_eq!(schema(&d.db("hub")), before);
    assert_eq!(schema(&d.db("a")), before);
}

#[test]
fn config_errors_name_file_line_and_key_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("hetsync.toml");
    std::fs::write(
        &config,
        "[[node]]\nname = \"hub\"\nadapter = \"sqlite\"\nurl = \"hub.db\"\nrole = \"hub\"\ncolour = \"red\"\n",
    )
    .unwrap();
    let out = hetsync(&config, &["status"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out).contains("hetsync.toml:6:1: unknown field `colour`"),
        "{}",
        text(&out)
    );

    std::fs::write(
        &config,
        "[[node]]\nname = \"hub\"\nadapter = \"oracle\"\nurl = \"hub.db\"\nrole = \"hub\"\n\n[[node]]\nname = \"a\"\nadapter = \"sqlite\"\nurl = \"a.db\"\nrole = \"spoke\"\n\n[[table]]\nname = \"t\"\ncode = [\"k\"]\n",
    )
    .unwrap();
    let out = hetsync(&config, &["status"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out).contains("hetsync.toml:3:11: node 'hub': unknown adapter 'oracle'"),
        "{}",
        text(&out)
    );
}

#[tokio::test]
async fn missing_tables_and_files_are_clear_errors() {
    let d = Deploy::new(&["a"], BASIC).await;
    sqlite3(&d.db("a"), "ALTER TABLE t_row ADD COLUMN extra TEXT");
    let out = hetsync(&d.config(), &["install"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out).contains("table 't_row': columns differ between the hub and node 'a'"),
        "{}",
        text(&out)
    );
    assert!(text(&out).contains("only there [extra]"), "{}", text(&out));
    std::fs::remove_file(d.db("a")).unwrap();
    let out = hetsync(&d.config(), &["install"]);
    assert!(
        text(&out).contains("cannot connect to node 'a'") && text(&out).contains("does not exist"),
        "{}",
        text(&out)
    );
}

#[tokio::test]
async fn a_broken_spoke_does_not_stop_the_others() {
    let d = Deploy::new(&["a", "b"], BASIC).await;
    assert!(hetsync(&d.config(), &["install"]).status.success());
    assert!(hetsync(&d.config(), &["sync"]).status.success());
    d.exec("b", "INSERT INTO t_row VALUES (1, 'b', 1, 1.0)")
        .await;
    // a loses its bookkeeping tables behind hetsync's back.
    sqlite3(&d.db("a"), "DROP TABLE _hetsync_peer");
    let out = hetsync(&d.config(), &["sync"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("round failed for a"), "{}", text(&out));
    assert_eq!(
        sqlite3(&d.db("hub"), "SELECT a FROM t_row WHERE k = 1"),
        "b",
        "b still synced"
    );
    let status = text(&hetsync(&d.config(), &["status"]));
    assert!(status.contains("FAILED"), "{status}");
}

/// Tables of layout 2 (no `within_seq` on the peer table) are refused
/// with the way out; install brings them up to date, keeping the peer
/// watermarks, and rounds go on from where they were.
#[tokio::test]
async fn install_brings_an_older_layout_up_to_date() {
    let d = Deploy::new(&["a"], BASIC).await;
    assert!(hetsync(&d.config(), &["install"]).status.success());
    d.exec("a", "INSERT INTO t_row VALUES (1, 'a', 1, 1.0)")
        .await;
    assert!(hetsync(&d.config(), &["sync"]).status.success());
    let peer = "SELECT peer || ':' || watermark FROM _hetsync_peer ORDER BY peer";
    let before = sqlite3(&d.db("hub"), peer);
    assert!(before.starts_with("a:"), "{before}");
    sqlite3(
        &d.db("hub"),
        "ALTER TABLE _hetsync_peer DROP COLUMN within_seq; \
         UPDATE _hetsync_meta SET value = '2' WHERE name = 'schema_version'",
    );
    d.exec("a", "INSERT INTO t_row VALUES (2, 'a', 2, 2.0)")
        .await;
    let out = hetsync(&d.config(), &["sync"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("node 'hub': its hetsync tables have layout version 2")
            && text(&out).contains("run `hetsync install`"),
        "{}",
        text(&out)
    );
    assert_eq!(sqlite3(&d.db("hub"), "SELECT count(*) FROM t_row"), "1");
    let out = hetsync(&d.config(), &["install"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(sqlite3(&d.db("hub"), peer), before, "the watermark kept");
    assert_eq!(
        sqlite3(
            &d.db("hub"),
            "SELECT within_seq FROM _hetsync_peer WHERE peer = 'a'"
        ),
        "0"
    );
    let out = hetsync(&d.config(), &["sync"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        sqlite3(&d.db("hub"), "SELECT group_concat(k) FROM t_row ORDER BY k"),
        "1,2",
        "the rounds go on from the kept watermark"
    );
}

#[tokio::test]
async fn install_records_its_layout_version_and_clears_leftover_capture() {
    let d = Deploy::new(&["a"], BASIC).await;
    // A trigger an earlier install left behind for a table no longer synced.
    sqlite3(
        &d.db("a"),
        "CREATE TABLE gone(k INTEGER PRIMARY KEY); \
         CREATE TRIGGER _hetsync_insert_gone AFTER INSERT ON gone BEGIN SELECT 1; END",
    );
    let out = hetsync(&d.config(), &["install"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        sqlite3(
            &d.db("a"),
            "SELECT value FROM _hetsync_meta WHERE name = 'schema_version'"
        ),
        hetsync_core::dialect::SCHEMA_VERSION.to_string()
    );
    let triggers = sqlite3(
        &d.db("a"),
        "SELECT group_concat(name, ' ') FROM (SELECT name FROM sqlite_master WHERE type = 'trigger' ORDER BY name)",
    );
    assert!(!triggers.contains("gone"), "{triggers}");
    assert_eq!(
        triggers.split(' ').count(),
        6,
        "3 per synced table: {triggers}"
    );

    // Tables laid out by a newer hetsync are refused, naming node and version.
    sqlite3(
        &d.db("a"),
        "UPDATE _hetsync_meta SET value = '99' WHERE name = 'schema_version'",
    );
    let out = hetsync(&d.config(), &["install"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("node 'a': its hetsync tables have layout version 99"),
        "{}",
        text(&out)
    );

    // Uninstall removes the layout table with the rest.
    sqlite3(
        &d.db("a"),
        "UPDATE _hetsync_meta SET value = '1' WHERE name = 'schema_version'",
    );
    assert!(hetsync(&d.config(), &["uninstall"]).status.success());
    assert_eq!(
        sqlite3(
            &d.db("a"),
            "SELECT count(*) FROM sqlite_master WHERE name LIKE '\\_hetsync\\_%' ESCAPE '\\'"
        ),
        "0"
    );
}

#[tokio::test]
async fn node_options_are_checked_against_the_adapter_with_their_position() {
    let d = Deploy::new(&["a"], BASIC).await;
    let config = d.config();
    let original = std::fs::read_to_string(&config).unwrap();
    let with_options = |options: &str| {
        // The options go to the first node, the hub.
        original.replacen("role = \"hub\"\n", &format!("role = \"hub\"\n{options}"), 1)
    };
    std::fs::write(
        &config,
        with_options("options = { busy_timeout = \"2s\" }\n"),
    )
    .unwrap();
    let out = hetsync(&config, &["install"]);
    assert!(out.status.success(), "{}", text(&out));

    std::fs::write(&config, with_options("options = { colour = \"red\" }\n")).unwrap();
    let out = hetsync(&config, &["status"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains(
            "node 'hub': unknown option `colour` for adapter 'sqlite' (known: busy_timeout, capture)"
        ),
        "{}",
        text(&out)
    );
    assert!(
        text(&out).contains("hetsync.toml:6:22: node"),
        "{}",
        text(&out)
    );

    std::fs::write(&config, with_options("options = { busy_timeout = 5 }\n")).unwrap();
    let out = hetsync(&config, &["status"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out)
            .contains("option `busy_timeout` takes a duration as text such as \"10s\", not 5"),
        "{}",
        text(&out)
    );
}

#[test]
fn version_names_the_plugin_abi_and_built_in_adapters_and_completions_list_the_commands() {
    let out = Command::new(env!("CARGO_BIN_EXE_hetsync"))
        .arg("--version")
        .output()
        .unwrap();
    let shown = text(&out);
    assert!(out.status.success(), "{shown}");
    assert!(
        shown.contains(&format!("hetsync {}", env!("CARGO_PKG_VERSION")))
            && shown.contains("plugin ABI 1")
            && shown.contains("built-in adapters: sqlite, postgres, mysql"),
        "{shown}"
    );
    for shell in ["bash", "zsh", "fish"] {
        let out = Command::new(env!("CARGO_BIN_EXE_hetsync"))
            .args(["completions", shell])
            .output()
            .unwrap();
        let script = text(&out);
        assert!(out.status.success(), "{shell}: {script}");
        for command in ["sync", "bulk", "rollback", "run"] {
            assert!(script.contains(command), "{shell} lacks {command}");
        }
    }
}
