//! Transient failures on a real database: a spoke whose SQLite file another
//! writer holds is busy (classified transient in one place, `Error::from_db`),
//! and the round retries with backoff until the writer lets go, instead of
//! failing.

mod support;

use sqlx::{Connection, Executor};
use std::time::Duration;
use support::{hetsync, output_text as text, Deploy, BASIC};

#[tokio::test]
async fn a_round_waits_out_a_busy_spoke_with_retries() {
    let d = Deploy::new(&["a"], BASIC).await;
    let config = d.config();
    // The spoke gives up on a busy file after 100 ms instead of 30 s.
    let original = std::fs::read_to_string(&config).unwrap();
    let spoke = "name = \"a\"\nadapter = \"sqlite\"\n";
    assert!(original.contains(spoke), "{original}");
    std::fs::write(
        &config,
        original.replacen(
            spoke,
            &format!("{spoke}options = {{ busy_timeout = \"100ms\" }}\n"),
            1,
        ),
    )
    .unwrap();
    assert!(hetsync(&config, &["install"]).status.success());
    assert!(hetsync(&config, &["sync"]).status.success());
    d.exec("hub", "INSERT INTO t_row VALUES (7, 'from hub', 7, 7.0)")
        .await;

    // Another program holds the spoke's write lock for 800 ms.
    let mut holder = sqlx::SqliteConnection::connect(&format!("sqlite://{}", d.db("a").display()))
        .await
        .unwrap();
    holder.execute("BEGIN IMMEDIATE").await.unwrap();
    let sync = tokio::task::spawn_blocking(move || hetsync(&config, &["sync", "--json"]));
    tokio::time::sleep(Duration::from_millis(800)).await;
    holder.execute("COMMIT").await.unwrap();
    let out = sync.await.unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let reports: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let retries = reports[0]["retries"].as_u64().unwrap();
    assert!(retries >= 1, "the round was retried: {reports}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("was busy while"),
        "the retry names the transient failure: {}",
        text(&out)
    );
    let rows = d.rows("a", "t_row").await;
    assert!(
        rows.iter()
            .any(|r| r[0] == hetsync_core::value::Value::Int(7)),
        "{rows:?}"
    );
}
