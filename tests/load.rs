//! Rounds under sustained load, with a real client: a PostgreSQL hub runs
//! `pgbench` (TPC-B-like, 4 clients) on synced `pgbench_*` tables while
//! writers on a MariaDB spoke and a SQLite spoke edit overlapping keys and
//! a round of each spoke runs every second. Every round must succeed,
//! spokes must stay close behind, and once the load stops one `sync`
//! leaves every copy equal, with each conflict logged once.
//!
//! `HETSYNC_LOAD_SECONDS` (default 20) sets how long the load runs. The
//! timing targets (a successful round of each spoke at least every 5 s, a
//! spoke edit visible at the hub within 5 s at p95) are asserted when
//! `HETSYNC_LOAD=1` (a quiet machine); otherwise they are printed, since a
//! busy CI machine running every other test at once cannot promise them.

mod support;

use hetsync_core::engine::Engine;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::{Deploy, TableSpec, Topology, MYSQL, POSTGRES, SQLITE};

/// SQLite's integers are 64-bit, pgbench's 32-bit: the spoke's values fit
/// (`allow_lossy` lets a value that does not fit fail loudly instead).
const TABLES: &[TableSpec] = &[
    TableSpec {
        name: "pgbench_branches",
        ddl: &[
            ("postgres", "CREATE TABLE pgbench_branches (bid int PRIMARY KEY, bbalance int, filler char(88))"),
            ("mysql", "CREATE TABLE pgbench_branches (bid int PRIMARY KEY, bbalance int, filler char(88))"),
            ("sqlite", "CREATE TABLE pgbench_branches (bid INTEGER PRIMARY KEY, bbalance INTEGER, filler CHAR(88))"),
        ],
        config: "[[table]]\nname = \"pgbench_branches\"\ncode = [\"bid\"]\nallow_lossy = true\n",
    },
    TableSpec {
        name: "pgbench_tellers",
        ddl: &[
            ("postgres", "CREATE TABLE pgbench_tellers (tid int PRIMARY KEY, bid int, tbalance int, filler char(84))"),
            ("mysql", "CREATE TABLE pgbench_tellers (tid int PRIMARY KEY, bid int, tbalance int, filler char(84))"),
            ("sqlite", "CREATE TABLE pgbench_tellers (tid INTEGER PRIMARY KEY, bid INTEGER, tbalance INTEGER, filler CHAR(84))"),
        ],
        config: "[[table]]\nname = \"pgbench_tellers\"\ncode = [\"tid\"]\nallow_lossy = true\n",
    },
    TableSpec {
        name: "pgbench_accounts",
        ddl: &[
            ("postgres", "CREATE TABLE pgbench_accounts (aid int PRIMARY KEY, bid int, abalance int, filler char(84))"),
            ("mysql", "CREATE TABLE pgbench_accounts (aid int PRIMARY KEY, bid int, abalance int, filler char(84))"),
            ("sqlite", "CREATE TABLE pgbench_accounts (aid INTEGER PRIMARY KEY, bid INTEGER, abalance INTEGER, filler CHAR(84))"),
        ],
        config: "[[table]]\nname = \"pgbench_accounts\"\ncode = [\"aid\"]\nallow_lossy = true\n",
    },
];

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Runs `pgbench` against the hub's database; returns its stdout.
fn pgbench(d: &Deploy, args: &[&str]) -> String {
    hetsync_testkit::pg::pgbench(&d.node("hub").url, args)
}

/// pgbench's reported transactions per second.
fn tps(report: &str) -> f64 {
    report
        .lines()
        .find_map(|l| l.strip_prefix("tps = "))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no tps in pgbench's report:\n{report}"))
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// Edits overlapping keys on a spoke until stopped.
async fn spoke_writer(d: Arc<Deploy>, node: &'static str, stop: Arc<AtomicBool>) -> u64 {
    let mut i = 0u64;
    while !stop.load(Ordering::SeqCst) {
        let teller = i % 10 + 1;
        let account = i % 100 + 1;
        d.exec(
            node,
            &format!("UPDATE pgbench_tellers SET tbalance = tbalance + 1 WHERE tid = {teller}"),
        )
        .await;
        d.exec(
            node,
            &format!("UPDATE pgbench_accounts SET abalance = abalance - 1 WHERE aid = {account}"),
        )
        .await;
        i += 1;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    i
}

/// A round of every spoke each second until stopped: per spoke, the times
/// (since `start`) its successful rounds finished, and its failures.
async fn sync_loop(
    engine: Arc<Engine>,
    start: Instant,
    stop: Arc<AtomicBool>,
) -> Vec<(String, Vec<f64>, Vec<String>)> {
    let mut out: Vec<(String, Vec<f64>, Vec<String>)> = ["m", "s"]
        .iter()
        .map(|s| (s.to_string(), Vec::new(), Vec::new()))
        .collect();
    while !stop.load(Ordering::SeqCst) {
        let began = Instant::now();
        for (spoke, ok, failed) in &mut out {
            match engine.sync_spoke(spoke).await {
                Ok(_) => ok.push(start.elapsed().as_secs_f64()),
                Err(e) => failed.push(e.to_string()),
            }
        }
        if let Some(rest) = Duration::from_secs(1).checked_sub(began.elapsed()) {
            tokio::time::sleep(rest).await;
        }
    }
    out
}

/// Probes spoke-to-hub lag: stamps a teller's filler on the MariaDB spoke
/// and waits until the hub shows it. Returns the lags in seconds.
async fn probe(d: Arc<Deploy>, stop: Arc<AtomicBool>) -> Vec<f64> {
    let mut lags = Vec::new();
    let mut n = 0;
    while !stop.load(Ordering::SeqCst) {
        n += 1;
        let mark = format!("probe {n}");
        d.exec(
            "m",
            &format!("UPDATE pgbench_tellers SET filler = '{mark}' WHERE tid = 10"),
        )
        .await;
        let sent = Instant::now();
        loop {
            let seen = d
                .query("hub", "SELECT filler FROM pgbench_tellers WHERE tid = 10")
                .await;
            let shown =
                matches!(&seen[0][0], hetsync_core::value::Value::Text(t) if t.trim_end() == mark);
            if shown {
                lags.push(sent.elapsed().as_secs_f64());
                break;
            }
            if stop.load(Ordering::SeqCst) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    lags
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn rounds_keep_up_with_pgbench_on_the_hub_and_writers_on_the_spokes() {
    let seconds = env_number("HETSYNC_LOAD_SECONDS", 20);
    let strict = std::env::var_os("HETSYNC_LOAD").is_some();
    let topology = Topology {
        hub: POSTGRES,
        spokes: &[MYSQL, SQLITE],
    };
    let d = Arc::new(Deploy::with(topology, &["m", "s"], TABLES).await);
    // pgbench appends to its history table, which has no key: not synced.
    d.exec(
        "hub",
        "CREATE TABLE pgbench_history (tid int, bid int, aid int, delta int, mtime timestamp, filler char(22))",
    )
    .await;
    pgbench(&d, &["-i", "-I", "gv", "-s", "1"]);
    let duration = seconds.to_string();
    let bench = [
        "-b",
        "tpcb-like",
        "-c",
        "4",
        "-j",
        "2",
        "-T",
        duration.as_str(),
    ];
    let without_capture = tps(&pgbench(&d, &bench));

    let engine = Arc::new(d.engine().await);
    engine.install().await.expect("install");
    engine.sync_all().await.expect("first sync");

    let stop = Arc::new(AtomicBool::new(false));
    let start = Instant::now();
    let writers: Vec<_> = ["m", "s"]
        .into_iter()
        .map(|node| tokio::spawn(spoke_writer(d.clone(), node, stop.clone())))
        .collect();
    let rounds = tokio::spawn(sync_loop(engine.clone(), start, stop.clone()));
    let lags = tokio::spawn(probe(d.clone(), stop.clone()));
    let bench_d = d.clone();
    let bench_args: Vec<String> = bench.iter().map(|a| a.to_string()).collect();
    let with_capture = tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = bench_args.iter().map(String::as_str).collect();
        tps(&pgbench(&bench_d, &args))
    })
    .await
    .unwrap();
    stop.store(true, Ordering::SeqCst);
    let rounds = rounds.await.unwrap();
    let mut lags = lags.await.unwrap();
    for w in writers {
        assert!(w.await.unwrap() > 0, "the spoke writers wrote");
    }
    lags.sort_by(f64::total_cmp);

    let mut report = format!(
        "pgbench TPS without capture {without_capture:.0}, with capture and rounds {with_capture:.0} ({:.2}×)\n",
        with_capture / without_capture
    );
    let mut worst_gap: f64 = 0.0;
    for (spoke, ok, failed) in &rounds {
        let mut gaps: Vec<f64> = ok.windows(2).map(|w| w[1] - w[0]).collect();
        if let Some(first) = ok.first() {
            gaps.push(*first);
        }
        let gap = gaps.iter().copied().fold(0.0, f64::max);
        worst_gap = worst_gap.max(gap);
        report.push_str(&format!(
            "spoke {spoke}: {} successful rounds ({:.2}/s), {} failed, longest gap {gap:.1} s\n",
            ok.len(),
            ok.len() as f64 / seconds as f64,
            failed.len()
        ));
        assert!(
            failed.is_empty(),
            "every round under load succeeds; {spoke}: {failed:?}"
        );
    }
    let p95 = percentile(&lags, 0.95);
    report.push_str(&format!(
        "spoke → hub lag over {} probes: p50 {:.2} s, p95 {p95:.2} s, max {:.2} s",
        lags.len(),
        percentile(&lags, 0.5),
        lags.last().copied().unwrap_or(f64::NAN)
    ));
    println!("{report}");
    if strict {
        assert!(
            worst_gap <= 5.0,
            "a successful round at least every 5 s:\n{report}"
        );
        assert!(p95 < 5.0, "spoke lag under 5 s at p95:\n{report}");
    } else {
        println!("(timing targets asserted only with HETSYNC_LOAD=1)");
    }

    let pass = engine
        .sync_pass(&["m".to_string(), "s".to_string()])
        .await
        .expect("sync after the load");
    assert!(pass.failed.is_empty(), "{:?}", pass.failed);
    let verify = engine.verify().await.expect("verify");
    assert!(verify.ok, "every copy equal after one sync: {verify:?}");

    // Each decided conflict once in the log.
    let mut state =
        hetsync_testkit::sqlite::open(&d.dir.path().join("hetsync-state.db"), false).await;
    let distinct: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM (SELECT DISTINCT table_name, code, field, winner_node, winner_time, loser_node, loser_time FROM conflicts)",
    )
    .fetch_one(&mut state)
    .await
    .unwrap();
    let logged: i64 = sqlx::query_scalar("SELECT count(*) FROM conflicts")
        .fetch_one(&mut state)
        .await
        .unwrap();
    assert_eq!(logged, distinct, "no conflict logged twice");
    assert!(logged > 0, "the overlapping edits were decided and logged");
}
