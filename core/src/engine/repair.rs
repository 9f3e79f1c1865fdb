//! `repair`: rewrites only the rows in which a spoke's copy and the hub's
//! differ, found by the convergence digest ([`super::compare`]), from the
//! preferred side. Logged like a round; rows written to the hub carry
//! tracking entries, so they reach the other spokes.

use super::compare::Difference;
use super::round::{add_outcome, merge_counts, RoundRun};
use super::Engine;
use crate::adapter::{Apply, Capture, Node};
use crate::change::{ApplyBatch, ApplyOutcome, RowOp, Stamp, TrackingEntry, Watermark};
use crate::code::CombinedCode;
use crate::mapping::node::MappedNode;
use crate::plan::{OpCounts, Side, TableCounts};
use crate::report::{Prefer, RepairReport, RoundReport, SyncMode, TableRepair};
use crate::schema::SyncTable;
use crate::{Error, Result};
use std::collections::HashSet;
use std::time::Instant;

impl Engine {
    /// Repairs `spoke` in `tables` (every synced table when empty), keeping
    /// `prefer`'s copy of every row that differs. Holds the hub's
    /// integration lock; a row edited meanwhile keeps the edit.
    pub async fn repair(
        &self,
        spoke: &str,
        tables: &[String],
        prefer: Prefer,
    ) -> Result<RepairReport> {
        // The connection error of a spoke that could not be connected.
        self.spoke(spoke)?;
        let mapped = self.mapped(spoke)?;
        let tables = self.tables_named(tables)?;
        let _lock = self.hub().lock_integration().await?;
        let mut run = RoundRun::new();
        match self.try_repair(mapped, &tables, prefer, &mut run).await {
            Ok(mut report) => {
                report.round.retries = run.retries();
                self.record(mapped, &report.round).await?;
                Ok(report)
            }
            Err(e) => {
                if let Some(state) = &self.state {
                    state.record_failure(spoke, &e.to_string(), None).await?;
                }
                Err(e)
            }
        }
    }

    /// The synced tables of `names` (all when empty); an unknown name is
    /// an error listing the tables.
    pub(super) fn tables_named(&self, names: &[String]) -> Result<Vec<&SyncTable>> {
        if names.is_empty() {
            return Ok(self.tables.iter().collect());
        }
        names
            .iter()
            .map(|name| {
                self.tables.iter().find(|t| &t.name == name).ok_or_else(|| {
                    let known: Vec<&str> = self.tables.iter().map(|t| t.name.as_str()).collect();
                    Error::Deployment(format!(
                        "no synced table named '{name}' (tables: {})",
                        known.join(", ")
                    ))
                })
            })
            .collect()
    }

    async fn try_repair(
        &self,
        spoke: &MappedNode,
        tables: &[&SyncTable],
        prefer: Prefer,
        run: &mut RoundRun,
    ) -> Result<RepairReport> {
        let hub = self.hub();
        let started = Instant::now();
        let started_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        // Rows edited after these positions are settled where they are
        // written: the edit is newer than anything the repair read.
        let guards = (spoke.position().await?, hub.position().await?);
        let mut round = RoundReport {
            id: run.id().to_string(),
            spoke: spoke.name().to_string(),
            hub: hub.name().to_string(),
            mode: SyncMode::Repair,
            started_at,
            duration_ms: 0,
            events_read: (0, 0),
            uploaded: Default::default(),
            downloaded: Default::default(),
            hub_written: Default::default(),
            spoke_written: Default::default(),
            conflicts: Vec::new(),
            spoke_watermark: hub.peer_watermark(spoke.name()).await?.unwrap_or_default(),
            hub_watermark: spoke.peer_watermark(hub.name()).await?.unwrap_or_default(),
            retries: 0,
            follow_up: false,
            more: false,
            compared_whole: tables.iter().map(|t| t.name.clone()).collect(),
            rewound: Vec::new(),
            parked: 0,
            backups: Vec::new(),
        };
        let mut report = Vec::new();
        let none = HashSet::new();
        for &table in tables {
            let repaired = self
                .repair_rows(spoke, table, prefer, guards, &none, run)
                .await?;
            round.conflicts.extend(repaired.conflicts);
            match prefer {
                Prefer::Hub => {
                    add_outcome(&mut round.spoke_written, repaired.written);
                    merge_counts(&mut round.downloaded, repaired.counts);
                }
                Prefer::Spoke => {
                    add_outcome(&mut round.hub_written, repaired.written);
                    merge_counts(&mut round.uploaded, repaired.counts);
                }
            }
            report.push(repaired.table);
        }
        round.duration_ms = started.elapsed().as_millis() as u64;
        Ok(RepairReport {
            round,
            prefer,
            tables: report,
        })
    }

    /// Rewrites the rows of `table` that differ between the hub and
    /// `spoke` from `prefer`'s copy, leaving the codes of `skip` alone.
    /// Rows edited after the guards (spoke's, hub's) keep the edit.
    pub(super) async fn repair_rows(
        &self,
        spoke: &MappedNode,
        table: &SyncTable,
        prefer: Prefer,
        (spoke_guard, hub_guard): (Watermark, Watermark),
        skip: &HashSet<CombinedCode>,
        run: &mut RoundRun,
    ) -> Result<RepairedRows> {
        let (hub_digest, mut spoke_digest) = self.digests(table, &[spoke]).await?;
        let spoke_digest = spoke_digest.pop().expect("one spoke");
        let mut cmp = self.compare(spoke, table, &hub_digest, spoke_digest);
        let mut out = TableRepair {
            table: table.name.clone(),
            hub_rows: hub_digest.rows(),
            spoke_rows: cmp.spoke_rows(),
            buckets: hub_digest.buckets,
            differing_buckets: cmp.differing_buckets() as u64,
            ..TableRepair::default()
        };
        // Copy from `from` to `to`; `to` is on `side` of the round.
        let (from, to, side, guard): (&MappedNode, &MappedNode, Side, Watermark) = match prefer {
            Prefer::Hub => (&self.hub, spoke, Side::Spoke, spoke_guard),
            Prefer::Spoke => (spoke, &self.hub, Side::Hub, hub_guard),
        };
        // Writes to the hub are tracked, stamped now as the spoke's, so
        // that the other spokes receive them.
        let stamp = (side == Side::Hub).then(|| Stamp::now(spoke.name()));
        let mut fetched = 0;
        let mut written = ApplyOutcome::default();
        let mut counted = TableCounts::new();
        let mut conflicts = Vec::new();
        while let Some(chunk) = cmp.next_chunk().await? {
            let mut copy = Vec::new();
            let mut delete = Vec::new();
            for (code, difference) in chunk.into_iter().filter(|(c, _)| !skip.contains(c)) {
                match difference {
                    Difference::Missing => out.missing += 1,
                    Difference::Extra => out.extra += 1,
                    Difference::Differs => out.differing += 1,
                }
                match (difference, prefer) {
                    (Difference::Differs, _)
                    | (Difference::Missing, Prefer::Hub)
                    | (Difference::Extra, Prefer::Spoke) => copy.push(code),
                    _ => delete.push(code),
                }
            }
            copy.sort();
            delete.sort();
            let rows = from.fetch(table, &copy).await?;
            fetched += rows.len() as u64;
            let counts = OpCounts {
                upserts: rows.len() as u64,
                deletes: delete.len() as u64,
            };
            let tracking = match &stamp {
                Some(stamp) => tracking_of(table, stamp, &rows, &delete)?,
                None => Vec::new(),
            };
            let ops: Vec<RowOp> = rows
                .into_iter()
                .map(|values| RowOp::Upsert {
                    values,
                    fields: None,
                })
                .chain(delete.into_iter().map(|code| RowOp::Delete { code }))
                .collect();
            if ops.is_empty() {
                continue;
            }
            let batch = ApplyBatch {
                ops: vec![(table.name.clone(), ops)],
                tracking,
                peer: None,
                guard: Some(guard),
                fresh: false,
                settle: Some(self.settle(side)),
                stamps: Vec::new(),
                log: Some(run.log(Vec::new())),
            };
            let mut outcome = self.apply_batch(to, batch, run).await?;
            conflicts.append(&mut outcome.conflicts);
            add_outcome(&mut written, outcome);
            merge_counts(&mut counted, [(table.name.clone(), counts)].into());
        }
        out.rows_read = cmp.rows_read;
        match prefer {
            Prefer::Hub => out.rows_read.0 += fetched,
            Prefer::Spoke => out.rows_read.1 += fetched,
        }
        Ok(RepairedRows {
            table: out,
            written,
            counts: counted,
            conflicts,
        })
    }
}

/// What [`Engine::repair_rows`] found and wrote in one table.
pub(super) struct RepairedRows {
    /// What differed.
    pub table: TableRepair,
    /// What the preferred side's copy did to the other.
    pub written: ApplyOutcome,
    /// Rows written per table (upserts and deletes).
    pub counts: TableCounts,
    /// Conflicts with edits made meanwhile.
    pub conflicts: Vec<crate::plan::Conflict>,
}

/// The hub's tracking entries of rows written and codes deleted there.
fn tracking_of(
    table: &SyncTable,
    stamp: &Stamp,
    rows: &[Vec<crate::value::Value>],
    deleted: &[CombinedCode],
) -> Result<Vec<TrackingEntry>> {
    let entry = |code: CombinedCode, deleted: bool| TrackingEntry {
        table: table.name.clone(),
        code,
        stamp: stamp.clone(),
        deleted,
        fields: None,
    };
    let mut out = rows
        .iter()
        .map(|row| Ok(entry(table.code_of(row, &stamp.origin)?, false)))
        .collect::<Result<Vec<_>>>()?;
    out.extend(deleted.iter().map(|code| entry(code.clone(), true)));
    Ok(out)
}
