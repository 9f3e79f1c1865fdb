//! Group `latency`: how soon an edit committed on one spoke is visible on
//! the other while `hetsync run` runs in push mode (the defaults: rounds
//! every 30 s, a commit starts them after 200 ms). A PostgreSQL hub, a
//! PostgreSQL spoke `pg` and a SQLite spoke `lite` (both PostgreSQL
//! databases on one throwaway server). Each edit is one `UPDATE` of one
//! row, committed on the spokes in turn; the time from its commit until the
//! other spoke shows the new value (read every 2 ms) is its latency. The
//! next edit follows after a varying pause of up to 300 ms, so edits do not
//! fall in step with the service's waits.

use hetsync_testkit::pg::PgServer;
use sqlx::{Connection, PgConnection};
use std::path::Path;
use std::time::{Duration, Instant};

/// Rows of the table the edits change.
const ROWS: i64 = 1_000;

/// How long one edit may take to arrive before the benchmark fails.
const GIVE_UP: Duration = Duration::from_secs(60);

const PG_DDL: &str = "CREATE TABLE t (id bigint PRIMARY KEY, v bigint, note text)";
const SQLITE_DDL: &str = "CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER, note TEXT)";

/// The value of row `id`'s `v` on one spoke.
enum Spoke {
    Pg(PgConnection),
    Lite(rusqlite::Connection),
}

impl Spoke {
    async fn set(&mut self, id: i64, v: i64) {
        match self {
            Spoke::Pg(conn) => {
                sqlx::query("UPDATE t SET v = $1 WHERE id = $2")
                    .bind(v)
                    .bind(id)
                    .execute(conn)
                    .await
                    .expect("update on pg");
            }
            Spoke::Lite(conn) => {
                conn.execute("UPDATE t SET v = ?1 WHERE id = ?2", [v, id])
                    .expect("update on lite");
            }
        }
    }

    async fn get(&mut self, id: i64) -> Option<i64> {
        match self {
            Spoke::Pg(conn) => sqlx::query_scalar("SELECT v FROM t WHERE id = $1")
                .bind(id)
                .fetch_optional(conn)
                .await
                .expect("read pg"),
            Spoke::Lite(conn) => {
                match conn.query_row("SELECT v FROM t WHERE id = ?1", [id], |r| r.get(0)) {
                    Ok(v) => Some(v),
                    Err(rusqlite::Error::QueryReturnedNoRows) => None,
                    // The service is writing: read again.
                    Err(rusqlite::Error::SqliteFailure(e, _))
                        if e.code == rusqlite::ErrorCode::DatabaseBusy =>
                    {
                        None
                    }
                    Err(e) => panic!("read lite: {e}"),
                }
            }
        }
    }

    async fn count(&mut self) -> i64 {
        match self {
            Spoke::Pg(conn) => sqlx::query_scalar("SELECT count(*) FROM t")
                .fetch_one(conn)
                .await
                .expect("count pg"),
            Spoke::Lite(conn) => conn
                .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
                .unwrap_or(0),
        }
    }
}

/// `hetsync run` on `config`, stopped by SIGTERM when dropped.
struct Service(std::process::Child);

impl Drop for Service {
    fn drop(&mut self) {
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status();
        let _ = self.0.wait();
    }
}

fn write_config(dir: &Path, hub: &str, pg: &str, lite: &Path) -> std::path::PathBuf {
    let config = dir.join("hetsync.toml");
    std::fs::write(
        &config,
        format!(
            "[[node]]\nname = \"hub\"\nadapter = \"postgres\"\nurl = \"{hub}\"\nrole = \"hub\"\n\n\
             [[node]]\nname = \"pg\"\nadapter = \"postgres\"\nurl = \"{pg}\"\nrole = \"spoke\"\n\n\
             [[node]]\nname = \"lite\"\nadapter = \"sqlite\"\nurl = \"{}\"\nrole = \"spoke\"\n\n\
             [[table]]\nname = \"t\"\ncode = [\"id\"]\n",
            lite.display()
        ),
    )
    .expect("write the config");
    config
}

/// The `q` quantile of sorted `d`.
fn quantile(d: &[Duration], q: f64) -> Duration {
    d[((d.len() - 1) as f64 * q).round() as usize]
}

fn print_distribution(name: &str, mut d: Vec<Duration>) {
    d.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{name:<44} {:>5} edits  min {:>6.0} ms  p50 {:>6.0} ms  p95 {:>6.0} ms  max {:>6.0} ms   target p50 < 1000, p95 < 2000",
        d.len(),
        ms(d[0]),
        ms(quantile(&d, 0.5)),
        ms(quantile(&d, 0.95)),
        ms(d[d.len() - 1]),
    );
}

pub async fn latency_benchmark(edits: usize) {
    let server = PgServer::start();
    server.create_db("hub").await;
    server.create_db("pg").await;
    let mut hub = PgConnection::connect(&server.url("hub"))
        .await
        .expect("hub");
    sqlx::query(PG_DDL)
        .execute(&mut hub)
        .await
        .expect("hub ddl");
    sqlx::query("INSERT INTO t SELECT i, 0, 'row ' || i FROM generate_series(1, $1) i")
        .bind(ROWS)
        .execute(&mut hub)
        .await
        .expect("fill the hub");
    let mut pg = PgConnection::connect(&server.url("pg")).await.expect("pg");
    sqlx::query(PG_DDL).execute(&mut pg).await.expect("pg ddl");
    let dir = tempfile::tempdir().expect("a directory");
    let lite_path = dir.path().join("lite.db");
    let lite = rusqlite::Connection::open(&lite_path).expect("lite");
    lite.execute(SQLITE_DDL, []).expect("lite ddl");
    lite.busy_timeout(Duration::from_secs(10))
        .expect("busy timeout");
    let config = write_config(
        dir.path(),
        &server.url("hub"),
        &server.url("pg"),
        &lite_path,
    );
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_hetsync"))
        .arg("--config")
        .arg(&config)
        .arg("install")
        .stdout(std::process::Stdio::null())
        .status()
        .expect("hetsync install");
    assert!(status.success(), "hetsync install failed");
    let _service = Service(
        std::process::Command::new(env!("CARGO_BIN_EXE_hetsync"))
            .arg("--config")
            .arg(&config)
            .arg("run")
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("hetsync run"),
    );
    let mut spokes = [Spoke::Pg(pg), Spoke::Lite(lite)];
    for spoke in spokes.iter_mut() {
        let started = Instant::now();
        while spoke.count().await < ROWS {
            assert!(
                started.elapsed() < GIVE_UP,
                "the first rounds did not finish"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    let mut latencies: [Vec<Duration>; 2] = [Vec::new(), Vec::new()];
    let mut jitter: u64 = 0x2545_f491_4f6c_dd1d;
    for edit in 0..edits {
        let from = edit % 2;
        let id = (edit as i64 * 7919) % ROWS + 1;
        let v = 1_000_000 + edit as i64;
        let (left, right) = spokes.split_at_mut(1);
        let (source, target) = match from {
            0 => (&mut left[0], &mut right[0]),
            _ => (&mut right[0], &mut left[0]),
        };
        source.set(id, v).await;
        let committed = Instant::now();
        while target.get(id).await != Some(v) {
            assert!(
                committed.elapsed() < GIVE_UP,
                "edit {edit} did not arrive within {GIVE_UP:?}"
            );
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        latencies[from].push(committed.elapsed());
        jitter ^= jitter << 13;
        jitter ^= jitter >> 7;
        jitter ^= jitter << 17;
        tokio::time::sleep(Duration::from_millis(jitter % 300)).await;
    }
    let all: Vec<Duration> = latencies.iter().flatten().copied().collect();
    let [to_lite, to_pg] = latencies;
    println!();
    print_distribution("latency pg → lite (PostgreSQL → SQLite)", to_lite);
    print_distribution("latency lite → pg (SQLite → PostgreSQL)", to_pg);
    print_distribution("latency, every edit", all);
}
