//! Randomized check against a reference model: random inserts, updates and
//! deletes on a hub and three spokes, interleaved with rounds of random
//! spokes, on real SQLite files. After every round the two nodes involved
//! must hold exactly what the model says; at the end every node must.
//!
//! The model is state-based and knows nothing of tracking tables or
//! watermarks: each node holds rows with a stamp per field (form `field`) or
//! per row (form `table`) and tombstones; a round merges the spoke's and the
//! hub's entries by these rules:
//! - both present: per field (per row) the later stamp wins;
//! - present on one side only: a delete the other side recorded since its
//!   last sync wins when it is later than every change the present side made
//!   since then; otherwise the row is copied, its fields untouched since the
//!   last sync (or since before that delete) stamped with the present side's
//!   latest change.
//!
//! A round here is the rounds of one `sync` of a spoke: in half the cases
//! they read a few events each (`[sync] round_events`), and together must
//! end where one unbounded round would. (Those cases make no edits during
//! rounds: a later round of the pass may carry such an edit's value early,
//! with the stamp of an earlier change of the row, which the model does not
//! follow; the later change still wins, see `tests/bounded_rounds.rs`.)
//!
//! Some rounds meet an application edit of the round's spoke or of the hub,
//! made after the round read both (right after the read or after the plan;
//! on the spoke also after the hub's commit). The node settles it where it writes: the edit,
//! being later than anything the round read, wins there; so the model
//! merges as usual and then applies the edit on top, and checks both nodes.
//!
//! `HETSYNC_RANDOM_CASES` (default 200, all SQLite), `HETSYNC_RANDOM_MIXED_CASES`
//! (default 50 per mixed topology: PostgreSQL hub with SQLite and PostgreSQL
//! spokes; SQLite hub with PostgreSQL spokes) and `HETSYNC_RANDOM_SEED` pick the cases.

mod support;

use async_trait::async_trait;
use hetsync_core::change::Stamp;
use hetsync_core::engine::{FaultHook, FaultPoint};
use hetsync_core::value::Value;
use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use support::{tick, Deploy, Servers, Topology};

const NODES: [&str; 4] = ["hub", "s1", "s2", "s3"];
const TABLES: [(&str, bool); 2] = [("t_field", true), ("t_row", false)];
const FIELDS: usize = 3;

/// SplitMix64: a tiny seeded generator, so a failing case can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

#[derive(Clone, Debug, Default)]
struct Entry {
    /// Values of a, b, c and their stamps.
    row: Option<(Vec<Value>, Vec<Stamp>)>,
    tomb: Option<Stamp>,
    /// Spokes: fields changed since the last round.
    dirty: [bool; FIELDS],
    /// Spokes: deleted since the last round.
    dirty_tomb: bool,
}

type NodeState = BTreeMap<(usize, i64), Entry>;

fn wins(a: &Stamp, b: &Stamp) -> bool {
    a.precedence(b, "hub") == Ordering::Greater
}

fn latest<'a>(stamps: impl IntoIterator<Item = &'a Stamp>) -> Option<Stamp> {
    stamps
        .into_iter()
        .fold(None, |best: Option<&Stamp>, s| match best {
            Some(b) if !wins(s, b) => Some(b),
            _ => Some(s),
        })
        .cloned()
}

/// Merges spoke entry `s` with hub entry `h` (see the module doc).
fn merge(s: &mut Entry, h: &mut Entry, field_form: bool) {
    let s_last = s
        .row
        .as_ref()
        .and_then(|(_, st)| latest((0..FIELDS).filter(|&i| s.dirty[i]).map(|i| &st[i])));
    match (s.row.clone(), h.row.clone()) {
        (Some((sv, ss)), Some((hv, hs))) => {
            if field_form {
                let (mut v, mut st) = (hv.clone(), hs.clone());
                for i in 0..FIELDS {
                    if wins(&ss[i], &hs[i]) {
                        v[i] = sv[i].clone();
                        st[i] = ss[i].clone();
                    }
                }
                s.row = Some((v.clone(), st.clone()));
                h.row = Some((v, st));
            } else if wins(&latest(&ss).unwrap(), &latest(&hs).unwrap()) {
                h.row = s.row.clone();
            } else {
                s.row = h.row.clone();
            }
        }
        (Some((sv, ss)), None) => {
            let delete_wins = match (&s_last, &h.tomb) {
                (None, tomb) => {
                    assert!(
                        tomb.is_some(),
                        "a spoke row the hub never had is unchanged since the last round"
                    );
                    true
                }
                (Some(last), Some(t)) => !wins(last, t),
                (Some(_), None) => false,
            };
            if delete_wins {
                s.row = None;
                s.tomb = h.tomb.clone();
            } else {
                let last = s_last.expect("spoke changed the row");
                // Fields untouched since the last round, or since before the
                // delete the row survives, take the resurrecting stamp.
                let survives =
                    |i: usize| s.dirty[i] && h.tomb.as_ref().is_none_or(|t| wins(&ss[i], t));
                let st: Vec<Stamp> = (0..FIELDS)
                    .map(|i| {
                        if survives(i) {
                            ss[i].clone()
                        } else {
                            last.clone()
                        }
                    })
                    .collect();
                s.row = Some((sv.clone(), st.clone()));
                h.row = Some((sv, st));
            }
        }
        (None, Some((_, hs))) => {
            let tomb = s.tomb.clone().filter(|_| s.dirty_tomb);
            match tomb {
                Some(t) if !wins(&latest(&hs).unwrap(), &t) => {
                    h.row = None;
                    h.tomb = Some(t);
                }
                _ => s.row = h.row.clone(),
            }
        }
        (None, None) => {}
    }
    s.dirty = [false; FIELDS];
    s.dirty_tomb = false;
}

/// Makes one planned application edit while a round runs, when the round
/// reaches the planned point.
struct EditDuringRound {
    d: Arc<Deploy>,
    planned: Mutex<Option<(FaultPoint, &'static str, String)>>,
}

#[async_trait]
impl FaultHook for EditDuringRound {
    async fn reached(&self, _: &str, point: FaultPoint) -> hetsync_core::Result<()> {
        let edit = {
            let mut planned = self.planned.lock().unwrap();
            match planned.as_ref() {
                Some((at, ..)) if *at == point => planned.take(),
                _ => None,
            }
        };
        if let Some((_, node, sql)) = edit {
            tick().await;
            self.d.exec(node, &sql).await;
        }
        Ok(())
    }
}

struct Case {
    d: Arc<Deploy>,
    model: Vec<NodeState>,
    /// Last tracking sequence seen per node.
    seen: Vec<i64>,
}

impl Case {
    async fn row_values(&self, node: usize, table: usize, k: i64) -> Option<Vec<Value>> {
        let rows = self.d.rows(NODES[node], TABLES[table].0).await;
        rows.into_iter()
            .find(|r| r[0] == Value::Int(k))
            .map(|r| r[1..].to_vec())
    }

    /// Reads the tracking rows an edit produced and applies them to the model.
    async fn record_edit(&mut self, node: usize, table: usize, k: i64) {
        let rows = self.d.local_events(NODES[node], self.seen[node]).await;
        let values = self.row_values(node, table, k).await;
        let field_form = TABLES[table].1;
        let spoke = node > 0;
        for (seq, time, deleted, fields) in rows {
            self.seen[node] = seq;
            let stamp = Stamp {
                time,
                origin: NODES[node].to_string(),
            };
            let e = self.model[node].entry((table, k)).or_default();
            if deleted {
                e.row = None;
                e.tomb = Some(stamp);
                e.dirty_tomb = spoke;
                continue;
            }
            let changed: Vec<usize> = match (fields, field_form) {
                (Some(f), true) => serde_json::from_str::<Vec<String>>(&f)
                    .unwrap()
                    .iter()
                    .map(|n| ["a", "b", "c"].iter().position(|x| x == n).unwrap())
                    .collect(),
                _ => (0..FIELDS).collect(),
            };
            let vals = values.clone().expect("row exists after insert/update");
            // Only the changed fields: a round may have written the others
            // since (an edit made during a round is recorded after it). An
            // update that kept a row a round deleted meanwhile (its delete
            // lost to the later edit) keeps the other fields as they were,
            // no newer than that delete.
            let (mut v, mut st) = e.row.clone().unwrap_or_else(|| {
                let floor = e.tomb.clone().unwrap_or_else(|| stamp.clone());
                (vals.clone(), vec![floor; FIELDS])
            });
            for &i in &changed {
                v[i] = vals[i].clone();
                st[i] = stamp.clone();
                e.dirty[i] |= spoke;
            }
            e.row = Some((v, st));
        }
    }

    async fn check_node(&self, node: usize, context: &str) {
        for (table, (name, _)) in TABLES.iter().enumerate() {
            let actual = self.d.rows(NODES[node], name).await;
            let expected: Vec<Vec<Value>> = self.model[node]
                .iter()
                .filter(|((t, _), _)| *t == table)
                .filter_map(|((_, k), e)| {
                    e.row.as_ref().map(|(v, _)| {
                        std::iter::once(Value::Int(*k))
                            .chain(v.iter().cloned())
                            .collect()
                    })
                })
                .collect();
            assert_eq!(
                actual, expected,
                "{context}: {} table {name} differs from the model",
                NODES[node]
            );
        }
    }

    /// A round of `spoke`; `during`: the (node, table, code) an application
    /// edited while it ran.
    async fn round(
        &mut self,
        engine: &hetsync_core::engine::Engine,
        spoke: usize,
        during: Option<(usize, usize, i64)>,
        context: &str,
    ) {
        let pass = engine
            .sync_pass(&[NODES[spoke].to_string()])
            .await
            .unwrap_or_else(|e| panic!("{context}: {e}"));
        if let Some((_, e)) = pass.failed.first() {
            panic!("{context}: {e}");
        }
        for report in pass.rounds.iter().filter(|_| trace()) {
            eprintln!(
                "{context}: round {} read {:?} up to {}/{} ↑{:?} ↓{:?} conflicts {:?}{}",
                NODES[spoke],
                report.events_read,
                report.spoke_watermark,
                report.hub_watermark,
                report.uploaded,
                report.downloaded,
                report
                    .conflicts
                    .iter()
                    .map(|c| (&c.table, c.code.to_string(), &c.field, &c.winner.origin))
                    .collect::<Vec<_>>(),
                if report.more { " (more follows)" } else { "" }
            );
        }
        let keys: Vec<(usize, i64)> = self.model[spoke]
            .keys()
            .chain(self.model[0].keys())
            .copied()
            .collect();
        for key in keys {
            let mut s = self.model[spoke].remove(&key).unwrap_or_default();
            let mut h = self.model[0].remove(&key).unwrap_or_default();
            merge(&mut s, &mut h, TABLES[key.0].1);
            self.model[spoke].insert(key, s);
            self.model[0].insert(key, h);
        }
        if let Some((node, table, k)) = during {
            self.record_edit(node, table, k).await;
        }
        self.check_node(spoke, context).await;
        self.check_node(0, context).await;
    }
}

/// `HETSYNC_RANDOM_TRACE=1` prints every edit and round (to replay one seed).
fn trace() -> bool {
    std::env::var_os("HETSYNC_RANDOM_TRACE").is_some()
}

/// A random insert, update or delete of row `k` of `table` on `node`,
/// fitting what the node holds now.
async fn random_edit(rng: &mut Rng, d: &Deploy, node: usize, table: usize, k: i64) -> String {
    let texts = ["p", "q", "r"];
    let name = TABLES[table].0;
    let exists = d
        .rows(NODES[node], name)
        .await
        .iter()
        .any(|r| r[0] == Value::Int(k));
    let a = texts[rng.below(3) as usize];
    let b = rng.below(3);
    let c = [0.5, 1.5][rng.below(2) as usize];
    if !exists {
        format!("INSERT INTO {name} VALUES ({k}, '{a}', {b}, {c})")
    } else if rng.below(10) < 7 {
        let sets: Vec<String> = [format!("a = '{a}'"), format!("b = {b}"), format!("c = {c}")]
            .into_iter()
            .filter(|_| rng.below(2) == 0)
            .collect();
        if sets.is_empty() {
            format!("UPDATE {name} SET a = '{a}' WHERE k = {k}")
        } else {
            format!("UPDATE {name} SET {} WHERE k = {k}", sets.join(", "))
        }
    } else {
        format!("DELETE FROM {name} WHERE k = {k}")
    }
}

async fn run_case(topology: Topology, servers: Servers, seed: u64) {
    let mut rng = Rng(seed);
    let d = Arc::new(Deploy::on(topology, servers, &NODES[1..], support::BASIC).await);
    // Half the cases read a few events per round: the rounds of one pass
    // must end where one unbounded round would.
    let bounded = rng.below(2) == 0;
    if bounded {
        let events = 1 + rng.below(3);
        d.append_config(&format!("[sync]\nround_events = {events}\n"));
        if trace() {
            eprintln!("seed {seed}: round_events = {events}");
        }
    }
    let hook = Arc::new(EditDuringRound {
        d: d.clone(),
        planned: Mutex::new(None),
    });
    let engine = d.installed().await.with_faults(hook.clone());
    let mut case = Case {
        d,
        model: vec![NodeState::new(); NODES.len()],
        seen: vec![0; NODES.len()],
    };
    for step in 0..30 {
        let context = format!("seed {seed} step {step}");
        if rng.below(10) < 3 {
            let spoke = 1 + rng.below(3) as usize;
            let mut during = None;
            if !bounded && rng.below(2) == 0 {
                let node = [0, spoke][rng.below(2) as usize];
                let table = rng.below(2) as usize;
                let k = 1 + rng.below(4) as i64;
                let sql = random_edit(&mut rng, &case.d, node, table, k).await;
                // The edit was drawn against the node as the round read it:
                // the hub only until the round writes it.
                let points = [
                    FaultPoint::AfterRead,
                    FaultPoint::AfterPlan,
                    FaultPoint::AfterHubApply,
                ];
                let point = points[rng.below(if node == 0 { 2 } else { 3 }) as usize];
                if trace() {
                    eprintln!(
                        "{context}: during the round, at {point:?}: {} {sql}",
                        NODES[node]
                    );
                }
                *hook.planned.lock().unwrap() = Some((point, NODES[node], sql));
                during = Some((node, table, k));
            }
            case.round(&engine, spoke, during, &context).await;
            continue;
        }
        let node = rng.below(4) as usize;
        let table = rng.below(2) as usize;
        let k = 1 + rng.below(4) as i64;
        let sql = random_edit(&mut rng, &case.d, node, table, k).await;
        case.d.exec(NODES[node], &sql).await;
        case.record_edit(node, table, k).await;
        if trace() {
            let e = case.model[node]
                .get(&(table, k))
                .cloned()
                .unwrap_or_default();
            eprintln!(
                "{context}: {} {sql}  → {:?}",
                NODES[node],
                e.row
                    .as_ref()
                    .map(|(_, st)| st.iter().map(|s| s.time % 100_000_000).collect::<Vec<_>>())
            );
        }
    }
    for pass in 0..2 {
        for spoke in 1..NODES.len() {
            case.round(
                &engine,
                spoke,
                None,
                &format!("seed {seed} final pass {pass}"),
            )
            .await;
        }
    }
    case.d.assert_converged().await;
    for node in 0..NODES.len() {
        case.check_node(node, &format!("seed {seed} at the end"))
            .await;
    }
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

async fn run_cases(topology: Topology, cases: u64) {
    let base = env_number("HETSYNC_RANDOM_SEED", 20261122);
    let servers = Servers::for_topology(topology);
    for i in 0..cases {
        run_case(topology, servers.clone(), base.wrapping_add(i)).await;
    }
    println!(
        "{cases} random cases passed on {topology:?} (seeds {base}..{})",
        base.wrapping_add(cases)
    );
}

#[tokio::test]
async fn random_edits_and_rounds_match_the_reference_model() {
    run_cases(support::ALL_SQLITE, env_number("HETSYNC_RANDOM_CASES", 200)).await;
}

/// One test per mixed topology, so they run in parallel.
mod mixed {
    use super::*;

    async fn run_mixed(index: usize) {
        run_cases(
            support::MIXED[index],
            env_number("HETSYNC_RANDOM_MIXED_CASES", 50),
        )
        .await;
    }

    #[tokio::test]
    async fn postgres_hub_with_mariadb_and_sqlite_spokes() {
        run_mixed(0).await;
    }

    #[tokio::test]
    async fn sqlite_hub_with_postgres_spokes() {
        run_mixed(1).await;
    }

    #[tokio::test]
    async fn mariadb_hub_with_postgres_spokes() {
        run_mixed(2).await;
    }
}
