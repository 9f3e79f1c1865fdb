//! Group `snapshot`: capture by snapshot difference on SQLite against row
//! triggers, in the same run. Per kind of capture, a hub of `rows` rows and
//! a new spoke capturing that way, by the `hetsync` binary: the full sync,
//! a round with nothing changed (the snapshot's comparison of an unchanged
//! table), one `UPDATE` of every row on the spoke (the application's cost
//! of capture), and the incremental round that moves it.

use super::sqlite::{count, create, exec, open};
use super::{run_measured, Line};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// A deployment of a hub and one spoke capturing by `capture`, in `dir`.
async fn deployment(dir: &Path, rows: u64, capture: &str) -> PathBuf {
    std::fs::create_dir_all(dir).expect("deployment dir");
    create(&dir.join("hub.db"), rows).await;
    create(&dir.join("spoke.db"), 0).await;
    let config = dir.join("hetsync.toml");
    std::fs::write(
        &config,
        format!(
            "[[node]]\nname = \"hub\"\nadapter = \"sqlite\"\nurl = \"hub.db\"\nrole = \"hub\"\n\n\
             [[node]]\nname = \"spoke\"\nadapter = \"sqlite\"\nurl = \"spoke.db\"\nrole = \"spoke\"\n\
             [node.options]\ncapture = \"{capture}\"\n\n\
             [[table]]\nname = \"t\"\ncode = [\"id\"]\nform = \"field\"\n"
        ),
    )
    .expect("write config");
    config
}

/// What one kind of capture took.
struct Timings {
    full: Duration,
    quiet: Duration,
    update: Duration,
    incremental: Duration,
}

async fn measure(dir: &Path, rows: u64, capture: &str) -> Timings {
    let config = deployment(dir, rows, capture).await;
    run_measured(&config, &["install"]);
    let (full, _) = run_measured(&config, &["sync"]);
    assert_eq!(count(&dir.join("spoke.db"), "t").await, rows as i64);
    let (quiet, _) = run_measured(&config, &["sync"]);
    let mut conn = open(&dir.join("spoke.db")).await;
    let started = Instant::now();
    exec(&mut conn, "UPDATE t SET c1 = c1 + 1, c5 = c5 || '!'").await;
    let update = started.elapsed();
    drop(conn);
    let (incremental, _) = run_measured(&config, &["sync"]);
    let mut conn = open(&dir.join("hub.db")).await;
    let moved: i64 = sqlx::Row::get(
        &sqlx::query("SELECT count(*) FROM t WHERE c5 LIKE '%!'")
            .fetch_one(&mut conn)
            .await
            .expect("count"),
        0,
    );
    assert_eq!(moved, rows as i64, "{capture}: the round moved every row");
    Timings {
        full,
        quiet,
        update,
        incremental,
    }
}

pub async fn snapshot_benchmarks(rows: u64, lines: &mut Vec<Line>) {
    let dir = tempfile::tempdir().expect("temp dir");
    let trigger = measure(&dir.path().join("trigger"), rows, "trigger").await;
    let snapshot = measure(&dir.path().join("snapshot"), rows, "snapshot").await;
    let pairs = [
        ("full sync into the spoke", trigger.full, snapshot.full),
        (
            "a round with nothing changed",
            trigger.quiet,
            snapshot.quiet,
        ),
        (
            "the spoke's UPDATE of every row",
            trigger.update,
            snapshot.update,
        ),
        (
            "the incremental round after it",
            trigger.incremental,
            snapshot.incremental,
        ),
    ];
    for (what, by_trigger, by_snapshot) in pairs {
        lines.push(Line {
            name: format!("SQLite triggers: {what}"),
            rows,
            took: by_trigger,
            baseline: None,
            target: "",
        });
        lines.push(Line {
            name: format!("SQLite snapshots: {what}"),
            rows,
            took: by_snapshot,
            baseline: Some(by_trigger),
            target: "",
        });
    }
}
