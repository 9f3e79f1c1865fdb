//! Group `purge`: tracking purge on SQLite, where a writer waits for any
//! other (the database with the most to lose from a long delete). A
//! SQLite hub and spoke synced by the binary:
//! - an UPDATE of every row on the spoke, synced, leaves that many tracking
//!   rows on each node; `hetsync purge` deletes them while a writer runs
//!   single-row transactions on the spoke: the writer's longest wait during
//!   the purge against its longest wait without one;
//! - "hourly" rounds of changes, each synced and purged: the tracking
//!   tables' size after each purge stays bounded.

use super::sqlite::{count, create, exec, open, write_config};
use super::{run_measured, Line};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Tracking rows of a SQLite file.
async fn tracking_rows(path: &Path) -> i64 {
    count(path, "_hetsync_tracking").await
}

/// Single-row updates on `path`, each its own transaction, until `stop`:
/// how many ran and the longest one took.
async fn writer(path: &Path, rows: u64, stop: Arc<AtomicBool>) -> (u64, Duration) {
    let mut conn = open(path).await;
    let (mut done, mut longest) = (0u64, Duration::ZERO);
    while !stop.load(Ordering::Relaxed) {
        let id = 1 + (done * 7919) % rows;
        let started = Instant::now();
        exec(
            &mut conn,
            &format!("UPDATE t SET c2 = c2 + 1 WHERE id = {id}"),
        )
        .await;
        longest = longest.max(started.elapsed());
        done += 1;
    }
    (done, longest)
}

/// Runs `hetsync` with `args` while [`writer`] writes to `path`: the run's
/// time, and the writes and the longest write meanwhile.
async fn with_writer(
    config: &Path,
    args: &'static [&'static str],
    path: &Path,
    rows: u64,
) -> (Duration, u64, Duration) {
    let stop = Arc::new(AtomicBool::new(false));
    let writing = tokio::spawn({
        let (path, stop) = (path.to_path_buf(), stop.clone());
        async move { writer(&path, rows, stop).await }
    });
    let config = config.to_path_buf();
    let took = match args {
        [] => {
            tokio::time::sleep(Duration::from_secs(2)).await;
            Duration::from_secs(2)
        }
        _ => tokio::task::spawn_blocking(move || run_measured(&config, args).0)
            .await
            .expect("hetsync run"),
    };
    stop.store(true, Ordering::Relaxed);
    let (writes, longest) = writing.await.expect("writer");
    (took, writes, longest)
}

pub async fn purge_benchmarks(rows: u64, lines: &mut Vec<Line>) {
    let dir = tempfile::tempdir().expect("temp dir");
    let (hub, spoke) = (dir.path().join("hub.db"), dir.path().join("spoke.db"));
    create(&hub, rows).await;
    create(&spoke, 0).await;
    let config = write_config(dir.path());
    run_measured(&config, &["install"]);
    run_measured(&config, &["sync"]);

    // `rows` changes on the spoke, integrated by the hub and (a second
    // sync) known to the spoke to be: all purgeable on both nodes.
    exec(&mut open(&spoke).await, "UPDATE t SET c1 = c1 + 1").await;
    run_measured(&config, &["sync"]);
    run_measured(&config, &["sync"]);
    let before = (tracking_rows(&hub).await, tracking_rows(&spoke).await);

    let (_, idle_writes, idle_longest) = with_writer(&config, &[], &spoke, rows).await;
    // The same command with nothing old enough: what opening the nodes
    // and finding nothing to purge costs the writer.
    let (_, none_writes, none_longest) =
        with_writer(&config, &["purge", "--retention", "3650d"], &spoke, rows).await;
    let (took, writes, longest) =
        with_writer(&config, &["purge", "--retention", "0s"], &spoke, rows).await;
    let after = (tracking_rows(&hub).await, tracking_rows(&spoke).await);
    let purged = (before.0 + before.1 - after.0 - after.1).max(0) as u64;
    assert!(
        after.0 <= 1 && purged >= rows,
        "the purge deleted the integrated rows: {before:?} → {after:?}"
    );
    lines.push(Line {
        name: "SQLite purge of integrated tracking rows".into(),
        rows: purged,
        took,
        baseline: None,
        target: "",
    });
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "SQLite purge: a writer's longest single-row transaction {:.1} ms during the purge \
         ({writes} writes), {:.1} ms during a purge with nothing to delete ({none_writes} \
         writes), {:.1} ms without any ({idle_writes} writes in 2 s) (target ≤ 100 ms)",
        ms(longest),
        ms(none_longest),
        ms(idle_longest)
    );

    // Hourly: a tenth of the rows change, a sync, a purge; ten times.
    let hours = 10;
    let mut sizes = Vec::new();
    for hour in 0..hours {
        let (from, to) = (hour * rows / hours, (hour + 1) * rows / hours);
        exec(
            &mut open(&spoke).await,
            &format!("UPDATE t SET c3 = c3 + 1 WHERE id > {from} AND id <= {to}"),
        )
        .await;
        run_measured(&config, &["sync"]);
        run_measured(&config, &["purge", "--retention", "0s"]);
        sizes.push((tracking_rows(&hub).await, tracking_rows(&spoke).await));
    }
    let largest = sizes.iter().map(|(h, s)| h + s).max().unwrap_or(0);
    println!(
        "SQLite tracking rows (hub, spoke) after each of {hours} hourly purges of {} changes: \
         {sizes:?}; at most {largest} (bounded by one hour's changes, not by the {rows} in all)",
        rows / hours
    );
}
