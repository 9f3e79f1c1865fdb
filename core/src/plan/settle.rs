//! Settling a batch at apply time against local edits the round did not read.
//!
//! A round reads both sides, plans, then writes. Someone may edit a row on
//! the destination in between. The destination's apply locks the rows it is
//! about to write (in code order), reads the local edits of those rows made
//! after the round's read position, and settles each one here, by the same
//! rule the planner uses: per field (form `field`) or per row (form `table`)
//! the table's policy decides ([`super::precedence`]; by default the later
//! stamp wins).
//! - The incoming change wins: it is written, and the superseded local edit
//!   is trimmed from the tracking table (otherwise a later round would send
//!   the older edit on as if it were new).
//! - The local edit wins: the incoming write of that field or row is
//!   dropped, with its tracking entries; the local edit is then an ordinary
//!   change that a later round sends the other way.
//!
//! Either way the decision is a conflict for the log. Nothing restarts.

use super::precedence::{self, Rule, Verdict};
use super::{other, row_text, Conflict, ConflictKind, LosingRow, Side};
use crate::change::{Event, RowOp, Stamp, TrackingEntry};
use crate::code::CombinedCode;
use crate::schema::{SyncForm, SyncTable};
use crate::value::Value;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap};

use super::summary::Summary;

/// Who the applying node is in its round: what settling needs besides the
/// batch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settle {
    /// The hub's name (equal times go to the hub).
    pub hub: String,
    /// The side of the round the applying node is on.
    pub side: Side,
}

/// A change to a local tracking row whose edit a newer incoming change
/// superseded (in part or whole).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Trim {
    /// Delete the tracking row at this position: nothing of its edit is left.
    Forget(i64),
    /// Keep only these changed fields of the tracking row at this position.
    Fields(i64, Vec<String>),
}

/// One table's batch after settling.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Settled {
    /// The operations to write.
    pub ops: Vec<RowOp>,
    /// The batch's tracking entries of this table, less what was dropped.
    pub tracking: Vec<TrackingEntry>,
    /// Local tracking rows to trim.
    pub trims: Vec<Trim>,
    /// The decisions taken.
    pub conflicts: Vec<Conflict>,
}

/// What settling one table reads.
pub struct Pending<'a> {
    /// The batch's operations on the table.
    pub ops: &'a [RowOp],
    /// The tracking entries the batch writes for the table.
    pub tracking: &'a [TrackingEntry],
    /// Stamps of the operations' changes besides `tracking` (downloads write
    /// no tracking rows, so their stamps come separately).
    pub stamps: &'a [TrackingEntry],
    /// Local edits of the table after the round's read position, in
    /// tracking order.
    pub edited: &'a [Event],
    /// The current (locked) rows of the edited codes; absent codes have none.
    pub locked: &'a HashMap<CombinedCode, Vec<Value>>,
}

/// Settles one table's operations against the local edits the round did not
/// read. Operations on rows nobody edited pass through unchanged.
pub fn settle_table(
    table: &SyncTable,
    settle: &Settle,
    node: &str,
    p: Pending<'_>,
) -> crate::Result<Settled> {
    let mut edited: HashMap<&CombinedCode, Vec<&Event>> = HashMap::new();
    for e in p.edited {
        edited.entry(&e.code).or_default().push(e);
    }
    let mut out = Settled::default();
    if edited.is_empty() {
        out.ops = p.ops.to_vec();
        out.tracking = p.tracking.to_vec();
        return Ok(out);
    }
    let mut incoming: HashMap<&CombinedCode, Vec<Event>> = HashMap::new();
    for t in p.tracking.iter().chain(p.stamps) {
        incoming.entry(&t.code).or_default().push(Event {
            seq: 0,
            code: t.code.clone(),
            stamp: t.stamp.clone(),
            deleted: t.deleted,
            fields: t.fields.clone(),
        });
    }
    // Fields dropped from the incoming side, per code (`None`: all of it).
    let mut dropped: HashMap<CombinedCode, Option<BTreeSet<String>>> = HashMap::new();
    // Fields superseded on the local side, per tracking row (`None`: all).
    let mut superseded: HashMap<i64, Option<BTreeSet<String>>> = HashMap::new();
    for op in p.ops {
        let code = table.code_of_op(op, node)?;
        let Some(local) = edited.get(&code) else {
            out.ops.push(op.clone());
            continue;
        };
        let row = Row {
            table,
            settle,
            code: &code,
            incoming: Summary::fold(
                table,
                &settle.hub,
                incoming.get(&code).into_iter().flatten(),
            ),
            local: Summary::fold(table, &settle.hub, local.iter().copied()),
            events: local,
            current: p.locked.get(&code),
        };
        let decision = match (table.form, op) {
            (SyncForm::Field, RowOp::Upsert { values, fields }) => {
                row.field_upsert(values, fields.as_deref())
            }
            (SyncForm::Table, RowOp::Upsert { values, .. }) => row.whole_row(Some(values)),
            (_, RowOp::Delete { .. }) => row.whole_row(None),
        };
        out.conflicts.extend(decision.conflicts);
        for (seq, fields) in decision.superseded {
            merge(superseded.entry(seq).or_insert_with(empty), fields);
        }
        match decision.write {
            Write::All => out.ops.push(op.clone()),
            Write::Fields(kept) => {
                let RowOp::Upsert { values, .. } = op else {
                    unreachable!("only upserts keep some fields")
                };
                let names: BTreeSet<String> = table
                    .columns
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| !table.is_code_column(*i) && !kept.contains(i))
                    .map(|(_, c)| c.clone())
                    .collect();
                merge(dropped.entry(code).or_insert_with(empty), Some(names));
                out.ops.push(RowOp::Upsert {
                    values: values.clone(),
                    fields: Some(kept),
                });
            }
            Write::Nothing => {
                dropped.insert(code, None);
            }
        }
    }
    for t in p.tracking {
        match dropped.get(&t.code) {
            None => out.tracking.push(t.clone()),
            Some(None) => {}
            Some(Some(names)) => {
                let left: Vec<String> = expand(table, t.fields.as_deref())
                    .into_iter()
                    .filter(|f| !names.contains(f))
                    .collect();
                if t.deleted {
                    out.tracking.push(t.clone());
                } else if !left.is_empty() {
                    out.tracking.push(TrackingEntry {
                        fields: Some(left),
                        ..t.clone()
                    });
                }
            }
        }
    }
    for e in p.edited {
        let Some(gone) = superseded.get(&e.seq) else {
            continue;
        };
        let had = expand(table, e.fields.as_deref());
        let left: Vec<String> = match gone {
            None => Vec::new(),
            Some(names) => had
                .iter()
                .filter(|f| !names.contains(*f))
                .cloned()
                .collect(),
        };
        if left.is_empty() {
            out.trims.push(Trim::Forget(e.seq));
        } else if left.len() < had.len() {
            out.trims.push(Trim::Fields(e.seq, left));
        }
    }
    Ok(out)
}

fn empty() -> Option<BTreeSet<String>> {
    Some(BTreeSet::new())
}

/// Adds `more` to `into` (`None`: everything).
fn merge(into: &mut Option<BTreeSet<String>>, more: Option<BTreeSet<String>>) {
    match (into.as_mut(), more) {
        (Some(set), Some(more)) => set.extend(more),
        (Some(_), None) => *into = None,
        (None, _) => {}
    }
}

/// The non-code fields a change names (`None`: every non-code column).
fn expand(table: &SyncTable, fields: Option<&[String]>) -> Vec<String> {
    table
        .columns
        .iter()
        .enumerate()
        .filter(|(i, c)| !table.is_code_column(*i) && fields.is_none_or(|f| f.contains(c)))
        .map(|(_, c)| c.clone())
        .collect()
}

/// What to write of one incoming operation.
enum Write {
    /// The operation as it is.
    All,
    /// Only these column positions of the upsert.
    Fields(Vec<usize>),
    /// Nothing.
    Nothing,
}

/// One operation's decision.
struct Decision {
    write: Write,
    /// Local tracking rows superseded: per position, the fields (`None`: all).
    superseded: Vec<(i64, Option<BTreeSet<String>>)>,
    conflicts: Vec<Conflict>,
}

/// One edited row: the incoming and local stamps, and its current values.
struct Row<'a> {
    table: &'a SyncTable,
    settle: &'a Settle,
    code: &'a CombinedCode,
    incoming: Summary,
    local: Summary,
    events: &'a [&'a Event],
    current: Option<&'a Vec<Value>>,
}

impl Row<'_> {
    /// Whether the incoming stamp beats the local one, by the table's
    /// policy. An incoming write without a stamp (a full-sync copy, not a
    /// recorded change) yields to any local edit, and is no conflict to log.
    fn incoming_wins(&self, incoming: Option<&Stamp>, local: &Stamp) -> Verdict {
        match incoming {
            Some(i) => precedence::decide(
                &self.table.conflict,
                &self.settle.hub,
                i,
                other(self.settle.side),
                local,
            ),
            None => Verdict {
                wins: false,
                rule: Rule::Latest,
            },
        }
    }

    fn conflict(
        &self,
        Verdict {
            wins: incoming_won,
            rule,
        }: Verdict,
        field: Option<usize>,
        kind: ConflictKind,
        (incoming, local): (&Stamp, &Stamp),
        (incoming_row, local_row): (Option<&[Value]>, Option<&[Value]>),
    ) -> Conflict {
        let text = |row: Option<&[Value]>| match (field, row) {
            (Some(i), Some(r)) => r[i].to_string(),
            _ => row_text(row.map(<[Value]>::to_vec).as_ref()),
        };
        let local_side = self.settle.side;
        let (winner_side, winner, loser, winner_row, loser_row) = if incoming_won {
            (other(local_side), incoming, local, incoming_row, local_row)
        } else {
            (local_side, local, incoming, local_row, incoming_row)
        };
        Conflict {
            table: self.table.name.clone(),
            code: self.code.clone(),
            field: field.map(|i| self.table.columns[i].clone()),
            kind,
            winner_side,
            winner: winner.clone(),
            loser: loser.clone(),
            winner_value: text(winner_row),
            loser_value: text(loser_row),
            rule,
            loser_row: Some(LosingRow::of(loser_row)),
            uid: None,
        }
    }

    /// Every local tracking row of the code, all of it superseded.
    fn all_superseded(&self) -> Vec<(i64, Option<BTreeSet<String>>)> {
        self.events.iter().map(|e| (e.seq, None)).collect()
    }

    /// Form `field` upsert: field by field.
    fn field_upsert(&self, values: &[Value], fields: Option<&[usize]>) -> Decision {
        let Some(current) = self.current else {
            // Deleted here after the read: the delete against the incoming row.
            return self.whole_row(Some(values));
        };
        let mut decision = Decision {
            write: Write::All,
            superseded: Vec::new(),
            conflicts: Vec::new(),
        };
        let written: Vec<usize> = match fields {
            Some(f) => f.to_vec(),
            None => (0..values.len()).collect(),
        };
        let mut kept = Vec::new();
        let mut lost_any = false;
        for &i in &written {
            if self.table.is_code_column(i) {
                continue;
            }
            let Some(local) = &self.local.fields[i] else {
                kept.push(i);
                continue;
            };
            let incoming = self.incoming.fields[i]
                .as_ref()
                .or(self.incoming.last.as_ref());
            let verdict = self.incoming_wins(incoming, local);
            if verdict.wins {
                kept.push(i);
                let name = self.table.columns[i].clone();
                for e in self.events.iter().filter(|e| !e.deleted) {
                    let names = expand(self.table, e.fields.as_deref());
                    if names.contains(&name) {
                        decision
                            .superseded
                            .push((e.seq, Some(BTreeSet::from([name.clone()]))));
                    }
                }
            } else {
                lost_any = true;
            }
            if let Some(incoming) = incoming.filter(|_| !values[i].identical(&current[i])) {
                decision.conflicts.push(self.conflict(
                    verdict,
                    Some(i),
                    ConflictKind::UpdateUpdate,
                    (incoming, local),
                    (Some(values), Some(&current[..])),
                ));
            }
        }
        if lost_any {
            decision.write = if kept.is_empty() {
                Write::Nothing
            } else {
                Write::Fields(kept)
            };
        }
        decision
    }

    /// Form `table` upserts and every delete: the whole row (`None`: the
    /// incoming change deletes it).
    fn whole_row(&self, values: Option<&[Value]>) -> Decision {
        let local = self
            .local
            .last
            .as_ref()
            .expect("an edited row has a latest local change");
        let incoming = match values {
            Some(_) => self.incoming.last.as_ref(),
            None => self.incoming.tomb.as_ref().or(self.incoming.last.as_ref()),
        };
        let verdict = self.incoming_wins(incoming, local);
        let same = match (values, self.current) {
            (Some(v), Some(c)) => crate::value::rows_identical(v, c),
            (None, None) => true,
            _ => false,
        };
        let kind = if values.is_some() && self.current.is_some() {
            ConflictKind::UpdateUpdate
        } else {
            ConflictKind::DeleteUpdate
        };
        let conflicts = match incoming.filter(|_| !same) {
            None => Vec::new(),
            Some(incoming) => vec![self.conflict(
                verdict,
                None,
                kind,
                (incoming, local),
                (values, self.current.map(Vec::as_slice)),
            )],
        };
        if verdict.wins {
            Decision {
                write: Write::All,
                superseded: self.all_superseded(),
                conflicts,
            }
        } else {
            Decision {
                write: Write::Nothing,
                superseded: Vec::new(),
                conflicts,
            }
        }
    }
}

#[cfg(test)]
mod tests;
