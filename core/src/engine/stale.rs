//! Stale spokes. A purge deletes the hub's tracking rows that every spoke
//! it waits for has integrated; it does not wait for a spoke past
//! `stale_after` ([`super::EngineOptions::stale_after`]). Such a spoke's
//! watermark of the hub is then behind the hub's purged history
//! ([`PurgedHistory`]): hub changes it never received are gone from the
//! tracking table. Its next round is a resync ([`SyncMode::Resync`]):
//! 1. both sides' backlogs are read whole, as in a first round;
//! 2. the spoke's changes that cannot be decided are held: those made
//!    before the purged history ended (under `latest`), or all of them
//!    (under a policy that does not go by time alone), since whether the
//!    hub changed the same row meanwhile is unknown. A held row is left as
//!    it is on both sides, no change of it syncs either way, until `hetsync
//!    parked retry` sends the spoke's row or `hetsync parked drop` brings
//!    the hub's ([`Engine::drop_parked`]);
//! 3. the rest of the round runs as any round does;
//! 4. before the spoke's watermark of the hub moves, every table is
//!    repaired from the hub by the convergence digest (the hub's copy wins:
//!    it holds what the spoke sent), held rows and parked ones left out.
//!
//! Nothing is lost silently: what the spoke changed either syncs or is
//! listed by `hetsync parked` until someone decides.

use super::round::{add_outcome, merge_counts, RoundRun};
use super::Engine;
use crate::adapter::Node;
use crate::change::{ApplyOutcome, ChangeSet, PurgedHistory, Refused, RowOp, Watermark};
use crate::code::CombinedCode;
use crate::plan::{Conflict, RoundPlan, Side, TableCounts};
use crate::report::{Prefer, SyncMode};
use crate::schema::{ConflictPolicy, SyncTable};
use crate::state::Parked;
use crate::{Error, Result};
use std::collections::{BTreeSet, HashMap, HashSet};

/// Codes per table a resync leaves alone.
pub(super) type Untouched = HashMap<String, HashSet<CombinedCode>>;

/// What a resync wrote to the spoke.
#[derive(Default)]
pub(super) struct Resynced {
    pub written: ApplyOutcome,
    pub downloaded: TableCounts,
    pub conflicts: Vec<Conflict>,
}

impl Engine {
    /// The hub's purged history when the spoke's watermark of the hub
    /// (`hub_mark`; `None` before its first round, which compares every
    /// row anyway) is behind it: the spoke is stale.
    pub(super) async fn stale(
        &self,
        s: &dyn Node,
        hub_mark: Option<Watermark>,
        run: &mut RoundRun,
    ) -> Result<Option<PurgedHistory>> {
        let Some(mark) = hub_mark else {
            return Ok(None);
        };
        let hub = self.hub();
        let purged = self
            .step(hub.name(), "reading the purged history", run, |_| {
                hub.purged_history()
            })
            .await?;
        let stale = purged.filter(|p| mark < p.upto);
        if let Some(p) = stale {
            if self.state.is_none() {
                return Err(Error::Deployment(format!(
                    "spoke '{}' is stale (its watermark {mark} of the hub is behind the \
                     hub's purged history, {}): its resync holds the changes it cannot \
                     decide in the state store, and there is none",
                    s.name(),
                    p.upto
                )));
            }
            tracing::warn!(
                spoke = s.name(),
                watermark = %mark,
                purged = %p.upto,
                "stale spoke: the hub purged tracking rows it never received; this round resyncs it"
            );
        }
        Ok(stale)
    }

    /// Takes held rows out of both change sets: those held by an earlier
    /// resync (not yet retried) and, in a resync (`purged` set), the
    /// spoke's changes it cannot decide. Returns the newly held.
    pub(super) fn hold(
        &self,
        spoke: &str,
        purged: Option<PurgedHistory>,
        parked_before: &[Parked],
        local: &mut ChangeSet,
        remote: &mut ChangeSet,
    ) -> Vec<Refused> {
        let mut held = Vec::new();
        if let Some(purged) = purged {
            for table in &self.tables {
                let Some(changes) = local.tables.get_mut(&table.name) else {
                    continue;
                };
                let (cutoff, message) = undecidable(table, purged);
                let codes: BTreeSet<CombinedCode> = changes
                    .events
                    .iter()
                    .filter(|e| e.stamp.time < cutoff)
                    .map(|e| e.code.clone())
                    .collect();
                for code in codes {
                    let stamp = changes.take_code(&code);
                    held.push(Refused {
                        table: table.name.clone(),
                        code,
                        stamp,
                        message: message.clone(),
                    });
                }
            }
        }
        let before = parked_before
            .iter()
            .filter(|p| p.stale && !p.retry && p.node == spoke)
            .map(|p| (&p.table, &p.code));
        let rows: Vec<(String, CombinedCode)> = before
            .chain(held.iter().map(|h| (&h.table, &h.code)))
            .map(|(t, c)| (t.clone(), c.clone()))
            .collect();
        for (table, code) in rows {
            for set in [&mut *local, &mut *remote] {
                if let Some(changes) = set.tables.get_mut(&table) {
                    changes.take_code(&code);
                }
            }
        }
        held
    }

    /// The rows a resync of `s` leaves alone: every parked or held one of
    /// the spoke (its round's and earlier rounds'), and those the round's
    /// download writes anyway.
    pub(super) fn untouched(
        &self,
        s: &dyn Node,
        parked_before: &[Parked],
        run: &RoundRun,
        plan: &RoundPlan,
    ) -> Result<Untouched> {
        let mut out = Untouched::new();
        for p in parked_before {
            out.entry(p.table.clone())
                .or_default()
                .insert(p.code.clone());
        }
        for (_, table, code) in &run.parked {
            out.entry(table.clone()).or_default().insert(code.clone());
        }
        for (name, p) in &plan.tables {
            let Some(table) = self.tables.iter().find(|t| &t.name == name) else {
                continue;
            };
            let codes = out.entry(name.clone()).or_default();
            for op in &p.download {
                codes.insert(table.code_of_op(op, s.name())?);
            }
        }
        Ok(out)
    }

    /// Repairs `tables` of stale spoke `s` from the hub, leaving `untouched`
    /// alone; rows of the spoke edited after `spoke_guard` keep the edit.
    pub(super) async fn resync(
        &self,
        s: &dyn Node,
        tables: &[&SyncTable],
        untouched: &Untouched,
        spoke_guard: Watermark,
        run: &mut RoundRun,
    ) -> Result<Resynced> {
        let spoke = self.mapped(s.name())?;
        let mut out = Resynced::default();
        let none = HashSet::new();
        for &table in tables {
            let skip = untouched.get(&table.name).unwrap_or(&none);
            let guards = (spoke_guard, Watermark::default());
            let repaired = self
                .repair_rows(spoke, table, Prefer::Hub, guards, skip, run)
                .await?;
            tracing::info!(
                spoke = s.name(),
                table = %table.name,
                missing = repaired.table.missing,
                extra = repaired.table.extra,
                differing = repaired.table.differing,
                "resynced from the hub"
            );
            add_outcome(&mut out.written, repaired.written);
            merge_counts(&mut out.downloaded, repaired.counts);
            out.conflicts.extend(repaired.conflicts);
        }
        Ok(out)
    }
}

impl Engine {
    /// Forgets the held change `parked` ([`super::stale`]) after writing
    /// the hub's copy of its row on the spoke (`hetsync parked drop` of a
    /// held change: the hub's row is kept). Holds the hub's integration
    /// lock; an edit of the row on the spoke after this starts keeps the
    /// edit.
    pub async fn drop_held(&self, parked: &Parked) -> Result<()> {
        let state = self.state.as_ref().ok_or_else(|| {
            Error::Deployment("dropping a held change needs the state store".to_string())
        })?;
        if let Some(table) = self.tables.iter().find(|t| t.name == parked.table) {
            let s = self.spoke(&parked.spoke)?;
            let _lock = self.hub().lock_integration().await?;
            let op = match self
                .hub()
                .fetch(table, std::slice::from_ref(&parked.code))
                .await?
                .pop()
            {
                Some(values) => RowOp::Upsert {
                    values,
                    fields: None,
                },
                None => RowOp::Delete {
                    code: parked.code.clone(),
                },
            };
            self.write_rows(s, Side::Spoke, &table.name, vec![op], Vec::new())
                .await?;
        }
        state.drop_parked(parked.id).await?;
        Ok(())
    }
}

/// Before when a stale spoke's changes to `table` cannot be decided, and
/// why, as the held change says.
fn undecidable(table: &SyncTable, purged: PurgedHistory) -> (i64, String) {
    let resolve = "it is left as it is on both sides: `hetsync parked retry ID` sends \
                   this spoke's row, `hetsync parked drop ID` brings the hub's";
    match table.conflict {
        ConflictPolicy::Latest => {
            let time = chrono::DateTime::from_timestamp_micros(purged.before_micros)
                .map_or_else(|| purged.before_micros.to_string(), |t| t.to_rfc3339());
            (
                purged.before_micros,
                format!(
                    "changed before {time} while this spoke was stale: the hub's history \
                     of then is purged, so whether the hub changed the row too is unknown; \
                     {resolve}"
                ),
            )
        }
        _ => (
            i64::MAX,
            format!(
                "changed while this spoke was stale: the table's conflict policy needs the \
                 hub's history of then, which is purged; {resolve}"
            ),
        ),
    }
}

/// A resync's mode.
pub(super) fn mode(full: bool, stale: bool) -> SyncMode {
    match (full, stale) {
        (true, _) => SyncMode::Full,
        (false, true) => SyncMode::Resync,
        (false, false) => SyncMode::Incremental,
    }
}
