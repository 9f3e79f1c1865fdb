//! Group `pgbench`: what capture costs a real OLTP client. Two databases
//! on one throwaway server are initialised alike by `pgbench -i`; one gets
//! hetsync's capture on the three keyed tables the TPC-B-like script
//! writes (`pgbench_accounts`, `pgbench_tellers`, `pgbench_branches`;
//! `pgbench_history` has no key, so it cannot be synced and stays without
//! capture). The same `pgbench` run then goes against each, alternating,
//! and the figure is the median ratio of their transaction rates. Once
//! with trigger capture on a server as it comes, once with capture by
//! logical decoding on a server with `wal_level = logical` (its plain
//! database writes that server's fuller log too).

use super::Line;
use hetsync_core::adapter::Capture;
use hetsync_core::schema::{ConflictPolicy, SyncForm, SyncTable};
use hetsync_testkit::pg::PgServer;
use std::time::{Duration, Instant};

/// pgbench's scale: 100,000 accounts per unit.
const SCALE: &str = "5";
/// Clients, and transactions each client runs per measured run.
const CLIENTS: u64 = 4;
const TRANSACTIONS: u64 = 10_000;
/// Measured runs per database (alternating), the median kept.
const RUNS: usize = 5;

/// The keyed table `name` with code column `key`, as pgbench creates it.
fn pgbench_table(name: &str, key: &str, columns: &[&str]) -> SyncTable {
    SyncTable {
        name: name.into(),
        columns: std::iter::once(key)
            .chain(columns.iter().copied())
            .map(String::from)
            .collect(),
        code: vec![0],
        form: SyncForm::Field,
        conflict: ConflictPolicy::Latest,
    }
}

fn pgbench(server: &PgServer, args: &[&str], db: &str) {
    hetsync_testkit::pg::pgbench(&server.url(db), args);
}

/// One measured TPC-B-like run on `db`: its wall time.
fn measured_run(server: &PgServer, db: &str) -> Duration {
    let (clients, transactions) = (CLIENTS.to_string(), TRANSACTIONS.to_string());
    let started = Instant::now();
    pgbench(
        server,
        &[
            "--no-vacuum",
            "-M",
            "prepared",
            "-c",
            &clients,
            "-j",
            "2",
            "-t",
            &transactions,
        ],
        db,
    );
    started.elapsed()
}

fn median(mut runs: Vec<Duration>) -> Duration {
    runs.sort();
    runs[runs.len() / 2]
}

pub async fn pgbench_benchmarks(lines: &mut Vec<Line>) {
    for logical in [false, true] {
        pgbench_ratio(lines, logical).await;
    }
}

/// The TPS of `pgbench` with capture against the same without, by
/// triggers or by logical decoding.
async fn pgbench_ratio(lines: &mut Vec<Line>, logical: bool) {
    let server = match logical {
        false => PgServer::start(),
        true => PgServer::start_logical(),
    };
    for db in ["plain", "captured"] {
        server.create_db(db).await;
        pgbench(&server, &["-i", "-q", "-s", SCALE], db);
    }
    let mut spec = hetsync_core::adapter::NodeSpec::from_url("captured", &server.url("captured"));
    if logical {
        spec.options
            .insert("capture".into(), serde_json::json!("logical"));
    }
    let node = hetsync_adapter_postgres::PostgresNode::open(&spec)
        .await
        .expect("connect");
    node.install(&[
        pgbench_table("pgbench_accounts", "aid", &["bid", "abalance", "filler"]),
        pgbench_table("pgbench_tellers", "tid", &["bid", "tbalance", "filler"]),
        pgbench_table("pgbench_branches", "bid", &["bbalance", "filler"]),
    ])
    .await
    .expect("install");
    // A warm-up run each, then alternating measured runs.
    for db in ["plain", "captured"] {
        measured_run(&server, db);
    }
    let (mut plain, mut captured) = (Vec::new(), Vec::new());
    for _ in 0..RUNS {
        plain.push(measured_run(&server, "plain"));
        captured.push(measured_run(&server, "captured"));
    }
    let transactions = CLIENTS * TRANSACTIONS;
    // Every transaction (the warm-up's too) left one change per keyed
    // table it updated, three, but where its random delta was 0 (one in
    // 10,001): a no-op update records nothing (decoded, it is counted
    // still in the slot).
    let tracked = node
        .count_events(Default::default(), None)
        .await
        .expect("count captured changes");
    let most = 3 * transactions * (RUNS as u64 + 1);
    assert!(
        (most - most / 100..=most).contains(&tracked),
        "capture recorded {tracked} updates of the three keyed tables, not about {most}"
    );
    lines.push(Line {
        name: match logical {
            false => "pgbench tpcb-like, transactions (4 clients), trigger capture".into(),
            true => "pgbench tpcb-like, transactions (4 clients), logical decoding".into(),
        },
        rows: transactions,
        took: median(captured),
        baseline: Some(median(plain)),
        target: match logical {
            false => "target ≥ 0.85×",
            true => "target ≥ 0.95×",
        },
    });
}
