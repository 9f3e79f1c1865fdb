//! `hetsync demo`: the whole story on embedded SQLite with no setup. A hub and
//! three planners' spokes hold six planning tables; planners edit their own
//! copies the way an application would (their own connections, no hetsync
//! involved), rounds run, and the report shows what moved, what conflicted and
//! who won, ending with `verify`.

mod schema;

use crate::output;
use crate::setup::{exit, open_engine};
use anyhow::{bail, Context, Result};
use hetsync_core::engine::{Engine, RoundReport};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection, SqliteConnection};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Marks a directory as made by the demo, so a rerun may replace it.
const MARKER: &str = ".hetsync-demo";
const HUB: &str = "hub";
const PLANNERS: [&str; 3] = ["planner_zhang", "planner_li", "planner_wang"];

/// Runs the demo in `dir`; returns the exit code (0 only if all copies match).
pub async fn run(dir: &Path) -> Result<u8> {
    prepare_dir(dir)?;
    for node in std::iter::once(HUB).chain(PLANNERS) {
        let mut conn = open(dir, node, true).await?;
        for sql in schema::TABLES {
            sqlx::query(sql).execute(&mut conn).await?;
        }
        if node == HUB {
            for sql in schema::SEED {
                sqlx::query(sql).execute(&mut conn).await?;
            }
        }
    }
    let config = dir.join("hetsync.toml");
    std::fs::write(&config, config_text())?;
    let engine = open_engine(&config, &[]).await?;
    engine.install().await?;
    let demo = Demo {
        dir: dir.to_path_buf(),
        engine,
    };

    crate::say!(
        "hetsync demo in {}: hub + {} (SQLite files)\n",
        dir.display(),
        PLANNERS.join(", ")
    );
    demo.chapter("1. Every planner takes a copy of the hub (first sync is a full sync)");
    demo.sync_all(1).await?;

    demo.chapter("2. New work on different desks");
    demo.edit("planner_zhang", r#"INSERT INTO "变电站表" VALUES ('ZZ01', 2025, 4, '石峰110kV变电站', 63.0, 110, 113.10, 27.90, '蓝')"#, "plans substation 石峰").await?;
    demo.edit("planner_li", r#"INSERT INTO "高压线路表" VALUES ('ZZ01', 2025, 4, '石天线', '石峰110kV变电站', '天元220kV变电站', 9.8, 'LGJ-240')"#, "plans line 石天线").await?;
    demo.edit(
        "planner_wang",
        r#"INSERT INTO "负荷电量表" VALUES ('ZZ01', 2035, 1, 720.0, 3900.0, '远景')"#,
        "adds the 2035 load forecast",
    )
    .await?;
    demo.sync_all(2).await?;

    demo.chapter("3. Two planners edit different fields of one substation (form = field)");
    demo.edit("planner_zhang", r#"UPDATE "变电站表" SET "X坐标" = 112.99, "Y坐标" = 27.86 WHERE "ID" = 1 AND "年份" = 2024"#, "moves 荷塘 on the map").await?;
    demo.edit(
        "planner_li",
        r#"UPDATE "变电站表" SET "容量MVA" = 126.0 WHERE "ID" = 1 AND "年份" = 2024"#,
        "raises 荷塘's capacity to 126 MVA",
    )
    .await?;
    demo.sync_all(2).await?;
    demo.show("planner_wang", r#"SELECT printf('荷塘 at (%.2f, %.2f), %.0f MVA', "X坐标", "Y坐标", "容量MVA") FROM "变电站表" WHERE "ID" = 1 AND "年份" = 2024"#).await?;

    demo.chapter("4. Two planners edit the same field (latest change wins)");
    demo.edit(
        "planner_zhang",
        r#"UPDATE "变电站表" SET "颜色" = '红' WHERE "ID" = 2"#,
        "colours 芦淞 red",
    )
    .await?;
    demo.edit(
        "planner_li",
        r#"UPDATE "变电站表" SET "颜色" = '紫' WHERE "ID" = 2"#,
        "colours 芦淞 purple, a moment later",
    )
    .await?;
    demo.sync_all(2).await?;
    demo.show(
        "planner_zhang",
        r#"SELECT '芦淞 is ' || "颜色" FROM "变电站表" WHERE "ID" = 2"#,
    )
    .await?;

    demo.chapter("5. A delete races an update");
    demo.edit(
        "planner_wang",
        r#"DELETE FROM "高压线路表" WHERE "ID" = 3"#,
        "deletes line 天芦线",
    )
    .await?;
    demo.edit(
        "planner_zhang",
        r#"UPDATE "高压线路表" SET "长度km" = 16.0 WHERE "ID" = 3"#,
        "re-measures 天芦线, later: the update wins and the line survives",
    )
    .await?;
    demo.edit(
        "planner_li",
        r#"UPDATE "地区概况表" SET "概况" = '新区，规划产业园' WHERE "ID" = 2"#,
        "rewrites the 天元区 overview",
    )
    .await?;
    demo.edit(
        "planner_wang",
        r#"DELETE FROM "地区概况表" WHERE "ID" = 2"#,
        "deletes the 天元区 overview, later: the delete wins",
    )
    .await?;
    demo.sync_all(2).await?;
    demo.show("hub", r#"SELECT printf('天芦线: %d row(s), %.1f km; 天元区 overview: %d row(s)', (SELECT count(*) FROM "高压线路表" WHERE "ID" = 3), (SELECT "长度km" FROM "高压线路表" WHERE "ID" = 3), (SELECT count(*) FROM "地区概况表" WHERE "ID" = 2))"#).await?;

    demo.chapter("6. planner_wang works offline for three rounds");
    demo.edit(
        "planner_wang",
        r#"UPDATE "单位信息表" SET "负责人" = '王工' WHERE "序号" = 'ZZ02'"#,
        "(offline) takes over ZZ02",
    )
    .await?;
    demo.edit(
        "planner_wang",
        r#"UPDATE "变电站表" SET "名称" = '天元220kV枢纽变电站' WHERE "ID" = 3"#,
        "(offline) renames 天元",
    )
    .await?;
    for round in 1..=3 {
        demo.edit("planner_zhang", &format!(r#"INSERT INTO "开关设施表" VALUES ('ZZ01', 2025, {}, '石峰环网柜{round}号', '环网柜', '石天线', 113.1, 27.9)"#, 2 + round), "adds a ring main unit").await?;
        demo.edit(
            "planner_li",
            &format!(
                r#"UPDATE "负荷电量表" SET "最大负荷MW" = {} WHERE "年份" = 2025"#,
                455 + 5 * round
            ),
            "revises the 2025 peak load",
        )
        .await?;
        for planner in ["planner_zhang", "planner_li"] {
            demo.sync_one(planner).await?;
        }
    }
    crate::say!("  … planner_wang comes back online");
    demo.sync_all(2).await?;

    demo.chapter("7. Verify: every table on every node");
    let report = demo.engine.verify().await?;
    output::print_verify(&report);
    crate::say!(
        "\nThe deployment stays in {dir}: edit any copy, e.g.\n  sqlite3 {zhang} \"UPDATE 变电站表 SET 颜色 = '橙' WHERE ID = 1\"\nthen run\n  hetsync --config {config} sync\n  hetsync --config {config} verify",
        dir = dir.display(),
        zhang = dir.join("planner_zhang.db").display(),
        config = config.display()
    );
    Ok(if report.ok { exit::OK } else { exit::DIFFERENT })
}

fn config_text() -> String {
    let mut text =
        String::from("# Written by `hetsync demo`: a hub and three planners, all SQLite.\n");
    for node in std::iter::once(HUB).chain(PLANNERS) {
        let role = if node == HUB { "hub" } else { "spoke" };
        text.push_str(&format!(
            "\n[[node]]\nname = \"{node}\"\nadapter = \"sqlite\"\nurl = \"{node}.db\"\nrole = \"{role}\"\n"
        ));
    }
    text.push_str(schema::CONFIG_TABLES);
    text
}

/// Creates `dir`, or empties it when it holds a previous demo; refuses a
/// non-empty directory the demo did not make.
fn prepare_dir(dir: &Path) -> Result<()> {
    if dir.exists() {
        let empty = std::fs::read_dir(dir)?.next().is_none();
        if !empty {
            if !dir.join(MARKER).exists() {
                bail!("{} is not empty and was not made by `hetsync demo`; pass --dir with a new or empty directory", dir.display());
            }
            std::fs::remove_dir_all(dir)
                .with_context(|| format!("removing the previous demo in {}", dir.display()))?;
        }
    }
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    std::fs::write(
        dir.join(MARKER),
        "made by hetsync demo; rerunning the demo replaces this directory\n",
    )?;
    Ok(())
}

async fn open(dir: &Path, node: &str, create: bool) -> Result<SqliteConnection> {
    Ok(SqliteConnectOptions::new()
        .filename(dir.join(format!("{node}.db")))
        .create_if_missing(create)
        .connect()
        .await?)
}

struct Demo {
    dir: PathBuf,
    engine: Engine,
}

impl Demo {
    fn chapter(&self, title: &str) {
        crate::say!("\n== {title}");
    }

    /// A planner edits their own copy through their own connection.
    async fn edit(&self, node: &str, sql: &str, what: &str) -> Result<()> {
        let mut conn = open(&self.dir, node, false).await?;
        let done = sqlx::query(sql)
            .execute(&mut conn)
            .await
            .with_context(|| format!("{node}: {sql}"))?;
        conn.close().await?;
        crate::say!("  ✎ {node} {what} ({} row(s))", done.rows_affected());
        // Change times have millisecond resolution: keep the story's order visible.
        tokio::time::sleep(Duration::from_millis(15)).await;
        Ok(())
    }

    async fn show(&self, node: &str, sql: &str) -> Result<()> {
        let mut conn = open(&self.dir, node, false).await?;
        let text: String = sqlx::query_scalar(sql).fetch_one(&mut conn).await?;
        crate::say!("  → on {node}: {text}");
        Ok(())
    }

    async fn sync_one(&self, spoke: &str) -> Result<RoundReport> {
        let report = self.engine.sync_spoke(spoke).await?;
        print_compact(&report);
        Ok(report)
    }

    async fn sync_all(&self, passes: usize) -> Result<()> {
        for pass in 1..=passes {
            if passes > 1 {
                crate::say!("  -- sync pass {pass}");
            }
            for spoke in PLANNERS {
                self.sync_one(spoke).await?;
            }
        }
        Ok(())
    }
}

fn print_compact(r: &RoundReport) {
    let sum = |c: &hetsync_core::plan::TableCounts| {
        c.values().map(|x| x.upserts + x.deletes).sum::<u64>()
    };
    let (up, down) = (sum(&r.uploaded), sum(&r.downloaded));
    if up + down == 0 && r.conflicts.is_empty() {
        crate::say!("  ⇄ {}: nothing to move", r.spoke);
        return;
    }
    crate::say!(
        "  ⇄ {}: ↑ {up} row(s) to the hub, ↓ {down} row(s) to {}",
        r.spoke,
        r.spoke
    );
    for c in &r.conflicts {
        crate::say!("    ⚡ {}", output::conflict_line(c));
    }
}
