//! Sync benchmarks against two throwaway PostgreSQL servers on this machine.
//! Every figure comes with the raw baseline measured in the same run, since
//! the machine is noisy: compare the ratios.
//!
//! ```sh
//! cargo bench --bench sync                       # 1,000,000 rows, memory test 5,000,000
//! cargo bench --bench sync -- 100000 500000      # smaller: rows, memory-test rows
//! HETSYNC_BENCH=capture cargo bench --bench sync  # only some groups: sync, capture, memory
//! ```
//!
//! 1. full sync PG → PG of a 10-column table vs `COPY (SELECT …) TO STDOUT | COPY … FROM STDIN`;
//! 2. incremental round after one `UPDATE` of every row on the spoke vs COPY + set-based update;
//! 3. capture overhead: 1M-row COPY, 1M-row UPDATE, 20k single-row transactions, with and without triggers;
//! 4. one changed row: round time;
//! 5. peak RSS of the `hetsync` process during a full sync;
//! 6. (group `mariadb`) capture overhead on a throwaway MariaDB server: the
//!    same kinds of workload with and without hetsync's row triggers;
//! 7. (group `plugin`) the plugin boundary: the same full sync PG → PG through
//!    the built-in PostgreSQL adapter and through its plugin library (the
//!    crate `plugins/postgres`, built here in release mode).
//! 8. (group `mapping`) value conversion: a full sync of a table with
//!    decimal, instant and date columns into a spoke with the same types and
//!    into one that types them differently.
//! 9. (group `digest`) `verify` by the convergence digest against a
//!    row-by-row comparison, PostgreSQL hub with MariaDB and SQLite spokes,
//!    and `repair` of 100 corrupted rows on the MariaDB spoke (rows read).
//! 10. (group `sqlite`) SQLite → SQLite full sync and an incremental round
//!     by the binary (time, peak RSS) against a plain copy through the same
//!     driver, and SQLite capture overhead.
//! 11. (group `pgbench`) pgbench's TPC-B-like transactions per second with
//!     capture on its keyed tables against the same without: trigger
//!     capture, and capture by logical decoding (`wal_level = logical`).
//! 12. (group `purge`) tracking purge on SQLite: a writer's longest wait
//!     while `hetsync purge` deletes a change of every row, and the tracking
//!     tables' size under hourly purges.
//! 13. (group `bulk`) bulk mode: an import and an UPDATE of every row on
//!     PostgreSQL and MariaDB, between `bulk begin` and `bulk end`, against
//!     the same with trigger capture and with no hetsync installed.
//! 14. (group `latency`) push mode: how soon an edit committed on one spoke
//!     is visible on the other while `hetsync run` runs (a PostgreSQL hub,
//!     a PostgreSQL and a SQLite spoke), over 200 edits: p50 and p95.
//! 15. (group `odbc`) the ODBC adapter: a full sync into a spoke reached
//!     through psqlODBC (kingbase profile) and one out of a hub reached so,
//!     against the PostgreSQL adapter's own full sync PG → PG.
//! 16. (group `snapshot`) capture by snapshot difference on SQLite against
//!     row triggers: full sync, a round with nothing changed, the
//!     application's UPDATE of every row, and the round that moves it.

#[path = "sync/bulk.rs"]
mod bulk;
#[path = "sync/digest.rs"]
mod digest;
#[path = "sync/latency.rs"]
mod latency;
#[path = "sync/odbc.rs"]
mod odbc;
#[path = "sync/pgbench.rs"]
mod pgbench;
#[path = "sync/purge.rs"]
mod purge;
#[path = "sync/snapshot.rs"]
mod snapshot;
#[path = "sync/sqlite.rs"]
mod sqlite;

use hetsync_core::engine::Engine;
use hetsync_core::schema::{ConflictPolicy, SyncForm, SyncTable};
use hetsync_testkit::mysql::MysqlServer;
use hetsync_testkit::pg::PgServer;
use sqlx::{Connection, Executor, MySqlConnection, PgConnection};
use std::time::{Duration, Instant};

const DDL: &str =
    "CREATE TABLE t (id bigint PRIMARY KEY, c1 bigint, c2 bigint, c3 double precision, \
    c4 double precision, c5 text, c6 text, c7 text, c8 bigint, c9 double precision)";
const FILL: &str =
    "INSERT INTO t SELECT i, i * 2, i % 1000, i * 0.5, i * 0.25, 'name ' || i, md5(i::text), \
    'planning zone', i % 7, i * 1.25 FROM generate_series(1, $1) i";

/// Edits the `latency` group measures.
const LATENCY_EDITS: usize = 200;

struct Line {
    name: String,
    rows: u64,
    took: Duration,
    baseline: Option<Duration>,
    target: &'static str,
}

impl Line {
    fn print(&self) {
        let rate = self.rows as f64 / self.took.as_secs_f64();
        let ratio = self
            .baseline
            .map(|b| b.as_secs_f64() / self.took.as_secs_f64());
        println!(
            "{:<44} {:>9} rows {:>9.3} s {:>12.0} rows/s {:>14} {:>24}",
            self.name,
            self.rows,
            self.took.as_secs_f64(),
            rate,
            ratio.map_or("-".into(), |r| format!("{r:.2}× baseline")),
            self.target
        );
    }
}

async fn connect(server: &PgServer, db: &str) -> PgConnection {
    PgConnection::connect(&server.url(db))
        .await
        .expect("connect")
}

async fn exec(conn: &mut PgConnection, sql: &str) {
    sqlx::query(sql)
        .execute(&mut *conn)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

async fn fill(conn: &mut PgConnection, rows: u64) {
    sqlx::query(FILL)
        .bind(rows as i64)
        .execute(&mut *conn)
        .await
        .expect("fill");
    exec(conn, "ANALYZE t").await;
}

/// Streams `COPY (query) TO STDOUT` on `from` into `COPY target FROM STDIN` on `to`.
async fn copy_pipe(from: &mut PgConnection, query: &str, to: &mut PgConnection, target: &str) {
    use futures_util::StreamExt;
    let mut out = from
        .copy_out_raw(&format!("COPY ({query}) TO STDOUT"))
        .await
        .expect("copy out");
    let mut sink = to
        .copy_in_raw(&format!("COPY {target} FROM STDIN"))
        .await
        .expect("copy in");
    while let Some(chunk) = out.next().await {
        sink.send(chunk.expect("chunk")).await.expect("send");
    }
    drop(out);
    sink.finish().await.expect("finish copy");
}

/// One `sync` of the spoke, as the binary runs it (rounds of
/// `round_events` until it has caught up); the rows moved.
async fn sync(engine: &Engine) -> u64 {
    sync_spoke(engine, "spoke").await
}

/// One `sync` of the spoke `name`; the rows moved.
async fn sync_spoke(engine: &Engine, name: &str) -> u64 {
    let pass = engine.sync_pass(&[name.to_string()]).await.expect("sync");
    if let Some((spoke, e)) = pass.failed.first() {
        panic!("round of {spoke} failed: {e}");
    }
    pass.rounds.iter().map(|r| r.rows_moved()).sum()
}

fn write_config(dir: &std::path::Path, hub: &str, spoke: &str) -> std::path::PathBuf {
    let config = dir.join("hetsync.toml");
    std::fs::write(
        &config,
        format!(
            "[[node]]\nname = \"hub\"\nadapter = \"postgres\"\nurl = \"{hub}\"\nrole = \"hub\"\n\n\
             [[node]]\nname = \"spoke\"\nadapter = \"postgres\"\nurl = \"{spoke}\"\nrole = \"spoke\"\n\n\
             [[table]]\nname = \"t\"\ncode = [\"id\"]\nform = \"field\"\n"
        ),
    )
    .unwrap();
    config
}

async fn sync_benchmarks(rows: u64, lines: &mut Vec<Line>) {
    let (a, b) = (PgServer::start(), PgServer::start());
    a.create_db("hub").await;
    b.create_db("spoke").await;
    let mut hub = connect(&a, "hub").await;
    let mut spoke = connect(&b, "spoke").await;
    exec(&mut hub, DDL).await;
    exec(&mut spoke, DDL).await;
    exec(&mut spoke, &DDL.replace("TABLE t", "TABLE t_raw")).await;
    fill(&mut hub, rows).await;

    let started = Instant::now();
    copy_pipe(&mut hub, "SELECT * FROM t", &mut spoke, "t_raw").await;
    let raw_full = started.elapsed();

    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &a.url("hub"), &b.url("spoke"));
    let engine = hetsync::setup::open_engine(&config, &[])
        .await
        .expect("engine");
    engine.install().await.expect("install");
    let started = Instant::now();
    let moved = sync(&engine).await;
    let full = started.elapsed();
    assert_eq!(moved, rows, "full sync moved every row");
    lines.push(Line {
        name: "full sync PG → PG".into(),
        rows,
        took: full,
        baseline: Some(raw_full),
        target: "target ≥ 0.70×",
    });

    // Incremental: one UPDATE of every row on the spoke, then a round.
    let started = Instant::now();
    exec(&mut spoke, "UPDATE t SET c1 = c1 + 1, c5 = c5 || '!'").await;
    let update_on_spoke = started.elapsed();
    let started = Instant::now();
    let moved = sync(&engine).await;
    let incremental = started.elapsed();
    assert_eq!(moved, rows);
    // Baseline: the same rows COPYed to the hub and applied set-based.
    exec(&mut hub, &DDL.replace("TABLE t", "TABLE t_raw")).await;
    exec(&mut hub, "INSERT INTO t_raw SELECT * FROM t").await;
    exec(
        &mut hub,
        &DDL.replace("TABLE t", "TEMP TABLE stage")
            .replace(" PRIMARY KEY", ""),
    )
    .await;
    let started = Instant::now();
    copy_pipe(&mut spoke, "SELECT * FROM t", &mut hub, "stage").await;
    exec(
        &mut hub,
        "UPDATE t_raw r SET c1 = s.c1, c5 = s.c5 FROM stage s WHERE r.id = s.id",
    )
    .await;
    let raw_incremental = started.elapsed();
    lines.push(Line {
        name: "incremental after a full-table UPDATE".into(),
        rows,
        took: incremental,
        baseline: Some(raw_incremental),
        target: "target ≥ 100k rows/s",
    });
    lines.push(Line {
        name: "  (the UPDATE itself on the spoke)".into(),
        rows,
        took: update_on_spoke,
        baseline: None,
        target: "",
    });

    // One changed row: the first round after the big one also re-reads the
    // hub tracking rows that round wrote; the second is the steady state.
    for label in [
        "one changed row: round after the big one",
        "one changed row: steady round",
    ] {
        exec(&mut spoke, "UPDATE t SET c6 = c6 || '+' WHERE id = 4242").await;
        let started = Instant::now();
        let moved = sync(&engine).await;
        let one = started.elapsed();
        assert_eq!(moved, 1);
        lines.push(Line {
            name: label.into(),
            rows: 1,
            took: one,
            baseline: None,
            target: "target < 50 ms",
        });
    }
}

async fn capture_benchmarks(rows: u64, lines: &mut Vec<Line>) {
    let server = PgServer::start();
    server.create_db("cap").await;
    let mut conn = connect(&server, "cap").await;
    let table = bench_table("t");
    exec(&mut conn, DDL).await;
    fill(&mut conn, rows).await;
    let mut source = connect(&server, "cap").await;
    let singles = 20_000.min(rows);
    let mut timings = Vec::new();
    for with_capture in [false, true] {
        exec(&mut conn, "DROP TABLE IF EXISTS t2").await;
        exec(&mut conn, &DDL.replace("TABLE t", "TABLE t2")).await;
        if with_capture {
            let node = hetsync_adapter_postgres::PostgresNode::connect("cap", &server.url("cap"))
                .await
                .unwrap();
            let mut t2 = table.clone();
            t2.name = "t2".into();
            use hetsync_core::adapter::Capture;
            node.install(&[t2]).await.expect("install");
        }
        let started = Instant::now();
        copy_pipe(&mut source, "SELECT * FROM t", &mut conn, "t2").await;
        let copy = started.elapsed();
        let started = Instant::now();
        exec(&mut conn, "UPDATE t2 SET c1 = c1 + 1").await;
        let update = started.elapsed();
        // Fresh statistics, or the planner seq-scans the bloated table.
        exec(&mut conn, "VACUUM ANALYZE t2").await;
        let started = Instant::now();
        for i in 1..=singles as i64 {
            sqlx::query("UPDATE t2 SET c2 = c2 + 1 WHERE id = $1")
                .bind(i)
                .execute(&mut conn)
                .await
                .unwrap();
        }
        let single = started.elapsed();
        timings.push((copy, update, single));
    }
    let (plain, captured) = (timings[0], timings[1]);
    let line = |name: &str, rows: u64, took: Duration, base: Duration, target: &'static str| Line {
        name: name.into(),
        rows,
        took,
        baseline: Some(base),
        target,
    };
    lines.push(line(
        "capture: bulk COPY",
        rows,
        captured.0,
        plain.0,
        "target ≥ 0.50× (≤ 2×)",
    ));
    lines.push(line(
        "capture: one UPDATE of every row",
        rows,
        captured.1,
        plain.1,
        "target ≥ 0.50× (≤ 2×)",
    ));
    lines.push(line(
        "capture: single-row transactions",
        singles,
        captured.2,
        plain.2,
        "target ≥ 0.83× (≤ 1.2×)",
    ));
}

/// The benchmark table as a synced table.
fn bench_table(name: &str) -> SyncTable {
    SyncTable {
        name: name.into(),
        columns: ["id", "c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8", "c9"]
            .map(String::from)
            .to_vec(),
        code: vec![0],
        form: SyncForm::Field,
        conflict: ConflictPolicy::Latest,
    }
}

/// The bench table's DDL as MariaDB spells it.
fn mariadb_ddl() -> String {
    DDL.replace("double precision", "double")
}

/// A new database `db` on `server` holding the bench table `t` with `rows`
/// rows (MariaDB's `seq` engine), and a connection to it.
async fn mariadb_filled(server: &MysqlServer, db: &str, rows: u64) -> MySqlConnection {
    server.create_db(db).await;
    let mut conn = MySqlConnection::connect(&server.url(db)).await.unwrap();
    conn.execute(mariadb_ddl().as_str()).await.unwrap();
    conn.execute(
        format!(
            "INSERT INTO t SELECT seq, seq * 2, seq % 1000, seq * 0.5, seq * 0.25, CONCAT('name ', seq), \
             MD5(seq), 'planning zone', seq % 7, seq * 1.25 FROM seq_1_to_{rows}"
        )
        .as_str(),
    )
    .await
    .unwrap();
    conn
}

/// Capture overhead on MariaDB: `INSERT … SELECT` of every row, one UPDATE
/// of every row, single-row autocommit UPDATEs; with and without triggers.
async fn mariadb_capture_benchmarks(rows: u64, lines: &mut Vec<Line>) {
    let server = MysqlServer::start();
    let mut conn = mariadb_filled(&server, "cap", rows).await;
    let ddl = mariadb_ddl();
    let singles = 20_000.min(rows);
    let mut timings = Vec::new();
    for with_capture in [false, true] {
        conn.execute("DROP TABLE IF EXISTS t2").await.unwrap();
        conn.execute(ddl.replace("TABLE t", "TABLE t2").as_str())
            .await
            .unwrap();
        if with_capture {
            let node = hetsync_adapter_mysql::MysqlNode::connect("cap", &server.url("cap"))
                .await
                .unwrap();
            use hetsync_core::adapter::Capture;
            node.install(&[bench_table("t2")]).await.expect("install");
        }
        let started = Instant::now();
        conn.execute("INSERT INTO t2 SELECT * FROM t")
            .await
            .unwrap();
        let insert = started.elapsed();
        let started = Instant::now();
        conn.execute("UPDATE t2 SET c1 = c1 + 1").await.unwrap();
        let update = started.elapsed();
        let started = Instant::now();
        for i in 1..=singles as i64 {
            sqlx::query("UPDATE t2 SET c2 = c2 + 1 WHERE id = ?")
                .bind(i)
                .execute(&mut conn)
                .await
                .unwrap();
        }
        let single = started.elapsed();
        timings.push((insert, update, single));
    }
    let (plain, captured) = (timings[0], timings[1]);
    for (name, n, took, base) in [
        (
            "MariaDB capture: INSERT … SELECT",
            rows,
            captured.0,
            plain.0,
        ),
        (
            "MariaDB capture: one UPDATE of every row",
            rows,
            captured.1,
            plain.1,
        ),
        (
            "MariaDB capture: single-row transactions",
            singles,
            captured.2,
            plain.2,
        ),
    ] {
        lines.push(Line {
            name: name.into(),
            rows: n,
            took,
            baseline: Some(base),
            target: "(row triggers)",
        });
    }
}

/// Peak RSS of a `hetsync sync` process doing a full sync of `rows` rows,
/// and of one bringing over a single `UPDATE` of every row on the spoke
/// (one transaction of `rows` changes).
async fn memory_benchmark(rows: u64, lines: &mut Vec<Line>) -> (u64, u64) {
    let (a, b) = (PgServer::start(), PgServer::start());
    a.create_db("hub").await;
    b.create_db("spoke").await;
    let mut hub = connect(&a, "hub").await;
    exec(&mut hub, DDL).await;
    exec(&mut connect(&b, "spoke").await, DDL).await;
    fill(&mut hub, rows).await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &a.url("hub"), &b.url("spoke"));
    run_measured(&config, &["install"]);
    let (took, full_kb) = run_measured(&config, &["sync"]);
    lines.push(Line {
        name: "full sync by the hetsync binary".into(),
        rows,
        took,
        baseline: None,
        target: "",
    });
    exec(
        &mut connect(&b, "spoke").await,
        "UPDATE t SET c1 = c1 + 1, c5 = c5 || '!'",
    )
    .await;
    let (took, incremental_kb) = run_measured(&config, &["sync"]);
    lines.push(Line {
        name: "incremental by the hetsync binary".into(),
        rows,
        took,
        baseline: None,
        target: "",
    });
    (full_kb, incremental_kb)
}

/// Runs the `hetsync` binary on `config` with `args` until it ends (it must
/// succeed); how long it took and its peak RSS in kB, sampled every 20 ms.
fn run_measured(config: &std::path::Path, args: &[&str]) -> (Duration, u64) {
    let started = Instant::now();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_hetsync"))
        .arg("--config")
        .arg(config)
        .args(args)
        .spawn()
        .unwrap();
    let mut peak_kb = 0u64;
    loop {
        if let Ok(status) = std::fs::read_to_string(format!("/proc/{}/status", child.id())) {
            for line in status.lines().filter(|l| l.starts_with("VmHWM:")) {
                peak_kb = peak_kb.max(
                    line.split_whitespace()
                        .nth(1)
                        .and_then(|v| v.parse().ok())
                        .unwrap_or(0),
                );
            }
        }
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "hetsync {args:?} failed");
            return (started.elapsed(), peak_kb);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Builds the PostgreSQL adapter's plugin library in release mode.
fn release_postgres_plugin() -> std::path::PathBuf {
    use hetsync_testkit::plugins::{built_file, cargo_build, plugin_file, workspace_root};
    let files = cargo_build(
        &workspace_root(),
        &["--release", "-p", "hetsync-plugin-postgres"],
    );
    built_file(&files, &plugin_file("postgres")).to_path_buf()
}

/// Adds a baseline figure and one measured against it.
fn push_pair(
    lines: &mut Vec<Line>,
    rows: u64,
    baseline: (&str, Duration),
    measured: (&str, Duration, &'static str),
) {
    lines.push(Line {
        name: baseline.0.into(),
        rows,
        took: baseline.1,
        baseline: None,
        target: "",
    });
    lines.push(Line {
        name: measured.0.into(),
        rows,
        took: measured.1,
        baseline: Some(baseline.1),
        target: measured.2,
    });
}

/// A node of a benchmark deployment: the adapter that reaches it, its URL
/// and its node options.
struct BenchNode<'a> {
    adapter: &'a dyn hetsync_core::adapter::AdapterFactory,
    url: String,
    options: &'a [(&'a str, &'a str)],
}

impl BenchNode<'_> {
    async fn connect(&self, name: &str) -> Box<dyn hetsync_core::adapter::Node> {
        let mut spec = hetsync_core::adapter::NodeSpec::from_url(name, &self.url);
        for (key, value) in self.options {
            spec.options.insert((*key).into(), (*value).into());
        }
        self.adapter
            .connect(&spec)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"))
    }
}

/// The engine of a deployment of `hub` and one spoke (its node, its
/// name), installed on both.
async fn installed(
    hub: &BenchNode<'_>,
    spoke: (&BenchNode<'_>, &str),
    table: hetsync_core::schema::TableDef,
) -> Engine {
    use hetsync_core::engine::Deployment;
    let deployment = Deployment {
        hub: hub.connect("hub").await,
        spokes: vec![spoke.0.connect(spoke.1).await],
        unreachable: Vec::new(),
        tables: vec![table],
        mapping: None,
        standby: None,
    };
    let engine = Engine::new(deployment).await.expect("engine");
    engine.install().await.expect("install");
    engine
}

/// One full sync of table `t` from `hub` into the new spoke `spoke`.
async fn full_sync_between(
    hub: &BenchNode<'_>,
    spoke: &BenchNode<'_>,
    table: hetsync_core::schema::TableDef,
    rows: u64,
) -> Duration {
    let engine = installed(hub, (spoke, "spoke"), table).await;
    let started = Instant::now();
    let moved = sync(&engine).await;
    let took = started.elapsed();
    assert_eq!(moved, rows, "full sync moved every row");
    took
}

/// One full sync of table `t` into a fresh spoke database through `adapter`.
async fn full_sync_through(
    adapter: &dyn hetsync_core::adapter::AdapterFactory,
    hub_url: &str,
    spoke: (&PgServer, &str, &str),
    table: hetsync_core::schema::TableDef,
    rows: u64,
) -> Duration {
    let (spoke_server, spoke_db, spoke_ddl) = spoke;
    spoke_server.create_db(spoke_db).await;
    exec(&mut connect(spoke_server, spoke_db).await, spoke_ddl).await;
    let node = |url: String| BenchNode {
        adapter,
        url,
        options: &[],
    };
    full_sync_between(
        &node(hub_url.into()),
        &node(spoke_server.url(spoke_db)),
        table,
        rows,
    )
    .await
}

/// What the boundary itself costs per row of a full sync: a 20,000-row
/// batch of the benchmark's table crosses twice (the scan's answer, the
/// apply request), each encoded and decoded, best of five.
fn boundary_cost_per_row() -> Duration {
    use hetsync_core::change::ApplyBatch;
    use hetsync_core::value::Value;
    use hetsync_plugin_sdk::wire::{decode, encode, Request};
    use std::borrow::Cow;
    const BATCH: i64 = 20_000;
    let rows: Vec<Vec<Value>> = (1..=BATCH)
        .map(|i| {
            vec![
                Value::Int(i),
                Value::Int(i * 2),
                Value::Int(i % 1000),
                Value::Float(i as f64 * 0.5),
                Value::Float(i as f64 * 0.25),
                Value::Text(format!("name {i}")),
                Value::Text(format!("{:032x}", i * 7919)),
                Value::Text("planning zone".into()),
                Value::Int(i % 7),
                Value::Float(i as f64 * 1.25),
            ]
        })
        .collect();
    let mut best = Duration::MAX;
    for _ in 0..5 {
        let started = Instant::now();
        let answer: Vec<Vec<Value>> = decode(&encode(&rows)).unwrap();
        let batch = ApplyBatch::fresh_rows("t", answer);
        let request = encode(&Request::Apply {
            node: 1,
            tables: Cow::Owned(Vec::new()),
            batch: Cow::Borrowed(&batch),
        });
        let back: Request<'static> = decode(&request).unwrap();
        assert!(matches!(back, Request::Apply { .. }));
        best = best.min(started.elapsed());
    }
    best / BATCH as u32
}

async fn plugin_boundary_benchmark(rows: u64, lines: &mut Vec<Line>) {
    use hetsync_plugin_sdk::{LoadOptions, PluginAdapter, PluginLibrary};
    let library = release_postgres_plugin();
    let plugin = PluginAdapter::new(
        PluginLibrary::load(&library, &LoadOptions::default()).unwrap_or_else(|e| panic!("{e}")),
    );
    let built_in = hetsync_adapter_postgres::PostgresAdapter;
    let (a, b) = (PgServer::start(), PgServer::start());
    a.create_db("hub").await;
    let mut hub = connect(&a, "hub").await;
    exec(&mut hub, DDL).await;
    fill(&mut hub, rows).await;
    // Alternate the two paths and keep each one's best run: the machine is noisy.
    let (mut best_built_in, mut best_plugin) = (Duration::MAX, Duration::MAX);
    for round in 0..3 {
        let table = || hetsync_core::schema::TableDef::new("t", &["id"]);
        let db = format!("built_in_{round}");
        let t = full_sync_through(&built_in, &a.url("hub"), (&b, &db, DDL), table(), rows).await;
        best_built_in = best_built_in.min(t);
        let db = format!("plugin_{round}");
        let t = full_sync_through(&plugin, &a.url("hub"), (&b, &db, DDL), table(), rows).await;
        best_plugin = best_plugin.min(t);
    }
    let per_row = boundary_cost_per_row();
    println!(
        "plugin boundary: encode + decode of a scan answer and an apply request: {:.3} µs per row",
        per_row.as_secs_f64() * 1e6
    );
    push_pair(
        lines,
        rows,
        ("full sync PG → PG, built-in adapter", best_built_in),
        (
            "full sync PG → PG, adapter loaded as plugin",
            best_plugin,
            "target ≥ 0.95× built-in",
        ),
    );
}

/// The hub's table of the mapping benchmark: types whose values the mapping
/// layer converts (decimal and instant columns) next to plain ones.
const TYPED_DDL: &str = "CREATE TABLE t (id bigint PRIMARY KEY, amount numeric(12,4), \
    at timestamptz(6), day date, name varchar(40), note text)";
/// The same data on a spoke that types it differently.
const RETYPED_DDL: &str = "CREATE TABLE t (id bigint PRIMARY KEY, amount double precision, \
    at timestamp(6), day text, name varchar(40), note text)";
const TYPED_FILL: &str = "INSERT INTO t SELECT i, (i % 100000) * 1.2345, \
    timestamptz '2020-01-01 00:00:00+00' + i * interval '1.5 second', date '2000-01-01' + (i % 9000)::int, \
    'station ' || i, md5(i::text) FROM generate_series(1, $1) i";

/// What converting values costs: a full sync PG → PG of a table with
/// decimal, instant and date columns into a spoke that types them the same
/// (values are only brought to canonical form) and into one that types them
/// differently (double, timestamp, text: every value converted), against
/// the plain table's full sync in the same run.
async fn mapping_benchmark(rows: u64, lines: &mut Vec<Line>) {
    use hetsync_core::schema::TableDef;
    let (a, b) = (PgServer::start(), PgServer::start());
    a.create_db("hub").await;
    let mut hub = connect(&a, "hub").await;
    exec(&mut hub, TYPED_DDL).await;
    sqlx::query(TYPED_FILL)
        .bind(rows as i64)
        .execute(&mut hub)
        .await
        .expect("fill");
    exec(&mut hub, "ANALYZE t").await;
    let adapter = hetsync_adapter_postgres::PostgresAdapter;
    let lossy = || TableDef {
        allow_lossy: true,
        ..TableDef::new("t", &["id"])
    };
    let (mut same, mut retyped) = (Duration::MAX, Duration::MAX);
    for round in 0..3 {
        let db = format!("same_{round}");
        let t =
            full_sync_through(&adapter, &a.url("hub"), (&b, &db, TYPED_DDL), lossy(), rows).await;
        same = same.min(t);
        let db = format!("retyped_{round}");
        let t = full_sync_through(
            &adapter,
            &a.url("hub"),
            (&b, &db, RETYPED_DDL),
            lossy(),
            rows,
        )
        .await;
        retyped = retyped.min(t);
    }
    let per_row = conversion_cost_per_row();
    println!(
        "value conversion: a decimal, an instant and a date brought to canonical form and converted to double, timestamp and text: {:.3} µs per row",
        per_row.as_secs_f64() * 1e6
    );
    push_pair(
        lines,
        rows,
        ("full sync, typed table, same types", same),
        (
            "full sync, typed table, retyped spoke",
            retyped,
            "ratio to same types",
        ),
    );
}

/// The conversion layer alone: one row's three converted values
/// (normalized on the hub, then converted for the retyped spoke), best of five.
fn conversion_cost_per_row() -> Duration {
    use hetsync_core::mapping::convert::{convert, normalize, UnfitPolicy};
    use hetsync_core::types::CanonicalType as C;
    use hetsync_core::value::Value;
    const ROWS: u32 = 200_000;
    let types = [
        (
            C::Decimal {
                precision: Some(12),
                scale: 4,
            },
            C::Float64,
        ),
        (
            C::Timestamp {
                fraction: 6,
                time_zone: true,
            },
            C::Timestamp {
                fraction: 6,
                time_zone: false,
            },
        ),
        (C::Date, C::Text { unicode: true }),
    ];
    let values: Vec<[Value; 3]> = (0..ROWS)
        .map(|i| {
            [
                Value::Text(format!("{}.{:04}", i, i % 10_000)),
                Value::Text(format!(
                    "2020-01-{:02} 10:{:02}:{:02}.5+00",
                    i % 28 + 1,
                    i % 60,
                    i % 59
                )),
                Value::Text(format!("2000-{:02}-{:02}", i % 12 + 1, i % 28 + 1)),
            ]
        })
        .collect();
    let mut best = Duration::MAX;
    for _ in 0..5 {
        let started = Instant::now();
        for row in &values {
            for (v, (from, to)) in row.iter().zip(&types) {
                let canonical = normalize(v.clone(), from).expect("normalize");
                convert(canonical, from, to, UnfitPolicy::Error).expect("convert");
            }
        }
        best = best.min(started.elapsed());
    }
    best / ROWS
}

#[tokio::main]
async fn main() {
    // HETSYNC_LOG=hetsync_core=debug shows the phases of every round.
    if let Ok(filter) = std::env::var("HETSYNC_LOG") {
        tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .init();
    }
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .filter_map(|a| a.replace('_', "").parse().ok())
        .collect();
    let rows = args.first().copied().unwrap_or(1_000_000);
    let memory_rows = args.get(1).copied().unwrap_or(5_000_000);
    // HETSYNC_BENCH=sync,capture,memory,mariadb,plugin,mapping,digest,sqlite,snapshot,pgbench,purge,bulk,latency,odbc (the default: all) picks the groups.
    let only = std::env::var("HETSYNC_BENCH").unwrap_or_else(|_| {
        "sync,capture,memory,mariadb,plugin,mapping,digest,sqlite,snapshot,pgbench,purge,bulk,latency,odbc".into()
    });
    let mut lines = Vec::new();
    if only.contains("sync") {
        sync_benchmarks(rows, &mut lines).await;
    }
    if only.contains("capture") {
        capture_benchmarks(rows, &mut lines).await;
    }
    if only.contains("plugin") {
        plugin_boundary_benchmark(rows, &mut lines).await;
    }
    if only.contains("mapping") {
        mapping_benchmark(rows, &mut lines).await;
    }
    if only.contains("mariadb") {
        mariadb_capture_benchmarks(rows, &mut lines).await;
    }
    if only.contains("digest") {
        digest::digest_benchmarks(rows, &mut lines).await;
    }
    if only.contains("sqlite") {
        sqlite::sqlite_benchmarks(rows, &mut lines).await;
    }
    if only.contains("snapshot") {
        snapshot::snapshot_benchmarks(rows, &mut lines).await;
    }
    if only.contains("pgbench") {
        pgbench::pgbench_benchmarks(&mut lines).await;
    }
    if only.contains("purge") {
        purge::purge_benchmarks(rows, &mut lines).await;
    }
    if only.contains("bulk") {
        bulk::bulk_benchmarks(rows, &mut lines).await;
    }
    if only.contains("odbc") {
        odbc::odbc_benchmarks(rows, &mut lines).await;
    }
    if only.contains("latency") {
        latency::latency_benchmark(LATENCY_EDITS).await;
    }
    let peak_kb = if only.contains("memory") {
        Some(memory_benchmark(memory_rows, &mut lines).await)
    } else {
        None
    };
    println!();
    for line in &lines {
        line.print();
    }
    if let Some((full_kb, incremental_kb)) = peak_kb {
        for (name, kb) in [
            ("memory of a full sync", full_kb),
            ("memory of an incremental sync", incremental_kb),
        ] {
            println!(
                "{:<44} {:>9} rows peak RSS {:.0} MB {:>40}",
                name,
                memory_rows,
                kb as f64 / 1024.0,
                "target < 200 MB"
            );
        }
    }
}
