//! The shipped example deployments, run the way their READMEs tell an
//! operator to: the README's own SQL blocks create the tables, the example's
//! `hetsync.toml` is used unchanged, and the binary installs, syncs and verifies.

mod support;

use hetsync_testkit::mysql::MysqlServer;
use hetsync_testkit::pg::PgServer;
use sqlx::{Connection, Executor};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("config/examples")
        .join(name)
}

/// The fenced code blocks of a README whose info string is `sql <dialect>`.
fn sql_blocks(readme: &str, dialect: &str) -> String {
    let mut out = String::new();
    let mut inside = false;
    for line in readme.lines() {
        let trimmed = line.trim_start();
        if let Some(info) = trimmed.strip_prefix("```") {
            inside = !inside && info.trim() == format!("sql {dialect}");
            continue;
        }
        if inside {
            out.push_str(trimmed);
            out.push('\n');
        }
    }
    assert!(!out.is_empty(), "README has no ```sql {dialect} block");
    out
}

#[tokio::test]
async fn the_mixed_example_installs_syncs_and_verifies_from_its_readme() {
    let dir = example("mixed");
    let readme = std::fs::read_to_string(dir.join("README.md")).unwrap();
    let work = tempfile::tempdir().unwrap();
    std::fs::copy(dir.join("hetsync.toml"), work.path().join("hetsync.toml")).unwrap();

    let pg = PgServer::start();
    pg.create_db("planning").await;
    let mut conn = sqlx::PgConnection::connect(&pg.url("planning"))
        .await
        .unwrap();
    conn.execute(sql_blocks(&readme, "postgres").as_str())
        .await
        .expect("PostgreSQL block");

    let maria = MysqlServer::start();
    maria.create_db("planning").await;
    let mut conn = sqlx::MySqlConnection::connect(&maria.url("planning"))
        .await
        .unwrap();
    conn.execute(sql_blocks(&readme, "mariadb").as_str())
        .await
        .expect("MariaDB block");

    for spoke in ["planner_zhang", "planner_li"] {
        let path = work.path().join(format!("{spoke}.db"));
        let mut conn = hetsync_testkit::sqlite::open(&path, true).await;
        conn.execute(sql_blocks(&readme, "sqlite").as_str())
            .await
            .expect("SQLite block");
    }

    let config = work.path().join("hetsync.toml");
    let run = |command: &str| -> Output {
        Command::new(env!("CARGO_BIN_EXE_hetsync"))
            .arg("--config")
            .arg(&config)
            .arg(command)
            .env("PLANNING_PG_URL", pg.url("planning"))
            .env("PLANNING_MARIADB_URL", maria.url("planning"))
            .env_remove("HETSYNC_FAULT")
            .output()
            .expect("run hetsync")
    };
    for command in ["install", "sync", "verify"] {
        let out = run(command);
        assert!(
            out.status.success(),
            "hetsync {command}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    // Every node holds the hub's two stations and the MariaDB planner's one.
    for spoke in ["planner_zhang", "planner_li"] {
        let path = work.path().join(format!("{spoke}.db"));
        let mut conn = hetsync_testkit::sqlite::open(&path, false).await;
        let names: Vec<String> =
            sqlx::query_scalar(r#"SELECT "名称" FROM "变电站表" ORDER BY "单位序号", "ID""#)
                .fetch_all(&mut conn)
                .await
                .unwrap();
        assert_eq!(names, ["城东站", "城西站", "江北站"], "{spoke}");
    }
    let mut conn = sqlx::PgConnection::connect(&pg.url("planning"))
        .await
        .unwrap();
    let area: f64 = sqlx::query_scalar(r#"SELECT "面积km2" FROM "地区概况表" WHERE "ID" = 1"#)
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(area, 1234.5);
    let stations: i64 = sqlx::query_scalar(r#"SELECT count(*) FROM "变电站表""#)
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(stations, 3);
}

/// Paper 004's Kingbase ⇄ Dameng deployment. No DM8 runs here (its live
/// round trip is `tests/odbc_dameng.rs`, run where `HETSYNC_DAMENG_ODBC`
/// names one): the configuration loads as the README tells an operator to
/// use it, its type rules parse, and the README's Kingbase block runs on
/// PostgreSQL, which stands in for KingbaseES.
#[tokio::test]
async fn the_kingbase_dameng_example_is_a_valid_deployment() {
    let dir = example("kingbase-dameng");
    let readme = std::fs::read_to_string(dir.join("README.md")).unwrap();
    std::env::set_var("PLANNING_KINGBASE_ODBC", "DSN=kingbase_planning;UID=sync");
    std::env::set_var("PLANNING_DAMENG_ODBC", "DSN=dm_planning;UID=SYNC");
    let config = hetsync_config::load(&dir.join("hetsync.toml")).expect("the configuration");
    let profiles: Vec<(&str, &str, &str)> = config
        .nodes
        .iter()
        .map(|n| {
            let profile = n.options.get("profile").and_then(|p| p.as_str());
            (n.name.as_str(), n.url.as_str(), profile.unwrap_or_default())
        })
        .collect();
    assert_eq!(
        profiles,
        [
            (
                "kingbase_a",
                "odbc:DSN=kingbase_planning;UID=sync",
                "kingbase"
            ),
            ("dameng_b", "odbc:DSN=dm_planning;UID=SYNC", "dameng"),
        ]
    );
    let rules = hetsync_core::mapping::rules::TypeRules::load_if_exists(&dir.join("types.toml"))
        .expect("the type rules");
    assert_eq!(rules.rules.len(), 3, "types.toml holds its rules");
    assert!(sql_blocks(&readme, "dameng").contains("NUMBER(12,4)"));

    let pg = PgServer::start();
    pg.create_db("planning").await;
    let mut conn = sqlx::PgConnection::connect(&pg.url("planning"))
        .await
        .unwrap();
    conn.execute(sql_blocks(&readme, "kingbase").as_str())
        .await
        .expect("Kingbase block");
    let stations: i64 = sqlx::query_scalar(r#"SELECT count(*) FROM "变电站表""#)
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(stations, 2);
}
