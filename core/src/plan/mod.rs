//! Pure planning of one pull round of a spoke: given
//! the spoke's changes and the hub's changes since the spoke's last sync,
//! decide per row (form `table`) or per field (form `field`) what goes up,
//! what comes down, and who won each conflict. No I/O happens here.
//!
//! Both [`TableChanges`] must hold the current row of *every* code either side
//! changed (the engine fetches what a side did not read itself): a code with
//! no row is absent on that side.
//!
//! Rules, with `L` the spoke and `H` the hub:
//! - only one side changed a row/field: that side's state goes to the other;
//! - both changed it: the table's [`ConflictPolicy`] decides
//!   ([`precedence`]); by default the later [`Stamp`] wins
//!   ([`Stamp::precedence`]);
//! - the destination's operation follows from whether the row exists there,
//!   never from an insert/update/delete flag;
//! - a row present on one side and deleted on the other: the delete wins when
//!   it beats, by the same policy, the present side's latest change since the
//!   last sync (by default: is later), otherwise the row is resurrected with
//!   the present side's values;
//! - hub events that originate from this spoke are echoes and are ignored.

pub mod precedence;
pub mod settle;
mod summary;

use crate::change::{ChangeSet, Event, RowOp, Stamp, TableChanges, TrackingEntry};
use crate::code::CombinedCode;
use crate::schema::{SyncForm, SyncTable};
use crate::value::Value;
use precedence::{Rule, Verdict};
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap};
use summary::Summary;

/// Which side a change came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    /// The spoke being synced.
    Spoke,
    /// The hub.
    Hub,
}

/// What kind of conflict was resolved.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConflictKind {
    /// Both sides updated the same row (form `table`) or field (form `field`).
    UpdateUpdate,
    /// One side deleted a row the other side changed.
    DeleteUpdate,
}

/// The losing side's row of a conflict ([`Conflict::loser_row`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LosingRow {
    /// The losing change deleted the row.
    Deleted,
    /// The row with the losing change (every column).
    Row(Vec<Value>),
}

impl LosingRow {
    /// The losing side's row (`None`: it deleted the row).
    pub fn of(row: Option<&[Value]>) -> LosingRow {
        row.map_or(LosingRow::Deleted, |r| LosingRow::Row(r.to_vec()))
    }
}

/// One resolved conflict, for the report and the conflict log.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Conflict {
    /// Table name.
    pub table: String,
    /// Combined code of the row.
    pub code: CombinedCode,
    /// The field, for form `field` update/update conflicts.
    pub field: Option<String>,
    /// Kind of conflict.
    pub kind: ConflictKind,
    /// The side that won.
    pub winner_side: Side,
    /// The winning change.
    pub winner: Stamp,
    /// The losing change.
    pub loser: Stamp,
    /// The value that was kept (`deleted` for a delete).
    pub winner_value: String,
    /// The value that was overwritten.
    pub loser_value: String,
    /// The rule that decided.
    #[serde(default)]
    pub rule: Rule,
    /// The losing side's row as it was, in the hub's column order: what
    /// `hetsync conflicts undo` brings back. `None` for conflicts decided
    /// before it was kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loser_row: Option<LosingRow>,
    /// Its id in the conflict log: set once the engine records it, so that
    /// a conflict copied twice (after a crash) is logged once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
}

/// The plan for one table.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TablePlan {
    /// Writes for the hub.
    pub upload: Vec<RowOp>,
    /// Writes for the spoke.
    pub download: Vec<RowOp>,
    /// Tracking rows the hub records for the uploads (original stamps).
    pub hub_tracking: Vec<TrackingEntry>,
    /// The stamps of the downloads' changes (the spoke records no tracking
    /// rows for them, but settles concurrent edits with them).
    pub download_stamps: Vec<TrackingEntry>,
    /// Conflicts resolved.
    pub conflicts: Vec<Conflict>,
}

/// The plan for one round: one [`TablePlan`] per table, in table order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RoundPlan {
    /// Per-table plans, keyed by table name, in table order.
    pub tables: Vec<(String, TablePlan)>,
}

impl RoundPlan {
    /// All conflicts of the round.
    pub fn conflicts(&self) -> impl Iterator<Item = &Conflict> {
        self.tables.iter().flat_map(|(_, p)| p.conflicts.iter())
    }
}

/// Names of the two nodes in a round.
#[derive(Clone, Copy, Debug)]
pub struct Peers<'a> {
    /// The spoke's name.
    pub spoke: &'a str,
    /// The hub's name.
    pub hub: &'a str,
    /// A delete of a row neither side has is still sent across (recorded,
    /// with a delete that finds nothing): with a standby, a node may have
    /// the row from a hub that failed before the standby had it.
    pub absent_deletes: bool,
}

/// Plans a round over every table.
pub fn plan_round(
    tables: &[SyncTable],
    peers: Peers<'_>,
    local: &ChangeSet,
    remote: &ChangeSet,
) -> RoundPlan {
    let empty = TableChanges::default();
    RoundPlan {
        tables: tables
            .iter()
            .map(|t| {
                let l = local.tables.get(&t.name).unwrap_or(&empty);
                let h = remote.tables.get(&t.name).unwrap_or(&empty);
                (t.name.clone(), plan_table(t, peers, l, h))
            })
            .collect(),
    }
}

fn group_by_code(events: &[Event]) -> HashMap<&CombinedCode, Vec<&Event>> {
    let mut map: HashMap<&CombinedCode, Vec<&Event>> = HashMap::new();
    for e in events {
        map.entry(&e.code).or_default().push(e);
    }
    map
}

/// Plans one table.
pub fn plan_table(
    table: &SyncTable,
    peers: Peers<'_>,
    local: &TableChanges,
    remote: &TableChanges,
) -> TablePlan {
    let l_events = group_by_code(&local.events);
    let h_events = group_by_code(&remote.events);
    let mut codes: Vec<&CombinedCode> = l_events.keys().chain(h_events.keys()).copied().collect();
    codes.sort();
    codes.dedup();

    let mut plan = TablePlan::default();
    for code in codes {
        let l = Summary::fold(
            table,
            peers.hub,
            l_events.get(code).into_iter().flatten().copied(),
        )
        .unless_changed_later(local.rows.get(code));
        let h = Summary::fold(
            table,
            peers.hub,
            h_events.get(code).into_iter().flatten().copied(),
        )
        .unless_changed_later(remote.rows.get(code))
        .without_origin(peers.spoke);
        let row = RowState {
            table,
            peers,
            code,
            l: (&l, local.rows.get(code)),
            h: (&h, remote.rows.get(code)),
        };
        if peers.absent_deletes && row.l.1.is_none() && row.h.1.is_none() {
            row.plan_absent(&mut plan);
            continue;
        }
        match table.form {
            SyncForm::Field => row.plan_field(&mut plan),
            SyncForm::Table => row.plan_whole_row(&mut plan),
        }
    }
    plan
}

/// One row on both sides: its folded stamps and current values.
struct RowState<'a> {
    table: &'a SyncTable,
    peers: Peers<'a>,
    code: &'a CombinedCode,
    l: (&'a Summary, Option<&'a Vec<Value>>),
    h: (&'a Summary, Option<&'a Vec<Value>>),
}

fn row_text(row: Option<&Vec<Value>>) -> String {
    match row {
        None => "deleted".into(),
        Some(values) => {
            let parts: Vec<String> = values.iter().map(|v| v.to_string()).collect();
            format!("({})", parts.join(", "))
        }
    }
}

impl RowState<'_> {
    /// Whether change `a` of side `a_side` beats change `b` of the other
    /// side, by the table's policy.
    fn decide(&self, a: &Stamp, a_side: Side, b: &Stamp) -> Verdict {
        precedence::decide(&self.table.conflict, self.peers.hub, a, a_side, b)
    }

    /// Whether `a` was made after `b` (ties as [`Stamp::precedence`]).
    fn later(&self, a: &Stamp, b: &Stamp) -> bool {
        a.precedence(b, self.peers.hub) == Ordering::Greater
    }

    fn conflict(
        &self,
        (winner_side, rule): (Side, Rule),
        field: Option<usize>,
        kind: ConflictKind,
        w: &Stamp,
        lo: &Stamp,
    ) -> Conflict {
        let (w_row, lo_row) = match winner_side {
            Side::Spoke => (self.l.1, self.h.1),
            Side::Hub => (self.h.1, self.l.1),
        };
        let text = |row: Option<&Vec<Value>>| match (field, row) {
            (Some(i), Some(r)) => r[i].to_string(),
            _ => row_text(row),
        };
        Conflict {
            table: self.table.name.clone(),
            code: self.code.clone(),
            field: field.map(|i| self.table.columns[i].clone()),
            kind,
            winner_side,
            winner: w.clone(),
            loser: lo.clone(),
            winner_value: text(w_row),
            loser_value: text(lo_row),
            rule,
            loser_row: Some(LosingRow::of(lo_row.map(Vec::as_slice))),
            uid: None,
        }
    }

    /// Sends a row from side `from` to the other side, with the stamps of
    /// its changes (uploads: the hub's tracking rows; downloads: what the
    /// spoke settles concurrent edits with).
    fn send_row(
        &self,
        plan: &mut TablePlan,
        from: Side,
        values: &[Value],
        fields: Option<Vec<usize>>,
        stamps: Vec<(Stamp, Option<Vec<String>>)>,
    ) {
        let (ops, stamped) = match from {
            Side::Spoke => (&mut plan.upload, &mut plan.hub_tracking),
            Side::Hub => (&mut plan.download, &mut plan.download_stamps),
        };
        ops.push(RowOp::Upsert {
            values: values.to_vec(),
            fields,
        });
        for (stamp, fields) in stamps {
            stamped.push(TrackingEntry {
                table: self.table.name.clone(),
                code: self.code.clone(),
                stamp,
                deleted: false,
                fields,
            });
        }
    }

    fn upload_delete(&self, plan: &mut TablePlan, stamp: &Stamp) {
        plan.upload.push(RowOp::Delete {
            code: self.code.clone(),
        });
        plan.hub_tracking.push(TrackingEntry {
            table: self.table.name.clone(),
            code: self.code.clone(),
            stamp: stamp.clone(),
            deleted: true,
            fields: None,
        });
    }

    /// Groups one side's per-field stamps for the given columns; columns the
    /// side did not change since the spoke's last sync, or last changed
    /// before `floor` (a delete the row survives), get `fallback`.
    fn stamp_groups(
        &self,
        side: &Summary,
        columns: &[usize],
        fallback: &Stamp,
        floor: Option<&Stamp>,
    ) -> Vec<(Stamp, Option<Vec<String>>)> {
        let mut groups: Vec<(Stamp, Vec<String>)> = Vec::new();
        for &i in columns {
            let stamp = side.fields[i]
                .clone()
                .filter(|s| floor.is_none_or(|f| self.later(s, f)))
                .unwrap_or_else(|| fallback.clone());
            let name = self.table.columns[i].clone();
            match groups.iter_mut().find(|(s, _)| *s == stamp) {
                Some((_, names)) => names.push(name),
                None => groups.push((stamp, vec![name])),
            }
        }
        if groups.len() == 1 && columns.len() == self.table.columns.len() {
            let (stamp, _) = groups.pop().expect("one group");
            return vec![(stamp, None)];
        }
        groups.into_iter().map(|(s, f)| (s, Some(f))).collect()
    }

    /// Form `field`: merge per column.
    fn plan_field(&self, plan: &mut TablePlan) {
        let (l, h) = (self.l.0, self.h.0);
        match (self.l.1, self.h.1) {
            (Some(lr), Some(hr)) => {
                let mut up = Vec::new();
                let mut down = Vec::new();
                for i in (0..self.table.columns.len()).filter(|&i| !self.table.is_code_column(i)) {
                    // A winning spoke change goes up even when the hub already
                    // holds the same value: the hub must learn its later stamp.
                    let same = lr[i].identical(&hr[i]);
                    match (&l.fields[i], &h.fields[i]) {
                        (Some(_), None) => up.push(i),
                        (None, Some(_)) if !same => down.push(i),
                        (Some(a), Some(b)) => {
                            let verdict = self.decide(a, Side::Spoke, b);
                            if verdict.wins {
                                up.push(i);
                            } else if !same {
                                down.push(i);
                            }
                            if !same {
                                let (side, w, lo) = if verdict.wins {
                                    (Side::Spoke, a, b)
                                } else {
                                    (Side::Hub, b, a)
                                };
                                plan.conflicts.push(self.conflict(
                                    (side, verdict.rule),
                                    Some(i),
                                    ConflictKind::UpdateUpdate,
                                    w,
                                    lo,
                                ));
                            }
                        }
                        _ => {}
                    }
                }
                if !up.is_empty() {
                    let fallback = l.last.clone().expect("spoke changed fields");
                    let stamps = self.stamp_groups(l, &up, &fallback, None);
                    self.send_row(plan, Side::Spoke, lr, Some(up), stamps);
                }
                if !down.is_empty() {
                    let fallback = h.last.clone().expect("hub changed fields");
                    let stamps = self.stamp_groups(h, &down, &fallback, None);
                    self.send_row(plan, Side::Hub, hr, Some(down), stamps);
                }
            }
            (Some(lr), None) => self.present_vs_absent(plan, Side::Spoke, lr),
            (None, Some(hr)) => self.present_vs_absent(plan, Side::Hub, hr),
            (None, None) => {}
        }
    }

    /// One side has the row, the other does not: a new row, a resurrection,
    /// or a delete to propagate.
    fn present_vs_absent(&self, plan: &mut TablePlan, present: Side, row: &[Value]) {
        let (p, a) = match present {
            Side::Spoke => (self.l.0, self.h.0),
            Side::Hub => (self.h.0, self.l.0),
        };
        let all: Vec<usize> = (0..self.table.columns.len()).collect();
        let copy_present = |plan: &mut TablePlan| {
            // Columns untouched since the last sync, or since before the
            // delete the row survives, are re-established now.
            let fallback = p.last.clone().expect("the present side changed the row");
            let stamps = self.stamp_groups(p, &all, &fallback, a.tomb.as_ref());
            self.send_row(plan, present, row, None, stamps);
        };
        match (&a.tomb, &p.last) {
            (Some(tomb), Some(last)) => {
                let absent = match present {
                    Side::Spoke => Side::Hub,
                    Side::Hub => Side::Spoke,
                };
                let verdict = self.decide(last, present, tomb);
                if verdict.wins {
                    plan.conflicts.push(self.conflict(
                        (present, verdict.rule),
                        None,
                        ConflictKind::DeleteUpdate,
                        last,
                        tomb,
                    ));
                    copy_present(plan);
                } else {
                    plan.conflicts.push(self.conflict(
                        (absent, verdict.rule),
                        None,
                        ConflictKind::DeleteUpdate,
                        tomb,
                        last,
                    ));
                    self.delete_at(plan, present, tomb);
                }
            }
            (Some(tomb), None) => self.delete_at(plan, present, tomb),
            (None, Some(_)) => copy_present(plan),
            (None, None) => {}
        }
    }

    /// Neither side has the row ([`Peers::absent_deletes`]): a delete only
    /// one side made is recorded on the other too.
    fn plan_absent(&self, plan: &mut TablePlan) {
        match (&self.l.0.tomb, &self.h.0.tomb) {
            (Some(tomb), None) => self.delete_at(plan, Side::Hub, tomb),
            (None, Some(tomb)) => self.delete_at(plan, Side::Spoke, tomb),
            _ => {}
        }
    }

    fn delete_at(&self, plan: &mut TablePlan, side: Side, tomb: &Stamp) {
        match side {
            Side::Hub => self.upload_delete(plan, tomb),
            Side::Spoke => {
                plan.download.push(RowOp::Delete {
                    code: self.code.clone(),
                });
                plan.download_stamps.push(TrackingEntry {
                    table: self.table.name.clone(),
                    code: self.code.clone(),
                    stamp: tomb.clone(),
                    deleted: true,
                    fields: None,
                });
            }
        }
    }

    /// Form `table`: the side with the latest change wins the whole row.
    fn plan_whole_row(&self, plan: &mut TablePlan) {
        let (l, h) = (self.l.0, self.h.0);
        let winner = match (&l.last, &h.last) {
            (Some(_), None) => Side::Spoke,
            (None, Some(_)) => Side::Hub,
            (Some(a), Some(b)) => {
                let same = match (self.l.1, self.h.1) {
                    (Some(x), Some(y)) => crate::value::rows_identical(x, y),
                    (None, None) => true,
                    _ => false,
                };
                let verdict = self.decide(a, Side::Spoke, b);
                let side = if verdict.wins { Side::Spoke } else { Side::Hub };
                if !same {
                    let kind = if self.l.1.is_some() && self.h.1.is_some() {
                        ConflictKind::UpdateUpdate
                    } else {
                        ConflictKind::DeleteUpdate
                    };
                    let (w, lo) = if side == Side::Spoke { (a, b) } else { (b, a) };
                    plan.conflicts
                        .push(self.conflict((side, verdict.rule), None, kind, w, lo));
                }
                side
            }
            (None, None) => return,
        };
        let (from, to) = match winner {
            Side::Spoke => (self.l.1, self.h.1),
            Side::Hub => (self.h.1, self.l.1),
        };
        match (from, to) {
            // Identical rows: only a winning spoke stamp is worth recording.
            (Some(x), Some(y)) if winner == Side::Hub && crate::value::rows_identical(x, y) => {}
            (Some(x), _) => match winner {
                Side::Spoke => {
                    let stamp = l.last.clone().expect("spoke won");
                    self.send_row(plan, Side::Spoke, x, None, vec![(stamp, None)]);
                }
                Side::Hub => {
                    let stamp = h.last.clone().expect("hub won");
                    self.send_row(plan, Side::Hub, x, None, vec![(stamp, None)]);
                }
            },
            (None, Some(_)) => {
                let stamp = match winner {
                    Side::Spoke => l.last.as_ref(),
                    Side::Hub => h.last.as_ref(),
                };
                self.delete_at(plan, other(winner), stamp.expect("winner changed"));
            }
            (None, None) => {}
        }
    }
}

fn other(side: Side) -> Side {
    match side {
        Side::Spoke => Side::Hub,
        Side::Hub => Side::Spoke,
    }
}

/// Counts of a table plan's writes, per direction.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpCounts {
    /// Rows made to exist (inserted or updated).
    pub upserts: u64,
    /// Rows deleted.
    pub deletes: u64,
}

impl OpCounts {
    /// Rows written: upserts and deletes.
    pub fn rows(&self) -> u64 {
        self.upserts + self.deletes
    }

    /// Counts a list of operations.
    pub fn of(ops: &[RowOp]) -> Self {
        let deletes = ops
            .iter()
            .filter(|o| matches!(o, RowOp::Delete { .. }))
            .count() as u64;
        OpCounts {
            upserts: ops.len() as u64 - deletes,
            deletes,
        }
    }
}

/// Per-table counts, sorted by table name (for reports).
pub type TableCounts = BTreeMap<String, OpCounts>;

#[cfg(test)]
mod tests;
